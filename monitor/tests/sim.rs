//! Runs random schedules through the simulator (`scripts/test` also runs
//! 10,000 others through `examples/sim.rs` and prints its `sim:` line).

use monitor::sim;

#[test]
fn two_thousand_random_schedules() {
    let schedules = 2_000;
    let (bad, reports) = sim::run_many(schedules, 0x7e57);
    for r in &reports {
        eprintln!("FAILED seed {:#018x}: {:?}", r.seed, r.violations);
    }
    println!("sim: {schedules} schedules, {bad} invariant violations");
    assert_eq!(bad, 0);
}
