//! The per-core monitor state machine.
//!
//! One code path for target and simulator: the caller feeds it operations
//! ([`Monitor::start`]), messages ([`Monitor::handle`]) and failure-detector
//! reports ([`Monitor::core_down`]); the monitor answers only through an
//! [`Outbox`]. No I/O, no clock, no randomness.
//!
//! # Protocol
//!
//! One monitor is the *sequencer*: core 0 ([`SEQUENCER`]) at boot, the
//! lowest live core after a fail-over ([`Monitor::sequencer`]). Every update
//! of the replicated state is a [`Update`] log entry: the initiator sends it
//! to the sequencer ([`Message::Submit`]), which gives it the next sequence
//! number, applies it and sends it down the broadcast tree rooted at itself
//! ([`Message::Ordered`]); every monitor applies entries strictly in
//! sequence order and forwards each applied entry to its tree children. A
//! monitor that sees a gap (only after a crash changed the tree) asks the
//! sequencer for the missing suffix ([`Message::Sync`] /
//! [`Message::Catchup`]); every monitor also does so when told a core went
//! down. Work per update: `N - 1` tree messages plus one submit; critical
//! path: one hop plus the tree depth.
//!
//! Every monitor keeps the suffix of the log that not every live monitor
//! has applied yet ([`Monitor::log`], one [`Update`] and a hop count per
//! entry, from position [`Monitor::log_base`] on), the set of operations of
//! every entry it applied (one bit per operation, see below), and every
//! update it submitted until it applies it.
//!
//! # Trimming the log
//!
//! Only entries some live monitor has not applied are ever asked for (by a
//! `Sync`, a takeover's catch-up or `Fetch`), so the log is trimmed:
//!
//! * every monitor but the sequencer sends it [`Message::Applied`] with its
//!   count of applied entries whenever that count reaches a multiple of
//!   [`APPLIED_EVERY`] (`K` = 64; [`Monitor::set_applied_every`]);
//! * the sequencer keeps the latest count of every other monitor (a new
//!   sequencer starts from the counts of the fail-over reports; a core
//!   reported down no longer counts, so a dead core never holds the trim
//!   back) and, whenever the minimum over the live monitors and itself,
//!   rounded down to a multiple of `K`, passes the last trim point, drops
//!   the entries below it and sends every other live monitor
//!   [`Message::Trim`] (a new sequencer sends its first trim point again:
//!   the old one's last trim may have reached only some monitors);
//! * a monitor receiving `Trim { below }` from its sequencer drops its
//!   entries below `below`.
//!
//! Every request starts at a count its sender applied, which the sequencer
//! has not seen passed yet (the `Applied` carrying a larger count follows on
//! the same FIFO channel, and a report precedes everything the reporter
//! sends in an epoch), so no request ever reaches below a trim point; a
//! monitor counts such requests ([`Monitor::trim_misses`]) and the
//! simulator checks that there are none. In steady state a log holds
//! between `K` and about `2 K` entries plus those in flight; messages add
//! `2 (N - 1) / K` per update (the reports and the trims). While a
//! fail-over is in progress nothing is trimmed.
//!
//! # Failure model
//!
//! Cores crash-stop. The failure detector ([`Monitor::core_down`]) is
//! perfect and tells every live monitor about a crash before any of them
//! handles a message sent after it, and once a monitor was told, nothing the
//! dead core sent reaches it any more: [`Monitor::handle`] and
//! [`Monitor::handle_ordered`] drop such late messages. The simulator implements
//! exactly this (a crashed core may halt first and its messages keep
//! arriving until the crash is reported, or arrive late and be dropped).
//!
//! # Sequencer fail-over
//!
//! All applied logs are prefixes of one total order. When the sequencer is
//! reported down, every live monitor switches to the lowest core it has not
//! been told is down; since cores only ever go down, the sequencer's id only
//! grows and numbers the *epoch*, and all live monitors agree on it.
//!
//! 1. Every other live monitor sends the new sequencer a
//!    [`Message::Report`] with the length of its log and from then on applies
//!    nothing and submits nothing (it remembers the largest entry it dropped)
//!    until the new sequencer's [`Message::Start`]. So its report stays the
//!    longest log it has, and whatever it later applies comes from the new
//!    sequencer's log.
//! 2. The new sequencer waits for the report of every live monitor (a core
//!    reported down meanwhile is not waited for). If a report is longer than
//!    its own log, it fetches the suffix from that monitor
//!    ([`Message::Fetch`], answered with a [`Message::Catchup`]) and applies
//!    it; if that monitor dies, it fetches from the next longest. Its log is
//!    then the longest log any live monitor applied: nothing a live monitor
//!    applied is lost, and entries only a dead core had are forgotten
//!    consistently (nobody live applied them).
//! 3. It sends every live monitor [`Message::Start`] followed by a
//!    catch-up from its reported length, then orders, before anything new:
//!    a `CoreDown` for every core reported down but still online in the
//!    replica (e.g. the old sequencer), a `RevokeCommit` for every running
//!    revoke with no live holder left, its own lost submits and the submits
//!    that arrived during the takeover. For every other running revoke it
//!    waits for the (re-)acks of the live cores still holding a copy.
//! 4. On `Start` a monitor resubmits every update it submitted and has not
//!    applied (lost with the old sequencer, or already in the log and still
//!    on its way in the catch-up), acks every running revoke it has marked
//!    (its earlier ack went to the dead sequencer; holders that have not
//!    applied the mark yet ack when they do), and asks for entries it
//!    dropped while waiting that the catch-up does not cover (a
//!    [`Message::Sync`]).
//!
//! The sequencer orders an update only if its operation ([`Update::op`]) is
//! not in its log yet (trimmed entries included: every monitor records the
//! operation of every entry it applies in a set of one bit per operation,
//! so a new sequencer has it at once), so a resubmission never applies
//! anything twice, and
//! every submitted update is eventually applied exactly once (whatever the
//! initiator, e.g. the donor of a RAM transfer or the core of a revoke
//! mark). A `RamAsk` is point-to-point and unaffected: only the death of the
//! donor fails the request ([`Failure::CoreDown`]). If the new sequencer dies
//! during its takeover, the next lowest core starts over (every monitor
//! reports again to it).
//!
//! Costs of a fail-over with `L` live monitors: `L - 1` reports, at most one
//! fetch per dead holder plus the missing suffix once, `L - 1` starts, a
//! catch-up per monitor of what it lacks, the resubmits and re-acks; the
//! critical path is about four hops plus the catch-ups. Normal operation
//! pays for it with the memory of the untrimmed log suffix and the
//! operation set on every monitor (instead of the sequencer only).
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

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use crate::message::{Effect, Failure, Message, Operation, Outbox, Outcome, Update};
use crate::replica::{Applied, CapState, Replica};
use crate::topology::Topology;
use crate::types::{CapDesc, CoreId, CoreSet, Digest, Name, ObjId, OpId, RamRange};

