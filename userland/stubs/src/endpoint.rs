//! One end of a channel: the transport plus fragmentation and reassembly.

use crate::delivery::{Delivery, Event, Pending, Served, Shape, Side};
use crate::error::{ErrorCode, RpcError};
use crate::header::{header_word, Header, Kind, RequestId, ID_SHIFT, MAX_FRAGMENTS, MAX_MESSAGE_BYTES};
use crate::transport::{Transport, TransportError, Words};
use crate::wire::Writer;

/// The number of fragments of a message of `length` payload bytes and `caps`
/// capabilities, with `words` words per fragment (`words >= 2`).
#[inline(always)]
pub const fn fragments(length: usize, caps: usize, words: usize) -> usize {
    let per_fragment = if words > 2 { words - 1 } else { 1 };
    let payload = length.div_ceil(8).div_ceil(per_fragment);
    let count = if payload > caps { payload } else { caps };
    if count == 0 {
        1
    } else {
        count
    }
}

/// A message being reassembled.
#[derive(Clone, Copy)]
pub(crate) struct Assembly {
    /// The header of its first fragment.
    pub(crate) header: Header,
    /// The bits every fragment's header shares (`header::identity`).
    pub(crate) identity: u64,
    /// The index of the next fragment.
    pub(crate) next: u16,
    /// The declared capabilities, carried by fragments `0..caps`.
    pub(crate) caps: usize,
}

/// One end of a channel, as generated clients and dispatchers use it.
///
/// Sends messages (one fragment on the fast path, else encoded into
/// `send_buffer` and cut into fragments) and receives them (reassembled into
/// `receive_buffer`, every fragment checked). The buffer sizes are the
/// interface's maxima, fixed at compile time: `SEND_WORDS` and `RECV_WORDS`
/// payload words, `RECV_CAPS` capabilities.
///
/// A client's blocking RPC whose request is one fragment goes through
/// [`call`](Self::call) and so [`Transport::call`]: one transport operation
/// for the request and the first reply fragment. A server's one-fragment
/// reply can be held back ([`reply`](Self::reply) with `defer`) and sent by
/// [`next_request`](Self::next_request) together with receiving the next
/// request, through [`Transport::reply_and_receive`].
pub struct Endpoint<T: Transport, const SEND_WORDS: usize, const RECV_WORDS: usize, const RECV_CAPS: usize> {
    /// The transport.
    pub(crate) transport: T,
    /// The request id of the next request sent.
    next_id: RequestId,
    /// A message larger than one fragment, encoded before it is cut up.
    send_buffer: [u64; SEND_WORDS],
    /// The payload of a message larger than one fragment, reassembled.
    pub(crate) receive_buffer: [u64; RECV_WORDS],
    /// The capabilities of the message being reassembled, by fragment index.
    pub(crate) caps: [Option<T::Cap>; RECV_CAPS],
    /// The last fragment received, and its capability: the whole message if
    /// it has one fragment.
    pub(crate) current: T::Words,
    /// The capability of `current`.
    pub(crate) current_cap: Option<T::Cap>,
    /// `current` interrupted a reassembly and is still to be processed.
    pub(crate) stashed: bool,
    /// The header of the last complete message, and whether it is in
    /// `current` (else in `receive_buffer`).
    pub(crate) ready: (Header, bool),
    /// The message being reassembled, if any.
    pub(crate) assembly: Option<Assembly>,
    /// A client's requests that may still draw a reply: a hint that decides
    /// whether a blocking RPC may use [`Transport::call`].
    outstanding: u32,
    /// A one-fragment reply held back to go with the next receive.
    outgoing: T::Words,
    /// The capability of `outgoing`.
    outgoing_cap: Option<T::Cap>,
    /// `outgoing` holds a reply still to be sent.
    deferred: bool,
}

