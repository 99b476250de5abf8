//! The per-core monitor state machine.
//!
//! One code path for target and simulator: the caller feeds it operations
//! ([`Monitor::start`]), messages ([`Monitor::handle`]) and failure-detector
//! reports ([`Monitor::core_down`]); the monitor answers only through an
//! [`Outbox`]. No I/O, no clock, no randomness.
//!
//! # Protocol
//!
//! Core 0 is the *sequencer*. Every update of the replicated state is a
//! [`Update`] log entry: the initiator sends it to the sequencer
//! ([`Message::Submit`]), which gives it the next sequence number, applies it
//! and sends it down the broadcast tree ([`Message::Ordered`]); every monitor
//! applies entries strictly in sequence order and forwards each applied
//! entry to its tree children. A monitor that sees a gap (only after a crash
//! changed the tree) asks the sequencer for the missing suffix
//! ([`Message::Sync`] / [`Message::Catchup`]); every monitor also does so
//! when told a core went down. Work per update: `N - 1` tree messages plus
//! one submit; critical path: one hop plus the tree depth.
//!
//! A catch-up is one [`Message::Catchup`] in memory but has no wire form: a
//! transport sends it as one [`Message::Ordered`] per entry
//! ([`Message::split_catchup`]), and [`Monitor::handle`] handles a `Catchup`
//! by handling exactly those messages, so both paths behave the same.
//!
//! # Hop counting
//!
//! Every [`Message::Submit`] and [`Message::Ordered`] carries the number of
//! hops its update has travelled: 1 for a submit from the initiator; the
//! sequencer orders an entry with the hops of the submit that carried it (0
//! if it initiated the entry itself, e.g. a `CoreDown` or `RevokeCommit`);
//! every tree edge and every catch-up copy adds 1 (saturating at 255). Each
//! monitor records the count with which each entry it applied arrived
//! ([`Monitor::last_hops`], [`Monitor::max_hops`], [`Monitor::reset_hops`]):
//! the critical path of an update is `1 + depth` of the broadcast tree
//! ([`Topology::depth`]) when initiated off the sequencer. For an update
//! started on the highest-numbered core of an idle machine:
//!
//! | topology            | tree depth | max hops over cores |
//! |---------------------|------------|---------------------|
//! | flat 2              | 1          | 2                   |
//! | flat 4              | 2          | 3                   |
//! | flat 8              | 3          | 4                   |
//! | clusters `[4, 4]`   | 3          | 4                   |
//!
//! (checked by the `hops_follow_the_tree` test).
//!
//! # Local state
//!
//! Local (non-replicated) state, which is what a core actually *uses*:
//! the RAM units it has given away but whose transfer it has not applied
//! yet (`relinquished`, never usable), the RAM units it has handed to local
//! clients ([`Monitor::set_busy`]; never donated), and its copies of
//! capabilities (`held`, live or marked by a running revoke). What a
//! capability *is* (a [`CapDesc`], given to [`Operation::CapCreate`]) is
//! replicated in its record, so any core receiving a copy can materialise
//! it ([`Monitor::created`]).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::message::{Effect, Failure, Message, Operation, Outbox, Outcome, Update};
use crate::replica::{Applied, Replica};
use crate::topology::Topology;
use crate::types::{CapDesc, CoreId, CoreSet, Digest, Name, ObjId, OpId, RamRange};

/// The core whose monitor orders all updates.
pub const SEQUENCER: CoreId = CoreId(0);

/// State of this core's copy of a capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyState {
    /// Usable.
    Live,
    /// A revoke marked it: unusable, waiting for the commit to destroy it.
    Marked,
}

