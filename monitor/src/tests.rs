//! Unit tests: the tree, each operation in isolation, crash recovery, hop
//! counts, busy RAM, capability descriptions, sequencer fail-over.

use std::vec::Vec;
use std::{format, println};

use crate::sim::{run_schedule, Sim};
use crate::*;

fn c(i: u8) -> CoreId {
    CoreId(i)
}

fn done(sim: &Sim, op: OpId) -> Outcome {
    sim.outcome(op).expect("operation did not complete").0
}

fn quiet_ok(sim: &mut Sim) {
    sim.run_fifo();
    sim.check_step();
    sim.check_quiescent();
    assert!(sim.violations.is_empty(), "{:?}", sim.violations);
}

const FRAME: CapDesc = CapDesc { kind: 1, base: 0x8000_0000, bytes: 0x2000 };

fn create(sim: &mut Sim, core: u8) -> ObjId {
    let op = sim.start(c(core), Operation::CapCreate { desc: FRAME });
    quiet_ok(sim);
    match done(sim, op) {
        Outcome::Created(obj) => obj,
        other => panic!("create: {other:?}"),
    }
}

#[test]
fn tree_depths() {
    let t = Topology::from_clusters(&[4, 4]);
    assert_eq!(t.depth(c(0), t.all()), 3);
    assert_eq!(t.reached(c(0), t.all()), t.all());
    // Core 4 leads the second cluster and is a child of the root.
    assert!(t.children(c(0), t.all(), c(0)).contains(c(4)));
    let t = Topology::from_clusters(&[4, 4, 4, 4]);
    assert_eq!(t.depth(c(0), t.all()), 4);
    assert_eq!(Topology::flat(8).depth(c(0), CoreSet::first_n(8)), 3);
    assert_eq!(Topology::flat(2).depth(c(0), CoreSet::first_n(2)), 1);
    assert_eq!(Topology::from_clusters(&[8, 8, 8, 8, 8, 8, 8, 8]).depth(c(0), CoreSet::first_n(64)), 6);
    // Every core has exactly one parent.
    let t = Topology::from_clusters(&[3, 2, 4, 1]);
    let mut seen = CoreSet::single(c(0));
    for node in t.all().iter() {
        let kids = t.children(c(0), t.all(), node);
        assert_eq!(kids.0 & seen.0, 0, "core reached twice");
        seen.0 |= kids.0;
    }
    assert_eq!(seen, t.all());
}

#[test]
fn tree_skips_dead_cores() {
    let t = Topology::from_clusters(&[4, 4]);
    let mut live = t.all();
    live.remove(c(4)); // the second cluster's leader
    live.remove(c(1));
    assert_eq!(t.reached(c(0), live), live);
    assert!(t.children(c(0), live, c(0)).contains(c(5)));
}

#[test]
fn registry_register_lookup_unregister() {
    let mut sim = Sim::new(Topology::from_clusters(&[2, 2]), 4);
    let name = Name::new("fs");
    let endpoint = Endpoint { core: c(3), port: 7 };
    let op = sim.start(c(3), Operation::Register { name, endpoint });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Done);
    for m in &sim.monitors {
        assert_eq!(m.lookup(name), Some(endpoint));
    }
    // Lookups are local: no message.
    sim.reset_metrics();
    let op = sim.start(c(1), Operation::Lookup { name });
    assert_eq!(done(&sim, op), Outcome::Found(Some(endpoint)));
    assert_eq!(sim.messages, 0);
    let op = sim.start(c(2), Operation::Register { name, endpoint: Endpoint { core: c(2), port: 1 } });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Failed(Failure::NameTaken));
    let op = sim.start(c(2), Operation::Unregister { name });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Failed(Failure::NotRegistered));
    let op = sim.start(c(3), Operation::Unregister { name });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Done);
    assert!(sim.monitors.iter().all(|m| m.lookup(name).is_none()));
}

#[test]
fn concurrent_registrations_agree() {
    let mut sim = Sim::new(Topology::flat(4), 4);
    let name = Name::new("net");
    let a = sim.start(c(1), Operation::Register { name, endpoint: Endpoint { core: c(1), port: 1 } });
    let b = sim.start(c(2), Operation::Register { name, endpoint: Endpoint { core: c(2), port: 2 } });
    // Deliver core 2's submission first.
    sim.deliver(c(2), c(0));
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, b), Outcome::Done);
    assert_eq!(done(&sim, a), Outcome::Failed(Failure::NameTaken));
    assert!(sim.monitors.iter().all(|m| m.lookup(name).unwrap().core == c(2)));
}

