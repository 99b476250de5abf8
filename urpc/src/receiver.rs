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

    /// Receives one message, or reports [`RecvError::Empty`].
    pub fn try_recv(&mut self) -> Result<Message, RecvError> {
        let message = self.next_slot()?.read_payload();
        self.received += 1;
        self.release();
        Ok(message)
    }

    /// Receives up to `out.len()` messages into `out` and returns how many.
    ///
    /// Reports an error only if `out` is not empty and no message was
    /// received; an error after some messages is reported by the next call.
    pub fn try_recv_batch(&mut self, out: &mut [Message]) -> Result<usize, RecvError> {
        let mut count = 0;
        for place in out.iter_mut() {
            match self.next_slot() {
                Ok(slot) => *place = slot.read_payload(),
                Err(error) if count == 0 => return Err(error),
                Err(_) => break,
            }
            self.received += 1;
            count += 1;
        }
        if count > 0 {
            self.release();
        }
        Ok(count)
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
        let slot = self.ring.slot(self.received);
        let expected = self.received + 1;
        // Acquire: pairs with the sender's Release store of the header, so
        // seeing `expected` makes the message's payload visible.
        let found = slot.sequence.load(Acquire);
        if found == expected {
            Ok(slot)
        } else if found == self.previous_lap() {
            Err(RecvError::Empty)
        } else {
            let slot = (self.received & (N as u64 - 1)) as usize;
            Err(RecvError::Corrupt { slot, expected, found })
        }
    }

    /// The header the next slot holds while the next message is not there:
    /// that of the message `N` earlier, or 0 on the first lap.
    fn previous_lap(&self) -> u64 {
        (self.received + 1).saturating_sub(N as u64)
    }

    /// Publishes the consumed count, handing the copied slots back.
    fn release(&self) {
        // Release: the payload loads above happen before the sender, whose
        // Acquire load sees this count, overwrites those slots.
        self.ring.consumed.word.store(self.received, Release);
    }
}