/// One core's monitor.
#[derive(Clone, Debug)]
pub struct Monitor {
    me: CoreId,
    topology: Topology,
    replica: Replica,
    /// Next log position to apply.
    next: u64,
    /// The whole log with the hops each entry was ordered with (sequencer
    /// only).
    log: Vec<(Update, u8)>,
    /// Cores the failure detector reported down.
    down: CoreSet,
    relinquished: Vec<bool>,
    /// Units handed to local clients (only ever set on owned units).
    busy: Vec<bool>,
    /// Hops of the most recently applied entry.
    last_hops: u8,
    /// Largest hops of an entry applied since the last reset.
    max_hops: u8,
    held: BTreeMap<ObjId, CopyState>,
    next_op: u32,
    next_obj: u32,
    /// RAM requests sent, with the donor asked.
    pending_ram: Vec<(OpId, CoreId)>,
    /// Revokes started here, waiting for the commit.
    pending_revokes: Vec<(ObjId, OpId)>,
    /// Sequencer only: holders that have not acked each running revoke.
    revoke_waiting: BTreeMap<ObjId, CoreSet>,
    /// Sequencer only: updates waiting to be ordered, with their hops
    /// (avoids reentrancy).
    to_order: Vec<(Update, u8)>,
    ordering: bool,
    /// Cached broadcast-tree children, and the live set they are for.
    children: CoreSet,
    children_of: Option<CoreSet>,
}

impl Monitor {
    /// The monitor of core `me` in a machine with the given topology, every
    /// core owning `units_per_core` RAM units at boot.
    pub fn new(me: CoreId, topology: Topology, units_per_core: u32) -> Monitor {
        let replica = Replica::new(topology.cores(), units_per_core);
        let units = replica.ram_units() as usize;
        Monitor {
            me,
            topology,
            replica,
            next: 0,
            log: Vec::new(),
            down: CoreSet::EMPTY,
            relinquished: alloc::vec![false; units],
            busy: alloc::vec![false; units],
            last_hops: 0,
            max_hops: 0,
            held: BTreeMap::new(),
            next_op: 0,
            next_obj: 0,
            pending_ram: Vec::new(),
            pending_revokes: Vec::new(),
            revoke_waiting: BTreeMap::new(),
            to_order: Vec::new(),
            ordering: false,
            children: CoreSet::EMPTY,
            children_of: None,
        }
    }

    /// This monitor's core.
    pub fn core(&self) -> CoreId {
        self.me
    }

    /// The local replica of the global state (reads are local).
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// Digest of the local replica.
    pub fn digest(&self) -> Digest {
        self.replica.digest()
    }

    /// Number of log entries applied.
    pub fn applied(&self) -> u64 {
        self.next
    }

    /// Whether this core may use RAM unit `unit` now: the replica says it
    /// owns it and it has not given it away. Busy units are owned too.
    pub fn owns_unit(&self, unit: u32) -> bool {
        self.replica.ram_owner(unit) == Some(self.me) && !self.relinquished[unit as usize]
    }

    /// Whether this core owns `unit` ([`Monitor::owns_unit`]) and has not
    /// handed it to a local client ([`Monitor::set_busy`]): the units it
    /// may donate.
    pub fn free_unit(&self, unit: u32) -> bool {
        self.owns_unit(unit) && !self.busy[unit as usize]
    }

    /// Whether `unit` is marked busy (handed to a local client). Only ever
    /// true for units this core owns.
    pub fn is_busy(&self, unit: u32) -> bool {
        self.busy.get(unit as usize).copied().unwrap_or(false)
    }

    /// Marks the units of `range` as handed to local clients (`busy`) or
    /// back with the monitor (`!busy`). Busy units stay owned but are never
    /// donated to another core. Only affects units this core owns now
    /// ([`Monitor::owns_unit`]); other units of the range (including units
    /// past the end of RAM) are ignored. Purely local: no message, no log
    /// entry. A unit's busy flag is also cleared if a transfer moves it away
    /// (which the protocol itself never does, since donation skips busy
    /// units).
    pub fn set_busy(&mut self, range: RamRange, busy: bool) {
        for u in range.units() {
            if self.owns_unit(u) {
                self.busy[u as usize] = busy;
            }
        }
    }