#[test]
fn ram_request_moves_ownership() {
    let mut sim = Sim::new(Topology::flat(3), 4);
    assert!(sim.monitors[2].owns_unit(8) && !sim.monitors[2].owns_unit(0));
    let op = sim.start(c(2), Operation::RequestRam { count: 2 });
    // The donor (core 0, most RAM, lowest id) gives up the units at once.
    sim.deliver(c(2), c(0));
    assert!(!sim.monitors[0].owns_unit(0) && !sim.monitors[2].owns_unit(0));
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Ram(RamRange { base: 0, count: 2 }));
    assert!(sim.monitors[2].owns_unit(0) && sim.monitors[2].owns_unit(1));
    assert!(sim.monitors.iter().all(|m| m.replica().ram_owner(1) == Some(c(2))));
    let op = sim.start(c(1), Operation::RequestRam { count: 5 });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Failed(Failure::NoRam));
    let op = sim.start(c(1), Operation::RequestRam { count: 0 });
    assert_eq!(done(&sim, op), Outcome::Failed(Failure::BadArgument));
}

#[test]
fn cap_create_copy_delete() {
    let mut sim = Sim::new(Topology::flat(4), 4);
    let obj = create(&mut sim, 2);
    assert!(sim.monitors[2].holds_live(obj));
    let op = sim.start(c(2), Operation::CapCopy { obj, to: c(3) });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Done);
    assert!(sim.monitors[3].holds_live(obj));
    let rec = *sim.monitors[1].replica().cap(obj).unwrap();
    assert_eq!((rec.owner, rec.copies), (c(2), CoreSet(0b1100)));
    let op = sim.start(c(2), Operation::CapDelete { obj });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Done);
    let rec = *sim.monitors[0].replica().cap(obj).unwrap();
    assert_eq!((rec.owner, rec.copies, rec.state), (c(3), CoreSet(0b1000), CapState::Live));
    let op = sim.start(c(3), Operation::CapDelete { obj });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Done);
    assert_eq!(sim.monitors[1].replica().cap(obj).unwrap().state, CapState::Deleted);
    let op = sim.start(c(3), Operation::CapCopy { obj, to: c(1) });
    assert_eq!(done(&sim, op), Outcome::Failed(Failure::NotHeld));
}

#[test]
fn revoke_reaches_every_copy_and_catches_copies_in_flight() {
    let mut sim = Sim::new(Topology::from_clusters(&[2, 2]), 4);
    let obj = create(&mut sim, 1);
    for to in [2, 3] {
        sim.start(c(1), Operation::CapCopy { obj, to: c(to) });
        quiet_ok(&mut sim);
    }
    // Core 3 sends a copy to core 0 while core 2 revokes; the revoke's mark
    // reaches the sequencer first.
    let copy = sim.start(c(3), Operation::CapCopy { obj, to: c(0) });
    let revoke = sim.start(c(2), Operation::CapRevoke { obj });
    sim.deliver(c(2), c(0));
    assert!(!sim.monitors[0].holds_live(obj));
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, revoke), Outcome::Done);
    assert_eq!(done(&sim, copy), Outcome::Failed(Failure::CapUnavailable));
    assert!(sim.monitors.iter().all(|m| m.copy_state(obj).is_none()));
    assert!(sim.monitors.iter().all(|m| m.replica().cap(obj).unwrap().state == CapState::Revoked));
}

#[test]
fn revoke_waits_for_the_commit() {
    let mut sim = Sim::new(Topology::flat(3), 4);
    let obj = create(&mut sim, 1);
    sim.start(c(1), Operation::CapCopy { obj, to: c(2) });
    quiet_ok(&mut sim);
    let revoke = sim.start(c(1), Operation::CapRevoke { obj });
    sim.deliver(c(1), c(0)); // mark ordered
    sim.deliver(c(0), c(1)); // core 1 marks
    assert_eq!(sim.monitors[1].copy_state(obj), Some(CopyState::Marked));
    assert!(sim.outcome(revoke).is_none(), "completed before core 2 marked");
    assert!(sim.monitors[2].holds_live(obj));
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, revoke), Outcome::Done);
}

#[test]
fn crash_of_inner_node_is_repaired() {
    let mut sim = Sim::new(Topology::from_clusters(&[4, 4]), 4);
    let name = Name::new("blk");
    sim.start(c(7), Operation::Register { name, endpoint: Endpoint { core: c(7), port: 3 } });
    sim.deliver(c(7), c(0));
    sim.deliver(c(0), c(4)); // core 4 (leader of cluster 2) has it, 5-7 do not
    sim.crash(c(4));
    quiet_ok(&mut sim);
    for i in [0, 1, 2, 3, 5, 6, 7] {
        assert_eq!(sim.monitors[i].lookup(name).map(|e| e.port), Some(3), "core {i}");
        assert!(!sim.monitors[i].replica().online().contains(c(4)));
    }
}

