//! `test=monitor`: the monitors exercise the replicated state on every
//! core, driven by the boot core's monitor over the same links.
//!
//! Steps (the boot core sends `STEP`, every core answers `DONE` with its
//! passed/failed counts): names registered from every core and looked up
//! everywhere without a message; a RAM transfer made real (the receiver
//! maps and uses the RAM); a capability copied to every core and revoked
//! from a core that is not its owner; a malformed message on every link;
//! then a quiescence barrier after which every core prints
//! `replica: core=<i> digest=<16 hex>` and the boot core checks that all
//! digests agree and prints `test monitor: N passed, M failed`.

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use monitor::{CapDesc, CopyState, Endpoint, Failure, Name, ObjId, Operation, Outcome, RamRange};
use userland::cap::Frame;
use userland::cptr::{CPtr, ROOT_CNODE_SLOT};
use userland::heap::HeapTables;
use userland::object::{ObjectType, PAGE_BITS};
use userland::sibling::Siblings;
use userland::{allocator, println};

use crate::bind;
use crate::node::{self, Control, Node};
use crate::window::Window;

/// Control ops.
pub const STEP: u32 = 1;
/// A step's result: a = step, b = passed, c = failed, d = a value.
pub const DONE: u32 = 2;

/// Steps.
const NAMES: u64 = 1;
const LOOKUP: u64 = 2;
const RAM_CHECK: u64 = 3;
const HOLDS: u64 = 4;
const REVOKE: u64 = 5;
const GONE: u64 = 6;
const MALFORMED: u64 = 7;
const DIGEST: u64 = 8;
const END: u64 = 9;
const BIND_SERVE: u64 = 11;
const BIND_END: u64 = 12;
const HOG: u64 = 13;
const UNHOG: u64 = 14;

/// Programs spawned one after the other on one core (more than its
/// monitor's root CNode slots or RAM could hold without reuse: each takes a
/// 2 MiB block).
const SPAWNS: u64 = 150;
/// Applied entries between two progress reports to the sequencer here.
const TRIM_EVERY: u64 = 8;
/// How long one operation or step may take.
const TIMEOUT_MS: u64 = 10_000;
/// Entries of the heap's L2 table where this test maps frames and the
/// siblings' dispatcher frames.
const WINDOW_L2_ENTRY: usize = 8;
const SIBLINGS_L2_ENTRY: usize = 9;

/// What the steps map and start.
pub struct Env {
    heap: HeapTables,
    window: Option<Window>,
    siblings: Option<Siblings>,
    /// The bound server and its channel's objects (on the server's core).
    bound: Option<(userland::cap::Dispatcher, Vec<ObjId>)>,
    /// Units made busy by `HOG`, freed by `UNHOG`.
    hogged: Vec<u32>,
}

impl Env {
    fn window(&mut self) -> userland::error::Result<&mut Window> {
        if self.window.is_none() {
            self.window = Some(Window::new(&self.heap, WINDOW_L2_ENTRY)?);
        }
        self.window.as_mut().ok_or(userland::error::Error::InvalidArgument)
    }

    fn parts(&mut self) -> userland::error::Result<(&mut Window, &mut Siblings)> {
        self.window()?;
        if self.siblings.is_none() {
            self.siblings = Some(Siblings::new(&self.heap, SIBLINGS_L2_ENTRY)?);
        }
        match (self.window.as_mut(), self.siblings.as_mut()) {
            (Some(window), Some(siblings)) => Ok((window, siblings)),
            _ => Err(userland::error::Error::InvalidArgument),
        }
    }
}

/// Counts checks.
#[derive(Default)]
struct Tally {
    passed: u32,
    failed: u32,
    core: usize,
    /// What the step reports besides its counts.
    value: u64,
}

impl Tally {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            println!("monitor test: core {}: FAILED {}", self.core, what());
        }
    }
}

fn name(i: usize) -> Name {
    Name::new(&format!("svc{i}"))
}

fn port(i: usize) -> u32 {
    100 + i as u32
}

