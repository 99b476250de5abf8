//! Error codes on the wire and the errors the stubs report.

use core::fmt;

use crate::header::RequestId;
use crate::transport::TransportError;

/// Why a message was rejected: the code carried by an error reply.
///
/// The receiver checks every fragment and every field before a handler sees
/// the message; each failed check has its own code. The discriminants are
/// the codes on the wire; `0` is never used. New variants take new numbers.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The header word is malformed: the reserved bit is set, the kind is 3
    /// or not one this side accepts, the count is 0 or the index is not below
    /// the count.
    BadHeader = 1,
    /// The message number is not declared by the interface (or, in a reply,
    /// names a one-way message).
    UnknownMessage = 2,
    /// The payload length does not match the fields: the payload ends inside
    /// a field or bytes are left over after the last one. A fixed array
    /// whose elements do not fill its declared length shows as this.
    WrongLength = 3,
    /// The payload length is above the declared maximum of the message.
    TooLarge = 4,
    /// The fragment count is not the one the payload length and the declared
    /// capabilities need: a truncated or padded message.
    FragmentCount = 5,
    /// A fragment arrived out of order: a continuation with no message
    /// started, a skipped or repeated index, or a changed count or length.
    FragmentOrder = 6,
    /// A fragment of another message arrived before this one was complete;
    /// this one was dropped, the other is processed next.
    Interleaved = 7,
    /// A `bool` is neither 0 nor 1.
    InvalidBool = 8,
    /// A byte or string length is above its declared bound.
    OverBound = 9,
    /// A string is not UTF-8.
    InvalidUtf8 = 10,
    /// A fragment carries a capability, or its header's capability flag is
    /// set, where none is declared.
    UnexpectedCap = 11,
    /// A fragment lacks a declared capability: the transport delivered none
    /// or the header's capability flag is clear.
    MissingCap = 12,
    /// The reply carries a capability but the transport cannot carry one.
    CapsUnsupported = 13,
    /// An error reply carried a code this side does not know (only seen in
    /// [`RpcError::BadReply`]).
    UnknownCode = 14,
}

impl ErrorCode {
    /// All variants, in code order.
    pub const ALL: [ErrorCode; 14] = [
        Self::BadHeader,
        Self::UnknownMessage,
        Self::WrongLength,
        Self::TooLarge,
        Self::FragmentCount,
        Self::FragmentOrder,
        Self::Interleaved,
        Self::InvalidBool,
        Self::OverBound,
        Self::InvalidUtf8,
        Self::UnexpectedCap,
        Self::MissingCap,
        Self::CapsUnsupported,
        Self::UnknownCode,
    ];

    /// The code on the wire.
    #[inline]
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The error with the given code, if any.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.code() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{self:?} (stub error {})", self.code())
    }
}

/// Why a client call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RpcError {
    /// The transport failed; see the inner error.
    Transport(TransportError),
    /// An argument is a capability but the transport cannot carry one.
    /// Nothing was sent.
    CapsUnsupported,
    /// A byte or string argument is longer than its declared bound (or the
    /// message exceeds the header's limits). Nothing was sent.
    TooLong {
        /// The length given.
        length: usize,
        /// The declared bound.
        bound: usize,
    },
    /// The server rejected the request with this code.
    Remote(ErrorCode),
    /// The reply failed validation (the server is broken or hostile).
    BadReply(ErrorCode),
    /// The next reply answers another request than the one being collected:
    /// replies come in request order. The reply was consumed.
    UnexpectedReply {
        /// The request being collected.
        expected: RequestId,
        /// The request the reply answers.
        found: RequestId,
    },
}

impl From<TransportError> for RpcError {
    fn from(error: TransportError) -> Self {
        match error {
            TransportError::CapsUnsupported => Self::CapsUnsupported,
            error => Self::Transport(error),
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(error) => write!(formatter, "transport: {error}"),
            Self::CapsUnsupported => formatter.write_str("the transport cannot carry capabilities"),
            Self::TooLong { length, bound } => write!(formatter, "length {length} above bound {bound}"),
            Self::Remote(code) => write!(formatter, "rejected by the server: {code}"),
            Self::BadReply(code) => write!(formatter, "malformed reply: {code}"),
            Self::UnexpectedReply { expected, found } => {
                write!(formatter, "reply to request {found} while collecting {expected}")
            }
        }
    }
}

/// Why a [`Bytes`](crate::Bytes) or [`Str`](crate::Str) could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueError {
    /// The contents are longer than the capacity.
    TooLong {
        /// The length given.
        length: usize,
        /// The capacity.
        capacity: usize,
    },
    /// The bytes are not UTF-8.
    InvalidUtf8,
}

impl fmt::Display for ValueError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { length, capacity } => {
                write!(formatter, "length {length} above capacity {capacity}")
            }
            Self::InvalidUtf8 => formatter.write_str("not UTF-8"),
        }
    }
}
