//! The per-core EL0 monitor and its replicated-state protocol (issue 8).
//!
//! A pure library: [`Monitor`] is a deterministic state machine fed with
//! operations, messages and failure reports, answering through an
//! [`Outbox`]. The same code runs on the target (over URPC) and in the
//! [`sim`]ulator, which delivers messages in adversarial orders and checks the
//! invariants. See [`monitor`] for the protocol.
//!
//! For the target's monitor program:
//!
//! * [`message`] defines the fixed-size wire form: every [`Message`] but
//!   [`Message::Catchup`] encodes to a [`Wire`] (a kind byte and 6 words, one
//!   7-word URPC slot via [`Wire::to_slot`]); a catch-up travels as one
//!   [`Message::Ordered`] per entry ([`Message::split_catchup`]). Decoding is
//!   canonical and never panics.
//! * Submits and log entries count the hops they travelled;
//!   [`Monitor::last_hops`] and [`Monitor::max_hops`] report them per
//!   applied entry (the benchmark's critical path).
//! * RAM units handed to local clients are marked with [`Monitor::set_busy`]
//!   and never donated ([`Monitor::free_unit`]).
//! * Capability records carry a [`CapDesc`] (kind, physical base, size) so a
//!   remote monitor can materialise its copy ([`Monitor::created`]).
//! * The sequencer may crash: the lowest live core takes over, adopting the
//!   longest log any live monitor applied ([`Monitor::sequencer`],
//!   [`Monitor::failing_over`]). The fail-over uses message kinds 7
//!   ([`Message::Report`]), 8 ([`Message::Fetch`]) and 9 ([`Message::Start`]),
//!   which a transport must carry like the others. The transport must not
//!   hand a monitor messages from a core after reporting that core down
//!   ([`Monitor::core_down`]; [`Monitor::handle`] drops them itself).
//!
//! * The log is trimmed: every monitor reports its progress to the sequencer
//!   every [`APPLIED_EVERY`] applied entries with kind 10
//!   ([`Message::Applied`]), and the sequencer tells every monitor where the
//!   log may be cut with kind 11 ([`Message::Trim`]); both carry one word
//!   (`w0`) and must be carried like the others (a transport dropping them
//!   loses nothing but the trimming). See [`monitor`] for the protocol.
//!
//! Uses `alloc` (the untrimmed suffix of every monitor's log, the capability
//! table and the registry are maps; the log stays a few
//! [`APPLIED_EVERY`] entries long, the set of ordered operations takes one
//! bit per operation).
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
#[cfg(test)]
mod wire_tests;

pub use message::{
    Effect, Failure, Message, Operation, Outbox, Outcome, Update, Wire, SLOT_WORDS, UPDATE_WORDS, WIRE_WORDS,
};
pub use monitor::{CopyState, Monitor, APPLIED_EVERY, SEQUENCER};
pub use replica::{CapRecord, CapState, Registration, Replica};
pub use topology::Topology;
pub use types::{CapDesc, CoreId, CoreSet, Digest, Endpoint, Name, ObjId, OpId, RamRange, MAX_CORES};
