//! Operations, log entries, inter-monitor messages and completions.

use alloc::vec::Vec;

use crate::types::{CoreId, Endpoint, Name, ObjId, OpId, RamRange};

/// An operation a client (a dispatcher on this core) asks its monitor for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Get `count` contiguous RAM units from another core.
    RequestRam {
        /// Number of units wanted.
        count: u32,
    },
    /// Create a new capability object owned by this core.
    CapCreate,
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
    Submit(Update),
    /// Log entry `seq`, travelling down the broadcast tree.
    Ordered {
        /// Position in the log.
        seq: u64,
        /// The entry.
        update: Update,
    },
    /// To the sequencer: I have applied everything below `next`; resend the
    /// rest (after a gap or a crash in the tree).
    Sync {
        /// First entry not yet applied.
        next: u64,
    },
    /// From the sequencer: log entries `from..from + entries.len()`.
    Catchup {
        /// Position of the first entry.
        from: u64,
        /// The entries.
        entries: Vec<Update>,
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
}

/// Where a monitor puts its effects: messages to other monitors and
/// completions of operations started on this core. The target implements
/// it over URPC channels, the simulator over queues.
pub trait Outbox {
    /// Send `message` to the monitor of core `to` (never this core).
    fn send(&mut self, to: CoreId, message: Message);
    /// Operation `op`, started on this core, finished with `outcome`.
    fn complete(&mut self, op: OpId, outcome: Outcome);
}