    /// The description of capability object `obj` as recorded when it was
    /// created, if the replica has a record of it (live or a tombstone; see
    /// [`Replica::cap`] for its state and [`Monitor::holds_live`] for this
    /// core's copy).
    pub fn created(&self, obj: ObjId) -> Option<CapDesc> {
        self.replica.cap(obj).map(|r| r.desc)
    }

    /// The hop count with which the most recently applied log entry arrived
    /// (0 before any; see the [module](self) docs). Not affected by
    /// [`Monitor::reset_hops`].
    pub fn last_hops(&self) -> u8 {
        self.last_hops
    }

    /// The largest hop count of a log entry applied since the last
    /// [`Monitor::reset_hops`] (or since boot); 0 if none.
    pub fn max_hops(&self) -> u8 {
        self.max_hops
    }

    /// Restarts [`Monitor::max_hops`] at 0.
    pub fn reset_hops(&mut self) {
        self.max_hops = 0;
    }

    /// This core's copy of `obj`, if any.
    pub fn copy_state(&self, obj: ObjId) -> Option<CopyState> {
        self.held.get(&obj).copied()
    }

    /// Whether this core holds a usable copy of `obj`.
    pub fn holds_live(&self, obj: ObjId) -> bool {
        self.copy_state(obj) == Some(CopyState::Live)
    }

