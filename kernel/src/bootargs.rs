//! `bootargs`: the space-separated words of `/chosen/bootargs`.

/// What the kernel understood of the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BootArgs<'a> {
    /// `poweroff`: power off after the boot self-check.
    pub poweroff: bool,
    /// `bench`: run the benchmarks, print `BENCH` lines, power off.
    pub bench: bool,
    /// `bench=<name>`: run only that benchmark.
    pub bench_only: Option<&'a str>,
    /// `test=<name>`: run this on-target test, report, power off.
    pub test: Option<&'a str>,
    /// `init=<program>`: the boot CPU's first program (default `monitor`).
    pub init: Option<&'a str>,
    /// `others=<program>`: the other cores' first program (default
    /// `monitor`).
    pub others: Option<&'a str>,
    /// `monitor=<mode>`: for the monitors, which read the boot arguments
    /// themselves (`monitor=bench` runs their benchmarks).
    pub monitor: Option<&'a str>,
    /// How many words were not understood (the Pi firmware adds its own).
    pub unknown: usize,
}

/// Parses the command line; `on_unknown` sees every word that is ignored.
pub fn parse<'a>(line: &'a str, mut on_unknown: impl FnMut(&'a str)) -> BootArgs<'a> {
    let mut args = BootArgs::default();
    for word in line.split_ascii_whitespace() {
        match word.split_once('=') {
            None if word == "poweroff" => args.poweroff = true,
            None if word == "bench" => args.bench = true,
            Some(("bench", name)) if !name.is_empty() => {
                args.bench = true;
                args.bench_only = Some(name);
            }
            Some(("test", name)) if !name.is_empty() => args.test = Some(name),
            Some(("init", name)) if !name.is_empty() => args.init = Some(name),
            Some(("others", name)) if !name.is_empty() => args.others = Some(name),
            Some(("monitor", mode)) if !mode.is_empty() => args.monitor = Some(mode),
            _ => {
                args.unknown += 1;
                on_unknown(word);
            }
        }
    }
    args
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn words_are_recognised() {
        let mut ignored = Vec::new();
        let line = "  poweroff test=urpc console=ttyS0 test= x bench init=hello others=world";
        let args = parse(line, |w| ignored.push(w));
        assert_eq!(args.init, Some("hello"));
        assert_eq!(args.others, Some("world"));
        assert!(args.poweroff);
        assert!(args.bench);
        let only = parse("bench=urpc_tput monitor=bench", |_| panic!());
        assert_eq!(only.monitor, Some("bench"));
        assert_eq!((only.bench, only.bench_only), (true, Some("urpc_tput")));
        assert_eq!(args.test, Some("urpc"));
        assert_eq!(args.unknown, 3);
        assert_eq!(ignored, ["console=ttyS0", "test=", "x"]);
    }

    #[test]
    fn empty_line() {
        assert_eq!(parse("", |_| panic!()), BootArgs::default());
    }
}
