//! `test=urpc`: all-to-all URPC exchange over every pair of cores, with
//! receiver stalls (back-pressure) and a doorbell round (blocking, SGI wake).

use mk_tests::{contract_lines, Qemu};

fn exchange(args: &[&str], cores: u64) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--append", "test=urpc"]);
    let console = Qemu::boot(&all).finish();
    let lines = contract_lines(&console);
    let total = cores * (cores - 1) * 10_000;
    let ok = format!("urpc: mesh {cores}x{cores} ok messages={total} lost=0");
    assert!(lines.contains(&ok.as_str()), "want {ok:?}:\n{console}");
    assert!(lines.contains(&"test urpc: 5 passed, 0 failed"), "{console}");
}

#[test]
fn two_cores() {
    exchange(&["--smp", "2"], 2);
}

#[test]
fn eight_cores() {
    exchange(&["--smp", "8"], 8);
}

#[test]
fn four_cores_gicv2() {
    exchange(&["--smp", "4", "--gic", "2"], 4);
}

#[test]
fn raspberry_pi_4() {
    exchange(&["--board", "rpi4"], 4);
}
