//! Operations, log entries, inter-monitor messages and completions, and the
//! fixed-size wire form of messages.
//!
//! # Wire form
//!
//! A URPC slot carries 7 payload words; a [`Message`] (every variant but
//! [`Message::Catchup`]) travels as one [`Wire`]: a kind byte and 6 words,
//! packed into a slot by [`Wire::to_slot`] (word 0 = kind, words 1..7 = the
//! six words). Encoding is canonical: [`Update::from_words`] and
//! [`Message::from_wire`] reject every input that is not the encoding of a
//! well-formed value (unknown tag or kind, nonzero unused bits or words, a
//! [`CoreId`] ≥ [`MAX_CORES`]), so `decode(encode(x)) == x` for every
//! well-formed `x` and `encode(decode(w)) == w` whenever `decode(w)`
//! succeeds. Decoding never panics. Compound fields take one word each
//! (two for a name); `seq`, `next` and `count` (a `u32`) are plain words:
//!
//! * op word — an [`OpId`]: `core << 32 | n` (bits 40..64 zero);
//! * range word — a [`RamRange`]: `base | count << 32`;
//! * name words — a [`Name`]: bytes `0..8` and `8..16`, each read as a
//!   little-endian `u64`;
//! * obj word — an [`ObjId`] as is.
//!
//! An [`Update`] takes [`UPDATE_WORDS`] = 5 words `u0..u4`. `u0` is a header:
//! bits 0..8 the tag, then small fields from bit 8; bits 56..64 are always
//! zero in an update (a message puts its hop count there). Unlisted words
//! and bits are zero.
//!
//! | tag | update         | `u0` above the tag                    | `u1`    | `u2`    | `u3`      | `u4`       |
//! |-----|----------------|---------------------------------------|---------|---------|-----------|------------|
//! | 1   | `RamTransfer`  | `from << 8 \| to << 16`               | range   | op      |           |            |
//! | 2   | `CapCreate`    | `desc.kind << 8`                      | obj     | op      | desc.base | desc.bytes |
//! | 3   | `CapCopy`      | `to << 8`                             | obj     | op      |           |            |
//! | 4   | `CapDelete`    |                                       | obj     | op      |           |            |
//! | 5   | `RevokeMark`   |                                       | obj     | op      |           |            |
//! | 6   | `RevokeCommit` |                                       | obj     |         |           |            |
//! | 7   | `Register`     | `endpoint.core << 8 \| port << 16`    | name lo | name hi | op        |            |
//! | 8   | `Unregister`   |                                       | name lo | name hi | op        |            |
//! | 9   | `CoreDown`     | `core << 8`                           |         |         |           |            |
//!
//! A [`Wire`] is a kind byte and [`WIRE_WORDS`] = 6 words `w0..w5`
//! (kind 0 is never valid, so an all-zero slot does not decode):
//!
//! | kind | message     | `w0`                   | `w1`                   | `w2` | `w3` | `w4` | `w5` |
//! |------|-------------|------------------------|------------------------|------|------|------|------|
//! | 1    | `Submit`    | `u0 \| hops << 56`     | `u1`                   | `u2` | `u3` | `u4` |      |
//! | 2    | `Ordered`   | seq                    | `u0 \| hops << 56`     | `u1` | `u2` | `u3` | `u4` |
//! | 3    | `Sync`      | next                   |                        |      |      |      |      |
//! | 4    | `RamAsk`    | op                     | count                  |      |      |      |      |
//! | 5    | `RamDeny`   | op                     |                        |      |      |      |      |
//! | 6    | `RevokeAck` | obj                    |                        |      |      |      |      |
//! | 7    | `Report`    | next                   |                        |      |      |      |      |
//! | 8    | `Fetch`     | next                   |                        |      |      |      |      |
//! | 9    | `Start`     | next                   |                        |      |      |      |      |
//! | 10   | `Applied`   | next                   |                        |      |      |      |      |
//! | 11   | `Trim`      | below                  |                        |      |      |      |      |
//!
//! Kinds 7 to 9 only travel during a sequencer fail-over (see
//! [`monitor`](crate::monitor)). Kinds 10 and 11 bound the log: every
//! monitor tells the sequencer every [`APPLIED_EVERY`](crate::monitor::APPLIED_EVERY)
//! applied entries how far it got, and the sequencer tells every monitor
//! below which position no entry is needed any more.
//!
//! `Catchup` has no wire form: a transport sends `Catchup { from, entries }`
//! as the `entries.len()` messages `Ordered { seq: from + i, update, hops }`
//! ([`Message::split_catchup`]), in order on the same channel.
//! [`Monitor::handle`](crate::Monitor::handle) handles a `Catchup` exactly by
//! handling those messages one after the other, so the split is invisible.

