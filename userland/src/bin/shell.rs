//! `shell`: the interactive shell on the serial console (`init` starts it
//! on the boot core). It prompts `mk> `, reads a line through its session
//! with the monitor (which drives the terminal), runs the command
//! (`userland::shell` parses it) and prints the result; anything wrong is
//! one line `error: <message>`.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use userland::cap::{Kernel, ReceiveSlot};
use userland::channel::Lmp;
use userland::interfaces::SessionClient;
use userland::session::{self, Id, Status, THIS_CORE};
use userland::shell::{parse, Command, HELP};
use userland::{dispatch, heap, syscall, thread};

userland::entry!(main);

/// Heap pages (its own RAM is half a 64 KiB pool unit: 32 KiB for the
/// heap's three tables and its pages).
const HEAP_PAGES: usize = 5;
/// The prompt.
const PROMPT: &str = "mk> ";
/// Bytes of one terminal write.
const WRITE_MAX: usize = 400;
/// `bench`: timed samples, operations per sample, programs started.
const SAMPLES: usize = 31;
const BATCH: u64 = 32;
const SPAWNS: usize = 11;

/// One `bench:` line: the median and minimum of `samples`.
fn report(text: &mut String, name: &str, samples: &mut [u64]) {
    samples.sort_unstable();
    match (samples.get(samples.len() / 2), samples.first()) {
        (Some(median), Some(min)) => {
            let _ = writeln!(text, "bench: {name} n={} median={median} min={min} unit=ns", samples.len());
        }
        _ => {
            let _ = writeln!(text, "error: bench: {name}: no sample");
        }
    }
}

type Session = SessionClient<Lmp>;

fn main(core: usize, cores: usize) -> i32 {
    if heap::init(HEAP_PAGES).is_err() {
        userland::println!("shell: no heap");
        return 1;
    }
    let mut shell = Shell { session: session::connect(), core };
    let banner = format!("mk shell on core {core} ({cores} cores online); type help for the commands\n");
    if !matches!(shell.session.write(&banner), Ok(0)) {
        userland::println!("shell: no terminal on core {core} (the console's core has it)");
        return 3;
    }
    loop {
        shell.out(PROMPT);
        let Some(line) = shell.read_line() else {
            userland::println!("shell: the terminal is gone");
            return 2;
        };
        match parse(&line) {
            Ok(command) => shell.run(command),
            Err(message) => shell.error(&message),
        }
    }
}

struct Shell {
    session: Session,
    core: usize,
}