#[test]
fn revoke_does_not_wait_for_crashed_holder() {
    let mut sim = Sim::new(Topology::flat(3), 4);
    let obj = create(&mut sim, 1);
    sim.start(c(1), Operation::CapCopy { obj, to: c(2) });
    quiet_ok(&mut sim);
    let revoke = sim.start(c(1), Operation::CapRevoke { obj });
    sim.deliver(c(1), c(0));
    sim.crash(c(2));
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, revoke), Outcome::Done);
}

#[test]
fn digest_is_16_hex_digits_and_deterministic() {
    let a = Replica::new(4, 4);
    let mut b = Replica::new(4, 4);
    assert_eq!(a.digest(), b.digest());
    let text = format!("{}", a.digest());
    assert_eq!(text.len(), 16);
    assert!(text.chars().all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase()));
    b.apply(&Update::CoreDown { core: c(3) });
    assert_ne!(a.digest(), b.digest());
}

#[test]
fn schedules_are_reproducible() {
    for seed in [1u64, 2, 3, 0xdead_beef] {
        let a = run_schedule(seed);
        let b = run_schedule(seed);
        assert_eq!((a.steps, a.cores, a.operations, a.crashed), (b.steps, b.cores, b.operations, b.crashed));
        assert!(a.violations.is_empty(), "{:?}", a.violations);
    }
}

/// An outbox that records everything.
#[derive(Default)]
struct Record {
    sends: Vec<(CoreId, Message)>,
    done: Vec<(OpId, Outcome)>,
}

impl Outbox for Record {
    fn send(&mut self, to: CoreId, message: Message) {
        self.sends.push((to, message));
    }
    fn complete(&mut self, op: OpId, outcome: Outcome) {
        self.done.push((op, outcome));
    }
}

/// The hop table of the `monitor` module docs: an update started on the
/// highest-numbered core of an idle machine reaches every core within
/// `1 + depth` hops, and the farthest core at exactly `1 + depth`.
#[test]
fn hops_follow_the_tree() {
    let cases: [(&str, &[usize], u8); 4] =
        [("flat 2", &[2], 2), ("flat 4", &[4], 3), ("flat 8", &[8], 4), ("clusters [4, 4]", &[4, 4], 4)];
    println!("{:<16} {:>5} {:>8}  per-core hops", "topology", "depth", "max hops");
    for (label, clusters, expected) in cases {
        let topology = Topology::from_clusters(clusters);
        let depth = topology.depth(SEQUENCER, topology.all());
        let mut sim = Sim::new(topology, 4);
        let last = c(topology.cores() as u8 - 1);
        let mut ops = Vec::new();
        let name = Name::new("hops");
        let endpoint = Endpoint { core: last, port: 1 };
        let desc = CapDesc { kind: 2, base: 0x1000, bytes: 0x1000 };
        for op in [
            Operation::Register { name, endpoint },
            Operation::CapCreate { desc },
            Operation::Unregister { name },
        ] {
            sim.reset_metrics();
            ops.push(sim.start(last, op));
            quiet_ok(&mut sim);
            let hops: Vec<u8> = sim.monitors.iter().map(Monitor::last_hops).collect();
            assert!(hops.iter().all(|&h| h as u32 <= 1 + depth), "{label}: {hops:?} with depth {depth}");
            let max = sim.monitors.iter().map(Monitor::max_hops).max().unwrap();
            assert_eq!(max as u32, 1 + depth, "{label}: {hops:?}");
            assert_eq!(max, expected, "{label}: the table in the monitor docs");
            assert_eq!(hops[SEQUENCER.index()], 1, "{label}: one hop to the sequencer");
            if matches!(op, Operation::Register { .. }) {
                println!("{label:<16} {depth:>5} {max:>8}  {hops:?}");
            }
        }
        assert!(ops.iter().all(|&op| !matches!(done(&sim, op), Outcome::Failed(_))));
        // Started on the sequencer, the entry starts at 0 hops.
        sim.reset_metrics();
        sim.start(SEQUENCER, Operation::Register { name, endpoint: Endpoint { core: SEQUENCER, port: 2 } });
        quiet_ok(&mut sim);
        assert_eq!(sim.monitors[0].last_hops(), 0);
        assert_eq!(sim.monitors.iter().map(Monitor::max_hops).max().unwrap() as u32, depth);
    }
}