use alloc::vec::Vec;

use crate::types::{CapDesc, CoreId, CoreSet, Endpoint, Name, ObjId, OpId, RamRange, MAX_CORES};

/// An operation a client (a dispatcher on this core) asks its monitor for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Get `count` contiguous RAM units from another core.
    RequestRam {
        /// Number of units wanted.
        count: u32,
    },
    /// Create a new capability object owned by this core, described by
    /// `desc` in the replicated record.
    CapCreate {
        /// What the object is (so other cores can materialise copies).
        desc: CapDesc,
    },
    /// Give core `to` a copy of `obj` (this core must hold a live copy).
    CapCopy {
        /// The object.
        obj: ObjId,
        /// The receiving core.
        to: CoreId,
    },
    /// Revoke `obj`: destroy every copy on every core (this core must hold a
    /// live copy).
    CapRevoke {
        /// The object.
        obj: ObjId,
    },
    /// Delete this core's copy of `obj`; the object dies with its last copy.
    CapDelete {
        /// The object.
        obj: ObjId,
    },
    /// Register `name` for `endpoint`.
    Register {
        /// The name.
        name: Name,
        /// The service it names.
        endpoint: Endpoint,
    },
    /// Remove `name` (only the registering core may).
    Unregister {
        /// The name.
        name: Name,
    },
    /// Look `name` up in the local replica (completes at once, no message).
    Lookup {
        /// The name.
        name: Name,
    },
}

/// Why an operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No donor had enough contiguous free RAM.
    NoRam,
    /// This core holds no live copy of the capability.
    NotHeld,
    /// The capability was revoked, deleted, or is being revoked; or the
    /// target already holds a copy or is offline.
    CapUnavailable,
    /// The name is already registered.
    NameTaken,
    /// The name is not registered (by this core).
    NotRegistered,
    /// The peer the operation depended on went down.
    CoreDown,
    /// The arguments are out of range.
    BadArgument,
}

/// The result of an operation, reported once through [`Outbox::complete`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done, nothing to return.
    Done,
    /// These RAM units now belong to this core.
    Ram(RamRange),
    /// The new capability object.
    Created(ObjId),
    /// The lookup result.
    Found(Option<Endpoint>),
    /// The operation failed.
    Failed(Failure),
}

