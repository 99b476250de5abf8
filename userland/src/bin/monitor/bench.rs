//! `monitor=bench`: the agreement benchmarks, run by `scripts/bench` on 2,
//! 4 and 8 cores under `-icount` (one virtual nanosecond per instruction,
//! all cores together: the numbers are total work).
//!
//! The initiator is the highest-numbered core (a leaf of the broadcast
//! tree, not the sequencer), so an update travels its longest way:
//!
//! * `agree_n<N>`: one replicated update (a name registered or removed)
//!   committed on all N cores: back-to-back updates, each started when the
//!   previous one completed at the initiator;
//! * `agree_hops_n<N>`: the most message hops any core's copy of those
//!   updates travelled (submit to the sequencer, then down the tree);
//! * `cap_revoke_remote`: revoking a frame capability of which another core
//!   holds a real copy (mark, the holder deletes its copy and acks, commit);
//! * `ns_lookup`: a name-service lookup (local; `ns_lookup_msgs` counts the
//!   messages it sent: 0).

extern crate alloc;

use alloc::vec::Vec;
use monitor::{CapDesc, Endpoint, Name, ObjId, Operation, Outcome};
use userland::{println, thread};

use crate::node::{Control, Node};

/// Control ops (numbered apart from the test's).
const RUN: u32 = 20;
const HOPS: u32 = 21;
const FINISHED: u32 = 22;

/// Timed samples, and operations per sample.
const SAMPLES: usize = 15;
const BATCH: usize = 32;
/// How long the benchmark may take before it is given up.
const TIMEOUT_MS: u64 = 60_000;

/// Runs the benchmarks; the boot core reports and powers off.
pub fn run(node: &mut Node) -> ! {
    let n = node.online();
    let last = node.peers().last();
    if node.me == node.system.boot {
        let Some(last) = last else {
            println!("error: bench: the monitor benchmarks need two cores");
            node.kernel.power_off();
        };
        node.links.control(last, Control { op: RUN, ..Control::default() });
        if node.expect(FINISHED, TIMEOUT_MS).is_none() {
            println!("error: bench: the initiator did not finish");
            node.kernel.power_off();
        }
        // The critical path: the most hops any core's copy of an update
        // travelled (every update of the run comes from the initiator).
        let mut hops = node.monitor.max_hops() as u64;
        let peers: Vec<usize> = node.peers().collect();
        for &peer in &peers {
            node.links.control(peer, Control { op: HOPS, ..Control::default() });
        }
        for _ in &peers {
            match node.expect(HOPS, TIMEOUT_MS) {
                Some(answer) => hops = hops.max(answer.a),
                None => println!("error: bench: a core did not report its hops"),
            }
        }
        println!("BENCH agree_hops_n{n} n={} median={hops} min={hops} unit=hops", SAMPLES * BATCH);
        node.kernel.power_off();
    }
    loop {
        let Some(request) = node.expect_any(&[RUN, HOPS], 0) else { continue };
        match request.op {
            HOPS => {
                let hops = node.monitor.max_hops() as u64;
                node.links
                    .control(request.core as usize, Control { op: HOPS, a: hops, ..Control::default() });
            }
            _ => {
                initiate(node, n);
                node.links.control(request.core as usize, Control { op: FINISHED, ..Control::default() });
            }
        }
    }
}

/// Median and minimum of `samples` (thousandths of an instruction each).
fn report(name: &str, mut samples: Vec<u64>) {
    samples.sort_unstable();
    let (median, min) = (samples[samples.len() / 2], samples[0]);
    println!(
        "BENCH {name} n={} median={}.{} min={}.{} unit=insn",
        samples.len(),
        median / 1000,
        median % 1000 / 100,
        min / 1000,
        min % 1000 / 100
    );
}

/// Thousandths of an instruction per operation for `ticks` counter ticks
/// over `operations` (one virtual nanosecond is one instruction).
fn per_operation(ticks: u64, operations: u64) -> u64 {
    (u128::from(ticks) * 1_000_000_000_000 / u128::from(thread::frequency()) / u128::from(operations)) as u64
}

/// The initiator's runs.
fn initiate(node: &mut Node, n: usize) {
    let name = Name::new("bench");
    let endpoint = Endpoint { core: monitor::CoreId(node.me as u8), port: 1 };
    let mut registered = false;
    let mut update = |node: &mut Node| {
        let operation =
            if registered { Operation::Unregister { name } } else { Operation::Register { name, endpoint } };
        registered = !registered;
        let outcome = node.run(operation, TIMEOUT_MS);
        if outcome != Some(Outcome::Done) {
            println!("error: bench: agreement update failed: {outcome:?}");
        }
    };
    for _ in 0..BATCH {
        update(node);
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = thread::counter();
        for _ in 0..BATCH {
            update(node);
        }
        samples.push(per_operation(thread::counter() - start, BATCH as u64));
    }
    report(&alloc::format!("agree_n{n}"), samples);

    // Lookups: local, no message.
    let sent = node.links.sent;
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = thread::counter();
        for _ in 0..BATCH {
            let _ = core::hint::black_box(node.monitor.lookup(core::hint::black_box(name)));
        }
        samples.push(per_operation(thread::counter() - start, BATCH as u64));
    }
    report("ns_lookup", samples);
    let messages = node.links.sent - sent;
    println!("BENCH ns_lookup_msgs n={} median={messages} min={messages} unit=messages", SAMPLES * BATCH);

    revoke_remote(node);
}

/// Revokes of a frame capability with a real copy on the boot core.
fn revoke_remote(node: &mut Node) {
    let Some(desc) = frame(node) else {
        println!("error: bench: cap_revoke_remote: no frame");
        return;
    };
    let holder = monitor::CoreId(node.system.boot as u8);
    let mut samples = Vec::with_capacity(SAMPLES);
    for round in 0..SAMPLES + 2 {
        let created = node.run(Operation::CapCreate { desc }, TIMEOUT_MS);
        let Some(Outcome::Created(obj)) = created else {
            println!("error: bench: cap_revoke_remote: create: {created:?}");
            return;
        };
        let copied = node.run(Operation::CapCopy { obj, to: holder }, TIMEOUT_MS);
        if copied != Some(Outcome::Done) {
            println!("error: bench: cap_revoke_remote: copy: {copied:?}");
            return;
        }
        let start = thread::counter();
        let revoked = node.run(Operation::CapRevoke { obj }, TIMEOUT_MS);
        let ticks = thread::counter() - start;
        if revoked != Some(Outcome::Done) || node.monitor.copy_state(obj).is_some() {
            println!("error: bench: cap_revoke_remote: revoke: {revoked:?}");
            return;
        }
        let _: ObjId = obj;
        if round >= 2 {
            samples.push(per_operation(ticks, 1));
        }
    }
    report("cap_revoke_remote", samples);
}

/// A 4 KiB frame of one of this core's pool units, never donated.
fn frame(node: &mut Node) -> Option<CapDesc> {
    let unit = node.take_unit()?;
    node.pool.frames(unit, 1).ok()?.first().map(|&(_, desc)| desc)
}
