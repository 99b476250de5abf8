//! The simulator: N monitors, per-pair FIFO lossless channels, adversarial
//! delivery order, delays and crash-stops, with invariant checks.
//!
//! It drives the very same [`Monitor`] code as the target. It is itself pure
//! (`alloc` only, its own PRNG), so every schedule is reproducible from its
//! 64-bit seed.
//!
//! Messages travel as a URPC transport sends them: a [`Message::Catchup`] is
//! split into [`Message::Ordered`] messages ([`Message::split_catchup`]) and
//! every message is encoded to its [`Wire`] slot form and decoded again on
//! the way (a failed round trip is a violation).
//!
//! # Invariants (checked by [`Sim::check_step`] after every step and
//! [`Sim::check_quiescent`] when no message is left)
//!
//! * **RAM** — a core *owns* unit `u` when its replica names it the owner and
//!   it has not relinquished `u` (see [`Monitor::owns_unit`]). A unit inside a
//!   transfer in flight (relinquished by the donor, transfer not yet applied by
//!   the receiver) is owned by nobody. After every step, every unit is owned by
//!   at most one core (crashed cores included, with their frozen state). At
//!   quiescence without crashes, every unit is owned by exactly one core.
//! * **Busy RAM** — a unit the simulator marked busy on a core
//!   ([`Sim::set_busy`]) stays owned ([`Monitor::owns_unit`]) and busy there
//!   until unmarked: it is never donated.
//! * **Revoke** — once a revoke of `obj` has completed (reported to its
//!   initiator), no live monitor holds a live copy of `obj`, after every later
//!   step (copies travelling in log entries included, since installing one is
//!   a step).
//! * **Agreement at quiescence** — every crash was reported; every live
//!   monitor follows the lowest live core as sequencer with no fail-over in
//!   progress, has applied the same number of entries (equal to the
//!   sequencer's log), has the same digest and the same registry, and its
//!   replica's online set is exactly the live cores; each live monitor's
//!   copies match the replicated
//!   records (it holds a live copy iff the record is live and lists it); no
//!   revoke is stuck half-way.
//! * **Trimming** — no monitor is ever asked for entries below its trim point
//!   ([`Monitor::trim_misses`] stays 0). Outside fail-overs (and while no
//!   halted core is unreported), every live monitor's log, once the trims in
//!   flight to it are applied, is at most `4 K` entries plus the spread of
//!   the live monitors' applied counts plus `K` per message in flight (`K`
//!   the acknowledgement interval, [`Sim::set_applied_every`]; random
//!   schedules use 1, 2, 3 or 64); at quiescence it is at most `K`.
//! * **Liveness** — the message queue drains (within a step bound) and every
//!   operation started by a core that is still live completed exactly once
//!   (an operation never completes twice, crashed or not), whatever crashed
//!   (a RAM request whose donor died fails with `CoreDown`).
//!
//! # Crashes
//!
//! A random schedule crashes up to three cores (never all): a random core
//! or whichever is the sequencer at the time, so fail-overs, fail-overs
//! during fail-overs and crashes of other cores during a takeover all
//! happen. A crash is reported to every live monitor at once
//! ([`Sim::crash`]), or the core first halts ([`Sim::halt`]: what it sent
//! keeps arriving) and is reported later ([`Sim::report`]), possibly with
//! its messages still in flight, arriving late to be ignored.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::message::{Effect, Message, Operation, Outbox, Outcome, Wire};
use crate::monitor::{CopyState, Monitor};
use crate::replica::CapState;
use crate::topology::Topology;
use crate::types::{CapDesc, CoreId, CoreSet, Endpoint, Name, ObjId, OpId, RamRange};

/// splitmix64: a tiny deterministic PRNG.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

#[derive(Default)]
struct Collect {
    sends: Vec<(CoreId, Message)>,
    done: Vec<(OpId, Outcome)>,
    effects: Vec<Effect>,
}