/// An entry of the totally ordered update log. Every monitor applies the same
/// entries in the same order with the same deterministic validation, so all
/// replicas pass through the same states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// Move `range` from `from` to `to` (valid iff `from` owns every unit).
    RamTransfer {
        /// Donor (has already stopped using the units).
        from: CoreId,
        /// Receiver.
        to: CoreId,
        /// The units.
        range: RamRange,
        /// The receiver's request.
        op: OpId,
    },
    /// A new object owned by `op.core`.
    CapCreate {
        /// The object.
        obj: ObjId,
        /// The creating operation.
        op: OpId,
        /// What the object is.
        desc: CapDesc,
    },
    /// `op.core` gives `to` a copy (valid iff the object is live, `op.core`
    /// holds a copy, `to` holds none and is online).
    CapCopy {
        /// The object.
        obj: ObjId,
        /// The receiving core.
        to: CoreId,
        /// The copying operation.
        op: OpId,
    },
    /// `op.core` dropped its copy.
    CapDelete {
        /// The object.
        obj: ObjId,
        /// The deleting operation.
        op: OpId,
    },
    /// Phase 1 of revoke: every holder marks its copy unusable and acks.
    RevokeMark {
        /// The object.
        obj: ObjId,
        /// The revoking operation.
        op: OpId,
    },
    /// Phase 2 of revoke, ordered by the sequencer once every holder acked:
    /// every copy is destroyed.
    RevokeCommit {
        /// The object.
        obj: ObjId,
    },
    /// Register a name (valid iff free); the registrant is `op.core`.
    Register {
        /// The name.
        name: Name,
        /// The service.
        endpoint: Endpoint,
        /// The registering operation.
        op: OpId,
    },
    /// Unregister a name (valid iff registered by `op.core`).
    Unregister {
        /// The name.
        name: Name,
        /// The unregistering operation.
        op: OpId,
    },
    /// A core crash-stopped: it leaves the online set, its names and its
    /// capability copies.
    CoreDown {
        /// The core.
        core: CoreId,
    },
}

/// A message between two monitors over their URPC channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// To the sequencer: please order this update.
    Submit {
        /// The update.
        update: Update,
        /// Hops the update has travelled on arrival (1 from its initiator).
        hops: u8,
    },
    /// Log entry `seq`, travelling down the broadcast tree.
    Ordered {
        /// Position in the log.
        seq: u64,
        /// The entry.
        update: Update,
        /// Hops the entry has travelled on arrival, counted from its
        /// initiator: the sequencer's count (the submit's, 0 if it initiated
        /// the entry itself) plus one per tree edge or catch-up copy.
        hops: u8,
    },
    /// To the sequencer: I have applied everything below `next`; resend the
    /// rest (after a gap or a crash in the tree).
    Sync {
        /// First entry not yet applied.
        next: u64,
    },
    /// From the sequencer: log entries `from..from + entries.len()`. Has no
    /// wire form; see [`Message::split_catchup`].
    Catchup {
        /// Position of the first entry.
        from: u64,
        /// The entries, each with its hop count on arrival (the sequencer's
        /// count for it plus one).
        entries: Vec<(Update, u8)>,
    },
    /// To a donor: please give `op.core` `count` contiguous RAM units.
    RamAsk {
        /// The request.
        op: OpId,
        /// Number of units.
        count: u32,
    },
    /// From a donor: not enough free RAM.
    RamDeny {
        /// The request.
        op: OpId,
    },
    /// To the sequencer: this core applied the revoke mark of `obj`.
    RevokeAck {
        /// The object.
        obj: ObjId,
    },
    /// Fail-over, to the new sequencer: the old one is down, this core
    /// follows the sender of this message from now on, has applied the
    /// entries below `next` and applies no other until the new sequencer's
    /// [`Message::Start`].
    Report {
        /// First entry not yet applied.
        next: u64,
    },
    /// Fail-over, from the new sequencer to a monitor that reported a longer
    /// log: send me your entries from `next` on (answered with a
    /// [`Message::Catchup`]).
    Fetch {
        /// First entry the new sequencer lacks.
        next: u64,
    },
    /// Fail-over, from the new sequencer: it holds the longest log any live
    /// monitor applied (`next` entries) and orders from there on;
    /// resubmit every update not yet applied and re-ack running revokes.
    /// The entries the receiver lacks below `next` follow as a catch-up.
    Start {
        /// Length of the log the new sequencer took over.
        next: u64,
    },
    /// To the sequencer: this core has applied the entries below `next`
    /// (sent whenever `next` reaches a multiple of the acknowledgement
    /// interval, see [`Monitor::applied`](crate::Monitor::applied)).
    Applied {
        /// First entry not yet applied.
        next: u64,
    },
    /// From the sequencer: every live monitor has applied the entries below
    /// `below`; drop them from the log (nobody will ask for them).
    Trim {
        /// First entry still kept.
        below: u64,
    },
}

