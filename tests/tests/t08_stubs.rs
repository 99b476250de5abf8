//! `test=stubs`: stubs generated from one interface declaration, over LMP on
//! the boot core and URPC to core 1 from every core (`stubstest`).

use mk_tests::{contract_lines, Qemu};

fn stubs_test(args: &[&str], cases: u32) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--append", "test=stubs"]);
    let console = Qemu::boot(&all).finish();
    let lines = contract_lines(&console);
    let verdict = lines
        .iter()
        .find(|l| l.starts_with("test stubs: ") && l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no verdict:\n{console}"));
    let (passed, failed) = verdict
        .trim_start_matches("test stubs: ")
        .split_once(" passed, ")
        .map(|(p, f)| (p.parse::<u32>().unwrap(), f.trim_end_matches(" failed").parse::<u32>().unwrap()))
        .unwrap();
    assert!(passed == cases && failed == 0, "{verdict}\n{console}");
    for case in ["lmp: capability transfer", "lmp: malformed messages answered with errors"] {
        let line = format!("test stubs: {case}: ok");
        assert!(lines.contains(&line.as_str()), "{line} missing:\n{console}");
    }
}

#[test]
fn one_core_lmp_only() {
    stubs_test(&["--smp", "1"], 6);
}

#[test]
fn four_cores() {
    stubs_test(&["--smp", "4"], 12);
}

#[test]
fn raspberry_pi_4() {
    stubs_test(&["--board", "rpi4"], 12);
}
