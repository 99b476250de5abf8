//! The shell's command language: one command per line, words separated by
//! spaces. Parsing is here (tested on the host); the `shell` program runs
//! the commands.

extern crate alloc;

use alloc::format;
use alloc::string::String;

/// The commands and what they print, for `help`.
pub const HELP: &[(&str, &str)] = &[
    ("help", "this list"),
    ("cores", "the cores: online, cluster, boot core"),
    ("ps", "the programs running on every core"),
    ("caps", "the capabilities the monitors track across cores"),
    ("mem", "each core's RAM pool: units owned"),
    ("ns", "the names registered with the name service"),
    ("programs", "the programs in the boot modules"),
    ("spawn <program> [on <core>]", "start a program (on this core, or on <core>)"),
    ("kill <id>", "end a program (ids as ps shows them: <core>.<n>)"),
    ("bench", "time a session round trip and starting a program"),
    ("poweroff", "power the machine off"),
];

/// Core numbers are below this (the session reserves `u32::MAX`).
const MAX_CORE: u32 = 1 << 16;

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// Nothing typed.
    Empty,
    /// `help`.
    Help,
    /// `cores`.
    Cores,
    /// `ps`.
    Ps,
    /// `caps`.
    Caps,
    /// `mem`.
    Mem,
    /// `ns`.
    Ns,
    /// `programs`.
    Programs,
    /// `spawn <program> [on <core>]`.
    Spawn {
        /// The program's name in the boot modules.
        program: &'a str,
        /// Where (`None`: the shell's core).
        core: Option<u32>,
    },
    /// `kill <id>`.
    Kill(u64),
    /// `bench`.
    Bench,
    /// `poweroff`.
    PowerOff,
}

/// Reads one command line; the `error:` message if it is not one.
pub fn parse(line: &str) -> Result<Command<'_>, String> {
    let mut words = line.split_ascii_whitespace();
    let Some(name) = words.next() else { return Ok(Command::Empty) };
    let rest: alloc::vec::Vec<&str> = words.collect();
    let simple = |command: Command<'static>| match rest.first() {
        None => Ok(command),
        Some(extra) => Err(format!("{name} takes no arguments (got '{extra}')")),
    };
    match name {
        "help" => simple(Command::Help),
        "cores" => simple(Command::Cores),
        "ps" => simple(Command::Ps),
        "caps" => simple(Command::Caps),
        "mem" => simple(Command::Mem),
        "ns" => simple(Command::Ns),
        "programs" => simple(Command::Programs),
        "bench" => simple(Command::Bench),
        "poweroff" => simple(Command::PowerOff),
        "spawn" => match rest.as_slice() {
            [program] => Ok(Command::Spawn { program, core: None }),
            [program, "on", core] => match core.parse::<u32>() {
                Ok(number) if number < MAX_CORE => Ok(Command::Spawn { program, core: Some(number) }),
                _ => Err(format!("bad core '{core}' (a number)")),
            },
            _ => Err("usage: spawn <program> [on <core>]".into()),
        },
        "kill" => match rest.as_slice() {
            [id] => match crate::session::parse_id(id) {
                Some(id) => Ok(Command::Kill(id)),
                None => Err(format!("bad id '{id}' (ids look like 3.1)")),
            },
            _ => Err("usage: kill <id>".into()),
        },
        other => Err(format!("unknown command '{other}' (try help)")),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, Command, HELP};

    #[test]
    fn parses_every_command() {
        assert_eq!(parse(""), Ok(Command::Empty));
        assert_eq!(parse("   "), Ok(Command::Empty));
        assert_eq!(parse("help"), Ok(Command::Help));
        assert_eq!(parse(" cores "), Ok(Command::Cores));
        assert_eq!(parse("ps"), Ok(Command::Ps));
        assert_eq!(parse("caps"), Ok(Command::Caps));
        assert_eq!(parse("mem"), Ok(Command::Mem));
        assert_eq!(parse("ns"), Ok(Command::Ns));
        assert_eq!(parse("programs"), Ok(Command::Programs));
        assert_eq!(parse("bench"), Ok(Command::Bench));
        assert_eq!(parse("poweroff"), Ok(Command::PowerOff));
        assert_eq!(parse("spawn hello"), Ok(Command::Spawn { program: "hello", core: None }));
        assert_eq!(parse("spawn hello on 3"), Ok(Command::Spawn { program: "hello", core: Some(3) }));
        assert_eq!(parse("kill 3.1"), Ok(Command::Kill(3 << 32 | 1)));
        // Every command in the help parses.
        for (usage, _) in HELP {
            let word = usage.split(' ').next().unwrap();
            if !usage.contains('<') {
                assert!(parse(word).is_ok(), "{word}");
            }
        }
    }

    #[test]
    fn rejects_bad_input_with_a_message() {
        assert!(parse("frobnicate").unwrap_err().contains("unknown command 'frobnicate'"));
        assert!(parse("ps now").unwrap_err().contains("takes no arguments"));
        assert!(parse("spawn").unwrap_err().starts_with("usage: spawn"));
        assert!(parse("spawn hello at 3").unwrap_err().starts_with("usage: spawn"));
        assert!(parse("spawn hello on x").unwrap_err().contains("bad core 'x'"));
        assert!(parse("spawn hello on -1").unwrap_err().contains("bad core"));
        assert!(parse("spawn hello on 4294967295").unwrap_err().contains("bad core"));
        assert!(parse("spawn hello on 65536").unwrap_err().contains("bad core"));
        assert_eq!(parse("spawn hello on 65535"), Ok(Command::Spawn { program: "hello", core: Some(65535) }));
        assert!(parse("kill").unwrap_err().starts_with("usage: kill"));
        assert!(parse("kill 3").unwrap_err().contains("bad id '3'"));
        assert!(parse("kill 1 2").unwrap_err().starts_with("usage: kill"));
    }
}