impl Outbox for Collect {
    fn send(&mut self, to: CoreId, message: Message) {
        self.sends.push((to, message));
    }
    fn complete(&mut self, op: OpId, outcome: Outcome) {
        self.done.push((op, outcome));
    }
    fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }
}

/// A simulated machine.
pub struct Sim {
    /// The monitors, indexed by core.
    pub monitors: Vec<Monitor>,
    n: usize,
    queues: Vec<VecDeque<(Message, u32)>>,
    hold_until: Vec<u64>,
    crashed: CoreSet,
    /// Crashed cores whose crash was not reported yet ([`Sim::halt`]).
    unreported: CoreSet,
    step: u64,
    clock: Vec<u32>,
    started: BTreeMap<OpId, Operation>,
    completed: BTreeMap<OpId, (Outcome, u32)>,
    revoked: Vec<ObjId>,
    /// Units marked busy through [`Sim::set_busy`], as `(core, unit)`.
    busy: Vec<(CoreId, u32)>,
    /// Messages sent since the last [`Sim::reset_metrics`].
    pub messages: u64,
    /// Longest causal chain of messages (hops) since the last reset.
    pub max_hops: u32,
    /// Invariant violations found so far.
    pub violations: Vec<String>,
    /// Per core, what the effects made real: capability copies and RAM
    /// units (what the target's kernel objects would be).
    real_copies: Vec<BTreeSet<ObjId>>,
    real_units: Vec<BTreeSet<u32>>,
    /// The monitors' acknowledgement interval ([`Monitor::set_applied_every`]).
    applied_every: u64,
    /// The longest log a live monitor kept after any step.
    pub max_log: usize,
}

impl Sim {
    /// A machine with the given topology, every core owning `units_per_core`
    /// RAM units.
    pub fn new(topology: Topology, units_per_core: u32) -> Sim {
        let n = topology.cores();
        Sim {
            monitors: (0..n).map(|c| Monitor::new(CoreId(c as u8), topology, units_per_core)).collect(),
            n,
            queues: (0..n * n).map(|_| VecDeque::new()).collect(),
            hold_until: alloc::vec![0; n * n],
            crashed: CoreSet::EMPTY,
            unreported: CoreSet::EMPTY,
            step: 0,
            clock: alloc::vec![0; n],
            started: BTreeMap::new(),
            completed: BTreeMap::new(),
            revoked: Vec::new(),
            busy: Vec::new(),
            messages: 0,
            max_hops: 0,
            violations: Vec::new(),
            real_copies: (0..n).map(|_| BTreeSet::new()).collect(),
            real_units: (0..n as u32)
                .map(|c| (c * units_per_core..(c + 1) * units_per_core).collect())
                .collect(),
            applied_every: crate::monitor::APPLIED_EVERY,
            max_log: 0,
        }
    }

    /// Sets every monitor's acknowledgement interval
    /// ([`Monitor::set_applied_every`]; call before the first operation).
    pub fn set_applied_every(&mut self, every: u64) {
        self.applied_every = every.max(1);
        self.monitors.iter_mut().for_each(|m| m.set_applied_every(every));
    }

