//! `test=user`: the first EL0 program (`usertest`) exercises capabilities,
//! user-managed memory and faults; every other core runs its monitor.

use mk_tests::{contract_lines, Qemu};

fn user_test(args: &[&str], cores: usize) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--append", "test=user"]);
    let console = Qemu::boot(&all).finish();
    let lines = contract_lines(&console);
    let verdict = lines
        .iter()
        .find(|l| l.starts_with("test user: ") && l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no verdict:\n{console}"));
    let (passed, failed) = verdict
        .trim_start_matches("test user: ")
        .split_once(" passed, ")
        .map(|(p, f)| (p.parse::<u32>().unwrap(), f.trim_end_matches(" failed").parse::<u32>().unwrap()))
        .unwrap();
    assert!(passed >= 15 && failed == 0, "{verdict}\n{console}");
    let faults = lines.iter().filter(|l| l.starts_with("fault: core=0 program=usertest ")).count();
    assert_eq!(faults, 5, "five child faults reported:\n{console}");
    assert!(lines.contains(&"user: core 0 started usertest"), "{console}");
    for core in 1..cores {
        let started = format!("user: core {core} started monitor");
        assert!(lines.contains(&started.as_str()), "{started} missing:\n{console}");
    }
}

#[test]
fn one_core() {
    user_test(&["--smp", "1"], 1);
}

#[test]
fn eight_cores() {
    user_test(&["--smp", "8"], 8);
}

#[test]
fn raspberry_pi_4() {
    user_test(&["--board", "rpi4"], 4);
}

#[test]
fn raspberry_pi_4_with_psci() {
    user_test(&["--board", "rpi4", "--psci"], 4);
}
