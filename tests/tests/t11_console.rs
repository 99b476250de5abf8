//! `test=console`: `consoletest` on the boot core takes the console from
//! the kernel (`Kernel.console`), drives the UART through its DevFrame,
//! reads the kernel's lines (its own prints and the kernel's `exit:` line)
//! back from the console rings, fills its ring until `Kernel.print` is
//! `Busy`, and reads a line typed here through the UART's interrupt.

use mk_tests::{contract_lines, Qemu, BOOT_TIMEOUT};

/// What is typed once the program waits for input (it checks the text).
const INPUT: &str = "hello console";

fn console_test(args: &[&str]) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--append", "test=console"]);
    let mut qemu = Qemu::boot_interactive(&all);
    qemu.next_with("test console: waiting for input", BOOT_TIMEOUT);
    qemu.send(&format!("{INPUT}\r"));
    let console = qemu.finish();
    let lines = contract_lines(&console);
    let verdict = lines
        .iter()
        .find(|l| l.starts_with("test console: ") && l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no verdict:\n{console}"));
    let (passed, failed) = verdict
        .trim_start_matches("test console: ")
        .split_once(" passed, ")
        .map(|(p, f)| (p.parse::<u32>().unwrap(), f.trim_end_matches(" failed").parse::<u32>().unwrap()))
        .unwrap();
    assert!(passed >= 14 && failed == 0, "{verdict}\n{console}");
    for expected in [
        "console: written by consoletest through the DevFrame",
        "console ring check 42",
        "exit: core=0 program=consoletest status=7",
        "console: 1 lines lost",
        &format!("console input: {INPUT}"),
    ] {
        assert!(lines.contains(&expected), "{expected:?} missing:\n{console}");
    }
    // After the handoff nothing but the program writes the UART: the
    // kernel's lines come only through it, each once.
    let exits = lines.iter().filter(|l| l.starts_with("exit: core=0 program=consoletest")).count();
    assert_eq!(exits, 1, "one exit line, echoed from the ring:\n{console}");
}

#[test]
fn gicv3() {
    console_test(&["--smp", "4"]);
}

#[test]
fn gicv2() {
    console_test(&["--smp", "4", "--gic", "2"]);
}

#[test]
fn raspberry_pi_4() {
    console_test(&["--board", "rpi4"]);
}