impl Shell {
    /// Writes terminal text (in pieces the session takes).
    fn out(&mut self, text: &str) {
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = rest.len().min(WRITE_MAX);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let _ = self.session.write(&rest[..cut]);
            rest = &rest[cut..];
        }
    }

    fn error(&mut self, message: &str) {
        self.out(&format!("error: {message}\n"));
    }

    /// The next typed line; waits (sleeping) until the monitor says one is
    /// there.
    fn read_line(&mut self) -> Option<String> {
        loop {
            let (ready, line) = self.session.read_line().ok()?;
            if ready {
                return Some(String::from(line.as_str()));
            }
            // Sleep until the monitor's wake-up (event 1), then empty that
            // endpoint.
            syscall::wait(0);
            if let Some(frame) = dispatch::own_frame() {
                frame.clear_events(1 << session::EVENT_WAKE);
            }
            while session::events().recv(ReceiveSlot::NONE, false).is_ok() {}
        }
    }

    fn run(&mut self, command: Command<'_>) {
        match command {
            Command::Empty => {}
            Command::Help => {
                let mut text = String::from("commands:\n");
                for (usage, what) in HELP {
                    let _ = writeln!(text, "  {usage:<28} {what}");
                }
                self.out(&text);
            }
            Command::Cores => self.cores(),
            Command::Ps => self.ps(),
            Command::Caps => self.caps(),
            Command::Mem => self.mem(),
            Command::Ns => self.ns(),
            Command::Programs => self.programs(),
            Command::Spawn { program, core } => self.spawn(program, core),
            Command::Kill(id) => match self.session.kill(id).map(Status::check) {
                Ok(Ok(())) => self.out(&format!("killed {}\n", Id(id))),
                Ok(Err(status)) => self.error(&format!("kill {}: {}", Id(id), status.message())),
                Err(error) => self.error(&format!("kill: session: {error:?}")),
            },
            Command::Bench => self.bench(),
            Command::PowerOff => {
                self.out("powering off\n");
                if let Ok(code) = self.session.power_off() {
                    self.error(&format!("poweroff: {}", Status::from_code(code).message()));
                }
            }
        }
    }

    fn cores(&mut self) {
        let kernel = Kernel::initial();
        let Ok(system) = kernel.system() else { return self.error("cores: the kernel did not answer") };
        let mut text = String::new();
        for core in 0..system.listed {
            let online = if system.online & (1 << core) != 0 { "online" } else { "offline" };
            let cluster = kernel.cluster(core).unwrap_or(0);
            let _ = write!(text, "core {core}: {online}, cluster {cluster}");
            if core == system.boot {
                text.push_str(", boot core");
            }
            if core == self.core {
                text.push_str(", this shell");
            }
            text.push('\n');
        }
        let _ = writeln!(text, "{} of {} cores online", system.online.count_ones(), system.listed);
        self.out(&text);
    }

    fn ps(&mut self) {
        let mut text = String::from("ID      CORE  PROGRAM\n");
        let mut index = 0;
        while let Ok((true, id, core, name)) = self.session.ps(index) {
            let _ = writeln!(text, "{:<7} {core:<5} {}", format!("{}", Id(id)), name.as_str());
            index += 1;
        }
        let _ = writeln!(text, "{index} programs");
        self.out(&text);
    }

    fn caps(&mut self) {
        let mut text = String::new();
        let mut index = 0;
        while let Ok((true, owner, kind, base, bytes, copies, revoking)) = self.session.caps(index) {
            let kind = match caps::CapType::ALL.iter().find(|t| **t as u8 == kind) {
                Some(t) => format!("{t:?}"),
                None => format!("type {kind}"),
            };
            let holders: alloc::vec::Vec<String> =
                (0..64).filter(|c| copies & (1 << c) != 0).map(|c| format!("{c}")).collect();
            let state = if revoking { " (revoking)" } else { "" };
            let _ = writeln!(
                text,
                "{kind} {base:#x} {} KiB, owner core {owner}, copies on cores {}{state}",
                bytes / 1024,
                holders.join(",")
            );
            index += 1;
        }
        let _ = writeln!(text, "{index} capabilities shared across cores");
        self.out(&text);
    }

    fn mem(&mut self) {
        let mut text = String::new();
        let mut core = 0;
        let mut total = 0u64;
        while let Ok((true, owned, units, unit_bytes, pool)) = self.session.mem(core) {
            let _ = writeln!(
                text,
                "core {core}: {owned} units of {} KiB ({} KiB; pool of {units} at {pool:#x})",
                unit_bytes / 1024,
                u64::from(owned) * unit_bytes / 1024
            );
            total += u64::from(owned) * unit_bytes;
            core += 1;
        }
        let _ = writeln!(text, "{} KiB in the monitors' pools", total / 1024);
        self.out(&text);
    }

    fn ns(&mut self) {
        let mut text = String::new();
        let mut index = 0;
        let mut shown = 0;
        while let Ok((true, name, core, port)) = self.session.registry(index) {
            index += 1;
            let name = name.as_str();
            // A claim (`name*`) says a client bound the service.
            if let Some(service) = name.strip_suffix('*') {
                let _ = writeln!(text, "{service:<16} bound by a client on core {core}");
            } else {
                let _ = writeln!(text, "{name:<16} core {core} port {port}");
                shown += 1;
            }
        }
        let _ = writeln!(text, "{shown} names registered");
        self.out(&text);
    }

    fn programs(&mut self) {
        let mut text = String::new();
        let mut index = 0;
        while let Ok((true, name, bytes)) = self.session.programs(index) {
            let _ = writeln!(text, "{:<16} {} KiB", name.as_str(), bytes.div_ceil(1024));
            index += 1;
        }
        let _ = writeln!(text, "{index} programs in the boot modules");
        self.out(&text);
    }

    fn spawn(&mut self, program: &str, core: Option<u32>) {
        if program.len() > 16 {
            return self.error(&format!("spawn {program}: {}", Status::NotFound.message()));
        }
        match self.session.spawn(program, core.unwrap_or(THIS_CORE)) {
            Ok((code, id)) => match Status::check(code) {
                Ok(()) => {
                    let (core, _) = session::split_id(id);
                    self.out(&format!("started {program} as {} on core {core}\n", Id(id)));
                }
                Err(status) => self.error(&format!("spawn {program}: {}", status.message())),
            },
            Err(error) => self.error(&format!("spawn: session: {error:?}")),
        }
    }

    /// Times a session round trip (a local name lookup) and starting a
    /// program here and on another core: `bench: <name> n=<samples>
    /// median=<ns> min=<ns> unit=ns` (under `-icount shift=0` one ns is
    /// one instruction, which `scripts/bench` reports).
    fn bench(&mut self) {
        let mut text = String::new();
        let ns = |ticks: u64| ticks * 1_000_000_000 / thread::frequency();
        // A session round trip that stays on this core: 31 samples of 32.
        let mut samples: Vec<u64> = (0..SAMPLES)
            .map(|_| {
                let start = thread::counter();
                for _ in 0..BATCH {
                    let _ = self.session.lookup("bench");
                }
                ns(thread::counter() - start) / BATCH
            })
            .collect();
        report(&mut text, "session_rt", &mut samples);
        // Starting `true` (answered when it runs) here and on another core.
        let system = Kernel::initial().system().ok();
        let other = system.and_then(|s| (0..s.listed).find(|&c| c != self.core && s.online & (1 << c) != 0));
        for (name, target) in [("spawn_local", Some(self.core)), ("spawn_remote", other)] {
            let Some(target) = target else { continue };
            let mut samples = Vec::new();
            for _ in 0..SPAWNS {
                let start = thread::counter();
                let started = matches!(self.session.spawn("true", target as u32), Ok((0, _)));
                let took = ns(thread::counter() - start);
                if started {
                    samples.push(took);
                }
            }
            report(&mut text, name, &mut samples);
        }
        self.out(&text);
    }
}