/// Runs the test on this core; the boot core drives it and powers off.
pub fn run(node: &mut Node, heap: &HeapTables) -> ! {
    let env = &mut Env { heap: *heap, window: None, siblings: None, bound: None, hogged: Vec::new() };
    // Progress reported (and the log trimmed) every few entries, so that
    // the test's few dozen updates trim it.
    node.monitor.set_applied_every(TRIM_EVERY);
    if node.me == node.system.boot {
        let (passed, failed) = drive(node, env);
        println!("test monitor: {passed} passed, {failed} failed");
        node.kernel.power_off();
    }
    loop {
        let Some(step) = node.expect(STEP, 60_000) else {
            println!("monitor test: core {}: no step from the boot core for 60 s", node.me);
            node.serve();
        };
        let tally = follow(node, env, step);
        let (b, c, d) = (tally.passed as u64, tally.failed as u64, tally.value);
        node.links
            .control(step.core as usize, Control { op: DONE, a: step.a, b, c, d, ..Control::default() });
        if step.a == END {
            node.serve();
        }
    }
}

/// Waits until this core applied the log up to `length` (a barrier the
/// boot core, which is the sequencer, sets).
fn caught_up(node: &mut Node, length: u64, tally: &mut Tally) {
    let ok = node.wait_until(TIMEOUT_MS, |node| node.monitor.applied() >= length);
    tally.check(ok, || format!("log not applied up to {length} (at {})", node.monitor.applied()));
}