impl<T: Transport, const SEND_WORDS: usize, const RECV_WORDS: usize, const RECV_CAPS: usize>
    Endpoint<T, SEND_WORDS, RECV_WORDS, RECV_CAPS>
{
    /// An endpoint over `transport`.
    ///
    /// Fails to compile if a fragment has fewer than two words, or if the
    /// largest message received needs more than 1023 fragments.
    pub fn new(transport: T) -> Self {
        const {
            assert!(T::Words::LEN >= 2, "a fragment needs a header word and a payload word");
            assert!(
                fragments(RECV_WORDS * 8, RECV_CAPS, T::Words::LEN) <= MAX_FRAGMENTS,
                "the largest message needs more than 1023 fragments of this transport"
            );
            assert!(
                fragments(SEND_WORDS * 8, 0, T::Words::LEN) <= MAX_FRAGMENTS,
                "the largest message needs more than 1023 fragments of this transport"
            );
        }
        Self {
            transport,
            next_id: 0,
            send_buffer: [0; SEND_WORDS],
            receive_buffer: [0; RECV_WORDS],
            caps: core::array::from_fn(|_| None),
            current: T::Words::ZERO,
            current_cap: None,
            stashed: false,
            ready: (Header::single(Kind::Request, 0, 0, 0, false), true),
            assembly: None,
            outstanding: 0,
            outgoing: T::Words::ZERO,
            outgoing_cap: None,
            deferred: false,
        }
    }

    /// Whether a message of `length` payload bytes and `caps` capabilities
    /// fits one fragment.
    #[inline(always)]
    const fn fits_one(length: usize, caps: usize) -> bool {
        length <= (T::Words::LEN - 1) * 8 && length <= MAX_MESSAGE_BYTES && caps <= 1
    }

    /// The fragment of a one-fragment message: `header`, then the payload
    /// `encode` writes.
    #[inline(always)]
    fn single(header: Header, encode: impl FnOnce(&mut Writer<'_>)) -> T::Words {
        let mut words = T::Words::zeroed();
        if let Some((head, payload)) = words.words_mut().split_first_mut() {
            *head = header.word();
            encode(&mut Writer::new(payload));
        }
        words
    }

    /// The transport.
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The transport, giving up the endpoint (and any partial message).
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// A fresh request id (ids wrap after 65536 requests).
    #[inline(always)]
    pub fn next_id(&mut self) -> RequestId {
        let id = self.next_id;
        self.next_id = id.wrapping_add(1);
        id
    }

    /// Sends one message of `length` payload bytes written by `encode`, with
    /// `caps` on its first fragments.
    ///
    /// `length` must be what [`Encode::end`](crate::wire::Encode::end) gives
    /// for the fields `encode` writes. Waits (through the transport) while
    /// the transport is full.
    #[inline(always)]
    pub fn send<const K: usize>(
        &mut self,
        kind: Kind,
        number: u8,
        id: RequestId,
        length: usize,
        caps: [T::Cap; K],
        encode: impl FnOnce(&mut Writer<'_>),
    ) -> Result<(), RpcError> {
        if K > 0 && !self.transport.carries_caps() {
            return Err(RpcError::CapsUnsupported);
        }
        if Self::fits_one(length, K) {
            let header = Header::single(kind, number, id, length as u16, K == 1);
            let mut cap = caps.into_iter().next();
            return Ok(self.send_single(header, encode, &mut cap)?);
        }
        self.send_fragments(kind, number, id, length, caps, encode)
    }

    /// Sends the request of RPC `number` (as [`send`](Self::send), with a
    /// fresh request id) for a split-phase call; its reply is collected with
    /// [`receive_reply`](Self::receive_reply).
    #[inline(always)]
    pub fn send_request<const K: usize>(
        &mut self,
        number: u8,
        length: usize,
        caps: [T::Cap; K],
        encode: impl FnOnce(&mut Writer<'_>),
    ) -> Result<Pending, RpcError> {
        let id = self.next_id();
        let sent = self.send(Kind::Request, number, id, length, caps, encode);
        if matches!(sent, Ok(()) | Err(RpcError::Transport(_))) {
            // Sent, or perhaps in part: a reply may come.
            self.outstanding = self.outstanding.saturating_add(1);
        }
        sent.map(|()| Pending::new(id, number))
    }

    /// A blocking RPC: sends the request of RPC `number` with a fresh
    /// request id (as [`send`](Self::send)) and waits for its reply (as
    /// [`receive_reply`](Self::receive_reply)).
    ///
    /// If the request fits one fragment and no other request is
    /// outstanding, sending it and receiving the first reply fragment is one
    /// [`Transport::call`]; otherwise the request is sent and the reply
    /// received fragment by fragment. Either way the reply is checked the
    /// same way.
    #[inline(always)]
    pub fn call<const K: usize>(
        &mut self,
        number: u8,
        length: usize,
        caps: [T::Cap; K],
        encode: impl FnOnce(&mut Writer<'_>),
        shapes: &[Option<Shape>],
    ) -> Result<Delivery<'_, T::Cap>, RpcError> {
        if Self::fits_one(length, K) && self.outstanding == 0 && !self.stashed {
            if K > 0 && !self.transport.carries_caps() {
                return Err(RpcError::CapsUnsupported);
            }
            let id = self.next_id();
            let words =
                Self::single(Header::single(Kind::Request, number, id, length as u16, K == 1), encode);
            let mut cap = caps.into_iter().next();
            // Outstanding until its reply is collected, also if the call fails.
            self.outstanding = 1;
            self.current_cap = None;
            self.transport.call(&words, &mut cap, &mut self.current, &mut self.current_cap)?;
            let event = self.process_then_wait(shapes, Side::Client)?;
            self.collected(event);
            return self.answer(event, Pending::new(id, number));
        }
        let pending = self.send_request(number, length, caps, encode)?;
        self.receive_reply(shapes, pending)
    }

    /// A blocking RPC whose reply, when it is well formed, is always
    /// `reply` (a one-fragment message without capabilities, of a fixed
    /// length) but for its request id: as [`call`](Self::call), then
    /// `decode` reads the reply. When the fragment received has that header
    /// (one comparison), no further check of the header is needed and
    /// `decode` reads a delivery whose header is a constant but for the id.
    ///
    /// For generated code: `reply` must be the header of the only fragment
    /// of every reply to RPC `number` that passes the checks of its header
    /// (kind, number, length, count, capability flag), with request id 0.
    /// Any other fragment received goes through the checks of
    /// [`call`](Self::call).
    #[doc(hidden)]
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn call_fixed<const K: usize, R>(
        &mut self,
        number: u8,
        length: usize,
        caps: [T::Cap; K],
        encode: impl FnOnce(&mut Writer<'_>),
        reply: Header,
        shapes: &[Option<Shape>],
        decode: impl FnOnce(Delivery<'_, T::Cap>) -> Result<R, RpcError>,
    ) -> Result<R, RpcError> {
        // Every event a generated client receives is `collected`, which
        // counts a stashed fragment as outstanding.
        debug_assert!(self.outstanding > 0 || !self.stashed);
        if !(Self::fits_one(length, K) && self.outstanding == 0) {
            let pending = self.send_request(number, length, caps, encode)?;
            return decode(self.receive_reply(shapes, pending)?);
        }
        if K > 0 && !self.transport.carries_caps() {
            return Err(RpcError::CapsUnsupported);
        }
        let id = self.next_id();
        let words = Self::single(Header::single(Kind::Request, number, id, length as u16, K == 1), encode);
        let mut cap = caps.into_iter().next();
        // The reply lands in locals, so that on the fast path the words the
        // decoder does not read are never stored anywhere; the cap is
        // cleared as before every receive, also for a transport that leaves
        // it alone when no capability comes.
        let mut received = T::Words::zeroed();
        let mut received_cap = None;
        if let Err(error) = self.transport.call(&words, &mut cap, &mut received, &mut received_cap) {
            // Outstanding until its reply is collected.
            self.outstanding = 1;
            return Err(error.into());
        }
        let expected = reply.word() | u64::from(id) << ID_SHIFT;
        if header_word(&received) == expected
            && received_cap.is_none()
            && Self::fits_one(usize::from(reply.length()), 0)
        {
            #[cfg(test)]
            crate::probe::fast();
            // Not noted in `ready`: only this delivery reads it.
            let header = Header::trusted(expected);
            let payload = received.words().get(1..).unwrap_or_default();
            return decode(Delivery::new(header, payload, core::slice::from_mut(&mut received_cap)));
        }
        self.current = received;
        self.current_cap = received_cap;
        self.outstanding = 1;
        decode(self.called(shapes, Pending::new(id, number))?)
    }

    /// The rest of [`call_fixed`](Self::call_fixed) for a reply that is not
    /// the one expected: checked as any reply.
    #[inline(never)]
    fn called(
        &mut self,
        shapes: &[Option<Shape>],
        pending: Pending,
    ) -> Result<Delivery<'_, T::Cap>, RpcError> {
        let event = self.process_then_wait(shapes, Side::Client)?;
        self.collected(event);
        self.answer(event, pending)
    }

    /// Notes a reply (or a rejected one) collected: replies come in request
    /// order, so one to the latest request means none is outstanding.
    #[inline(always)]
    pub(crate) fn collected(&mut self, event: Event) {
        let id = match event {
            Event::Ready(header) => header.id(),
            Event::Rejected { id, .. } => id,
        };
        // A fragment stashed, still to be processed, counts as outstanding
        // too: then `outstanding == 0` is all `call_fixed` checks.
        let stashed = u32::from(self.stashed);
        self.outstanding = match id == self.next_id.wrapping_sub(1) {
            true => stashed,
            false => self.outstanding.saturating_sub(1).max(stashed),
        };
    }

    /// Sends the reply to request `id` of RPC `number` (as
    /// [`send`](Self::send)), or, if `defer` and it fits one fragment, holds
    /// it back for [`next_request`](Self::next_request) to send.
    #[inline(always)]
    pub fn reply<const K: usize>(
        &mut self,
        defer: bool,
        number: u8,
        id: RequestId,
        length: usize,
        caps: [T::Cap; K],
        encode: impl FnOnce(&mut Writer<'_>),
    ) -> Result<(), RpcError> {
        if !(defer && Self::fits_one(length, K)) {
            return self.send(Kind::Reply, number, id, length, caps, encode);
        }
        if K > 0 && !self.transport.carries_caps() {
            return Err(RpcError::CapsUnsupported);
        }
        let header = Header::single(Kind::Reply, number, id, length as u16, K == 1);
        self.defer(header, encode, caps.into_iter().next());
        Ok(())
    }

    /// Holds back the one-fragment message `header` with the payload
    /// `encode` writes and `cap`.
    #[inline(always)]
    fn defer(&mut self, header: Header, encode: impl FnOnce(&mut Writer<'_>), cap: Option<T::Cap>) {
        self.outgoing = Self::single(header, encode);
        self.outgoing_cap = cap;
        self.deferred = true;
    }

    /// A serving loop's step: sends the reply held back by
    /// [`reply`](Self::reply) or [`reject`](Self::reject) (if any), then, if
    /// `keep_going`, waits for the next request until it is complete or
    /// rejected (as [`wait_event`](Self::wait_event)); `None` if not
    /// `keep_going`.
    ///
    /// A reply held back goes out with the receive of the next request's
    /// first fragment in one [`Transport::reply_and_receive`], unless the
    /// loop stops or a fragment already received is still to be processed;
    /// then it is sent on its own first. On an error the reply may not have
    /// been sent; it is not sent again.
    #[inline(always)]
    pub fn next_request(
        &mut self,
        shapes: &[Option<Shape>],
        keep_going: bool,
    ) -> Result<Option<Event>, TransportError> {
        if core::mem::take(&mut self.deferred) {
            let mut cap = self.outgoing_cap.take();
            if keep_going && !self.stashed {
                self.current_cap = None;
                self.transport.reply_and_receive(
                    &self.outgoing,
                    &mut cap,
                    &mut self.current,
                    &mut self.current_cap,
                )?;
                return self.process_then_wait(shapes, Side::Server).map(Some);
            }
            let words = self.outgoing;
            self.push(&words, &mut cap)?;
        }
        if !keep_going {
            return Ok(None);
        }
        self.wait_event(shapes, Side::Server).map(Some)
    }

    /// The serving loop's step (for generated code): sends the reply held
    /// back by [`reply`](Self::reply) or [`reject`](Self::reject) (if any),
    /// then, if `keep_going`, makes sure the next fragment is in place,
    /// still to be processed (`true`): received with the reply in one
    /// [`Transport::reply_and_receive`] where [`next_request`](Self::next_request)
    /// would, else stashed or received on its own, waiting through the
    /// transport. `false` if not `keep_going`, once the reply is sent.
    #[doc(hidden)]
    #[inline(always)]
    pub fn next_fragment(&mut self, keep_going: bool) -> Result<bool, TransportError> {
        if core::mem::take(&mut self.deferred) {
            let mut cap = self.outgoing_cap.take();
            if keep_going && !self.stashed {
                let Self { transport, outgoing, current, current_cap, .. } = self;
                return exchange(transport, outgoing, &mut cap, current, current_cap);
            }
            let words = self.outgoing;
            self.push(&words, &mut cap)?;
        }
        if !keep_going {
            return Ok(false);
        }
        self.receive_fragment()?;
        Ok(true)
    }

    /// The serving loop's step after a request whose reply is the
    /// one-fragment message `header` with the payload `encode` writes and
    /// no capability (for generated code): sends it and, if `keep_going`,
    /// receives the next fragment with it in one
    /// [`Transport::reply_and_receive`] (`true`), as
    /// [`next_fragment`](Self::next_fragment) does for a reply held back;
    /// else sends it alone (`false`).
    ///
    /// The caller makes sure no fragment is stashed: the request was the
    /// fragment received by the last [`next_fragment`](Self::next_fragment)
    /// and was not processed (it is processed only when it is not served
    /// straight from the fragment).
    #[doc(hidden)]
    #[inline(always)]
    pub fn reply_single_and_receive(
        &mut self,
        header: Header,
        encode: impl FnOnce(&mut Writer<'_>),
        keep_going: bool,
    ) -> Result<bool, TransportError> {
        debug_assert!(!self.stashed);
        let words = Self::single(header, encode);
        if keep_going {
            return exchange(
                &mut self.transport,
                &words,
                &mut None,
                &mut self.current,
                &mut self.current_cap,
            );
        }
        self.push(&words, &mut None)?;
        Ok(false)
    }

    /// Sends an error reply with `code` to request `id` of message `number`.
    #[inline]
    pub fn send_error(&mut self, number: u8, id: RequestId, code: ErrorCode) -> Result<(), TransportError> {
        let header = Header::single(Kind::Error, number, id, 4, false);
        self.send_single(header, |writer| writer.scalar(4, u64::from(code.code())), &mut None)
    }

    /// Sends a one-fragment message.
    #[inline(always)]
    fn send_single(
        &mut self,
        header: Header,
        encode: impl FnOnce(&mut Writer<'_>),
        cap: &mut Option<T::Cap>,
    ) -> Result<(), TransportError> {
        let words = Self::single(header, encode);
        self.push(&words, cap)
    }

    /// Encodes a message into the send buffer and sends it in fragments.
    #[inline(never)]
    fn send_fragments<const K: usize>(
        &mut self,
        kind: Kind,
        number: u8,
        id: RequestId,
        length: usize,
        caps: [T::Cap; K],
        encode: impl FnOnce(&mut Writer<'_>),
    ) -> Result<(), RpcError> {
        let per_fragment = T::Words::LEN - 1;
        let total = length.div_ceil(8);
        let count = fragments(length, K, T::Words::LEN);
        let too_long = RpcError::TooLong { length, bound: MAX_MESSAGE_BYTES.min(SEND_WORDS * 8) };
        if length > MAX_MESSAGE_BYTES || count > MAX_FRAGMENTS {
            return Err(too_long);
        }
        let buffer = self.send_buffer.get_mut(..total).ok_or(too_long)?;
        buffer.fill(0);
        encode(&mut Writer::new(buffer));
        let mut caps = caps.into_iter();
        for index in 0..count {
            let header = Header::new(kind, number, id, index as u16, count as u16, length as u16, index < K);
            let mut words = T::Words::zeroed();
            if let Some((head, payload)) = words.words_mut().split_first_mut() {
                *head = header.word();
                let start = (index * per_fragment).min(total);
                let end = (start + per_fragment).min(total);
                let source = self.send_buffer.get(start..end).unwrap_or_default();
                for (to, from) in payload.iter_mut().zip(source) {
                    *to = *from;
                }
            }
            let mut cap = if index < K { caps.next() } else { None };
            self.push(&words, &mut cap)?;
        }
        Ok(())
    }

    /// Sends an error reply with `code` (or, if `defer`, holds it back for
    /// [`next_request`](Self::next_request) to send) and reports the message
    /// rejected.
    #[inline]
    pub fn reject(
        &mut self,
        defer: bool,
        number: u8,
        id: RequestId,
        code: ErrorCode,
    ) -> Result<Served, TransportError> {
        match defer {
            true => {
                let header = Header::single(Kind::Error, number, id, 4, false);
                self.defer(header, |writer| writer.scalar(4, u64::from(code.code())), None);
            }
            false => self.send_error(number, id, code)?,
        }
        Ok(Served::Rejected { number, id, code })
    }

    /// The outcome of sending (or, if `defer`, holding back) the reply to
    /// request `id` of message `number`: handled, or rejected with an error
    /// reply if the reply could not be sent for a reason other than the
    /// transport failing.
    #[inline]
    pub fn replied(
        &mut self,
        defer: bool,
        number: u8,
        id: RequestId,
        sent: Result<(), RpcError>,
    ) -> Result<Served, TransportError> {
        match sent {
            Ok(()) => Ok(Served::Handled { number, id }),
            Err(RpcError::Transport(error)) => Err(error),
            Err(RpcError::CapsUnsupported) => self.reject(defer, number, id, ErrorCode::CapsUnsupported),
            Err(_) => self.reject(defer, number, id, ErrorCode::TooLarge),
        }
    }

    /// Sends one fragment, waiting while the transport is full.
    #[inline(always)]
    fn push(&mut self, words: &T::Words, cap: &mut Option<T::Cap>) -> Result<(), TransportError> {
        loop {
            match self.transport.try_send(words, cap) {
                Err(TransportError::Full) => self.transport.wait()?,
                result => return result,
            }
        }
    }
}

/// Sends `words` and receives the next fragment into `current` in one
/// [`Transport::reply_and_receive`] (`true`).
#[inline(always)]
fn exchange<T: Transport>(
    transport: &mut T,
    words: &T::Words,
    cap: &mut Option<T::Cap>,
    current: &mut T::Words,
    current_cap: &mut Option<T::Cap>,
) -> Result<bool, TransportError> {
    // Cleared as before every receive, also for a transport that leaves it
    // alone when no capability comes.
    *current_cap = None;
    transport.reply_and_receive(words, cap, current, current_cap)?;
    Ok(true)
}
