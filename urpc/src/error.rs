//! Errors of the two endpoints.

use core::fmt;

/// Why a message could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The ring holds as many unconsumed messages as it has slots: this is
    /// back-pressure. Nothing was written; retry once the receiver consumed.
    Full,
    /// The receiver published an impossible credit: fewer consumed messages
    /// than it published before (`previous`), or more than were sent (`sent`).
    /// The receiver is broken or hostile; nothing was written.
    Corrupt {
        /// The consumed count read from shared memory.
        consumed: u64,
        /// The last valid consumed count.
        previous: u64,
        /// The number of messages sent so far.
        sent: u64,
    },
}

/// Why no message was received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// No message is waiting.
    Empty,
    /// The next slot's header is neither the next sequence number nor the one
    /// the slot held a lap earlier: the sender is broken or hostile. The slot
    /// was not consumed, so every later receive reports the same.
    Corrupt {
        /// The slot that was examined.
        slot: usize,
        /// The sequence number of the next message.
        expected: u64,
        /// The header found in the slot.
        found: u64,
    },
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("ring full"),
            Self::Corrupt { consumed, previous, sent } => {
                write!(f, "corrupt credit {consumed} (previous {previous}, sent {sent})")
            }
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("ring empty"),
            Self::Corrupt { slot, expected, found } => {
                write!(f, "corrupt header {found} in slot {slot} (expected {expected})")
            }
        }
    }
}