    /// Messages in flight.
    pub fn in_flight(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    /// Crashed cores.
    pub fn crashed(&self) -> CoreSet {
        self.crashed
    }

    /// The outcome and hop count (critical path since the last reset) of a
    /// completed operation.
    pub fn outcome(&self, op: OpId) -> Option<(Outcome, u32)> {
        self.completed.get(&op).copied()
    }

    /// Resets the message and hop counters (the monitors' per-entry hop
    /// counts included, see [`Monitor::reset_hops`]).
    pub fn reset_metrics(&mut self) {
        self.messages = 0;
        self.max_hops = 0;
        self.clock.iter_mut().for_each(|c| *c = 0);
        self.monitors.iter_mut().for_each(Monitor::reset_hops);
    }

    /// Marks `range` busy (or not) on `core` ([`Monitor::set_busy`]) and
    /// remembers which units became busy, to check they are never donated.
    pub fn set_busy(&mut self, core: CoreId, range: RamRange, busy: bool) {
        let monitor = &mut self.monitors[core.index()];
        monitor.set_busy(range, busy);
        let units = monitor.replica().ram_units();
        for u in range.units().filter(|&u| u < units) {
            self.busy.retain(|&(c, unit)| (c, unit) != (core, u));
            if monitor.is_busy(u) {
                self.busy.push((core, u));
            }
        }
    }

    /// A message as the transport carries it: its wire form, decoded again.
    fn transport(&mut self, message: Message) -> Option<Message> {
        let slot = message.to_wire().map(|w| w.to_slot());
        let decoded = slot.as_ref().and_then(Wire::from_slot).and_then(|w| Message::from_wire(&w));
        if decoded.as_ref() != Some(&message) {
            self.violation(format!("wire round trip failed for {message:?}: {slot:?} -> {decoded:?}"));
        }
        decoded
    }

    fn violation(&mut self, text: String) {
        if self.violations.len() < 8 {
            self.violations.push(text);
        }
    }

    fn route(&mut self, core: CoreId, collect: Collect) {
        let hop = self.clock[core.index()] + 1;
        for (to, message) in collect.sends {
            assert_ne!(to, core, "monitor sent to itself");
            if self.crashed.contains(to) {
                continue;
            }
            for message in message.split_catchup() {
                let Some(message) = self.transport(message) else { continue };
                self.messages += 1;
                self.max_hops = self.max_hops.max(hop);
                self.queues[core.index() * self.n + to.index()].push_back((message, hop));
            }
        }
        for effect in collect.effects {
            let (copies, units) = (&mut self.real_copies[core.index()], &mut self.real_units[core.index()]);
            let twice = match effect {
                Effect::CopyIn { obj, .. } => !copies.insert(obj),
                Effect::CopyOut { obj } => !copies.remove(&obj),
                Effect::RamIn(range) => range.units().filter(|&u| !units.insert(u)).count() > 0,
                Effect::RamOut(range) => range.units().filter(|u| !units.remove(u)).count() > 0,
            };
            if twice {
                self.violation(format!("step {}: core {}: effect {effect:?} repeats", self.step, core.0));
            }
        }
        for (op, outcome) in collect.done {
            if let Outcome::Created(obj) = outcome {
                // The creator makes its copy itself.
                self.real_copies[core.index()].insert(obj);
            }
            if self.completed.insert(op, (outcome, self.clock[core.index()])).is_some() {
                self.violation(format!("{op:?} completed twice"));
            }
            if let (Some(Operation::CapRevoke { obj }), Outcome::Done) = (self.started.get(&op), outcome) {
                self.revoked.push(*obj);
            }
        }
    }

    /// Starts `operation` on `core`.
    pub fn start(&mut self, core: CoreId, operation: Operation) -> OpId {
        let mut collect = Collect::default();
        let op = self.monitors[core.index()].start(operation, &mut collect);
        self.started.insert(op, operation);
        self.route(core, collect);
        op
    }

    /// Delivers the head of channel `from → to`, if any.
    pub fn deliver(&mut self, from: CoreId, to: CoreId) {
        let Some((message, hop)) = self.queues[from.index() * self.n + to.index()].pop_front() else {
            return;
        };
        let clock = &mut self.clock[to.index()];
        *clock = (*clock).max(hop);
        let mut collect = Collect::default();
        self.monitors[to.index()].handle(from, message, &mut collect);
        self.route(to, collect);
    }

    /// Crash-stops `core`: its channels are emptied, later messages to it are
    /// dropped, and every live monitor's failure detector is told.
    pub fn crash(&mut self, core: CoreId) {
        self.halt(core);
        self.report(core, false);
    }

    /// Stops `core` without telling anyone yet: it takes no more steps,
    /// messages to it are dropped, but what it sent before keeps arriving
    /// until [`Sim::report`].
    pub fn halt(&mut self, core: CoreId) {
        if self.crashed.contains(core) {
            return;
        }
        self.crashed.insert(core);
        self.unreported.insert(core);
        for other in 0..self.n {
            self.queues[other * self.n + core.index()].clear();
        }
    }

    /// The failure detector reports the halted `core` to every live monitor
    /// at once. Its channels are emptied, unless `late`: then what it sent
    /// stays in flight, to arrive after the report (and be ignored).
    pub fn report(&mut self, core: CoreId, late: bool) {
        if !self.unreported.contains(core) {
            return;
        }
        self.unreported.remove(core);
        if !late {
            for other in 0..self.n {
                self.queues[core.index() * self.n + other].clear();
            }
        }
        for c in 0..self.n {
            let c = CoreId(c as u8);
            if !self.crashed.contains(c) {
                let mut collect = Collect::default();
                self.monitors[c.index()].core_down(core, &mut collect);
                self.route(c, collect);
            }
        }
    }

    /// Non-empty channels as `(from, to)`.
    pub fn busy_channels(&self) -> Vec<(CoreId, CoreId)> {
        let mut v = Vec::new();
        for (i, q) in self.queues.iter().enumerate() {
            if !q.is_empty() {
                v.push((CoreId((i / self.n) as u8), CoreId((i % self.n) as u8)));
            }
        }
        v
    }

    /// Delivers messages in a fixed order (lowest channel first) until no
    /// message is left.
    pub fn run_fifo(&mut self) {
        while let Some(&(from, to)) = self.busy_channels().first() {
            self.deliver(from, to);
        }
    }

    fn live(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.n).filter(|&c| !self.crashed.contains(CoreId(c as u8)))
    }

