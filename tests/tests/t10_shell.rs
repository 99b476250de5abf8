//! The interactive system: `scripts/run` with no boot arguments leaves the
//! user at the shell's `mk> ` prompt (the boot core's monitor took the
//! console: the UART is driven from EL0). The tests type on the serial
//! console and read what comes back: every command, a program spawned on
//! each core, a client and a server on two cores that find each other
//! through the name service, bad input, and `poweroff`.

use mk_tests::Qemu;
use std::time::Duration;

/// How long one command may take to answer.
const ANSWER: Duration = Duration::from_secs(20);
/// How long the boot to the prompt may take.
const BOOT: Duration = Duration::from_secs(60);

/// Boots to the shell.
fn shell(args: &[&str]) -> Qemu {
    let mut qemu = Qemu::boot_interactive(args);
    qemu.next_with("mk shell on core", BOOT);
    qemu
}

/// Types `line` (with `end`), waits for its echo after the prompt and for
/// lines with each of `texts` (in any order: a program's output and the
/// shell's answer race); returns the lines in between.
fn command_ending(qemu: &mut Qemu, line: &str, end: &str, texts: &[&str]) -> Vec<String> {
    qemu.send(&format!("{line}{end}"));
    qemu.next_with(&format!("mk> {line}"), ANSWER);
    qemu.until_all(texts, ANSWER)
}

fn command(qemu: &mut Qemu, line: &str, until: &str) -> Vec<String> {
    command_ending(qemu, line, "\r", &[until])
}

fn command_all(qemu: &mut Qemu, line: &str, texts: &[&str]) -> Vec<String> {
    command_ending(qemu, line, "\r", texts)
}

/// The id in a `started <program> as <id> on core <c>` line.
fn started_id(lines: &[String]) -> String {
    let line = lines.iter().find(|l| l.contains("started ")).expect("a started line");
    line.split(" as ").nth(1).and_then(|rest| rest.split(' ').next()).expect("an id").to_string()
}

