//! Random-schedule simulator of the monitor protocol.
//!
//! `cargo run -p monitor --example sim -- [schedules] [seed]` prints
//! `sim: <schedules> schedules, <violations> invariant violations` (and the
//! seed of every failing schedule; `-- 1 <seed>` replays one).
//! `cargo run -p monitor --example sim -- metrics` prints work and critical
//! path per update for 2, 4 and 8 cores (`log entry hops` is the largest hop
//! count a monitor recorded for a log entry, see `Monitor::max_hops`).

use monitor::sim;

fn parse(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).expect("bad number"),
        None => s.parse().expect("bad number"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("metrics") {
        for clusters in [&[2usize][..], &[2, 2], &[4, 4]] {
            let n: usize = clusters.iter().sum();
            for m in sim::measure(clusters) {
                println!(
                    "N={n} {clusters:?} {:<28} messages {:>3}  hops to completion {:>2}  hops to all replicas {:>2}  \
                     log entry hops {:>2}",
                    m.name, m.messages, m.completion_hops, m.quiescence_hops, m.entry_hops
                );
            }
        }
        return;
    }
    let schedules = args.first().map_or(10_000, |s| parse(s));
    let seed = args.get(1).map_or(0x5eed, |s| parse(s));
    let (bad, reports) = sim::run_many(schedules, seed);
    for r in &reports {
        eprintln!(
            "FAILED seed {:#018x} (cores {}, steps {}, ops {}, crashed {:?}): {:?}",
            r.seed, r.cores, r.steps, r.operations, r.crashed, r.violations
        );
    }
    println!("sim: {schedules} schedules, {bad} invariant violations");
    if bad > 0 {
        std::process::exit(1);
    }
}
