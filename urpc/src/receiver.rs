//! The receiving endpoint of a ring.

use crate::doorbell::Doorbell;
use crate::error::RecvError;
use crate::layout::Slot;
use crate::message::Message;
use crate::ring::Ring;
use crate::sync::Ordering::{Acquire, Release};
use crate::wait::{WaitPolicy, Waiter};

/// Receives messages from one [`Ring`].
///
/// The cursor lives here, not in shared memory. Each message is copied out
/// and its slot released before the caller sees it, so validating the copy
/// cannot race with the (untrusted) sender.
pub struct Receiver<'a, const N: usize> {
    /// The ring.
    ring: &'a Ring<N>,
    /// Messages consumed so far; the next one has sequence number
    /// `received + 1`.
    received: u64,
}

impl<'a, const N: usize> Receiver<'a, N> {
    /// A receiver at the start of `ring`. Only one may exist per ring.
    pub fn new(ring: &'a Ring<N>) -> Self {
        Self { ring, received: 0 }
    }

    /// Whether the next slot holds anything but the empty state: a message
    /// (or a corruption, which the next receive reports). One load; for
    /// receivers that scan many rings.
    #[inline]
    pub fn pending(&self) -> bool {
        // Relaxed: a hint; the receive that follows loads with Acquire.
        self.ring.slot(self.received).sequence.load(crate::sync::Ordering::Relaxed)
            != Self::previous_lap(self.received)
    }

    /// Receives one message, or reports [`RecvError::Empty`].
    pub fn try_recv(&mut self) -> Result<Message, RecvError> {
        let message = self.next_slot()?.read_payload();
        self.received += 1;
        self.release();
        Ok(message)
    }

    /// Receives one message's payload words into `out` (as `try_recv`,
    /// without a temporary `Message`); `out` is left alone on an error.
    #[inline]
    pub fn try_recv_into(&mut self, out: &mut [u64; crate::PAYLOAD_WORDS]) -> Result<(), RecvError> {
        *out = self.next_slot()?.read_words();
        self.received += 1;
        self.release();
        Ok(())
    }

    /// Receives up to `out.len()` messages into `out` and returns how many.
    ///
    /// Reports an error only if `out` is not empty and no message was
    /// received; an error after some messages is reported by the next call.
    pub fn try_recv_batch(&mut self, out: &mut [Message]) -> Result<usize, RecvError> {
        // The cursor stays in a register for the batch (the atomics in the
        // loop would otherwise make the compiler store it on every message).
        let (ring, start) = (self.ring, self.received);
        let mut received = start;
        for place in out.iter_mut() {
            match Self::slot_for(ring, received) {
                Ok(slot) => *place = slot.read_payload(),
                Err(error) if received == start => return Err(error),
                Err(_) => break,
            }
            received += 1;
        }
        self.received = received;
        if received > start {
            self.release();
        }
        Ok((received - start) as usize)
    }

    /// Receives up to `max` messages, handing each to `consume` as a private
    /// copy (taken out of the ring before `consume` sees it); returns how
    /// many. Errors as [`try_recv_batch`](Self::try_recv_batch). Cheaper than
    /// it when the consumer needs the words only once: no buffer is written.
    pub fn try_recv_each(
        &mut self,
        max: usize,
        mut consume: impl FnMut(&Message),
    ) -> Result<usize, RecvError> {
        let (ring, start) = (self.ring, self.received);
        let mut received = start;
        while ((received - start) as usize) < max {
            match Self::slot_for(ring, received) {
                Ok(slot) => consume(&slot.read_payload()),
                Err(error) if received == start => return Err(error),
                Err(_) => break,
            }
            received += 1;
        }
        self.received = received;
        if received > start {
            self.release();
        }
        Ok((received - start) as usize)
    }

    /// Receives one message, polling and then blocking on `doorbell` (the
    /// doorbell of this core, which the ring's sender rings).
    ///
    /// Returns only with a message or a [`RecvError::Corrupt`].
    pub fn recv_wait<W: Waiter>(
        &mut self,
        doorbell: &Doorbell,
        waiter: &W,
        policy: WaitPolicy,
    ) -> Result<Message, RecvError> {
        doorbell.wait_for(waiter, policy, || match self.try_recv() {
            Err(RecvError::Empty) => None,
            result => Some(result),
        })
    }

    /// Messages received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The next slot if it holds the next message.
    fn next_slot(&self) -> Result<&'a Slot, RecvError> {
        Self::slot_for(self.ring, self.received)
    }

    /// The slot of message `received` (0-based) if it holds that message.
    fn slot_for(ring: &'a Ring<N>, received: u64) -> Result<&'a Slot, RecvError> {
        let slot = ring.slot(received);
        let expected = received + 1;
        // Acquire: pairs with the sender's Release store of the header, so
        // seeing `expected` makes the message's payload visible.
        let found = slot.sequence.load(Acquire);
        if found == expected {
            Ok(slot)
        } else if found == Self::previous_lap(received) {
            Err(RecvError::Empty)
        } else {
            let slot = (received & (N as u64 - 1)) as usize;
            Err(RecvError::Corrupt { slot, expected, found })
        }
    }

    /// The header the next slot holds while message `received` is not there:
    /// that of the message `N` earlier, or 0 on the first lap.
    fn previous_lap(received: u64) -> u64 {
        (received + 1).saturating_sub(N as u64)
    }

    /// Publishes the consumed count, handing the copied slots back.
    fn release(&self) {
        // Release: the payload loads above happen before the sender, whose
        // Acquire load sees this count, overwrites those slots.
        self.ring.consumed.word.store(self.received, Release);
    }
}