/// One step on a core (the boot core runs each one too).
fn follow(node: &mut Node, env: &mut Env, step: Control) -> Tally {
    let mut tally = Tally { core: node.me, ..Tally::default() };
    let me = node.me;
    match step.a {
        NAMES => {
            let endpoint = Endpoint { core: monitor::CoreId(me as u8), port: port(me) };
            let outcome = node.run(Operation::Register { name: name(me), endpoint }, TIMEOUT_MS);
            tally.check(outcome == Some(Outcome::Done), || format!("register svc{me}: {outcome:?}"));
            let again = node.run(Operation::Register { name: name(me), endpoint }, TIMEOUT_MS);
            let taken = Some(Outcome::Failed(Failure::NameTaken));
            tally.check(again == taken, || format!("second register svc{me}: {again:?}"));
            let other = node.run(Operation::Unregister { name: Name::new("nobody") }, TIMEOUT_MS);
            let missing = Some(Outcome::Failed(Failure::NotRegistered));
            tally.check(other == missing, || format!("unregister of a free name: {other:?}"));
        }
        LOOKUP => {
            caught_up(node, step.b, &mut tally);
            let sent = node.links.sent;
            let online: Vec<usize> =
                (0..node.system.listed).filter(|&c| node.system.online & (1 << c) != 0).collect();
            for &core in &online {
                let found = node.run(Operation::Lookup { name: name(core) }, TIMEOUT_MS);
                let want = Endpoint { core: monitor::CoreId(core as u8), port: port(core) };
                tally.check(found == Some(Outcome::Found(Some(want))), || {
                    format!("lookup svc{core}: {found:?}")
                });
            }
            let absent = node.run(Operation::Lookup { name: Name::new("nobody") }, TIMEOUT_MS);
            tally.check(absent == Some(Outcome::Found(None)), || format!("lookup nobody: {absent:?}"));
            let messages = node.links.sent - sent;
            tally.check(messages == 0, || format!("lookups sent {messages} messages"));
        }
        RAM_CHECK => {
            caught_up(node, step.b, &mut tally);
            let range = RamRange { base: step.c as u32, count: (step.c >> 32) as u32 };
            let owner = step.d as usize;
            let agreed = range
                .units()
                .all(|u| node.monitor.replica().ram_owner(u) == Some(monitor::CoreId(owner as u8)));
            tally.check(agreed, || format!("replica does not give {range:?} to core {owner}"));
            let usable = range.units().all(|u| node.monitor.owns_unit(u) == (me == owner));
            tally.check(usable, || format!("units {range:?} usable here: wrong"));
        }
        HOLDS => {
            caught_up(node, step.b, &mut tally);
            let obj = ObjId(step.c);
            tally.check(node.monitor.holds_live(obj), || format!("no live copy of {obj:?}"));
            let real = node.pool.copy(obj).map(|slot| Frame::at(slot).identify());
            let base = node.monitor.created(obj).map(|d| d.base as usize);
            let same = matches!((real, base), (Some(Ok(info)), Some(b)) if info.base == b);
            tally.check(same, || format!("copy of {obj:?} not real: {real:?} vs {base:?}"));
        }
        REVOKE => {
            let obj = ObjId(step.c);
            let outcome = node.run(Operation::CapRevoke { obj }, TIMEOUT_MS);
            tally.check(outcome == Some(Outcome::Done), || format!("revoke {obj:?}: {outcome:?}"));
        }
        GONE => {
            caught_up(node, step.b, &mut tally);
            let obj = ObjId(step.c);
            let state = node.monitor.copy_state(obj);
            tally.check(state.is_none(), || format!("copy of {obj:?} still {state:?}"));
            tally.check(node.pool.copy(obj).is_none(), || format!("real copy of {obj:?} still here"));
            let slot = step.d as usize;
            if me == node.system.boot && slot != 0 {
                let gone = Frame::at(slot).identify().is_err();
                tally.check(gone, || format!("owner's frame of {obj:?} survived the revoke"));
            }
        }
        MALFORMED => {
            // The boot core sent them (to every other core).
            let seen = node.links.malformed;
            let boot = me == node.system.boot;
            tally.check(boot || seen >= 2, || format!("{seen} of 2 bad messages noticed"));
            let running = node.run(Operation::Lookup { name: name(me) }, TIMEOUT_MS);
            tally.check(matches!(running, Some(Outcome::Found(Some(_)))), || {
                "monitor broken after bad input".into()
            });
        }
        DIGEST => {
            caught_up(node, step.b, &mut tally);
            tally.check(node.pool.failures == 0, || format!("{} kernel refusals", node.pool.failures));
            // The log is trimmed: what every monitor applied is dropped
            // (a trim may still be on its way: a few intervals' slack).
            let (base, len) = (node.monitor.log_base(), node.monitor.log_len() as u64);
            let trimmed = base > 0 || node.monitor.applied() < 2 * TRIM_EVERY;
            tally.check(trimmed && len <= 4 * TRIM_EVERY, || {
                format!("log not trimmed: from {base}, {len} entries")
            });
            println!("replica: core={me} digest={}", node.monitor.digest());
            tally.value = node.monitor.digest().0;
        }
        RAM_ASK => tally.value = ram_ask(node, env, &mut tally),
        HOG => {
            // Every unit this core could give a program is taken.
            let units = node.monitor.replica().ram_units();
            env.hogged = (0..units).filter(|&u| node.monitor.free_unit(u)).collect();
            for &unit in &env.hogged {
                node.monitor.set_busy(RamRange { base: unit, count: 1 }, true);
            }
            tally.check(!env.hogged.is_empty(), || "nothing to hog".into());
        }
        UNHOG => {
            for unit in core::mem::take(&mut env.hogged) {
                node.monitor.set_busy(RamRange { base: unit, count: 1 }, false);
            }
        }
        BIND_SERVE => match env
            .parts()
            .and_then(|(window, siblings)| bind::serve(node, window, siblings, step.core as usize))
        {
            Ok((server, objects)) => {
                tally.check(true, String::new);
                env.bound = Some((server, objects));
            }
            Err(error) => tally.check(false, || format!("bind: serving: {error:?}")),
        },
        BIND_END => match env.bound.take() {
            Some((server, objects)) => {
                let status = bind::finished(node, server, TIMEOUT_MS);
                tally.check(status == Some(0), || format!("bind: server ended with {status:?}"));
                if status.is_none() {
                    // Ended before its channel goes (see `bind::channel`).
                    let slot = server.cptr().address();
                    let root = userland::cap::CNode::root();
                    let _ = root.revoke(slot).and_then(|()| root.delete(slot));
                }
                // The channel's frames revoked: the client's core unmaps
                // them before the revoke completes.
                for obj in objects {
                    let outcome = node.run(Operation::CapRevoke { obj }, TIMEOUT_MS);
                    tally.check(outcome == Some(Outcome::Done), || {
                        format!("bind: revoke {obj:?}: {outcome:?}")
                    });
                }
            }
            None => tally.check(false, || "bind: nothing served".into()),
        },
        _ => {}
    }
    tally
}

/// Sends step `step` to every peer, runs it here, and collects the results.
fn everywhere(node: &mut Node, env: &mut Env, tally: &mut Tally, step: Control) -> Vec<Control> {
    let peers: Vec<usize> = node.peers().collect();
    for &peer in &peers {
        node.links.control(peer, step);
    }
    let own = follow(node, env, Control { core: node.me as u32, ..step });
    tally.passed += own.passed;
    tally.failed += own.failed;
    collect(node, tally, &peers, step.a)
}

/// The `DONE`s of step `step` from `peers`.
fn collect(node: &mut Node, tally: &mut Tally, peers: &[usize], step: u64) -> Vec<Control> {
    let mut results = Vec::new();
    for _ in peers {
        match node.expect(DONE, TIMEOUT_MS) {
            Some(done) if done.a == step => {
                tally.passed += done.b as u32;
                tally.failed += done.c as u32;
                results.push(done);
            }
            other => tally.check(false, || format!("step {step}: no answer ({other:?})")),
        }
    }
    results
}