#[test]
fn catchup_is_its_ordered_messages() {
    let topology = Topology::flat(3);
    let mut seq = Monitor::new(c(0), topology, 4);
    let mut out = Record::default();
    let name = Name::new("fs");
    seq.start(Operation::Register { name, endpoint: Endpoint { core: c(0), port: 1 } }, &mut out);
    seq.start(Operation::CapCreate { desc: FRAME }, &mut out);
    seq.handle(c(2), Message::Submit { update: Update::CoreDown { core: c(1) }, hops: 5 }, &mut out);
    // Catch-up copies count one hop more than the sequencer's.
    let mut out = Record::default();
    seq.handle(c(2), Message::Sync { next: 0 }, &mut out);
    let [(to, catchup)] = &out.sends[..] else { panic!("{:?}", out.sends) };
    assert_eq!(*to, c(2));
    let Message::Catchup { from: 0, entries } = catchup else { panic!("{catchup:?}") };
    assert_eq!(entries.iter().map(|e| e.1).collect::<Vec<_>>(), [1, 1, 6]);
    assert!(catchup.to_wire().is_none());
    let split: Vec<Message> = catchup.clone().split_catchup().collect();
    assert_eq!(split.len(), 3);
    // Handling the catch-up and handling its split messages are the same.
    let (mut a, mut b) = (Monitor::new(c(2), topology, 4), Monitor::new(c(2), topology, 4));
    let (mut out_a, mut out_b) = (Record::default(), Record::default());
    a.handle(c(0), catchup.clone(), &mut out_a);
    for m in split {
        let wire = m.to_wire().unwrap();
        b.handle(c(0), Message::from_wire(&wire).unwrap(), &mut out_b);
    }
    assert_eq!((out_a.sends, out_a.done), (out_b.sends, out_b.done));
    assert_eq!((a.digest(), a.applied(), a.last_hops(), a.max_hops()), (b.digest(), b.applied(), 6, 6));
    assert_eq!(a.digest(), seq.digest());
    // Other messages pass through alone.
    let sync = Message::Sync { next: 7 };
    assert_eq!(sync.clone().split_catchup().collect::<Vec<_>>(), [sync]);
    a.reset_hops();
    assert_eq!((a.last_hops(), a.max_hops()), (6, 0));
}

#[test]
fn busy_units_are_never_donated() {
    let mut sim = Sim::new(Topology::flat(2), 4);
    // Core 0 owns units 0..4 and hands 0..2 to local clients.
    sim.set_busy(c(0), RamRange { base: 0, count: 2 }, true);
    let m = &sim.monitors[0];
    assert!(m.owns_unit(0) && m.is_busy(0) && !m.free_unit(0));
    assert!(m.free_unit(2) && !m.is_busy(2));
    let op = sim.start(c(1), Operation::RequestRam { count: 3 });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Failed(Failure::NoRam));
    let op = sim.start(c(1), Operation::RequestRam { count: 2 });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Ram(RamRange { base: 2, count: 2 }));
    assert!(sim.monitors[0].is_busy(0) && sim.monitors[0].owns_unit(1));
    // Only owned units can be marked.
    sim.set_busy(c(0), RamRange { base: 0, count: 100 }, true);
    assert!((2..8).all(|u| !sim.monitors[0].is_busy(u)));
    assert!(!sim.monitors[1].is_busy(2) && sim.monitors[1].free_unit(2));
    // Unmarked, they can go.
    sim.set_busy(c(0), RamRange { base: 0, count: 2 }, false);
    let op = sim.start(c(1), Operation::RequestRam { count: 2 });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Ram(RamRange { base: 0, count: 2 }));
    assert!((0..8).all(|u| sim.monitors[1].owns_unit(u) && !sim.monitors[0].owns_unit(u)));
}

#[test]
fn transfer_away_clears_busy() {
    let topology = Topology::flat(2);
    let mut m = Monitor::new(c(1), topology, 4);
    let range = RamRange { base: 4, count: 2 };
    m.set_busy(range, true);
    assert!(m.is_busy(4) && m.is_busy(5));
    let op = OpId { core: c(0), n: 0 };
    let update = Update::RamTransfer { from: c(1), to: c(0), range, op };
    m.handle(c(0), Message::Ordered { seq: 0, update, hops: 2 }, &mut Record::default());
    assert!(!m.owns_unit(4) && !m.is_busy(4) && !m.is_busy(5));
    assert_eq!(m.last_hops(), 2);
}

#[test]
fn capability_descriptions_are_replicated() {
    let mut sim = Sim::new(Topology::flat(4), 4);
    let obj = create(&mut sim, 2);
    let op = sim.start(c(2), Operation::CapCopy { obj, to: c(3) });
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Done);
    for m in &sim.monitors {
        assert_eq!(m.created(obj), Some(FRAME));
        assert_eq!(m.replica().cap(obj).unwrap().desc, FRAME);
    }
    assert_eq!(sim.monitors[0].created(ObjId(12345)), None);
    // The description is part of the digest.
    let op = OpId { core: c(1), n: 0 };
    let (mut a, mut b) = (Replica::new(2, 1), Replica::new(2, 1));
    a.apply(&Update::CapCreate { obj: ObjId(1), op, desc: FRAME });
    b.apply(&Update::CapCreate { obj: ObjId(1), op, desc: CapDesc { bytes: 0x1000, ..FRAME } });
    assert_ne!(a.digest(), b.digest());
}