/// How often a monitor tells the sequencer how far it has applied
/// ([`Message::Applied`]): whenever its count of applied entries reaches a
/// multiple of this (the default of [`Monitor::set_applied_every`]).
pub const APPLIED_EVERY: u64 = 64;

/// The core whose monitor orders all updates at boot (the first
/// sequencer; after a fail-over the lowest live core is, see
/// [`Monitor::sequencer`]).
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
    /// Next log position to apply (always `log_base + log.len()`).
    next: u64,
    /// Position of the first entry kept in `log`: every entry below was
    /// applied by every live monitor and trimmed ([`Message::Trim`]).
    log_base: u64,
    /// The log applied here from `log_base` on, with the hops each entry
    /// arrived with (0 or the submit's on the sequencer). Every monitor
    /// keeps it: a new sequencer may have to fetch a suffix from any of
    /// them.
    log: Vec<(Update, u8)>,
    /// The operations of every entry applied here (trimmed ones included),
    /// the sequencer's dedup set. Kept by every monitor, so a new sequencer
    /// has it at once.
    logged: OpSet,
    /// Interval of the [`Message::Applied`] reports ([`APPLIED_EVERY`]).
    applied_every: u64,
    /// Sequencer only: how far each other monitor reported it applied (its
    /// fail-over report or its latest [`Message::Applied`]); a live core
    /// missing counts as 0.
    acked: BTreeMap<CoreId, u64>,
    /// Sequencer only: the last trim point sent.
    trim_sent: u64,
    /// Requests for entries below `log_base` (a catch-up or fetch that could
    /// not be served whole); the protocol makes them impossible.
    trim_misses: u64,
    /// The current sequencer: the lowest core not reported down. It only
    /// grows, so it also numbers the epoch.
    sequencer: CoreId,
    /// Whether the current epoch has started here: false from the report of
    /// the old sequencer's crash until the takeover completed (on the new
    /// sequencer) or its [`Message::Start`] arrived (elsewhere). A monitor
    /// that is not ready applies nothing (unless it is the new sequencer)
    /// and sends no submit.
    ready: bool,
    /// Fail-over: the log lengths the other monitors reported to this one as
    /// their new sequencer.
    reports: BTreeMap<CoreId, u64>,
    /// Fail-over, new sequencer: the monitor asked for the missing suffix.
    fetching: Option<CoreId>,
    /// Not ready: the largest position of an entry dropped.
    dropped: Option<u64>,
    /// Updates submitted from here and not applied yet, resubmitted to every
    /// new sequencer.
    submitted: BTreeMap<OpId, Update>,
    /// New sequencer: submits that arrived before the takeover completed.
    deferred: Vec<(Update, u8)>,
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
    to_order: VecDeque<(Update, u8)>,
    ordering: bool,
    /// Cached broadcast-tree children, and the root and live set they are
    /// for.
    children: CoreSet,
    children_of: Option<(CoreId, CoreSet)>,
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
            log_base: 0,
            log: Vec::new(),
            logged: OpSet::default(),
            applied_every: APPLIED_EVERY,
            acked: BTreeMap::new(),
            trim_sent: 0,
            trim_misses: 0,
            sequencer: SEQUENCER,
            ready: true,
            reports: BTreeMap::new(),
            fetching: None,
            dropped: None,
            submitted: BTreeMap::new(),
            deferred: Vec::new(),
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
            to_order: VecDeque::new(),
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

    /// The sequencer this monitor follows: [`SEQUENCER`] at boot, the lowest
    /// core not reported down after a fail-over. It only increases, so it
    /// also identifies the epoch.
    pub fn sequencer(&self) -> CoreId {
        self.sequencer
    }

    /// Whether a sequencer fail-over is in progress here (this monitor
    /// applies nothing until it completes; see the [module](self) docs).
    pub fn failing_over(&self) -> bool {
        !self.ready
    }

    /// The log entries kept here: the entries applied here from position
    /// [`Monitor::log_base`] on (those below were applied by every live
    /// monitor and trimmed).
    pub fn log(&self) -> impl Iterator<Item = &Update> + '_ {
        self.log.iter().map(|(u, _)| u)
    }

    /// Position of the first entry still kept in [`Monitor::log`].
    pub fn log_base(&self) -> u64 {
        self.log_base
    }

    /// Number of entries kept in [`Monitor::log`].
    pub fn log_len(&self) -> usize {
        self.log.len()
    }

    /// How many requests for trimmed entries this monitor got (a catch-up or
    /// fetch starting below [`Monitor::log_base`]). Always 0: a request
    /// only ever asks for entries some live monitor has not applied, and
    /// those are never trimmed. The simulator checks it.
    pub fn trim_misses(&self) -> u64 {
        self.trim_misses
    }

    /// Sets how often this monitor reports to the sequencer how far it has
    /// applied ([`APPLIED_EVERY`] by default; at least 1). Smaller values
    /// trim the log sooner at the price of more messages (about `2 (N - 1)
    /// / every` per update). Set it before the first operation.
    pub fn set_applied_every(&mut self, every: u64) {
        self.applied_every = every.max(1);
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
        let key = (self.sequencer, self.live());
        if self.children_of != Some(key) {
            self.children = self.topology.children(key.0, key.1, self.me);
            self.children_of = Some(key);
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

    /// The failure detector reports that `core` crash-stopped. Every live
    /// monitor must be told (before it receives anything sent after the
    /// crash), and no message from `core` may reach this monitor afterwards
    /// ([`Monitor::handle`] drops them; a transport calling
    /// [`Monitor::handle_ordered`] must drop them itself). If `core` was the
    /// sequencer, this starts a fail-over (see the [module](self) docs).
    pub fn core_down(&mut self, core: CoreId, out: &mut impl Outbox) {
        if self.down.contains(core) || core == self.me {
            return;
        }
        self.down.insert(core);
        self.reports.remove(&core);
        self.acked.remove(&core);
        let mut i = 0;
        while i < self.pending_ram.len() {
            if self.pending_ram[i].1 == core {
                let (op, _) = self.pending_ram.remove(i);
                out.complete(op, Outcome::Failed(Failure::CoreDown));
            } else {
                i += 1;
            }
        }
        if core == self.sequencer {
            // Fail-over: the lowest live core takes over.
            self.sequencer = self.live().first().unwrap_or(self.me);
            self.ready = false;
            self.fetching = None;
            self.dropped = None;
            self.revoke_waiting.clear();
            if self.me == self.sequencer {
                self.take_over(out);
            } else {
                out.send(self.sequencer, Message::Report { next: self.next });
            }
        } else if self.me == self.sequencer {
            if !self.ready {
                if self.fetching == Some(core) {
                    self.fetching = None;
                }
                return self.take_over(out);
            }
            self.order(Update::CoreDown { core }, 0, out);
            // The dead core no longer holds the trim point back.
            self.maybe_trim(out);
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
        } else if self.ready {
            // The tree changed: fetch whatever the old tree failed to deliver.
            out.send(self.sequencer, Message::Sync { next: self.next });
        }
    }

    /// New sequencer: completes the takeover once every live monitor
    /// reported and this one holds the longest reported log (fetching the
    /// missing suffix from a monitor that has it otherwise).
    fn take_over(&mut self, out: &mut impl Outbox) {
        let mut others = self.live();
        others.remove(self.me);
        let (mut longest, mut holder) = (self.next, self.me);
        for c in others.iter() {
            match self.reports.get(&c) {
                None => return, // still waiting for its report
                Some(&next) if next > longest => (longest, holder) = (next, c),
                Some(_) => {}
            }
        }
        if holder != self.me {
            if self.fetching != Some(holder) {
                self.fetching = Some(holder);
                out.send(holder, Message::Fetch { next: self.next });
            }
            return;
        }
        self.ready = true;
        self.fetching = None;
        // The operations already ordered, for deduplication, are in
        // `logged` (every monitor keeps it, trimmed entries included). The
        // reports say how far everyone applied: the trim point from here on.
        let reports = core::mem::take(&mut self.reports);
        self.acked = reports.clone();
        // Sent again in this epoch: a trim of the old sequencer may have
        // reached only some monitors.
        self.trim_sent = 0;
        for c in others.iter() {
            out.send(c, Message::Start { next: self.next });
            let from = reports.get(&c).copied().unwrap_or(0);
            if from < self.next {
                out.send(c, self.catchup(from));
            }
        }
        // Revokes in progress: every live holder (re-)acks to this
        // sequencer (holders that applied the mark re-ack on `Start`, the
        // others ack when the catch-up brings them the mark).
        let mut commits = Vec::new();
        for (&obj, rec) in self.replica.caps() {
            if rec.state == CapState::Revoking {
                let mut waiting = CoreSet(rec.copies.0 & others.0);
                waiting.remove(self.me);
                if waiting.is_empty() {
                    commits.push(obj);
                } else {
                    self.revoke_waiting.insert(obj, waiting);
                }
            }
        }
        // Crashes the old sequencers did not get into the log.
        let gone: Vec<CoreId> = self.down.iter().filter(|&c| self.replica.online().contains(c)).collect();
        for core in gone {
            self.order(Update::CoreDown { core }, 0, out);
        }
        for obj in commits {
            self.order(Update::RevokeCommit { obj }, 0, out);
        }
        // This core's own submits to the old sequencer, then what others
        // submitted early (neither is ordered twice).
        let mine: Vec<Update> = core::mem::take(&mut self.submitted).into_values().collect();
        for update in mine {
            self.order(update, 0, out);
        }
        for (update, hops) in core::mem::take(&mut self.deferred) {
            self.order(update, hops, out);
        }
        self.maybe_trim(out);
    }

    /// A catch-up with this monitor's log from `from` on (from
    /// [`Monitor::log_base`] if `from` is below: counted as a miss, see
    /// [`Monitor::trim_misses`]).
    fn catchup(&mut self, from: u64) -> Message {
        if from < self.log_base {
            self.trim_misses += 1;
        }
        let start = from.clamp(self.log_base, self.next);
        let entries = self.log[(start - self.log_base) as usize..]
            .iter()
            .map(|&(update, hops)| (update, hops.saturating_add(1)))
            .collect();
        Message::Catchup { from: start, entries }
    }

    /// Drops the entries below `below` (at most up to `next`).
    fn trim(&mut self, below: u64) {
        let below = below.min(self.next);
        if below > self.log_base {
            self.log.drain(..(below - self.log_base) as usize);
            self.log_base = below;
        }
    }

    /// Sequencer: trims the log below the lowest position every live
    /// monitor reported applied and tells the others to do the same.
    fn maybe_trim(&mut self, out: &mut impl Outbox) {
        if self.me != self.sequencer || !self.ready {
            return;
        }
        let mut others = self.live();
        others.remove(self.me);
        let mut below = self.next;
        for c in others.iter() {
            below = below.min(self.acked.get(&c).copied().unwrap_or(0));
        }
        // Whole intervals only: trims stay rare, and a short log is never
        // trimmed at all.
        below -= below % self.applied_every;
        if below > self.trim_sent {
            self.trim_sent = below;
            self.trim(below);
            if !others.is_empty() {
                out.send_each(others, Message::Trim { below });
            }
        }
    }

    /// Handles one message from the monitor of core `from`. A
    /// [`Message::Catchup`] is handled as the [`Message::Ordered`] messages
    /// of [`Message::split_catchup`], one after the other.
    ///
    /// Messages from a core reported down ([`Monitor::core_down`]) are
    /// ignored: whatever they carry arrived late.
    pub fn handle(&mut self, from: CoreId, message: Message, out: &mut impl Outbox) {
        if self.down.contains(from) || from == self.me {
            return;
        }
        let sequencer = self.me == self.sequencer;
        match message {
            Message::Submit { update, hops } => {
                if sequencer && self.ready {
                    self.order(update, hops, out);
                } else if sequencer {
                    self.deferred.push((update, hops));
                }
            }
            Message::Ordered { seq, update, hops } => self.receive(seq, update, hops, out),
            Message::Sync { next } => {
                if sequencer && self.ready {
                    out.send(from, self.catchup(next));
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
            Message::Report { next } => {
                if !sequencer || !self.ready {
                    // Kept even before this core learns it is the new
                    // sequencer.
                    self.reports.insert(from, next);
                    if sequencer {
                        self.take_over(out);
                    }
                } else {
                    // Late: the reporter waits for a start all the same.
                    out.send(from, Message::Start { next: self.next });
                    out.send(from, self.catchup(next));
                }
            }
            Message::Fetch { next } => {
                if next < self.next {
                    out.send(from, self.catchup(next));
                }
            }
            Message::Start { next } => {
                if from == self.sequencer && !self.ready {
                    self.start_epoch(next, out);
                }
            }
            Message::Applied { next } => {
                if sequencer {
                    let acked = self.acked.entry(from).or_insert(0);
                    *acked = (*acked).max(next);
                    self.maybe_trim(out);
                }
            }
            Message::Trim { below } => {
                if from == self.sequencer && self.ready {
                    self.trim(below);
                }
            }
        }
    }

    /// The new sequencer's takeover is complete: resubmit what was lost with
    /// the old one, re-ack the running revokes, and ask for entries dropped
    /// while waiting that the catch-up following `Start` will not bring.
    fn start_epoch(&mut self, next: u64, out: &mut impl Outbox) {
        self.ready = true;
        for &update in self.submitted.values() {
            out.send(self.sequencer, Message::Submit { update, hops: 1 });
        }
        for (&obj, rec) in self.replica.caps() {
            if rec.state == CapState::Revoking {
                out.send(self.sequencer, Message::RevokeAck { obj });
            }
        }
        if self.dropped.take().is_some_and(|d| d >= next) {
            out.send(self.sequencer, Message::Sync { next: next.max(self.next) });
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
        if self.me == self.sequencer && self.ready {
            return self.order(update, 0, out);
        }
        if let Some(op) = update.op() {
            self.submitted.insert(op, update);
        }
        if self.ready {
            out.send(self.sequencer, Message::Submit { update, hops: 1 });
        }
    }

    /// Sequencer: appends `update` (which arrived with `hops`) to the log,
    /// applies it and broadcasts it, unless its operation is in the log
    /// already (a resubmission after a fail-over).
    fn order(&mut self, update: Update, hops: u8, out: &mut impl Outbox) {
        self.to_order.push_back((update, hops));
        if self.ordering {
            return;
        }
        self.ordering = true;
        while let Some((update, hops)) = self.to_order.pop_front() {
            if update.op().is_some_and(|op| self.logged.contains(op)) {
                continue;
            }
            self.receive(self.next, update, hops, out);
        }
        self.ordering = false;
    }

    /// Handles `Message::Ordered { seq, update, hops }` from the monitor of
    /// core `from` (the message every update brings to every monitor),
    /// without building the message: the same as [`Monitor::handle`] with
    /// it.
    pub fn handle_ordered(
        &mut self,
        from: CoreId,
        seq: u64,
        update: Update,
        hops: u8,
        out: &mut impl Outbox,
    ) {
        if self.down.contains(from) || from == self.me {
            return;
        }
        self.receive(seq, update, hops, out);
    }

    /// Applies entry `seq` (which arrived with `hops`) if it is the next one
    /// and forwards it down the tree.
    fn receive(&mut self, seq: u64, update: Update, hops: u8, out: &mut impl Outbox) {
        let sequencer = self.me == self.sequencer;
        if !self.ready && !sequencer {
            // Between the report and the start of a fail-over nothing is
            // applied: the report must stay the longest log here.
            if seq >= self.next {
                self.dropped = Some(self.dropped.map_or(seq, |d| d.max(seq)));
            }
            return;
        }
        if seq < self.next {
            return; // duplicate (catch-up overlapping the tree)
        }
        if seq > self.next {
            // A gap (after a crash changed the tree); the new sequencer
            // fetches what it lacks during its takeover.
            if !sequencer {
                out.send(self.sequencer, Message::Sync { next: self.next });
            }
            return;
        }
        self.next += 1;
        self.log.push((update, hops));
        if let Some(op) = update.op() {
            // Only a sequencer dedupes, but any monitor may become one;
            // only an initiator has submits.
            self.logged.insert(op);
            if !self.submitted.is_empty() {
                self.submitted.remove(&op);
            }
        }
        self.last_hops = hops;
        self.max_hops = self.max_hops.max(hops);
        self.apply(update, out);
        if !self.ready {
            // The new sequencer fetching: the others get catch-ups.
            return self.take_over(out);
        }
        let hops = hops.saturating_add(1);
        let children = self.children();
        if !children.is_empty() {
            out.send_each(children, Message::Ordered { seq, update, hops });
        }
        if self.next.is_multiple_of(self.applied_every) {
            if sequencer {
                // Its own progress counts too (alone, it is all that does).
                self.maybe_trim(out);
            } else {
                // How far this monitor got, for the trim point.
                out.send(self.sequencer, Message::Applied { next: self.next });
            }
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
                        if self.me == self.sequencer {
                            if !self.ready {
                                // The takeover collects the acks of every
                                // running revoke.
                                return;
                            }
                            let mut waiting = CoreSet(holders.0 & self.live().0);
                            waiting.remove(self.me);
                            if waiting.is_empty() {
                                self.order(Update::RevokeCommit { obj }, 0, out);
                            } else {
                                self.revoke_waiting.insert(obj, waiting);
                            }
                        } else if holders.contains(self.me) {
                            out.send(self.sequencer, Message::RevokeAck { obj });
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

/// A set of operations: one bit per operation number, per core (an
/// operation's number counts that core's operations, so the bits stay
/// dense: 125 bytes per thousand operations of a core). Insert and lookup
/// are a shift and a mask; a B-tree set cost the sequencer ~780
/// instructions per update.
#[derive(Clone, Debug, Default)]
struct OpSet {
    bits: Vec<Vec<u64>>,
}

impl OpSet {
    /// Words per core at most (2^22 operations, 512 KiB): an operation
    /// number beyond is not remembered (nor deduplicated) rather than let a
    /// wild number take the heap.
    const MAX_WORDS: usize = 1 << 16;

    fn insert(&mut self, op: OpId) {
        let (core, word, bit) = (op.core.index(), op.n as usize / 64, op.n % 64);
        if word >= Self::MAX_WORDS {
            return;
        }
        if self.bits.len() <= core {
            self.bits.resize_with(core + 1, Vec::new);
        }
        let words = &mut self.bits[core];
        if words.len() <= word {
            words.resize(word + 1, 0);
        }
        words[word] |= 1 << bit;
    }

    fn contains(&self, op: OpId) -> bool {
        let (word, bit) = (op.n as usize / 64, op.n % 64);
        self.bits.get(op.core.index()).and_then(|words| words.get(word)).is_some_and(|w| w & (1 << bit) != 0)
    }
}