/// Asks core `core` to do step `step` alone and waits for its answer.
fn on(node: &mut Node, tally: &mut Tally, core: usize, step: Control) -> Option<Control> {
    node.links.control(core, step);
    collect(node, tally, &[core], step.a).pop()
}

fn step(a: u64, b: u64, c: u64, d: u64) -> Control {
    Control { op: STEP, a, b, c, d, ..Control::default() }
}

/// The boot core's part: every step in turn.
fn drive(node: &mut Node, env: &mut Env) -> (u32, u32) {
    let mut tally = Tally { core: node.me, ..Tally::default() };
    let n = node.online();
    let peers: Vec<usize> = node.peers().collect();
    tally.check(node.links.hellos.count_ones() as usize == n - 1, || "not every monitor said hello".into());

    // Names from every core, looked up everywhere (locally).
    everywhere(node, env, &mut tally, step(NAMES, 0, 0, 0));
    let length = node.monitor.applied();
    everywhere(node, env, &mut tally, step(LOOKUP, length, 0, 0));

    spawn_everywhere(node, &mut tally);
    if let Some(&last) = peers.last() {
        spawn_when_short(node, &mut tally, last);
    }
    if let Some(&last) = peers.last() {
        ram_transfer(node, env, &mut tally, last);
        remote_revoke(node, env, &mut tally, &peers);
        cross_core_bind(node, env, &mut tally, last);
        // A malformed message on every link, and a well-formed submit of an
        // operation that is not the sender's: counted, dropped, nothing
        // lost.
        for &peer in &peers {
            node.links.send_raw(peer, 2, [u64::MAX; 6]);
            let op = monitor::OpId { core: monitor::CoreId(peer as u8), n: 1 << 20 };
            let endpoint = Endpoint { core: monitor::CoreId(peer as u8), port: 0 };
            let forged = monitor::Update::Register { name: Name::new("forged"), endpoint, op };
            if let Some(wire) = (monitor::Message::Submit { update: forged, hops: 1 }).to_wire() {
                node.links.send_raw(peer, wire.kind, wire.words);
            }
        }
        everywhere(node, env, &mut tally, step(MALFORMED, 0, 0, 0));
    }

    // Quiescence, then every replica's digest.
    let length = node.monitor.applied();
    let digests = everywhere(node, env, &mut tally, step(DIGEST, length, 0, 0));
    let mine = node.monitor.digest().0;
    let agree = digests.iter().all(|d| d.d == mine) && digests.len() == peers.len();
    tally.check(agree, || "replica digests differ".into());
    for &peer in &peers {
        node.links.control(peer, step(END, 0, 0, 0));
    }
    collect(node, &mut tally, &peers, END);
    (tally.passed, tally.failed)
}

/// The last core asks for RAM; it arrives as RAM capabilities there, is
/// mapped and used; every replica agrees on the new owner. A request no
/// donor can meet fails cleanly.
fn ram_transfer(node: &mut Node, env: &mut Env, tally: &mut Tally, last: usize) {
    // The request is run by the last core (a step of its own), since
    // operations start on the core that wants the RAM.
    let Some(done) = on(node, tally, last, step(RAM_ASK, 0, 0, 0)) else { return };
    let range = RamRange { base: done.d as u32, count: (done.d >> 32) as u32 };
    tally.check(range.count == 2, || format!("RAM transfer gave {range:?}"));
    let length = node.monitor.applied();
    let packed = range.base as u64 | (range.count as u64) << 32;
    everywhere(node, env, tally, step(RAM_CHECK, length, packed, last as u64));
}