#[test]
fn dead_cores_ram_goes_to_the_lowest_live_core() {
    let mut sim = Sim::new(Topology::flat(4), 4);
    // Core 3 takes two of core 2's units, then core 2 and core 3 die.
    let op = sim.start(c(3), Operation::RequestRam { count: 2 });
    quiet_ok(&mut sim);
    assert!(matches!(done(&sim, op), Outcome::Ram(_)));
    sim.crash(c(2));
    quiet_ok(&mut sim);
    sim.crash(c(3));
    quiet_ok(&mut sim);
    let m = &sim.monitors[0];
    for u in 8..16 {
        assert_eq!(m.replica().ram_owner(u), Some(c(0)), "unit {u}");
        assert!(m.owns_unit(u), "unit {u} not usable by the heir");
    }
    // Every replica agrees, and the heir's effects made the units real
    // (check_step compares them in every step).
    assert_eq!(sim.monitors[1].replica().ram_owned_by(c(0)), 12);
}

/// How many entries of `m`'s log belong to `op`.
fn logged(m: &Monitor, op: OpId) -> usize {
    m.log().filter(|u| u.op() == Some(op)).count()
}

/// After quiescence: every live monitor follows `sequencer`, has the same
/// log with `op` in it exactly once.
fn agreed_once(sim: &Sim, sequencer: u8, ops: &[OpId]) {
    let live: Vec<&Monitor> = sim.monitors.iter().filter(|m| !sim.crashed().contains(m.core())).collect();
    let log: Vec<Update> = live[0].log().copied().collect();
    for m in &live {
        assert_eq!(m.sequencer(), c(sequencer), "core {}", m.core().0);
        assert!(!m.failing_over());
        assert_eq!(m.log().copied().collect::<Vec<_>>(), log, "core {}", m.core().0);
        assert_eq!(m.digest(), live[0].digest());
        for &op in ops {
            assert_eq!(logged(m, op), 1, "{op:?} on core {}", m.core().0);
        }
    }
}

#[test]
fn failover_resubmits_a_submit_the_dead_sequencer_never_ordered() {
    let mut sim = Sim::new(Topology::flat(4), 4);
    let name = Name::new("fs");
    let endpoint = Endpoint { core: c(3), port: 9 };
    let op = sim.start(c(3), Operation::Register { name, endpoint });
    assert_eq!(sim.busy_channels(), [(c(3), c(0))]);
    sim.crash(c(0)); // the submit dies with the sequencer
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Done);
    agreed_once(&sim, 1, &[op]);
    for i in 1..4 {
        assert_eq!(sim.monitors[i].lookup(name), Some(endpoint));
        assert!(!sim.monitors[i].replica().online().contains(c(0)));
    }
}

#[test]
fn failover_adopts_an_entry_only_part_of_the_tree_got() {
    // Flat 4 from core 0: children 1 and 2, core 3 under core 1.
    let mut sim = Sim::new(Topology::flat(4), 4);
    let name = Name::new("net");
    let op = sim.start(c(3), Operation::Register { name, endpoint: Endpoint { core: c(3), port: 1 } });
    sim.deliver(c(3), c(0)); // ordered as entry 0
    sim.deliver(c(0), c(2)); // only core 2 applied it
    assert_eq!((sim.monitors[1].applied(), sim.monitors[2].applied(), sim.monitors[3].applied()), (0, 1, 0));
    sim.crash(c(0));
    // Core 1 takes over, fetches entry 0 from core 2; core 3 resubmits its
    // register, which must not be ordered again.
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Done);
    agreed_once(&sim, 1, &[op]);
    assert_eq!(sim.monitors[3].log().next().and_then(Update::op), Some(op), "kept at position 0");
}

#[test]
fn failover_resubmits_ram_transfers() {
    let mut sim = Sim::new(Topology::flat(4), 4);
    // Core 2 takes two of core 0's units, so core 2 is the richest donor.
    let first = sim.start(c(2), Operation::RequestRam { count: 2 });
    quiet_ok(&mut sim);
    assert!(matches!(done(&sim, first), Outcome::Ram(_)));
    let op = sim.start(c(3), Operation::RequestRam { count: 2 });
    sim.deliver(c(3), c(2)); // core 2 gives the units up and submits
    assert_eq!(sim.busy_channels(), [(c(2), c(0))]);
    sim.crash(c(0));
    quiet_ok(&mut sim);
    let Outcome::Ram(range) = done(&sim, op) else { panic!("{:?}", done(&sim, op)) };
    assert!(range.units().all(|u| sim.monitors[3].owns_unit(u) && !sim.monitors[2].owns_unit(u)));
    agreed_once(&sim, 1, &[first, op]);
}