/// A change of what this core may use, for the caller to make real (on
/// the target: capabilities created or deleted through the kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// These RAM units are this core's now: make them usable.
    RamIn(RamRange),
    /// This core gave these RAM units away: stop using them now (before the
    /// transfer is even ordered).
    RamOut(RamRange),
    /// A copy of `obj` arrived here: make it real.
    CopyIn {
        /// The object.
        obj: ObjId,
        /// What it is.
        desc: CapDesc,
    },
    /// This core's copy of `obj` is gone or unusable (deleted here, marked
    /// by a revoke, or destroyed by its commit): destroy it now.
    CopyOut {
        /// The object.
        obj: ObjId,
    },
}

/// Where a monitor puts its effects: messages to other monitors,
/// completions of operations started on this core and local effects. The
/// target implements it over URPC channels, the simulator over queues.
pub trait Outbox {
    /// Send `message` to the monitor of core `to` (never this core).
    fn send(&mut self, to: CoreId, message: Message);
    /// Operation `op`, started on this core, finished with `outcome`.
    fn complete(&mut self, op: OpId, outcome: Outcome);
    /// Send `message` to every core of `to` (never this core), in
    /// increasing order; a transport may encode it once.
    fn send_each(&mut self, to: CoreSet, message: Message) {
        for core in to.iter() {
            self.send(core, message.clone());
        }
    }
    /// A local effect to make real (ignored by default).
    fn effect(&mut self, effect: Effect) {
        let _ = effect;
    }
}

/// Words in the wire form of an [`Update`] (see the [module](self) docs).
pub const UPDATE_WORDS: usize = 5;

/// Words in a [`Wire`] besides its kind byte.
pub const WIRE_WORDS: usize = 6;

/// Words in a URPC slot holding a [`Wire`] ([`Wire::to_slot`]).
pub const SLOT_WORDS: usize = WIRE_WORDS + 1;

/// Bits of an update's header word `u0` a message may use for its hop count.
const HOPS_SHIFT: u32 = 56;

const TAG_RAM_TRANSFER: u64 = 1;
const TAG_CAP_CREATE: u64 = 2;
const TAG_CAP_COPY: u64 = 3;
const TAG_CAP_DELETE: u64 = 4;
const TAG_REVOKE_MARK: u64 = 5;
const TAG_REVOKE_COMMIT: u64 = 6;
const TAG_REGISTER: u64 = 7;
const TAG_UNREGISTER: u64 = 8;
const TAG_CORE_DOWN: u64 = 9;

const KIND_SUBMIT: u8 = 1;
const KIND_ORDERED: u8 = 2;
const KIND_SYNC: u8 = 3;
const KIND_RAM_ASK: u8 = 4;
const KIND_RAM_DENY: u8 = 5;
const KIND_REVOKE_ACK: u8 = 6;
const KIND_REPORT: u8 = 7;
const KIND_FETCH: u8 = 8;
const KIND_START: u8 = 9;
const KIND_APPLIED: u8 = 10;
const KIND_TRIM: u8 = 11;

fn byte_at(core: CoreId, shift: u32) -> u64 {
    (core.0 as u64) << shift
}

fn op_word(op: OpId) -> u64 {
    ((op.core.0 as u64) << 32) | op.n as u64
}

fn range_word(range: RamRange) -> u64 {
    range.base as u64 | ((range.count as u64) << 32)
}

fn name_words(name: Name) -> (u64, u64) {
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    lo.copy_from_slice(&name.0[..8]);
    hi.copy_from_slice(&name.0[8..]);
    (u64::from_le_bytes(lo), u64::from_le_bytes(hi))
}

/// A core number, if below [`MAX_CORES`].
fn core_of(value: u64) -> Option<CoreId> {
    (value < MAX_CORES as u64).then_some(CoreId(value as u8))
}

/// The core in bits `shift..shift + 8` of `word`.
fn core_at(word: u64, shift: u32) -> Option<CoreId> {
    core_of((word >> shift) & 0xff)
}

fn op_of(word: u64) -> Option<OpId> {
    Some(OpId { core: core_of(word >> 32)?, n: word as u32 })
}