/// Runs `line` (answered by a line with `until`) until `done` holds for
/// its answer: state the monitors change after answering (an ended
/// program's names and pages go after its exit is reported). Fails after
/// [`ANSWER`].
fn until_shown(qemu: &mut Qemu, line: &str, until: &str, done: impl Fn(&[String]) -> bool) {
    let deadline = std::time::Instant::now() + ANSWER;
    loop {
        let lines = command(qemu, line, until);
        if done(&lines) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{line}: still {lines:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn has(lines: &[String], text: &str) -> bool {
    lines.iter().any(|l| l.contains(text))
}

/// Powers off from the shell; QEMU must exit by itself, successfully.
fn power_off(mut qemu: Qemu) -> String {
    qemu.send("poweroff\r");
    qemu.next_with("powering off", ANSWER);
    qemu.finish()
}

#[test]
fn every_command_on_eight_cores() {
    // What `scripts/run` with no arguments boots.
    let mut qemu = shell(&[]);

    let help = command(&mut qemu, "help", "poweroff");
    for word in [
        "help",
        "cores",
        "ps",
        "caps",
        "mem",
        "ns",
        "programs",
        "spawn <program> [on <core>]",
        "kill <id>",
        "bench",
    ] {
        assert!(has(&help, word), "help lacks {word}: {help:?}");
    }

    let cores = command(&mut qemu, "cores", "cores online");
    for core in 0..8 {
        assert!(has(&cores, &format!("core {core}: online")), "{cores:?}");
    }
    assert!(has(&cores, "core 0: online, cluster 0, boot core, this shell"), "{cores:?}");
    assert!(has(&cores, "8 of 8 cores online"), "{cores:?}");

    let programs = command(&mut qemu, "programs", "programs in the boot modules");
    for program in ["hello", "shell", "init", "server", "client", "monitor"] {
        assert!(programs.iter().any(|l| l.starts_with(program)), "{program} missing: {programs:?}");
    }

    // A program on every core.
    for core in 0..8 {
        let hello = format!("hello from core {core}");
        command_all(
            &mut qemu,
            &format!("spawn hello on {core}"),
            &[&format!("started hello as {core}."), &hello],
        );
    }

    let ps = command(&mut qemu, "ps", "programs");
    assert!(has(&ps, "ID") && has(&ps, "shell"), "{ps:?}");

    // A server on core 2 and its client on core 5, through the name
    // service; the channel is shared by the monitors (caps, ns).
    command_all(
        &mut qemu,
        "spawn server on 2",
        &["started server as 2.", "server: adder registered on core 2"],
    );
    let ns = command(&mut qemu, "ns", "names registered");
    assert!(has(&ns, "adder") && has(&ns, "core 2"), "{ns:?}");
    let caps = command(&mut qemu, "caps", "capabilities shared across cores");
    assert!(has(&caps, "Frame") && has(&caps, "owner core 2"), "{caps:?}");
    command_all(
        &mut qemu,
        "spawn client on 5",
        &["client: 100 calls to adder on core 2 from core 5: ok", "server: adder served 100 calls"],
    );

    let mem = command(&mut qemu, "mem", "KiB in the monitors' pools");
    for core in 0..8 {
        assert!(has(&mem, &format!("core {core}: ")), "{mem:?}");
    }

    // kill: a server nobody binds runs until killed.
    let started = command_all(
        &mut qemu,
        "spawn server on 3",
        &["started server as 3.", "server: adder registered on core 3"],
    );
    let id = started_id(&started);
    assert!(id.starts_with("3."), "{started:?}");
    let ps = command(&mut qemu, "ps", "programs");
    assert!(ps.iter().any(|l| l.starts_with(&id) && l.contains("server")), "{ps:?}");
    command(&mut qemu, &format!("kill {id}"), &format!("killed {id}"));
    let ps = command(&mut qemu, "ps", "programs");
    assert!(!ps.iter().any(|l| l.starts_with(&id)), "{ps:?}");
    // Its name goes with it (its monitor unregisters it after the kill).
    until_shown(&mut qemu, "ns", "names registered", |lines| !has(lines, "adder"));

    // Registering and ending a service many times leaks nothing: the name,
    // the channel's RAM and slots come back each time.
    for _ in 0..40 {
        let started = command_all(
            &mut qemu,
            "spawn server on 1",
            &["started server as 1.", "server: adder registered on core 1"],
        );
        let id = started_id(&started);
        command(&mut qemu, &format!("kill {id}"), &format!("killed {id}"));
        until_shown(&mut qemu, "ns", "names registered", |lines| !has(lines, "adder"));
    }
    // A new server and client pair after all that (the old claims went).
    command_all(
        &mut qemu,
        "spawn server on 4",
        &["started server as 4.", "server: adder registered on core 4"],
    );
    command_all(
        &mut qemu,
        "spawn client on 6",
        &["client: 100 calls to adder on core 4 from core 6: ok", "server: adder served 100 calls"],
    );
    until_shown(&mut qemu, "caps", "capabilities shared across cores", |lines| {
        lines.iter().any(|l| l == "0 capabilities shared across cores")
    });

    // The shell cannot kill itself; a cursor key's escape sequence is
    // dropped, not taken as text.
    command(
        &mut qemu,
        "kill 0.2",
        "error: kill 0.2: refused (the caller itself, or the program reading the terminal)",
    );
    qemu.send("\x1b[Acores\r");
    qemu.next_with("8 of 8 cores online", ANSWER);

    // A program that spans cores: threads on three other cores' dispatchers
    // in its address space; afterwards nothing it shared is left.
    command_all(
        &mut qemu,
        "spawn spantest on 5",
        &[
            "started spantest as 5.",
            "spantest: 6 threads on cores 0,1,2 shared the memory of core 5: ok",
            "spantest: page 0x80001ff000 shared with cores 0,1,2, unmapped on every core, RAM reused: ok",
            "spantest: one thread ran on cores 5,0,1,2 in turn, moved by message: ok",
        ],
    );
    qemu.next_with("exit: core=5 program=spantest status=0", ANSWER);
    // Its monitor ends the other dispatchers and revokes the shared pages
    // after the exit.
    until_shown(&mut qemu, "caps", "capabilities shared across cores", |lines| {
        lines.iter().any(|l| l == "0 capabilities shared across cores")
    });

    let bench = command(&mut qemu, "bench", "bench: spawn_remote n=11 ");
    assert!(has(&bench, "bench: session_rt n=31 ") && has(&bench, "bench: spawn_local n=11 "), "{bench:?}");
    assert!(!has(&bench, "error"), "{bench:?}");

    power_off(qemu);
}

#[test]
fn bad_input_gets_one_error_line() {
    let mut qemu = shell(&["--smp", "2"]);
    let cases = [
        ("frobnicate", "error: unknown command 'frobnicate' (try help)"),
        ("spawn nosuch", "error: spawn nosuch: not found"),
        ("spawn hello on 99", "error: spawn hello: core not online"),
        ("spawn hello on x", "error: bad core 'x' (a number)"),
        ("spawn", "error: usage: spawn <program> [on <core>]"),
        ("kill 1.99", "error: kill 1.99: not found"),
        ("kill x", "error: bad id 'x' (ids look like 3.1)"),
        ("ps all", "error: ps takes no arguments (got 'all')"),
    ];
    for (line, error) in cases {
        let lines = command(&mut qemu, line, "error: ");
        assert_eq!(lines.last().map(String::as_str), Some(error), "{line}: {lines:?}");
        assert_eq!(lines.iter().filter(|l| l.contains("error")).count(), 1, "{line}: {lines:?}");
    }
    // A program that misuses its session (bad names, ids, cores, frames, a
    // malformed message, a capability where none belongs) gets refusals,
    // and its monitor (on either core) goes on serving.
    for core in 0..2 {
        command_all(
            &mut qemu,
            &format!("spawn badsession on {core}"),
            &["started badsession", "badsession: 17 refusals, the monitor still answers: ok"],
        );
    }
    command(&mut qemu, "ps", "programs");

    // Lines end at CR, LF or CRLF: each gives one command (no empty extra
    // one between).
    for end in ["\r", "\n", "\r\n"] {
        command_ending(&mut qemu, "cores", end, &["2 of 2 cores online"]);
    }
    qemu.send("cores\r\ncores\n");
    qemu.next_with("mk> cores", ANSWER);
    qemu.next_with("2 of 2 cores online", ANSWER);
    qemu.next_with("mk> cores", ANSWER);
    qemu.next_with("2 of 2 cores online", ANSWER);
    // An empty line is just a new prompt.
    qemu.send("\rcores\r");
    let between = qemu.until("mk> cores", ANSWER);
    assert!(between.iter().any(|l| l == "mk> ") && !has(&between, "error"), "{between:?}");
    qemu.next_with("2 of 2 cores online", ANSWER);
    power_off(qemu);
}

#[test]
fn shell_on_rpi4() {
    let mut qemu = shell(&["--board", "rpi4"]);
    let cores = command(&mut qemu, "cores", "cores online");
    assert!(has(&cores, "4 of 4 cores online"), "{cores:?}");
    for core in 0..4 {
        command_all(
            &mut qemu,
            &format!("spawn hello on {core}"),
            &[&format!("hello from core {core}"), "started hello"],
        );
    }
    command_all(&mut qemu, "spawn server on 1", &["started server", "server: adder registered on core 1"]);
    command_all(
        &mut qemu,
        "spawn client on 3",
        &["started client", "client: 100 calls to adder on core 1 from core 3: ok"],
    );
    command(&mut qemu, "frobnicate", "error: unknown command 'frobnicate' (try help)");
    command_all(
        &mut qemu,
        "spawn spantest on 2",
        &[
            "started spantest",
            "spantest: 6 threads on cores 0,1,3 shared the memory of core 2: ok",
            "spantest: page 0x80001ff000 shared with cores 0,1,3, unmapped on every core, RAM reused: ok",
            "spantest: one thread ran on cores 2,0,1,3 in turn, moved by message: ok",
        ],
    );
    power_off(qemu);
}