#[test]
fn failover_orders_the_new_sequencers_own_lost_submit() {
    let mut sim = Sim::new(Topology::flat(3), 4);
    // Core 1 (the next sequencer) donates to core 2; its submit is lost.
    let first = sim.start(c(2), Operation::RequestRam { count: 1 }); // donor 0
    quiet_ok(&mut sim);
    assert!(matches!(done(&sim, first), Outcome::Ram(_)));
    let op = sim.start(c(2), Operation::RequestRam { count: 2 }); // donor 1 (4 units)
    sim.deliver(c(2), c(1));
    assert_eq!(sim.busy_channels(), [(c(1), c(0))]);
    sim.crash(c(0));
    quiet_ok(&mut sim);
    assert!(matches!(done(&sim, op), Outcome::Ram(_)));
    agreed_once(&sim, 1, &[first, op]);
}

#[test]
fn failover_completes_a_revoke_waiting_for_acks() {
    let mut sim = Sim::new(Topology::flat(4), 4);
    let obj = create(&mut sim, 2);
    for to in [1, 3] {
        sim.start(c(2), Operation::CapCopy { obj, to: c(to) });
        quiet_ok(&mut sim);
    }
    let revoke = sim.start(c(2), Operation::CapRevoke { obj });
    sim.deliver(c(2), c(0)); // mark ordered, sequencer waits for 1, 2, 3
    sim.deliver(c(0), c(1));
    sim.deliver(c(0), c(2));
    sim.deliver(c(1), c(3)); // all holders marked, acks on their way
    assert!(sim.monitors[1..].iter().all(|m| m.copy_state(obj) == Some(CopyState::Marked)));
    sim.deliver(c(3), c(0)); // one ack arrives, then the sequencer dies
    sim.crash(c(0));
    quiet_checked(&mut sim);
    assert_eq!(done(&sim, revoke), Outcome::Done);
    agreed_once(&sim, 1, &[revoke]);
    let commits = sim.monitors[1].log().filter(|u| **u == Update::RevokeCommit { obj }).count();
    assert_eq!(commits, 1);
    for m in &sim.monitors[1..] {
        assert_eq!(m.copy_state(obj), None);
        assert_eq!(m.replica().cap(obj).unwrap().state, CapState::Revoked);
    }
}

/// Delivers in FIFO order like [`Sim::run_fifo`], checking the per-step
/// invariants after every delivery, then the quiescent ones.
fn quiet_checked(sim: &mut Sim) {
    while let Some(&(from, to)) = sim.busy_channels().first() {
        sim.deliver(from, to);
        sim.check_step();
    }
    quiet_ok(sim);
}

#[test]
fn failover_waits_for_holders_that_missed_the_mark() {
    let mut sim = Sim::new(Topology::flat(4), 4);
    let obj = create(&mut sim, 2);
    for to in [1, 3] {
        sim.start(c(2), Operation::CapCopy { obj, to: c(to) });
        quiet_ok(&mut sim);
    }
    let revoke = sim.start(c(2), Operation::CapRevoke { obj });
    sim.deliver(c(2), c(0)); // mark ordered
    sim.deliver(c(0), c(2)); // only the initiator marked
    sim.crash(c(0));
    // Core 1 fetches the mark from core 2; core 3 still holds a live copy
    // and the commit must wait for it.
    assert!(sim.monitors[3].holds_live(obj));
    quiet_checked(&mut sim);
    assert_eq!(done(&sim, revoke), Outcome::Done);
    agreed_once(&sim, 1, &[revoke]);
    assert!(sim.monitors[1..].iter().all(|m| m.copy_state(obj).is_none()));
}

#[test]
fn failover_survives_the_new_sequencer_crashing_too() {
    let mut sim = Sim::new(Topology::from_clusters(&[3, 3]), 4);
    let obj = create(&mut sim, 5);
    sim.start(c(5), Operation::CapCopy { obj, to: c(4) });
    quiet_ok(&mut sim);
    let name = Name::new("blk");
    let a = sim.start(c(4), Operation::Register { name, endpoint: Endpoint { core: c(4), port: 1 } });
    let b = sim.start(c(5), Operation::CapRevoke { obj });
    let d = sim.start(c(3), Operation::CapCreate { desc: FRAME });
    sim.deliver(c(4), c(0));
    sim.deliver(c(0), c(3)); // only cluster 2's leader has the register
    sim.crash(c(0));
    // Core 1 waits for reports; it dies before finishing.
    sim.deliver(c(2), c(1));
    sim.crash(c(1));
    quiet_checked(&mut sim);
    for op in [a, b, d] {
        assert!(!matches!(done(&sim, op), Outcome::Failed(_)), "{op:?}: {:?}", done(&sim, op));
    }
    agreed_once(&sim, 2, &[a, b, d]);
    assert!(sim.monitors[2..].iter().all(|m| m.copy_state(obj).is_none()));
}