fn range_of(word: u64) -> RamRange {
    RamRange { base: word as u32, count: (word >> 32) as u32 }
}

fn name_of(lo: u64, hi: u64) -> Name {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&lo.to_le_bytes());
    bytes[8..].copy_from_slice(&hi.to_le_bytes());
    Name(bytes)
}

impl Update {
    /// The operation this entry belongs to: every entry but the ones the
    /// sequencer initiates itself ([`Update::RevokeCommit`],
    /// [`Update::CoreDown`]) carries one, and no two entries of a log carry
    /// the same (the sequencer orders an update only if its operation is not
    /// in the log yet, so a resubmission after a fail-over is harmless).
    pub fn op(&self) -> Option<OpId> {
        match *self {
            Update::RamTransfer { op, .. }
            | Update::CapCreate { op, .. }
            | Update::CapCopy { op, .. }
            | Update::CapDelete { op, .. }
            | Update::RevokeMark { op, .. }
            | Update::Register { op, .. }
            | Update::Unregister { op, .. } => Some(op),
            Update::RevokeCommit { .. } | Update::CoreDown { .. } => None,
        }
    }

    /// The wire form (layout in the [module](self) docs). Canonical for a
    /// well-formed update (every [`CoreId`] below [`MAX_CORES`]); an update
    /// with a larger core id encodes to words [`Update::from_words`] rejects.
    pub fn to_words(&self) -> [u64; UPDATE_WORDS] {
        match *self {
            Update::RamTransfer { from, to, range, op } => {
                [TAG_RAM_TRANSFER | byte_at(from, 8) | byte_at(to, 16), range_word(range), op_word(op), 0, 0]
            }
            Update::CapCreate { obj, op, desc } => {
                [TAG_CAP_CREATE | (desc.kind as u64) << 8, obj.0, op_word(op), desc.base, desc.bytes]
            }
            Update::CapCopy { obj, to, op } => [TAG_CAP_COPY | byte_at(to, 8), obj.0, op_word(op), 0, 0],
            Update::CapDelete { obj, op } => [TAG_CAP_DELETE, obj.0, op_word(op), 0, 0],
            Update::RevokeMark { obj, op } => [TAG_REVOKE_MARK, obj.0, op_word(op), 0, 0],
            Update::RevokeCommit { obj } => [TAG_REVOKE_COMMIT, obj.0, 0, 0, 0],
            Update::Register { name, endpoint, op } => {
                let (lo, hi) = name_words(name);
                let header = TAG_REGISTER | byte_at(endpoint.core, 8) | (endpoint.port as u64) << 16;
                [header, lo, hi, op_word(op), 0]
            }
            Update::Unregister { name, op } => {
                let (lo, hi) = name_words(name);
                [TAG_UNREGISTER, lo, hi, op_word(op), 0]
            }
            Update::CoreDown { core } => [TAG_CORE_DOWN | byte_at(core, 8), 0, 0, 0, 0],
        }
    }

    /// Decodes the wire form. `None` unless `words` is exactly the encoding
    /// of a well-formed update: an unknown tag, a core id of [`MAX_CORES`] or
    /// more, or any nonzero bit the layout leaves unused is rejected. Never
    /// panics.
    pub fn from_words(words: [u64; UPDATE_WORDS]) -> Option<Update> {
        let w = words;
        let update = match w[0] & 0xff {
            TAG_RAM_TRANSFER => Update::RamTransfer {
                from: core_at(w[0], 8)?,
                to: core_at(w[0], 16)?,
                range: range_of(w[1]),
                op: op_of(w[2])?,
            },
            TAG_CAP_CREATE => Update::CapCreate {
                obj: ObjId(w[1]),
                op: op_of(w[2])?,
                desc: CapDesc { kind: (w[0] >> 8) as u8, base: w[3], bytes: w[4] },
            },
            TAG_CAP_COPY => Update::CapCopy { obj: ObjId(w[1]), to: core_at(w[0], 8)?, op: op_of(w[2])? },
            TAG_CAP_DELETE => Update::CapDelete { obj: ObjId(w[1]), op: op_of(w[2])? },
            TAG_REVOKE_MARK => Update::RevokeMark { obj: ObjId(w[1]), op: op_of(w[2])? },
            TAG_REVOKE_COMMIT => Update::RevokeCommit { obj: ObjId(w[1]) },
            TAG_REGISTER => Update::Register {
                name: name_of(w[1], w[2]),
                endpoint: Endpoint { core: core_at(w[0], 8)?, port: (w[0] >> 16) as u32 },
                op: op_of(w[3])?,
            },
            TAG_UNREGISTER => Update::Unregister { name: name_of(w[1], w[2]), op: op_of(w[3])? },
            TAG_CORE_DOWN => Update::CoreDown { core: core_at(w[0], 8)? },
            _ => return None,
        };
        // Every field was read from its place, so re-encoding reproduces the
        // input exactly when no unused bit was set.
        same(&update.to_words(), &words).then_some(update)
    }
}

