//! The header word that opens every fragment.
//!
//! | bits    | field                                                      |
//! |---------|------------------------------------------------------------|
//! | 0..8    | message number (declaration order in the interface)        |
//! | 8..24   | request id (chosen by the client, echoed in the reply)     |
//! | 24..34  | fragment index, `0..count`                                 |
//! | 34..44  | fragment count, `1..=1023`                                 |
//! | 44..60  | payload length in bytes, of the whole message              |
//! | 60      | this fragment carries a capability                         |
//! | 61..63  | kind: 0 request or one-way message, 1 reply, 2 error reply |
//! | 63      | reserved, zero                                             |

/// A request id: chosen by the client, echoed by the server in the reply.
pub type RequestId = u16;

/// The largest payload of one message, in bytes (the length field's range).
pub const MAX_MESSAGE_BYTES: usize = 0xffff;

/// The most fragments one message may span (the count field's range).
pub const MAX_FRAGMENTS: usize = 0x3ff;

const NUMBER_SHIFT: u32 = 0;
pub(crate) const ID_SHIFT: u32 = 8;
const INDEX_SHIFT: u32 = 24;
const COUNT_SHIFT: u32 = 34;
const LENGTH_SHIFT: u32 = 44;
const CAP_SHIFT: u32 = 60;
const KIND_SHIFT: u32 = 61;
const RESERVED_BIT: u64 = 1 << 63;

/// The request id bits of a header word (for generated code).
#[doc(hidden)]
pub const ID_BITS: u64 = 0xffff << ID_SHIFT;

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A request to the server: an RPC call or a one-way message.
    Request = 0,
    /// The results of an RPC, sent by the server.
    Reply = 1,
    /// The server rejected a request; the payload is one `u32` error code.
    Error = 2,
}

/// The header word of one fragment, checked: kind 0 to 2, reserved bit
/// clear, count at least 1 and index below it (when built by [`Header::new`]
/// with such values, or by [`Header::decode`]). Kept as the word itself, so
/// it moves in one register.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header(u64);

impl Header {
    /// The header of fragment `index` of `count` of a message of `length`
    /// payload bytes (index and count are cut to 10 bits).
    #[inline(always)]
    pub const fn new(
        kind: Kind,
        number: u8,
        id: RequestId,
        index: u16,
        count: u16,
        length: u16,
        cap: bool,
    ) -> Self {
        Self(
            (number as u64) << NUMBER_SHIFT
                | (id as u64) << ID_SHIFT
                | ((index as u64) & MAX_FRAGMENTS as u64) << INDEX_SHIFT
                | ((count as u64) & MAX_FRAGMENTS as u64) << COUNT_SHIFT
                | (length as u64) << LENGTH_SHIFT
                | (cap as u64) << CAP_SHIFT
                | (kind as u64) << KIND_SHIFT,
        )
    }

    /// The header of the only fragment of a message.
    #[inline(always)]
    pub const fn single(kind: Kind, number: u8, id: RequestId, length: u16, cap: bool) -> Self {
        Self::new(kind, number, id, 0, 1, length, cap)
    }

    /// Checks a header word; `None` if it is malformed: the reserved bit is
    /// set, the kind is 3, the count is 0 or the index is not below the count.
    #[inline(always)]
    pub const fn decode(word: u64) -> Option<Self> {
        let header = Self(word);
        if word & RESERVED_BIT != 0 || (word >> KIND_SHIFT) & 0b11 == 3 || header.index() >= header.count() {
            return None;
        }
        Some(header)
    }

    /// A header word the caller has checked.
    #[inline(always)]
    pub(crate) const fn trusted(word: u64) -> Self {
        Self(word)
    }

    /// The header word.
    #[inline(always)]
    pub const fn word(self) -> u64 {
        self.0
    }

    /// What the message is.
    #[inline(always)]
    pub const fn kind(self) -> Kind {
        match (self.0 >> KIND_SHIFT) & 0b11 {
            0 => Kind::Request,
            1 => Kind::Reply,
            _ => Kind::Error,
        }
    }

    /// The message number within the interface.
    #[inline(always)]
    pub const fn number(self) -> u8 {
        raw_number(self.0)
    }

    /// The request id.
    #[inline(always)]
    pub const fn id(self) -> RequestId {
        raw_id(self.0)
    }

    /// This fragment's index, below [`count`](Self::count).
    #[inline(always)]
    pub const fn index(self) -> u16 {
        ((self.0 >> INDEX_SHIFT) & MAX_FRAGMENTS as u64) as u16
    }

    /// The number of fragments of the message, at least 1.
    #[inline(always)]
    pub const fn count(self) -> u16 {
        ((self.0 >> COUNT_SHIFT) & MAX_FRAGMENTS as u64) as u16
    }

    /// The payload length of the whole message, in bytes.
    #[inline(always)]
    pub const fn length(self) -> u16 {
        (self.0 >> LENGTH_SHIFT) as u16
    }

    /// Whether this fragment carries a capability.
    #[inline(always)]
    pub const fn cap(self) -> bool {
        (self.0 >> CAP_SHIFT) & 1 != 0
    }
}

impl core::fmt::Debug for Header {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("Header")
            .field("kind", &self.kind())
            .field("number", &self.number())
            .field("id", &self.id())
            .field("index", &self.index())
            .field("count", &self.count())
            .field("length", &self.length())
            .field("cap", &self.cap())
            .finish()
    }
}

/// The message number field of a header word, valid or not.
#[inline]
pub const fn raw_number(word: u64) -> u8 {
    (word >> NUMBER_SHIFT) as u8
}

/// The request id field of a header word, valid or not.
#[inline]
pub const fn raw_id(word: u64) -> RequestId {
    (word >> ID_SHIFT) as u16
}

/// The bits that name a message: its number, request id and kind. Every
/// fragment of one message has the same.
#[inline]
pub(crate) const fn identity(word: u64) -> u64 {
    word & (0xff << NUMBER_SHIFT | 0xffff << ID_SHIFT | 0b11 << KIND_SHIFT)
}

/// The header word of a fragment (every fragment has one: `W >= 2`).
#[inline(always)]
pub(crate) fn header_word<W: crate::transport::Words>(words: &W) -> u64 {
    words.words().first().copied().unwrap_or(0)
}

/// A fragment's key, for generated code's fast paths: its header word with
/// the request id bits cleared and bit 63 (reserved, so clear in a valid
/// header) set if a capability came with it (`cap`); and its request id.
/// A one-fragment message of a fixed length without capabilities has one
/// key (its header word but for the id) when well formed.
#[doc(hidden)]
#[inline(always)]
pub fn fragment_key<W: crate::transport::Words>(words: &W, cap: bool) -> (u64, RequestId) {
    let word = header_word(words);
    (word & !ID_BITS | u64::from(cap) << 63, raw_id(word))
}

/// The payload words of a fragment: all but the header word.
#[doc(hidden)]
#[inline(always)]
pub fn payload<W: crate::transport::Words>(words: &W) -> &[u64] {
    words.words().get(1..).unwrap_or_default()
}