    /// Per-step invariants: RAM owned at most once, busy units kept, no live
    /// copy of a completed revoke's object, no request for trimmed entries,
    /// bounded logs.
    pub fn check_step(&mut self) {
        for c in 0..self.n {
            let misses = self.monitors[c].trim_misses();
            if misses > 0 {
                self.violation(format!(
                    "step {}: core {c} was asked {misses} times for trimmed entries",
                    self.step
                ));
            }
        }
        // Every live monitor keeps at most a few acknowledgement intervals
        // of entries, plus what is not applied everywhere yet and what the
        // messages in flight (acknowledgements, trims) have not settled.
        let live: Vec<usize> = self.live().collect();
        let applied = live.iter().map(|&c| self.monitors[c].applied());
        let spread = applied.clone().max().unwrap_or(0) - applied.min().unwrap_or(0);
        let bound = 4 * self.applied_every + spread + self.applied_every * self.in_flight() as u64;
        // Nothing is trimmed during a fail-over (trims of the dead sequencer
        // may be lost; the new one sends its trim point when it takes over).
        // Nor while a halted core is not reported yet (it may be the
        // sequencer, which trims no more).
        let failing_over =
            !self.unreported.is_empty() || live.iter().any(|&c| self.monitors[c].failing_over());
        for &c in &live {
            let m = &self.monitors[c];
            let len = m.log_len();
            self.max_log = self.max_log.max(len);
            // A trim on its way to the monitor counts as done.
            let trims = (0..self.n).flat_map(|f| self.queues[f * self.n + c].iter());
            let below = trims
                .filter_map(|(message, _)| match *message {
                    Message::Trim { below } => Some(below),
                    _ => None,
                })
                .fold(m.log_base(), u64::max);
            let settled = m.applied().saturating_sub(below);
            if !failing_over && settled > bound {
                self.violation(format!(
                    "step {}: core {c} keeps {len} log entries, {settled} once trimmed (bound {bound})",
                    self.step
                ));
            }
        }
        let units = self.monitors[0].replica().ram_units();
        for u in 0..units {
            // A crash-stopped monitor uses nothing any more.
            let owners = self.live().filter(|&c| self.monitors[c].owns_unit(u)).count();
            if owners > 1 {
                self.violation(format!("step {}: RAM unit {u} owned by {owners} cores", self.step));
            }
        }
        for i in 0..self.busy.len() {
            let (core, u) = self.busy[i];
            let m = &self.monitors[core.index()];
            if !m.owns_unit(u) || !m.is_busy(u) || m.free_unit(u) {
                self.violation(format!("step {}: busy RAM unit {u} of core {} lost", self.step, core.0));
            }
        }
        // What the effects made real is exactly what the protocol says each
        // core may use.
        for c in self.live().collect::<Vec<_>>() {
            let m = &self.monitors[c];
            let live: BTreeSet<ObjId> =
                m.held().filter(|&(_, s)| s == CopyState::Live).map(|(o, _)| o).collect();
            let owned: BTreeSet<u32> = (0..units).filter(|&u| m.owns_unit(u)).collect();
            if live != self.real_copies[c] {
                let real = self.real_copies[c].clone();
                self.violation(format!(
                    "step {}: core {c}: real copies {real:?}, live copies {live:?}",
                    self.step
                ));
            }
            if owned != self.real_units[c] {
                self.violation(format!(
                    "step {}: core {c}: real RAM units differ from owned ones",
                    self.step
                ));
            }
        }
        for i in 0..self.revoked.len() {
            let obj = self.revoked[i];
            let holders: Vec<usize> = self.live().filter(|&c| self.monitors[c].holds_live(obj)).collect();
            if !holders.is_empty() {
                self.violation(format!("step {}: revoked {obj:?} still live on {holders:?}", self.step));
            }
        }
    }

