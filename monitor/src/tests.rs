//! Unit tests: the tree, each operation in isolation, crash recovery.

use std::format;

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

fn create(sim: &mut Sim, core: u8) -> ObjId {
    let op = sim.start(c(core), Operation::CapCreate);
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
