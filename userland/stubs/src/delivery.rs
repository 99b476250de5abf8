//! What the receiving side hands to generated code: events and deliveries.

use crate::error::{ErrorCode, RpcError};
use crate::header::{Header, Kind, RequestId};
use crate::wire::Reader;

/// What the interface declares about one message in one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// The largest payload in bytes (an upper bound computed at compile time).
    pub max_length: usize,
    /// The number of capabilities, carried one per fragment from the first.
    pub caps: usize,
}

impl Shape {
    /// The largest `max_length` in `shapes` (0 if none).
    pub const fn max_length_of(shapes: &[Option<Shape>]) -> usize {
        let mut index = 0;
        let mut max = 0;
        while index < shapes.len() {
            if let Some(shape) = shapes[index] {
                if shape.max_length > max {
                    max = shape.max_length;
                }
            }
            index += 1;
        }
        max
    }

    /// The largest `caps` in `shapes` (0 if none).
    pub const fn max_caps_of(shapes: &[Option<Shape>]) -> usize {
        let mut index = 0;
        let mut max = 0;
        while index < shapes.len() {
            if let Some(shape) = shapes[index] {
                if shape.caps > max {
                    max = shape.caps;
                }
            }
            index += 1;
        }
        max
    }
}

/// Which end of a channel receives: each accepts different kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Accepts replies and error replies.
    Client,
    /// Accepts requests.
    Server,
}

impl Side {
    /// Whether this side accepts messages of `kind`.
    #[inline(always)]
    pub const fn accepts(self, kind: Kind) -> bool {
        matches!((self, kind), (Self::Server, Kind::Request) | (Self::Client, Kind::Reply | Kind::Error))
    }
}

/// The outcome of receiving: a complete message, or a rejected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A complete message whose fragments passed every check; its fields are
    /// read from [`Endpoint::delivery`](crate::Endpoint::delivery).
    Ready(Header),
    /// A message failed a check; nothing of it reaches a handler.
    Rejected {
        /// The message number from the offending header.
        number: u8,
        /// The request id from the offending header.
        id: RequestId,
        /// Why.
        code: ErrorCode,
    },
}

/// A complete received message: its header, payload and capabilities.
pub struct Delivery<'a, C> {
    /// The header of the first fragment.
    header: Header,
    /// The payload words (at least the payload length).
    payload: &'a [u64],
    /// The capabilities, by fragment index.
    caps: &'a mut [Option<C>],
}

impl<'a, C> Delivery<'a, C> {
    /// A delivery of `payload` and `caps`.
    #[inline(always)]
    pub(crate) fn new(header: Header, payload: &'a [u64], caps: &'a mut [Option<C>]) -> Self {
        Self { header, payload, caps }
    }

    /// The header of the message's first fragment.
    #[inline(always)]
    pub fn header(&self) -> Header {
        self.header
    }

    /// A reader of the payload's fields.
    #[inline(always)]
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.payload, usize::from(self.header.length()))
    }

    /// For an error reply, the error: [`RpcError::Remote`] with its code, or
    /// [`RpcError::BadReply`] if the code is unknown. `None` for any other
    /// kind of message.
    #[inline]
    pub fn remote_error(&self) -> Option<RpcError> {
        if self.header.kind() != Kind::Error {
            return None;
        }
        let code = self.reader().scalar(4).ok().and_then(|code| ErrorCode::from_code(code as u32));
        Some(code.map_or(RpcError::BadReply(ErrorCode::UnknownCode), RpcError::Remote))
    }

    /// Takes the `index`-th capability of the message.
    #[inline]
    pub fn take_cap(&mut self, index: usize) -> Result<C, ErrorCode> {
        self.caps.get_mut(index).and_then(Option::take).ok_or(ErrorCode::MissingCap)
    }
}

/// A request sent whose reply is still to be collected.
#[must_use = "the reply must be collected with the matching `recv_` method"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pending {
    /// The request id.
    id: RequestId,
    /// The message number of the call.
    number: u8,
}

impl Pending {
    /// The pending call `number` with request `id`.
    #[inline(always)]
    pub const fn new(id: RequestId, number: u8) -> Self {
        Self { id, number }
    }

    /// The request id.
    #[inline(always)]
    pub const fn id(self) -> RequestId {
        self.id
    }

    /// The message number of the call.
    #[inline(always)]
    pub const fn number(self) -> u8 {
        self.number
    }
}

/// What a dispatcher did with one incoming message.
///
/// `repr(C)` keeps the fields at aligned offsets: the default layout made
/// building it stall on store forwarding, a measurable part of a null RPC.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Served {
    /// The handler ran; for an RPC the reply was sent (in the serving loop,
    /// a one-fragment reply is sent right after `keep_going` sees this,
    /// with the receive of the next request).
    Handled {
        /// The message number.
        number: u8,
        /// The request id.
        id: RequestId,
    },
    /// The message failed a check; an error reply with `code` was sent (in
    /// the serving loop: is sent next, as a reply is).
    Rejected {
        /// The message number from the offending header.
        number: u8,
        /// The request id from the offending header.
        id: RequestId,
        /// Why.
        code: ErrorCode,
    },
}