#[test]
fn late_messages_of_a_dead_sequencer_are_ignored() {
    let topology = Topology::flat(3);
    let mut m = Monitor::new(c(2), topology, 4);
    let mut out = Record::default();
    m.core_down(c(0), &mut out);
    assert_eq!((m.sequencer(), m.failing_over()), (c(1), true));
    assert_eq!(out.sends, [(c(1), Message::Report { next: 0 })]);
    let update = Update::CoreDown { core: c(1) };
    m.handle(c(0), Message::Ordered { seq: 0, update, hops: 1 }, &mut out);
    m.handle(c(0), Message::Start { next: 0 }, &mut out);
    assert_eq!((m.applied(), m.failing_over()), (0, true));
    // Nor does a live core's entry apply before the start.
    m.handle(c(1), Message::Ordered { seq: 0, update, hops: 1 }, &mut out);
    assert_eq!(m.applied(), 0);
    m.handle(c(1), Message::Start { next: 0 }, &mut out);
    assert!(!m.failing_over());
    // It dropped entry 0 while waiting and the start does not cover it.
    assert_eq!(out.sends.last(), Some(&(c(1), Message::Sync { next: 0 })));
    // Once started, a late entry of the dead sequencer is still ignored.
    m.handle(c(0), Message::Ordered { seq: 0, update, hops: 1 }, &mut out);
    assert_eq!(m.applied(), 0);
    m.handle(c(1), Message::Ordered { seq: 0, update, hops: 1 }, &mut out);
    assert_eq!(m.applied(), 1);

    // In the simulator: the sequencer halts with entries in flight, which
    // arrive after its crash was reported.
    let mut sim = Sim::new(Topology::flat(4), 4);
    let ops: Vec<OpId> = (1..4)
        .map(|i| {
            sim.start(
                c(i),
                Operation::Register { name: Name::new("x"), endpoint: Endpoint { core: c(i), port: 0 } },
            )
        })
        .collect();
    sim.deliver(c(1), c(0));
    sim.deliver(c(2), c(0));
    sim.halt(c(0));
    sim.deliver(c(0), c(2));
    sim.report(c(0), true);
    assert!(sim.busy_channels().iter().any(|&(f, _)| f == c(0)));
    quiet_ok(&mut sim);
    agreed_once(&sim, 1, &ops);
    let winners = ops.iter().filter(|&&op| done(&sim, op) == Outcome::Done).count();
    assert_eq!(winners, 1);
}

#[test]
fn after_failover_the_tree_is_rooted_at_the_new_sequencer() {
    let topology = Topology::flat(8);
    let mut sim = Sim::new(topology, 4);
    sim.crash(c(0));
    quiet_ok(&mut sim);
    let mut live = topology.all();
    live.remove(c(0));
    let depth = topology.depth(c(1), live);
    assert_eq!(topology.reached(c(1), live), live);
    sim.reset_metrics();
    let op = sim.start(
        c(7),
        Operation::Register { name: Name::new("h"), endpoint: Endpoint { core: c(7), port: 1 } },
    );
    quiet_ok(&mut sim);
    assert_eq!(done(&sim, op), Outcome::Done);
    assert_eq!(sim.monitors[1].last_hops(), 1);
    assert_eq!(sim.monitors.iter().map(Monitor::max_hops).max().unwrap() as u32, 1 + depth);
}

#[test]
fn many_schedules_with_sequencer_crashes() {
    // About a quarter of the schedules crash core 0 (a random victim or the
    // sequencer of the moment), some of them the next sequencer as well.
    let mut failovers = 0;
    for i in 0..3000 {
        let r = run_schedule(crate::sim::schedule_seed(0xfa11, i));
        assert!(r.violations.is_empty(), "seed {:#x}: {:?}", r.seed, r.violations);
        failovers += r.crashed.contains(SEQUENCER) as u32;
    }
    assert!(failovers > 300, "only {failovers} fail-overs");
}