    /// Invariants once no message is left (see the module documentation).
    pub fn check_quiescent(&mut self) {
        let live: Vec<usize> = self.live().collect();
        let mut problems = Vec::new();
        let Some(&first) = live.first() else { return };
        let sequencer = CoreId(first as u8);
        let seq = &self.monitors[first];
        let (applied, digest) = (seq.applied(), seq.digest());
        let registry = seq.replica().registry().clone();
        if !self.unreported.is_empty() {
            problems.push(format!("crash of {:?} never reported", self.unreported));
        }
        let live_set = CoreSet(CoreSet::first_n(self.n).0 & !self.crashed.0);
        for &c in &live {
            let m = &self.monitors[c];
            if m.replica().online() != live_set {
                problems.push(format!("core {c}: online {:?} but live {live_set:?}", m.replica().online()));
            }
            if m.sequencer() != sequencer || m.failing_over() {
                problems.push(format!(
                    "core {c}: follows {:?} (failing over: {}), lowest live core is {sequencer:?}",
                    m.sequencer(),
                    m.failing_over()
                ));
            }
            if m.applied() != applied || m.digest() != digest || *m.replica().registry() != registry {
                problems.push(format!(
                    "core {c}: applied {} digest {} vs sequencer applied {applied} digest {digest}",
                    m.applied(),
                    m.digest()
                ));
            }
            for (obj, state) in m.held() {
                let rec = m.replica().cap(obj);
                if state != CopyState::Live
                    || !rec.is_some_and(|r| r.state == CapState::Live && r.copies.contains(m.core()))
                {
                    problems.push(format!("core {c}: holds {obj:?} {state:?} but record is {rec:?}"));
                }
            }
            for (obj, rec) in m.replica().caps() {
                if rec.state == CapState::Revoking {
                    problems.push(format!("core {c}: revoke of {obj:?} stuck"));
                }
                if rec.state == CapState::Live && rec.copies.contains(m.core()) && !m.holds_live(*obj) {
                    problems.push(format!("core {c}: record lists it for {obj:?} but it holds none"));
                }
            }
        }
        // Crashes included: a dead core's units went to a live heir, and no
        // transfer goes to a dead core.
        for u in 0..self.monitors[0].replica().ram_units() {
            // A crash-stopped monitor uses nothing any more.
            let owners = self.live().filter(|&c| self.monitors[c].owns_unit(u)).count();
            if owners != 1 {
                problems.push(format!("quiescent: RAM unit {u} owned by {owners} live cores"));
            }
        }
        // Quiescent: every trim settled, at most one interval is kept.
        for &c in &live {
            let len = self.monitors[c].log_len() as u64;
            if len > self.applied_every {
                problems.push(format!(
                    "quiescent: core {c} keeps {len} log entries (interval {})",
                    self.applied_every
                ));
            }
        }
        let lost: Vec<OpId> = self
            .started
            .keys()
            .filter(|op| !self.crashed.contains(op.core) && !self.completed.contains_key(op))
            .copied()
            .collect();
        if !lost.is_empty() {
            problems.push(format!("liveness: operations never completed: {lost:?}"));
        }
        for p in problems {
            self.violation(p);
        }
    }