/// Whether two word arrays are equal (without a call to `memcmp`).
#[inline]
fn same(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether every word is zero.
#[inline]
fn unused(words: &[u64]) -> bool {
    words.iter().fold(0, |acc, w| acc | w) == 0
}

/// The fixed-size wire form of a [`Message`] other than
/// [`Message::Catchup`]: a kind byte and [`WIRE_WORDS`] words (layout in the
/// [module](self) docs). Fits one 7-word URPC slot ([`Wire::to_slot`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Wire {
    /// Which message (1..=11; 0 is never valid).
    pub kind: u8,
    /// The fields.
    pub words: [u64; WIRE_WORDS],
}

impl Wire {
    /// The slot form: word 0 holds the kind, words 1..7 the words.
    pub fn to_slot(&self) -> [u64; SLOT_WORDS] {
        let mut slot = [0; SLOT_WORDS];
        slot[0] = self.kind as u64;
        slot[1..].copy_from_slice(&self.words);
        slot
    }

    /// The inverse of [`Wire::to_slot`]: `None` if word 0 is not a byte.
    /// (Whether the kind and words make a message is
    /// [`Message::from_wire`]'s business.)
    pub fn from_slot(slot: &[u64; SLOT_WORDS]) -> Option<Wire> {
        let kind = u8::try_from(slot[0]).ok()?;
        let mut words = [0; WIRE_WORDS];
        words.copy_from_slice(&slot[1..]);
        Some(Wire { kind, words })
    }
}

/// Splits an update's words into the header with `hops` folded in and the
/// other four words.
fn with_hops(update: &Update, hops: u8) -> (u64, [u64; UPDATE_WORDS - 1]) {
    let u = update.to_words();
    (u[0] | (hops as u64) << HOPS_SHIFT, [u[1], u[2], u[3], u[4]])
}

/// The inverse of [`with_hops`].
fn update_with_hops(header: u64, rest: &[u64]) -> Option<(Update, u8)> {
    let mut u = [0; UPDATE_WORDS];
    u[0] = header & ((1 << HOPS_SHIFT) - 1);
    u[1..].copy_from_slice(rest);
    Some((Update::from_words(u)?, (header >> HOPS_SHIFT) as u8))
}