/// Runs `updates` registrations and unregistrations started on random cores
/// with random delivery, checking the per-step invariants (bounded logs and
/// no request for trimmed entries included) after every step, and crashing
/// the cores of `crashes` (as `(after so many updates, core)`).
fn long_run(sim: &mut Sim, updates: u32, crashes: &[(u32, u8)], seed: u64) {
    let mut rng = crate::sim::Rng(seed);
    let names = ["fs", "net", "blk", "tty"].map(Name::new);
    let mut started = 0;
    loop {
        let busy = sim.busy_channels();
        // At most a few dozen messages in flight: a steady load.
        if started < updates && (busy.is_empty() || (sim.in_flight() < 24 && rng.below(3) == 0)) {
            if let Some(&(_, core)) = crashes.iter().find(|&&(at, _)| at == started) {
                sim.crash(c(core));
            }
            let live: Vec<u8> =
                (0..sim.monitors.len() as u8).filter(|&i| !sim.crashed().contains(c(i))).collect();
            let core = c(live[rng.below(live.len() as u64) as usize]);
            let name = names[rng.below(names.len() as u64) as usize];
            let op = if rng.below(2) == 0 {
                Operation::Register { name, endpoint: Endpoint { core, port: started } }
            } else {
                Operation::Unregister { name }
            };
            sim.start(core, op);
            started += 1;
        } else if let Some(&(from, to)) = busy.get(rng.below(busy.len().max(1) as u64) as usize) {
            sim.deliver(from, to);
        } else {
            break;
        }
        sim.check_step();
    }
    quiet_ok(sim);
}

#[test]
fn long_runs_keep_every_log_small() {
    let mut sim = Sim::new(Topology::flat(4), 4);
    long_run(&mut sim, 2000, &[], 0x10f);
    let k = APPLIED_EVERY;
    let digest = sim.monitors[0].digest();
    for m in &sim.monitors {
        assert!(m.applied() >= 2000, "core {}: applied {}", m.core().0, m.applied());
        assert_eq!((m.applied(), m.digest()), (sim.monitors[0].applied(), digest), "core {}", m.core().0);
        assert!(m.log_len() as u64 <= k, "core {}: {} entries kept", m.core().0, m.log_len());
        assert_eq!(m.log_base() + m.log_len() as u64, m.applied());
        assert_eq!(m.trim_misses(), 0);
    }
    println!("longest log kept: {} entries (interval {k})", sim.max_log);
    assert!(sim.max_log as u64 <= 4 * k, "longest log kept: {}", sim.max_log);
}

#[test]
fn trims_survive_fail_overs() {
    // A tiny interval: trims all the time, around two sequencer crashes and
    // the crash of another core (whose reports must not hold trims back).
    for every in [1, 2, 5] {
        let mut sim = Sim::new(Topology::from_clusters(&[3, 3]), 4);
        sim.set_applied_every(every);
        long_run(&mut sim, 400, &[(100, 0), (200, 4), (300, 1)], every);
        for m in sim.monitors.iter().filter(|m| !sim.crashed().contains(m.core())) {
            assert!(m.applied() >= 300, "core {}: applied {}", m.core().0, m.applied());
            assert!(m.log_len() as u64 <= every, "core {}: {} entries kept", m.core().0, m.log_len());
        }
    }
}

#[test]
fn trim_messages_are_kinds_10_and_11() {
    // Off the sequencer, every `APPLIED_EVERY` applied entries report to
    // it; the sequencer answers with a trim once every monitor did.
    let topology = Topology::flat(2);
    let mut seq = Monitor::new(c(0), topology, 4);
    let mut other = Monitor::new(c(1), topology, 4);
    seq.set_applied_every(2);
    other.set_applied_every(2);
    let mut out = Record::default();
    for core in [c(1), c(0), c(1)] {
        seq.handle(c(1), Message::Submit { update: Update::CoreDown { core }, hops: 1 }, &mut out);
    }
    let ordered: Vec<Message> = out.sends.drain(..).map(|(_, m)| m).collect();
    assert_eq!(ordered.len(), 3);
    for m in ordered {
        other.handle(c(0), m, &mut out);
    }
    assert_eq!(out.sends, [(c(0), Message::Applied { next: 2 })]);
    let (_, applied) = out.sends.pop().unwrap();
    seq.handle(c(1), applied, &mut out);
    assert_eq!(out.sends, [(c(1), Message::Trim { below: 2 })]);
    assert_eq!((seq.log_base(), seq.log_len()), (2, 1));
    let (_, trim) = out.sends.pop().unwrap();
    other.handle(c(0), trim, &mut out);
    assert_eq!((other.log_base(), other.log_len(), other.applied()), (2, 1, 3));
    assert_eq!(Message::Applied { next: 2 }.to_wire().unwrap().kind, 10);
    assert_eq!(Message::Trim { below: 2 }.to_wire().unwrap().kind, 11);
}