    fn random_operation(&self, core: usize, rng: &mut Rng) -> Operation {
        let names = ["fs", "net", "blk"];
        let name = Name::new(names[rng.below(names.len() as u64) as usize]);
        let held: Vec<ObjId> =
            self.monitors[core].held().filter(|&(_, s)| s == CopyState::Live).map(|(o, _)| o).collect();
        let pick = |rng: &mut Rng| held[rng.below(held.len() as u64) as usize];
        loop {
            match rng.below(12) {
                0 | 1 => return Operation::RequestRam { count: 1 + rng.below(3) as u32 },
                2 | 3 => return Operation::CapCreate { desc: random_desc(rng) },
                4..=6 if !held.is_empty() => {
                    let to = CoreId(rng.below(self.n as u64) as u8);
                    return Operation::CapCopy { obj: pick(rng), to };
                }
                7 | 8 if !held.is_empty() => return Operation::CapRevoke { obj: pick(rng) },
                9 if !held.is_empty() => return Operation::CapDelete { obj: pick(rng) },
                10 => {
                    let endpoint = Endpoint { core: CoreId(core as u8), port: rng.below(100) as u32 };
                    return Operation::Register { name, endpoint };
                }
                11 => {
                    return if rng.below(2) == 0 {
                        Operation::Unregister { name }
                    } else {
                        Operation::Lookup { name }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A random capability description: one of four kinds, a page-aligned base,
/// 1 to 8 pages.
fn random_desc(rng: &mut Rng) -> CapDesc {
    CapDesc { kind: rng.below(4) as u8, base: rng.next_u64() & !0xfff, bytes: 4096 << rng.below(4) }
}

/// Summary of one random schedule.
#[derive(Clone, Debug)]
pub struct ScheduleReport {
    /// The schedule's seed (replay with `run_schedule(seed)`).
    pub seed: u64,
    /// Number of cores.
    pub cores: usize,
    /// Steps taken.
    pub steps: u64,
    /// Operations started.
    pub operations: usize,
    /// Cores crashed.
    pub crashed: CoreSet,
    /// Invariant violations (empty if none).
    pub violations: Vec<String>,
}

/// Runs one random schedule, fully determined by `seed`.
pub fn run_schedule(seed: u64) -> ScheduleReport {
    let mut rng = Rng(seed);
    let n = [2usize, 3, 4, 4, 5, 6, 8, 8, 16][rng.below(9) as usize];
    let cluster = [n, 2, 4][rng.below(3) as usize].min(n);
    let mut sizes = Vec::new();
    let mut left = n;
    while left > 0 {
        sizes.push(cluster.min(left));
        left -= cluster.min(left);
    }
    let mut sim = Sim::new(Topology::from_clusters(&sizes), 4);
    // Mostly tiny acknowledgement intervals, so that short schedules trim
    // (and fail over) a lot; derived from the seed without drawing from the
    // generator.
    sim.set_applied_every([1, 2, 3, 64][(seed >> 11) as usize % 4]);
    let operations = if n > 8 { 6 + rng.below(6) } else { 4 + rng.below(10) } as usize;
    // Crash events: (step, victim, mode). The victim is a random core or
    // (`None`) whoever is the sequencer when it is due; at least one core
    // survives. Mode 0 crashes and reports at once, mode 1 halts the core and
    // reports later, mode 2 does too and leaves its messages in flight to
    // arrive after the report.
    let mut crashes: Vec<(u64, Option<CoreId>, u64)> = Vec::new();
    if rng.below(3) == 0 {
        for _ in 0..1 + rng.below((n as u64 - 1).min(3)) {
            let victim = if rng.below(2) == 0 { None } else { Some(CoreId(rng.below(n as u64) as u8)) };
            crashes.push((rng.below(operations as u64 * 6), victim, rng.below(3)));
        }
    }
    let mut reports: Vec<(u64, CoreId, bool)> = Vec::new();
    let mut left_ops = operations;
    let step_limit = 200_000;
    loop {
        sim.step += 1;
        let step = sim.step;
        if step > step_limit {
            sim.violation(format!("liveness: no quiescence after {step_limit} steps"));
            break;
        }
        let busy = sim.busy_channels();
        let idle = busy.is_empty() && left_ops == 0;
        let report_due = reports.iter().position(|&(at, _, _)| at <= step || busy.is_empty());
        let crash_due = crashes.iter().position(|&(at, _, _)| at <= step || idle);
        if rng.below(16) == 0 {
            // A core hands some of its RAM to local clients, or takes it back.
            let live: Vec<usize> = sim.live().collect();
            let core = CoreId(live[rng.below(live.len() as u64) as usize] as u8);
            let units = sim.monitors[0].replica().ram_units();
            let range = RamRange { base: rng.below(units as u64) as u32, count: 1 + rng.below(3) as u32 };
            sim.set_busy(core, range, rng.below(3) != 0);
        }
        if let Some(i) = report_due {
            let (_, core, late) = reports.remove(i);
            sim.report(core, late);
        } else if let Some(i) = crash_due {
            let (_, victim, mode) = crashes.remove(i);
            let live: Vec<usize> = sim.live().collect();
            let core = victim.unwrap_or(CoreId(live[0] as u8));
            if live.len() > 1 || !live.contains(&core.index()) {
                if mode == 0 {
                    sim.crash(core);
                } else {
                    sim.halt(core);
                    reports.push((step + 1 + rng.below(40), core, mode == 2));
                }
            }
        } else if left_ops > 0 && (busy.is_empty() || rng.below(3) == 0) {
            left_ops -= 1;
            let live: Vec<usize> = sim.live().collect();
            let core = live[rng.below(live.len() as u64) as usize];
            let op = sim.random_operation(core, &mut rng);
            sim.start(CoreId(core as u8), op);
        } else if busy.is_empty() {
            break;
        } else {
            if rng.below(8) == 0 {
                // Hold a random channel back for a while.
                let (f, t) = busy[rng.below(busy.len() as u64) as usize];
                sim.hold_until[f.index() * n + t.index()] = step + 1 + rng.below(60);
            }
            let ready: Vec<(CoreId, CoreId)> = busy
                .iter()
                .copied()
                .filter(|&(f, t)| sim.hold_until[f.index() * n + t.index()] <= step)
                .collect();
            let pool = if ready.is_empty() { &busy } else { &ready };
            let (from, to) = pool[rng.below(pool.len() as u64) as usize];
            sim.deliver(from, to);
        }
        sim.check_step();
    }
    sim.check_quiescent();
    ScheduleReport {
        seed,
        cores: n,
        steps: sim.step,
        operations,
        crashed: sim.crashed,
        violations: sim.violations,
    }
}

/// The seed of schedule `i` of a run with base seed `base` (schedule 0 uses
/// `base` itself, so `run_many(1, seed)` replays schedule `seed`).
pub fn schedule_seed(base: u64, i: u64) -> u64 {
    base.wrapping_add(i.wrapping_mul(0xd134_2543_de82_ef95))
}

/// Runs `schedules` random schedules; returns the number with violations and
/// the reports of the failing ones (at most 10).
pub fn run_many(schedules: u64, base: u64) -> (u64, Vec<ScheduleReport>) {
    let mut bad = 0;
    let mut reports = Vec::new();
    for i in 0..schedules {
        let report = run_schedule(schedule_seed(base, i));
        if !report.violations.is_empty() {
            bad += 1;
            if reports.len() < 10 {
                reports.push(report);
            }
        }
    }
    (bad, reports)
}

/// Work and critical path of one committed update.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// What was measured.
    pub name: &'static str,
    /// Messages sent until quiescence.
    pub messages: u64,
    /// Hops on the critical path until the initiator saw completion.
    pub completion_hops: u32,
    /// Hops on the critical path until every replica applied it.
    pub quiescence_hops: u32,
    /// The largest hop count with which a log entry reached a monitor
    /// ([`Monitor::max_hops`] over all cores); 0 if nothing was logged.
    pub entry_hops: u8,
}

/// Measures each operation in isolation on an otherwise idle machine with
/// the given clusters, started on the last core (not the sequencer).
pub fn measure(clusters: &[usize]) -> Vec<Metric> {
    let topology = Topology::from_clusters(clusters);
    let n = topology.cores();
    let mut sim = Sim::new(topology, 4);
    let me = CoreId(n as u8 - 1);
    let other = CoreId(if me.0 == 1 { 0 } else { 1 });
    let mut out = Vec::new();
    let mut measure = |sim: &mut Sim, name: &'static str, op: Operation| -> OpId {
        sim.reset_metrics();
        let id = sim.start(me, op);
        sim.run_fifo();
        let hops = sim.outcome(id).map_or(u32::MAX, |(_, h)| h);
        out.push(Metric {
            name,
            messages: sim.messages,
            completion_hops: hops,
            quiescence_hops: sim.max_hops,
            entry_hops: sim.monitors.iter().map(Monitor::max_hops).max().unwrap_or(0),
        });
        id
    };
    let fs = Name::new("fs");
    measure(&mut sim, "register", Operation::Register { name: fs, endpoint: Endpoint { core: me, port: 1 } });
    measure(&mut sim, "lookup", Operation::Lookup { name: fs });
    measure(&mut sim, "unregister", Operation::Unregister { name: fs });
    measure(&mut sim, "ram request (1 unit)", Operation::RequestRam { count: 1 });
    let desc = CapDesc { kind: 1, base: 0x4000_0000, bytes: 0x1000 };
    let created = measure(&mut sim, "cap create", Operation::CapCreate { desc });
    let obj = match sim.outcome(created) {
        Some((Outcome::Created(obj), _)) => obj,
        _ => panic!("create failed"),
    };
    measure(&mut sim, "cap copy to remote", Operation::CapCopy { obj, to: other });
    measure(&mut sim, "cap delete (copy left)", Operation::CapDelete { obj });
    let id = sim.start(me, Operation::CapCreate { desc });
    sim.run_fifo();
    let Some((Outcome::Created(obj), _)) = sim.outcome(id) else { panic!("create failed") };
    for c in (0..n as u8).map(CoreId).filter(|&c| c != me) {
        sim.start(me, Operation::CapCopy { obj, to: c });
        sim.run_fifo();
    }
    measure(&mut sim, "cap revoke (copies on all)", Operation::CapRevoke { obj });
    let id = sim.start(me, Operation::CapCreate { desc });
    sim.run_fifo();
    let Some((Outcome::Created(obj), _)) = sim.outcome(id) else { panic!("create failed") };
    measure(&mut sim, "cap delete (last copy)", Operation::CapDelete { obj });
    sim.check_quiescent();
    assert!(sim.violations.is_empty(), "{:?}", sim.violations);
    out
}