/// Core 0 (the boot core) makes a frame, copies it to every core; a core
/// that is not its owner revokes it; no copy survives anywhere.
fn remote_revoke(node: &mut Node, env: &mut Env, tally: &mut Tally, peers: &[usize]) {
    let Some((frame_slot, desc, unit)) = own_frame(node) else {
        tally.check(false, || "cannot make a frame".into());
        return;
    };
    let created = node.run(Operation::CapCreate { desc }, TIMEOUT_MS);
    let Some(Outcome::Created(obj)) = created else {
        tally.check(false, || format!("create: {created:?}"));
        return;
    };
    node.pool.adopt(obj, frame_slot);
    for &peer in peers {
        let to = monitor::CoreId(peer as u8);
        let copied = node.run(Operation::CapCopy { obj, to }, TIMEOUT_MS);
        tally.check(copied == Some(Outcome::Done), || format!("copy to {peer}: {copied:?}"));
    }
    let length = node.monitor.applied();
    for &peer in peers {
        on(node, tally, peer, step(HOLDS, length, obj.0, 0));
    }
    tally.check(node.monitor.copy_state(obj) == Some(CopyState::Live), || "owner lost its copy".into());
    // Revoked by the first peer, which is not the owner.
    on(node, tally, peers[0], step(REVOKE, 0, obj.0, 0));
    let length = node.monitor.applied();
    everywhere(node, env, tally, step(GONE, length, obj.0, frame_slot as u64));
    // Every remote copy was unmapped and deleted before the revoke
    // completed, and the owner's too: the RAM can be retyped again.
    let again = node.pool.ram(unit).zip(allocator::allocate_slot().ok()).map(|(ram, slot)| {
        ram.retype(ObjectType::Frame, PAGE_BITS as usize, 0, CPtr::slot(ROOT_CNODE_SLOT), slot, 1)
    });
    tally.check(matches!(again, Some(Ok(()))), || format!("retype after the revoke: {again:?}"));
}

/// A core with no RAM of its own left is asked to start a program: its
/// monitor obtains a unit from another core's first, through the protocol.
fn spawn_when_short(node: &mut Node, tally: &mut Tally, core: usize) {
    let owned = |node: &Node| node.monitor.replica().ram_owned_by(monitor::CoreId(core as u8));
    let before = owned(node);
    on(node, tally, core, step(HOG, 0, 0, 0));
    let (lo, hi) = node::pack_name("true");
    node.links.control(core, Control { op: node::SPAWN, a: lo, b: hi, c: 7, ..Control::default() });
    let answer = node.expect(node::SPAWNED, TIMEOUT_MS);
    let ok = answer.is_some_and(|a| a.a == 7 && a.b == node::SPAWN_OK && a.c == 0);
    tally.check(ok, || format!("spawn on a core without RAM: {answer:?}"));
    // This core is the sequencer: the transfer is in its replica already.
    let after = owned(node);
    tally.check(after == before + 1, || format!("core {core} owned {before} units, then {after}"));
    on(node, tally, core, step(UNHOG, 0, 0, 0));
}

/// `hello` started on every core through its monitor (the request
/// forwarded over the links; this core's own too), each run to its end; a
/// program that does not exist is refused with an answer.
fn spawn_everywhere(node: &mut Node, tally: &mut Tally) {
    let (lo, hi) = node::pack_name("hello");
    let cores: Vec<usize> = core::iter::once(node.me).chain(node.peers()).collect();
    for &core in &cores {
        node.links
            .control(core, Control { op: node::SPAWN, a: lo, b: hi, c: core as u64, ..Control::default() });
    }
    let mut answered = 0u64;
    for _ in &cores {
        match node.expect(node::SPAWNED, TIMEOUT_MS) {
            Some(answer) => {
                answered |= 1 << answer.a;
                let ok = answer.b == node::SPAWN_OK && answer.c == 0;
                tally.check(ok, || {
                    format!("spawn hello on core {}: result {} status {}", answer.a, answer.b, answer.c)
                });
            }
            None => tally.check(false, || "spawn: an answer is missing".into()),
        }
    }
    let all = cores.iter().fold(0u64, |set, &c| set | 1 << c);
    tally.check(answered == all, || format!("spawn: answers from {answered:#x}, expected {all:#x}"));
    let target = *cores.last().unwrap_or(&node.me);
    // Many in a row: each child's memory and slots must be reused.
    let (lo, hi) = node::pack_name("true");
    let mut ended = 0;
    for i in 0..SPAWNS {
        node.links
            .control(target, Control { op: node::SPAWN, a: lo, b: hi, c: 1000 + i, ..Control::default() });
        match node.expect(node::SPAWNED, TIMEOUT_MS) {
            Some(answer) if answer.a == 1000 + i && answer.b == node::SPAWN_OK && answer.c == 0 => ended += 1,
            other => {
                tally.check(false, || format!("spawn {i} of true on core {target}: {other:?}"));
                break;
            }
        }
    }
    tally.check(ended == SPAWNS, || format!("only {ended} of {SPAWNS} spawns of true ended"));
    let (lo, hi) = node::pack_name("no-such-program");
    node.links.control(target, Control { op: node::SPAWN, a: lo, b: hi, c: 99, ..Control::default() });
    let answer = node.expect(node::SPAWNED, TIMEOUT_MS);
    let refused = answer.is_some_and(|a| a.a == 99 && a.b == node::SPAWN_NOT_FOUND);
    tally.check(refused, || format!("spawn of a missing program: {answer:?}"));
}