impl Message {
    /// The wire form, or `None` for [`Message::Catchup`] (send
    /// [`Message::split_catchup`]'s messages instead).
    pub fn to_wire(&self) -> Option<Wire> {
        let mut words = [0u64; WIRE_WORDS];
        let kind = match self {
            Message::Submit { update, hops } => {
                let (header, rest) = with_hops(update, *hops);
                words[0] = header;
                words[1..5].copy_from_slice(&rest);
                KIND_SUBMIT
            }
            Message::Ordered { seq, update, hops } => {
                let (header, rest) = with_hops(update, *hops);
                words[0] = *seq;
                words[1] = header;
                words[2..6].copy_from_slice(&rest);
                KIND_ORDERED
            }
            Message::Sync { next } => {
                words[0] = *next;
                KIND_SYNC
            }
            Message::Catchup { .. } => return None,
            Message::RamAsk { op, count } => {
                words[0] = op_word(*op);
                words[1] = *count as u64;
                KIND_RAM_ASK
            }
            Message::RamDeny { op } => {
                words[0] = op_word(*op);
                KIND_RAM_DENY
            }
            Message::RevokeAck { obj } => {
                words[0] = obj.0;
                KIND_REVOKE_ACK
            }
            Message::Report { next } => {
                words[0] = *next;
                KIND_REPORT
            }
            Message::Fetch { next } => {
                words[0] = *next;
                KIND_FETCH
            }
            Message::Start { next } => {
                words[0] = *next;
                KIND_START
            }
            Message::Applied { next } => {
                words[0] = *next;
                KIND_APPLIED
            }
            Message::Trim { below } => {
                words[0] = *below;
                KIND_TRIM
            }
        };
        Some(Wire { kind, words })
    }

    /// Decodes a wire form. `None` unless `wire` is exactly the encoding of a
    /// well-formed message (see [`Update::from_words`]); never panics.
    pub fn from_wire(wire: &Wire) -> Option<Message> {
        let w = &wire.words;
        let message = match wire.kind {
            // `update_with_hops` checks the update exactly (re-encoding
            // it); the words a kind does not use must be zero.
            KIND_SUBMIT if unused(&w[5..]) => {
                let (update, hops) = update_with_hops(w[0], &w[1..5])?;
                Message::Submit { update, hops }
            }
            KIND_ORDERED => {
                let (update, hops) = update_with_hops(w[1], &w[2..6])?;
                Message::Ordered { seq: w[0], update, hops }
            }
            KIND_SYNC if unused(&w[1..]) => Message::Sync { next: w[0] },
            KIND_RAM_ASK if w[1] >> 32 == 0 && unused(&w[2..]) => {
                Message::RamAsk { op: op_of(w[0])?, count: w[1] as u32 }
            }
            KIND_RAM_DENY if unused(&w[1..]) => Message::RamDeny { op: op_of(w[0])? },
            KIND_REVOKE_ACK if unused(&w[1..]) => Message::RevokeAck { obj: ObjId(w[0]) },
            KIND_REPORT if unused(&w[1..]) => Message::Report { next: w[0] },
            KIND_FETCH if unused(&w[1..]) => Message::Fetch { next: w[0] },
            KIND_START if unused(&w[1..]) => Message::Start { next: w[0] },
            KIND_APPLIED if unused(&w[1..]) => Message::Applied { next: w[0] },
            KIND_TRIM if unused(&w[1..]) => Message::Trim { below: w[0] },
            _ => return None,
        };
        debug_assert_eq!(message.to_wire().as_ref(), Some(wire));
        Some(message)
    }

    /// The fields of an `Ordered` message's wire words (kind 2), checked as
    /// [`Message::from_wire`] checks them, without building the message.
    #[inline]
    pub fn ordered_from_wire(w: &[u64; WIRE_WORDS]) -> Option<(u64, Update, u8)> {
        let (update, hops) = update_with_hops(w[1], &w[2..6])?;
        Some((w[0], update, hops))
    }

    /// The messages a transport sends for this one: a `Catchup { from,
    /// entries }` becomes `Ordered { seq: from + i, update, hops }` for each
    /// `(update, hops) = entries[i]`, in order; any other message is passed
    /// through alone. Handling the results in order is exactly handling the
    /// original (see [`Monitor::handle`](crate::Monitor::handle)). Does not
    /// allocate.
    pub fn split_catchup(self) -> impl Iterator<Item = Message> {
        let (single, from, entries) = match self {
            Message::Catchup { from, entries } => (None, from, entries),
            other => (Some(other), 0, Vec::new()),
        };
        single.into_iter().chain(entries.into_iter().enumerate().map(move |(i, (update, hops))| {
            Message::Ordered { seq: from.wrapping_add(i as u64), update, hops }
        }))
    }
}
