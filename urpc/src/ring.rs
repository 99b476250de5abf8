//! The shared region: one ring per direction, laid out for a shared frame.

use crate::layout::{array_of, const_unless_loom, CacheLine, Slot};
use crate::receiver::Receiver;
use crate::sender::Sender;

/// One direction of a channel: `N` message slots and the receiver's credit.
///
/// `N` must be a power of two (checked at compile time). The credit line
/// holds the number of messages the receiver has consumed; only the receiver
/// writes it and only the sender writes the slots, so the two sides never
/// write the same cache line.
#[repr(C)]
pub struct Ring<const N: usize> {
    /// The message slots; message `i` (0-based) goes to slot `i % N`.
    pub(crate) slots: [Slot; N],
    /// Messages consumed so far, published by the receiver.
    pub(crate) consumed: CacheLine,
}

impl<const N: usize> Ring<N> {
    /// Compile-time check of the capacity.
    const VALID: () = assert!(N.is_power_of_two(), "ring capacity must be a power of two");

    const_unless_loom! {
        /// An empty ring.
        pub fn new() -> Self {
            let () = Self::VALID;
            Self { slots: array_of![Slot::new(); N], consumed: CacheLine::new() }
        }
    }

    /// Resets the ring in place to empty, for memory that was mapped rather
    /// than constructed.
    ///
    /// Both sides must then start fresh endpoints, and the region must reach
    /// the peer through something that synchronises (for example the message
    /// that announces the frame).
    pub fn init(&self) {
        let () = Self::VALID;
        self.slots.iter().for_each(Slot::reset);
        // Relaxed: as in `Slot::reset`, sharing the region synchronises.
        self.consumed.word.store(0, crate::sync::Ordering::Relaxed);
    }

    /// The sending endpoint. Create only one per ring, at the ring's start.
    pub fn sender(&self) -> Sender<'_, N> {
        Sender::new(self)
    }

    /// The receiving endpoint. Create only one per ring, at the ring's start.
    pub fn receiver(&self) -> Receiver<'_, N> {
        Receiver::new(self)
    }

    /// The slot for the message with 0-based index `index`.
    pub(crate) fn slot(&self, index: u64) -> &Slot {
        // The mask keeps the index below `N`: no peer value reaches here.
        &self.slots[(index & (N as u64 - 1)) as usize]
    }
}

impl<const N: usize> Default for Ring<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Which end of a channel the caller is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Sends on the first ring, receives on the second.
    A,
    /// Sends on the second ring, receives on the first.
    B,
}

/// A bidirectional channel: two rings in one `#[repr(C)]` region.
#[repr(C)]
pub struct Channel<const N: usize> {
    /// Messages from side A to side B.
    pub(crate) a_to_b: Ring<N>,
    /// Messages from side B to side A.
    pub(crate) b_to_a: Ring<N>,
}

impl<const N: usize> Channel<N> {
    const_unless_loom! {
        /// An empty channel.
        pub fn new() -> Self {
            Self { a_to_b: Ring::new(), b_to_a: Ring::new() }
        }
    }

    /// Resets both rings in place (see [`Ring::init`]).
    pub fn init(&self) {
        self.a_to_b.init();
        self.b_to_a.init();
    }

    /// The ring `side` sends on.
    pub fn outgoing(&self, side: Side) -> &Ring<N> {
        match side {
            Side::A => &self.a_to_b,
            Side::B => &self.b_to_a,
        }
    }

    /// The ring `side` receives on.
    pub fn incoming(&self, side: Side) -> &Ring<N> {
        match side {
            Side::A => &self.b_to_a,
            Side::B => &self.a_to_b,
        }
    }

    /// Both endpoints of `side`. Call once per side, at the channel's start.
    pub fn endpoints(&self, side: Side) -> (Sender<'_, N>, Receiver<'_, N>) {
        (self.outgoing(side).sender(), self.incoming(side).receiver())
    }
}

impl<const N: usize> Default for Channel<N> {
    fn default() -> Self {
        Self::new()
    }
}
