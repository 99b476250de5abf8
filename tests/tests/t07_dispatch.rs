//! `test=dispatch`: dispatchers and upcalls, the core-local scheduler, user
//! threads and LMP (`dispatchtest` on the boot CPU).

use mk_tests::{contract_lines, Qemu};

/// Cases `dispatchtest` runs; a lost case is a failure too.
const CASES: u32 = 18;

fn dispatch_test(args: &[&str]) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--append", "test=dispatch"]);
    let console = Qemu::boot(&all).finish();
    let lines = contract_lines(&console);
    let verdict = lines
        .iter()
        .find(|l| l.starts_with("test dispatch: ") && l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no verdict:\n{console}"));
    let (passed, failed) = verdict
        .trim_start_matches("test dispatch: ")
        .split_once(" passed, ")
        .map(|(p, f)| (p.parse::<u32>().unwrap(), f.trim_end_matches(" failed").parse::<u32>().unwrap()))
        .unwrap();
    assert!(passed == CASES && failed == 0, "{verdict}\n{console}");
    for case in [
        "lmp call/reply 10^5 with capability transfer",
        "threads: a spinning thread is preempted (run upcall)",
        "sched: a dispatcher spinning forever is preempted",
        "children: a faulting dispatcher does not stop the others",
        "children: FP registers survive preemption between dispatchers",
    ] {
        let line = format!("test dispatch: {case}: ok");
        assert!(lines.contains(&line.as_str()), "{line} missing:\n{console}");
    }
    // The two faults without a handler are reported; the handled one and
    // the thread's (delivered by upcall) are not kernel fault lines.
    let faults = lines.iter().filter(|l| l.starts_with("fault: core=0 ")).count();
    assert_eq!(faults, 2, "two unhandled faults reported:\n{console}");
    assert!(lines.iter().any(|l| l.starts_with("thread ") && l.contains(" faulted: ")), "{console}");
}

#[test]
fn one_core() {
    dispatch_test(&["--smp", "1"]);
}

#[test]
fn eight_cores_gicv2() {
    dispatch_test(&["--smp", "8", "--gic", "2"]);
}

#[test]
fn raspberry_pi_4() {
    dispatch_test(&["--board", "rpi4"]);
}
