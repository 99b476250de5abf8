//! The sending endpoint of a ring.

use crate::error::SendError;
use crate::message::Message;
use crate::ring::Ring;
use crate::sync::Ordering::{Acquire, Release};

/// Sends messages into one [`Ring`].
///
/// The cursor and the cached credit live here, not in shared memory, so the
/// peer cannot change them; the shared credit is read only when the cached
/// view says there is not enough room.
pub struct Sender<'a, const N: usize> {
    /// The ring.
    ring: &'a Ring<N>,
    /// Messages published so far; the next one has sequence number `sent + 1`.
    sent: u64,
    /// The receiver's consumed count as last read and validated.
    credit: u64,
}

impl<'a, const N: usize> Sender<'a, N> {
    /// A sender at the start of `ring`. Only one may exist per ring.
    pub fn new(ring: &'a Ring<N>) -> Self {
        Self { ring, sent: 0, credit: 0 }
    }

    /// Sends one message, or reports [`SendError::Full`] (nothing written).
    pub fn try_send(&mut self, message: &Message) -> Result<(), SendError> {
        self.try_send_words(&message.words)
    }

    /// Sends one message given as its payload words (as `try_send`, without
    /// building a `Message` first).
    #[inline]
    pub fn try_send_words(&mut self, words: &[u64; crate::PAYLOAD_WORDS]) -> Result<(), SendError> {
        if self.room(1)? == 0 {
            return Err(SendError::Full);
        }
        self.sent = Self::publish_at(self.ring, self.sent, words);
        Ok(())
    }

    /// Sends as many of `messages` as fit, in order, and returns how many.
    ///
    /// Reports [`SendError::Full`] only if `messages` is not empty and none
    /// fit; `Ok(0)` means `messages` was empty.
    pub fn try_send_batch(&mut self, messages: &[Message]) -> Result<usize, SendError> {
        if messages.is_empty() {
            return Ok(0);
        }
        let count = self.room(messages.len())?.min(messages.len());
        if count == 0 {
            return Err(SendError::Full);
        }
        // The cursor stays in a register for the batch.
        let mut sent = self.sent;
        for message in &messages[..count] {
            sent = Self::publish_at(self.ring, sent, &message.words);
        }
        self.sent = sent;
        Ok(count)
    }

    /// Sends up to `count` messages, made by `make(i)` for the i-th one
    /// straight into the ring, as many as fit; returns how many. Errors as
    /// [`try_send_batch`](Self::try_send_batch) (`Full` only if none fit).
    pub fn try_send_each(
        &mut self,
        count: usize,
        mut make: impl FnMut(usize) -> Message,
    ) -> Result<usize, SendError> {
        if count == 0 {
            return Ok(0);
        }
        let fit = self.room(count)?.min(count);
        if fit == 0 {
            return Err(SendError::Full);
        }
        let mut sent = self.sent;
        for index in 0..fit {
            sent = Self::publish_at(self.ring, sent, &make(index).words);
        }
        self.sent = sent;
        Ok(fit)
    }

    /// Whether `wanted` messages fit now (the shared credit is read only
    /// if the cached view says they do not), for a sender that must send a
    /// group of messages all or none.
    pub fn has_room(&mut self, wanted: usize) -> Result<bool, SendError> {
        Ok(self.room(wanted)? >= wanted)
    }

    /// Messages sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Free slots by the cached credit; refreshed from shared memory only if
    /// fewer than `wanted`.
    fn room(&mut self, wanted: usize) -> Result<usize, SendError> {
        let room = self.cached_room();
        if room >= wanted {
            return Ok(room);
        }
        self.refresh_credit()?;
        Ok(self.cached_room())
    }

    /// Free slots by the cached credit (at most `N`: see `refresh_credit`).
    fn cached_room(&self) -> usize {
        N - (self.sent - self.credit) as usize
    }

    /// Reads the receiver's consumed count and validates it before caching.
    fn refresh_credit(&mut self) -> Result<(), SendError> {
        // Acquire: pairs with the receiver's Release store of the count, so
        // its copies out of the slots it freed happen before our overwrites.
        let consumed = self.ring.consumed.word.load(Acquire);
        // A count that went backwards or exceeds what was sent is a lie; the
        // check keeps `sent - credit` within 0..=N.
        if consumed < self.credit || consumed > self.sent {
            return Err(SendError::Corrupt { consumed, previous: self.credit, sent: self.sent });
        }
        self.credit = consumed;
        Ok(())
    }

    /// Writes `words` as message `sent` (0-based) and publishes it; returns
    /// the new count.
    fn publish_at(ring: &Ring<N>, sent: u64, words: &[u64; crate::PAYLOAD_WORDS]) -> u64 {
        let slot = ring.slot(sent);
        slot.write_words(words);
        // Release, and last: the receiver's Acquire load of the header that
        // sees this sequence number also sees the payload written above.
        slot.sequence.store(sent + 1, Release);
        sent + 1
    }
}
