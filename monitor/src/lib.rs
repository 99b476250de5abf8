//! The per-core EL0 monitor and its replicated-state protocol (issue 8).
//!
//! A pure library: [`Monitor`] is a deterministic state machine fed with
//! operations, messages and failure reports, answering through an
//! [`Outbox`]. The same code runs on the target (over URPC) and in the
//! [`sim`]ulator, which delivers messages in adversarial orders and checks the
//! invariants. See [`monitor`] for the protocol.
//!
//! Uses `alloc` (the sequencer's log, the capability table and the registry
//! are unbounded maps).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod message;
pub mod monitor;
pub mod replica;
pub mod sim;
pub mod topology;
pub mod types;

#[cfg(test)]
mod tests;

pub use message::{Failure, Message, Operation, Outbox, Outcome, Update};
pub use monitor::{CopyState, Monitor, SEQUENCER};
pub use replica::{CapRecord, CapState, Registration, Replica};
pub use topology::Topology;
pub use types::{CoreId, CoreSet, Digest, Endpoint, Name, ObjId, OpId, RamRange, MAX_CORES};