/// The last core serves a channel it made; this core binds to it by name
/// and runs a client over it; then the channel is revoked, and no copy of
/// its frames is left here.
fn cross_core_bind(node: &mut Node, env: &mut Env, tally: &mut Tally, last: usize) {
    let Some(done) = on(node, tally, last, step(BIND_SERVE, 0, 0, 0)) else { return };
    if done.c != 0 {
        return;
    }
    // The copies were ordered before the server's monitor answered; this
    // core, the sequencer, has applied them.
    let client = env.parts().and_then(|(window, siblings)| bind::connect(node, window, siblings));
    match client {
        Ok(client) => {
            let status = bind::finished(node, client, 30_000);
            tally.check(status == Some(0), || format!("bind: client ended with {status:?}"));
            if status.is_none() {
                // Ended before its channel goes (see `bind::channel`).
                let slot = client.cptr().address();
                let root = userland::cap::CNode::root();
                let _ = root.revoke(slot).and_then(|()| root.delete(slot));
            }
        }
        Err(error) => tally.check(false, || format!("bind: connecting: {error:?}")),
    }
    on(node, tally, last, step(BIND_END, 0, 0, 0));
    let name = Name::new(bind::NAME);
    if let Some(endpoint) = node.monitor.lookup(name) {
        let core = u64::from(endpoint.core.0) << 32;
        let left = (0..bind::PAGES as u64)
            .map(|i| ObjId(core | (u64::from(endpoint.port) + i)))
            .filter(|&o| node.pool.copy(o).is_some());
        let left = left.count();
        tally.check(left == 0, || format!("bind: {left} copies of the channel survived its revoke"));
    }
}

/// A 4 KiB frame from one of this core's own pool units (marked busy so it
/// is never donated); its slot and description.
fn own_frame(node: &mut Node) -> Option<(usize, CapDesc, u32)> {
    // Any unit this core owns and does not use (its own pool's or one it
    // received or inherited).
    let unit = node.take_unit()?;
    let (slot, desc) = *node.pool.frames(unit, 1).ok()?.first()?;
    Some((slot, desc, unit))
}

/// Step on the last core: ask for two units, make a frame of the first,
/// map it and use it. Reports the range in `d`.
pub const RAM_ASK: u64 = 10;

/// The last core's side of [`RAM_ASK`] (called from `follow`).
fn ram_ask(node: &mut Node, env: &mut Env, tally: &mut Tally) -> u64 {
    // All the units there are: no donor owns them all (this core owns some).
    let all = node.monitor.replica().ram_units();
    let too_much = node.run(Operation::RequestRam { count: all }, TIMEOUT_MS);
    tally.check(too_much == Some(Outcome::Failed(Failure::NoRam)), || {
        format!("oversized request: {too_much:?}")
    });
    let outcome = node.run(Operation::RequestRam { count: 2 }, TIMEOUT_MS);
    let Some(Outcome::Ram(range)) = outcome else {
        tally.check(false, || format!("RAM request: {outcome:?}"));
        return 0;
    };
    tally.check(true, String::new);
    node.monitor.set_busy(range, true);
    let used = use_unit(node, env, range.base);
    tally.check(used, || format!("unit {} not usable", range.base));
    range.base as u64 | (range.count as u64) << 32
}

/// Makes a frame of unit `unit`'s RAM, maps it, writes and reads it.
fn use_unit(node: &mut Node, env: &mut Env, unit: u32) -> bool {
    let Some(&(slot, desc)) = node.pool.frames(unit, 1).ok().as_ref().and_then(|f| f.first()) else {
        return false;
    };
    if desc.base as usize != node.pool.phys(unit) {
        return false;
    }
    let Ok(address) = env.window().and_then(|window| window.map(&[slot])) else { return false };
    let words = address as *mut u64;
    for i in 0..512 {
        // SAFETY: the page at `address` was just mapped read-write to a
        // fresh frame of the received RAM; nothing else uses it.
        unsafe { words.add(i).write_volatile(i as u64 * 0x9e37) };
    }
    // SAFETY: as above.
    (0..512).all(|i| unsafe { words.add(i).read_volatile() } == i as u64 * 0x9e37)
}
