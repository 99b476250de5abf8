//! Cross-core URPC channels: cache-line message rings in shared memory (issue 4).
//!
//! A [`Channel`] is two single-producer/single-consumer [`Ring`]s, one per
//! direction, in one `#[repr(C)]` region the caller places in a shared frame.
//! A [`Sender`] and a [`Receiver`] borrow a ring and keep their cursors
//! privately; the peer is untrusted, so everything read from shared memory is
//! validated and inconsistencies are reported as errors, never panics.
//! A [`Doorbell`] lets a receiver that watches many rings block until a sender
//! rings it; the blocking itself is the caller's [`Waiter`].
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

mod doorbell;
mod error;
mod layout;
pub mod mesh;
mod message;
mod receiver;
mod ring;
mod sender;
mod sync;
mod wait;

#[cfg(test)]
mod tests;

pub use doorbell::{Doorbell, Wake};
pub use error::{RecvError, SendError};
pub use message::{Message, PAYLOAD_BYTES, PAYLOAD_WORDS};
pub use receiver::Receiver;
pub use ring::{Channel, Ring, Side};
pub use sender::Sender;
pub use wait::{WaitPolicy, Waiter};
