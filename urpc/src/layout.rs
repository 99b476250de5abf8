//! Shared-memory building blocks: a lone cache-line word and a message slot.

use crate::message::{Message, PAYLOAD_WORDS};
use crate::sync::{AtomicU64, Ordering::Relaxed};

/// Defines a constructor that is a `const fn` normally and a plain `fn` under
/// loom, whose atomics have no `const` constructor.
macro_rules! const_unless_loom {
    ($(#[$meta:meta])* $vis:vis fn $name:ident() -> $ret:ty $body:block) => {
        #[cfg(not(all(test, loom)))]
        $(#[$meta])*
        $vis const fn $name() -> $ret $body
        #[cfg(all(test, loom))]
        $(#[$meta])*
        $vis fn $name() -> $ret $body
    };
}

/// An array of `$len` copies of `$value`, built in a `const` context unless
/// under loom.
#[cfg(not(all(test, loom)))]
macro_rules! array_of {
    ($value:expr; $len:expr) => {
        [const { $value }; $len]
    };
}

/// An array of `$len` copies of `$value`, built in a `const` context unless
/// under loom.
#[cfg(all(test, loom))]
macro_rules! array_of {
    ($value:expr; $len:expr) => {
        core::array::from_fn(|_| $value)
    };
}

pub(crate) use {array_of, const_unless_loom};

/// One word alone in its cache line, so its writer shares the line with no
/// other writer.
#[repr(C, align(64))]
pub(crate) struct CacheLine {
    /// The word.
    pub(crate) word: AtomicU64,
}

impl CacheLine {
    const_unless_loom! {
        /// A zeroed line.
        pub(crate) fn new() -> Self {
            Self { word: AtomicU64::new(0) }
        }
    }
}

/// One message slot: a cache line holding the payload and, last, the header.
///
/// The header holds the sequence number (1-based) of the message in the slot,
/// 0 if none was ever written.
#[repr(C, align(64))]
pub(crate) struct Slot {
    /// Payload words; atomics so that a racing peer is not a data race.
    pub(crate) payload: [AtomicU64; PAYLOAD_WORDS],
    /// Header: the sequence number, written last.
    pub(crate) sequence: AtomicU64,
}

impl Slot {
    const_unless_loom! {
        /// An empty slot.
        pub(crate) fn new() -> Self {
            Self { payload: array_of![AtomicU64::new(0); PAYLOAD_WORDS], sequence: AtomicU64::new(0) }
        }
    }

    /// Copies `words` in as the payload (not yet visible as a message: see
    /// `Sender`).
    #[inline(always)]
    pub(crate) fn write_words(&self, words: &[u64; PAYLOAD_WORDS]) {
        let [p0, p1, p2, p3, p4, p5, p6] = &self.payload;
        let [w0, w1, w2, w3, w4, w5, w6] = *words;
        // Relaxed: the header's Release store, made after these, publishes
        // them; the sender's Acquire load of the credit made sure the
        // receiver's copy of the slot's previous contents is done. (Spelled
        // out word by word: a loop over a copied array costs a `memcpy`.)
        p0.store(w0, Relaxed);
        p1.store(w1, Relaxed);
        p2.store(w2, Relaxed);
        p3.store(w3, Relaxed);
        p4.store(w4, Relaxed);
        p5.store(w5, Relaxed);
        p6.store(w6, Relaxed);
    }

    /// Copies the payload out.
    #[inline(always)]
    pub(crate) fn read_words(&self) -> [u64; PAYLOAD_WORDS] {
        // Relaxed: the caller's Acquire load of the header made the payload
        // stores that preceded its Release store visible; the receiver's
        // later Release store of the credit keeps these loads before the
        // sender's next writes to the slot.
        let [p0, p1, p2, p3, p4, p5, p6] = &self.payload;
        [
            p0.load(Relaxed),
            p1.load(Relaxed),
            p2.load(Relaxed),
            p3.load(Relaxed),
            p4.load(Relaxed),
            p5.load(Relaxed),
            p6.load(Relaxed),
        ]
    }

    /// Copies the payload out as a message.
    pub(crate) fn read_payload(&self) -> Message {
        Message::new(self.read_words())
    }

    /// Zeroes the whole slot (initialisation only).
    pub(crate) fn reset(&self) {
        for word in &self.payload {
            // Relaxed: initialisation happens before the region is shared;
            // handing it to the peer must synchronise.
            word.store(0, Relaxed);
        }
        // Relaxed: as above.
        self.sequence.store(0, Relaxed);
    }
}

#[cfg(not(all(test, loom)))]
const _: () = {
    // The cache-line size the layout is built for (Cortex-A, Neoverse).
    const CACHE_LINE: usize = 64;
    assert!(core::mem::size_of::<Slot>() == CACHE_LINE);
    assert!(core::mem::size_of::<CacheLine>() == CACHE_LINE);
};