    /// This core's copies, by object.
    pub fn held(&self) -> impl Iterator<Item = (ObjId, CopyState)> + '_ {
        self.held.iter().map(|(&o, &s)| (o, s))
    }

    /// Looks `name` up in the local replica.
    pub fn lookup(&self, name: Name) -> Option<crate::types::Endpoint> {
        self.replica.lookup(name).map(|r| r.endpoint)
    }

    /// This core's children in the broadcast tree over the live cores
    /// (computed once per change of the live set).
    fn children(&mut self) -> CoreSet {
        let live = self.live();
        if self.children_of != Some(live) {
            self.children = self.topology.children(SEQUENCER, live, self.me);
            self.children_of = Some(live);
        }
        self.children
    }

    fn live(&self) -> CoreSet {
        CoreSet(self.topology.all().0 & !self.down.0)
    }

    /// Starts an operation on behalf of a client on this core. Its outcome
    /// is reported exactly once through `out.complete` (possibly before this
    /// returns), unless this core crashes first.
    pub fn start(&mut self, operation: Operation, out: &mut impl Outbox) -> OpId {
        let op = OpId { core: self.me, n: self.next_op };
        self.next_op += 1;
        match operation {
            Operation::Lookup { name } => out.complete(op, Outcome::Found(self.lookup(name))),
            Operation::RequestRam { count } => self.request_ram(op, count, out),
            Operation::CapCreate { desc } => {
                let obj = ObjId(((self.me.0 as u64) << 32) | self.next_obj as u64);
                self.next_obj += 1;
                self.submit(Update::CapCreate { obj, op, desc }, out);
            }
            Operation::CapCopy { obj, to } => {
                if !self.holds_live(obj) {
                    out.complete(op, Outcome::Failed(Failure::NotHeld));
                } else if to == self.me || to.index() >= self.topology.cores() {
                    out.complete(op, Outcome::Failed(Failure::BadArgument));
                } else {
                    self.submit(Update::CapCopy { obj, to, op }, out);
                }
            }
            Operation::CapRevoke { obj } => {
                if !self.holds_live(obj) {
                    out.complete(op, Outcome::Failed(Failure::NotHeld));
                } else {
                    self.pending_revokes.push((obj, op));
                    self.submit(Update::RevokeMark { obj, op }, out);
                }
            }
            Operation::CapDelete { obj } => {
                if !self.holds_live(obj) {
                    out.complete(op, Outcome::Failed(Failure::NotHeld));
                } else {
                    // The copy is unusable from now on; the record follows.
                    self.held.remove(&obj);
                    out.effect(Effect::CopyOut { obj });
                    self.submit(Update::CapDelete { obj, op }, out);
                }
            }
            Operation::Register { name, endpoint } => {
                self.submit(Update::Register { name, endpoint, op }, out)
            }
            Operation::Unregister { name } => self.submit(Update::Unregister { name, op }, out),
        }
        op
    }

    fn request_ram(&mut self, op: OpId, count: u32, out: &mut impl Outbox) {
        if count == 0 || count > self.replica.ram_units() {
            return out.complete(op, Outcome::Failed(Failure::BadArgument));
        }
        // Ask the live core that owns the most RAM (ties: lowest id).
        let mut best: Option<(u32, CoreId)> = None;
        let candidates = CoreSet(self.live().0 & self.replica.online().0 & !CoreSet::single(self.me).0);
        for c in candidates.iter() {
            let owned = self.replica.ram_owned_by(c);
            if best.is_none_or(|(b, _)| owned > b) {
                best = Some((owned, c));
            }
        }
        match best {
            Some((owned, donor)) if owned >= count => {
                self.pending_ram.push((op, donor));
                out.send(donor, Message::RamAsk { op, count });
            }
            _ => out.complete(op, Outcome::Failed(Failure::NoRam)),
        }
    }

    /// The failure detector reports that `core` crash-stopped.
    pub fn core_down(&mut self, core: CoreId, out: &mut impl Outbox) {
        if self.down.contains(core) || core == self.me {
            return;
        }
        self.down.insert(core);
        let mut i = 0;
        while i < self.pending_ram.len() {
            if self.pending_ram[i].1 == core {
                let (op, _) = self.pending_ram.remove(i);
                out.complete(op, Outcome::Failed(Failure::CoreDown));
            } else {
                i += 1;
            }
        }
        if self.me == SEQUENCER {
            self.order(Update::CoreDown { core }, 0, out);
            let emptied: Vec<ObjId> = self
                .revoke_waiting
                .iter_mut()
                .filter_map(|(obj, waiting)| {
                    waiting.remove(core);
                    waiting.is_empty().then_some(*obj)
                })
                .collect();
            for obj in emptied {
                self.revoke_waiting.remove(&obj);
                self.order(Update::RevokeCommit { obj }, 0, out);
            }
        } else {
            // The tree changed: fetch whatever the old tree failed to deliver.
            out.send(SEQUENCER, Message::Sync { next: self.next });
        }
    }

    /// Handles one message from the monitor of core `from`. A
    /// [`Message::Catchup`] is handled as the [`Message::Ordered`] messages
    /// of [`Message::split_catchup`], one after the other.
    pub fn handle(&mut self, from: CoreId, message: Message, out: &mut impl Outbox) {
        match message {
            Message::Submit { update, hops } => {
                if self.me == SEQUENCER {
                    self.order(update, hops, out);
                }
            }
            Message::Ordered { seq, update, hops } => self.receive(seq, update, hops, out),
            Message::Sync { next } => {
                if self.me == SEQUENCER {
                    let start = next.min(self.log.len() as u64) as usize;
                    let entries = self.log[start..]
                        .iter()
                        .map(|&(update, hops)| (update, hops.saturating_add(1)))
                        .collect();
                    out.send(from, Message::Catchup { from: start as u64, entries });
                }
            }
            catchup @ Message::Catchup { .. } => {
                for message in catchup.split_catchup() {
                    self.handle(from, message, out);
                }
            }
            Message::RamAsk { op, count } => self.donate(op, count, out),
            Message::RamDeny { op } => {
                if let Some(i) = self.pending_ram.iter().position(|&(o, _)| o == op) {
                    self.pending_ram.remove(i);
                    out.complete(op, Outcome::Failed(Failure::NoRam));
                }
            }
            Message::RevokeAck { obj } => self.revoke_acked(obj, from, out),
        }
    }

    fn donate(&mut self, op: OpId, count: u32, out: &mut impl Outbox) {
        let mut run = 0u32;
        let mut found = None;
        for u in 0..self.replica.ram_units() {
            run = if self.free_unit(u) { run + 1 } else { 0 };
            if run == count {
                found = Some(RamRange { base: u + 1 - count, count });
                break;
            }
        }
        match found {
            Some(range) if count > 0 => {
                // Stop using the units before anyone else may: in flight they
                // belong to nobody.
                for u in range.units() {
                    self.relinquished[u as usize] = true;
                }
                out.effect(Effect::RamOut(range));
                self.submit(Update::RamTransfer { from: self.me, to: op.core, range, op }, out);
            }
            _ => out.send(op.core, Message::RamDeny { op }),
        }
    }

    fn revoke_acked(&mut self, obj: ObjId, from: CoreId, out: &mut impl Outbox) {
        if let Some(waiting) = self.revoke_waiting.get_mut(&obj) {
            waiting.remove(from);
            if waiting.is_empty() {
                self.revoke_waiting.remove(&obj);
                self.order(Update::RevokeCommit { obj }, 0, out);
            }
        }
    }

    fn submit(&mut self, update: Update, out: &mut impl Outbox) {
        if self.me == SEQUENCER {
            self.order(update, 0, out);
        } else {
            out.send(SEQUENCER, Message::Submit { update, hops: 1 });
        }
    }

    /// Sequencer: appends `update` (which arrived with `hops`) to the log,
    /// applies it and broadcasts it.
    fn order(&mut self, update: Update, hops: u8, out: &mut impl Outbox) {
        self.to_order.push((update, hops));
        if self.ordering {
            return;
        }
        self.ordering = true;
        while !self.to_order.is_empty() {
            let (update, hops) = self.to_order.remove(0);
            let seq = self.log.len() as u64;
            self.log.push((update, hops));
            self.receive(seq, update, hops, out);
        }
        self.ordering = false;
    }

    /// Applies entry `seq` (which arrived with `hops`) if it is the next one
    /// and forwards it down the tree.
    /// Handles `Message::Ordered { seq, update, hops }` (the message every
    /// update brings to every monitor), without building the message: the
    /// same as [`Monitor::handle`] with it.
    pub fn handle_ordered(&mut self, seq: u64, update: Update, hops: u8, out: &mut impl Outbox) {
        self.receive(seq, update, hops, out);
    }

    fn receive(&mut self, seq: u64, update: Update, hops: u8, out: &mut impl Outbox) {
        if seq < self.next {
            return; // duplicate (catch-up overlapping the tree)
        }
        if seq > self.next {
            out.send(SEQUENCER, Message::Sync { next: self.next });
            return;
        }
        self.next += 1;
        self.last_hops = hops;
        self.max_hops = self.max_hops.max(hops);
        self.apply(update, out);
        let hops = hops.saturating_add(1);
        let children = self.children();
        if !children.is_empty() {
            out.send_each(children, Message::Ordered { seq, update, hops });
        }
    }

    /// Applies one entry to the replica and performs this core's local effects.
    fn apply(&mut self, update: Update, out: &mut impl Outbox) {
        // A dead core's RAM goes to the lowest core still online.
        let orphans: Vec<u32> = match update {
            Update::CoreDown { core } => {
                (0..self.replica.ram_units()).filter(|&u| self.replica.ram_owner(u) == Some(core)).collect()
            }
            _ => Vec::new(),
        };
        let applied = self.replica.apply(&update);
        let valid = applied == Applied::Valid;
        let mine = |op: OpId| op.core == self.me;
        match update {
            Update::RamTransfer { from, to, range, op } => {
                // The units are this core's now, or back with it (an invalid
                // transfer returns what the donor gave up).
                if (valid && to == self.me) || (!valid && from == self.me) {
                    out.effect(Effect::RamIn(range));
                }
                if from == self.me {
                    for u in range.units().filter(|&u| u < self.replica.ram_units()) {
                        self.relinquished[u as usize] = false;
                        if valid && to != self.me {
                            self.busy[u as usize] = false;
                        }
                    }
                }
                if mine(op) {
                    if let Some(i) = self.pending_ram.iter().position(|&(o, _)| o == op) {
                        self.pending_ram.remove(i);
                        let outcome =
                            if valid { Outcome::Ram(range) } else { Outcome::Failed(Failure::NoRam) };
                        out.complete(op, outcome);
                    }
                }
            }
            Update::CapCreate { obj, op, .. } => {
                if mine(op) {
                    if valid {
                        self.held.insert(obj, CopyState::Live);
                        out.complete(op, Outcome::Created(obj));
                    } else {
                        out.complete(op, Outcome::Failed(Failure::CapUnavailable));
                    }
                }
            }
            Update::CapCopy { obj, to, op } => {
                if valid && to == self.me {
                    self.held.insert(obj, CopyState::Live);
                    if let Some(record) = self.replica.cap(obj) {
                        out.effect(Effect::CopyIn { obj, desc: record.desc });
                    }
                }
                if mine(op) {
                    out.complete(
                        op,
                        if valid { Outcome::Done } else { Outcome::Failed(Failure::CapUnavailable) },
                    );
                }
            }
            Update::CapDelete { op, .. } => {
                if mine(op) {
                    out.complete(op, if valid { Outcome::Done } else { Outcome::Failed(Failure::NotHeld) });
                }
            }
            Update::RevokeMark { obj, op } => {
                if let Some(state) = self.held.get_mut(&obj) {
                    if *state == CopyState::Live {
                        out.effect(Effect::CopyOut { obj });
                    }
                    *state = CopyState::Marked;
                }
                match applied {
                    Applied::Marked { holders } => {
                        if self.me == SEQUENCER {
                            let mut waiting = CoreSet(holders.0 & self.live().0);
                            waiting.remove(self.me);
                            if waiting.is_empty() {
                                self.order(Update::RevokeCommit { obj }, 0, out);
                            } else {
                                self.revoke_waiting.insert(obj, waiting);
                            }
                        } else if holders.contains(self.me) {
                            out.send(SEQUENCER, Message::RevokeAck { obj });
                        }
                    }
                    Applied::AlreadyDead if mine(op) => self.finish_revoke(obj, Some(op), out),
                    _ => {}
                }
            }
            Update::RevokeCommit { obj } => {
                if self.held.remove(&obj) == Some(CopyState::Live) {
                    out.effect(Effect::CopyOut { obj });
                }
                self.finish_revoke(obj, None, out);
            }
            Update::Register { op, .. } => {
                if mine(op) {
                    out.complete(op, if valid { Outcome::Done } else { Outcome::Failed(Failure::NameTaken) });
                }
            }
            Update::Unregister { op, .. } => {
                if mine(op) {
                    let outcome = if valid { Outcome::Done } else { Outcome::Failed(Failure::NotRegistered) };
                    out.complete(op, outcome);
                }
            }
            Update::CoreDown { .. } => {
                if valid && self.replica.online().first() == Some(self.me) {
                    for range in runs(&orphans) {
                        out.effect(Effect::RamIn(range));
                    }
                }
            }
        }
    }

    /// Completes the revokes of `obj` started here (only `only` if given).
    fn finish_revoke(&mut self, obj: ObjId, only: Option<OpId>, out: &mut impl Outbox) {
        let mut i = 0;
        while i < self.pending_revokes.len() {
            let (o, op) = self.pending_revokes[i];
            if o == obj && only.is_none_or(|x| x == op) {
                self.pending_revokes.remove(i);
                out.complete(op, Outcome::Done);
            } else {
                i += 1;
            }
        }
    }
}

/// Consecutive runs of the sorted `units`, as ranges.
fn runs(units: &[u32]) -> Vec<RamRange> {
    let mut ranges: Vec<RamRange> = Vec::new();
    for &u in units {
        match ranges.last_mut() {
            Some(last) if last.base + last.count == u => last.count += 1,
            _ => ranges.push(RamRange { base: u, count: 1 }),
        }
    }
    ranges
}
