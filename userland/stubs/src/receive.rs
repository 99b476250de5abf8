//! The receiving half of an endpoint: every fragment checked, then reassembled.

use crate::delivery::{Delivery, Event, Pending, Shape, Side};
use crate::endpoint::{fragments, Assembly, Endpoint};
use crate::error::{ErrorCode, RpcError};
use crate::header::{
    fragment_key, header_word, identity, payload, raw_id, raw_number, Header, Kind, RequestId,
};
use crate::transport::{Transport, TransportError, Words};

/// Checks a fragment's capability: where none is declared, neither the
/// header's flag nor the transport may bring one; where one is, both must.
#[inline(always)]
fn check_cap(flag: bool, declared: bool, delivered: bool) -> Result<(), ErrorCode> {
    match declared {
        false if flag || delivered => Err(ErrorCode::UnexpectedCap),
        true if !(flag && delivered) => Err(ErrorCode::MissingCap),
        _ => Ok(()),
    }
}

impl<T: Transport, const SEND_WORDS: usize, const RECV_WORDS: usize, const RECV_CAPS: usize>
    Endpoint<T, SEND_WORDS, RECV_WORDS, RECV_CAPS>
{
    /// Receives fragments until a message is complete or rejected, or none
    /// is waiting (`None`; a partial message is kept for the next call).
    ///
    /// `shapes` is indexed by message number; `None` marks a number that has
    /// no message in this direction. A rejected message's fragments are
    /// dropped, with any capabilities they carried.
    #[inline]
    pub fn poll(&mut self, shapes: &[Option<Shape>], side: Side) -> Result<Option<Event>, TransportError> {
        loop {
            if !core::mem::take(&mut self.stashed) {
                self.current_cap = None;
                if !self.transport.try_recv(&mut self.current, &mut self.current_cap)? {
                    return Ok(None);
                }
            }
            let event = self.process(shapes, side);
            if event.is_some() {
                return Ok(event);
            }
        }
    }

    /// Makes sure a fragment still to be processed is in `current`: the one
    /// stashed, or the next received, waiting through the transport while
    /// none has arrived.
    #[inline(never)]
    pub(crate) fn receive_fragment(&mut self) -> Result<(), TransportError> {
        if core::mem::take(&mut self.stashed) {
            return Ok(());
        }
        loop {
            self.current_cap = None;
            if self.transport.try_recv(&mut self.current, &mut self.current_cap)? {
                return Ok(());
            }
            self.transport.wait()?;
        }
    }

    /// The fragment in `current`, still to be processed, for generated
    /// code's fast path: its key (see [`fragment_key`]) and its request id.
    #[doc(hidden)]
    #[inline(always)]
    pub fn received_key(&self) -> (u64, RequestId) {
        fragment_key(&self.current, self.current_cap.is_some())
    }

    /// The payload words of the fragment in `current`, still to be
    /// processed, for generated code's fast path: the caller checked that
    /// the fragment is a whole message with a header that passes every
    /// check of [`process_received`](Self::process_received) and no
    /// capability, and no message is being reassembled. It reads the fields
    /// at their fixed positions.
    #[doc(hidden)]
    #[inline(always)]
    pub fn received_payload(&self) -> &[u64] {
        #[cfg(test)]
        crate::probe::fast();
        payload(&self.current)
    }

    /// The payload words of `words`, received by
    /// [`try_receive`](Self::try_receive), for generated code's fast path:
    /// as [`received_payload`](Self::received_payload), for a fragment not
    /// stored in the endpoint.
    #[doc(hidden)]
    #[inline(always)]
    pub fn polled_payload<'w>(&self, words: &'w T::Words) -> &'w [u64] {
        #[cfg(test)]
        crate::probe::fast();
        payload(words)
    }

    /// Whether the next fragment starts a message: none is stashed, still
    /// to be processed, and none is being reassembled. Then generated
    /// code's `poll_one` receives it itself, with
    /// [`try_receive`](Self::try_receive), into words of its own.
    #[doc(hidden)]
    #[inline(always)]
    pub fn idle(&self) -> bool {
        !self.stashed && self.assembly.is_none()
    }

    /// Receives the next fragment into `words` and `cap` (cleared first),
    /// if one has arrived (`true`), for generated code's `poll_one` while
    /// [`idle`](Self::idle). The fragment is then either a one-fragment
    /// message its fast path takes after one comparison of the header (see
    /// [`fragment_key`]), or put in place with [`stage`](Self::stage) and
    /// checked in full.
    #[doc(hidden)]
    #[inline(always)]
    pub fn try_receive(
        &mut self,
        words: &mut T::Words,
        cap: &mut Option<T::Cap>,
    ) -> Result<bool, TransportError> {
        // Cleared as before every receive, also for a transport that leaves
        // it alone when no capability comes; and, as `poll` does, the one
        // left from the last message (if it was rejected) is dropped.
        *cap = None;
        self.current_cap = None;
        self.transport.try_recv(words, cap)
    }

    /// Puts a fragment received by [`try_receive`](Self::try_receive) while
    /// [`idle`](Self::idle), and not taken by a fast path, in place to be
    /// processed by [`poll_staged`](Self::poll_staged). Copied only now,
    /// so that on the fast path the fragment's words need not be stored.
    #[doc(hidden)]
    #[inline(always)]
    pub fn stage(&mut self, words: T::Words, cap: Option<T::Cap>) {
        self.current = words;
        self.current_cap = cap;
    }

    /// Processes the fragment put in place by [`stage`](Self::stage) as
    /// [`poll`](Self::poll) processes a fragment it receives, then polls on
    /// as there.
    #[doc(hidden)]
    #[inline]
    pub fn poll_staged(
        &mut self,
        shapes: &[Option<Shape>],
        side: Side,
    ) -> Result<Option<Event>, TransportError> {
        match self.process(shapes, side) {
            Some(event) => Ok(Some(event)),
            None => self.poll(shapes, side),
        }
    }

    /// Processes the fragment in `current`, still to be processed, then
    /// receives until a message is complete or rejected, waiting through
    /// the transport while none is (for generated code).
    #[doc(hidden)]
    #[inline(never)]
    pub fn process_received(
        &mut self,
        shapes: &[Option<Shape>],
        side: Side,
    ) -> Result<Event, TransportError> {
        self.process_then_wait(shapes, side)
    }

    /// Processes the fragment in `current`, just received: checks it and
    /// delivers or rejects its message, or adds it to the one being
    /// reassembled (`None`).
    #[inline(always)]
    pub(crate) fn process(&mut self, shapes: &[Option<Shape>], side: Side) -> Option<Event> {
        match self.assembly.take() {
            None => self.start(shapes, side),
            Some(assembly) => self.resume(assembly),
        }
    }

    /// Processes the fragment in `current`, just received, then receives
    /// until a message is complete or rejected, waiting through the
    /// transport while none is.
    #[inline(always)]
    pub(crate) fn process_then_wait(
        &mut self,
        shapes: &[Option<Shape>],
        side: Side,
    ) -> Result<Event, TransportError> {
        match self.process(shapes, side) {
            Some(event) => Ok(event),
            None => self.wait_event(shapes, side),
        }
    }

    /// Receives until a message is complete or rejected, waiting through the
    /// transport while none is.
    #[inline]
    pub fn wait_event(&mut self, shapes: &[Option<Shape>], side: Side) -> Result<Event, TransportError> {
        loop {
            if let Some(event) = self.poll(shapes, side)? {
                return Ok(event);
            }
            self.transport.wait()?;
        }
    }

    /// The last complete message.
    #[inline(always)]
    pub fn delivery(&mut self) -> Delivery<'_, T::Cap> {
        let (header, inline) = self.ready;
        if inline {
            let payload = self.current.words().get(1..).unwrap_or_default();
            Delivery::new(header, payload, core::slice::from_mut(&mut self.current_cap))
        } else {
            Delivery::new(header, &self.receive_buffer, &mut self.caps)
        }
    }

    /// A client's next reply: receives until one is complete or rejected
    /// (as [`wait_event`](Self::wait_event)), and notes it collected.
    #[inline]
    pub fn next_reply(&mut self, shapes: &[Option<Shape>]) -> Result<Event, TransportError> {
        let event = self.wait_event(shapes, Side::Client)?;
        self.collected(event);
        Ok(event)
    }

    /// Waits for the reply to `pending` and checks that it answers it.
    ///
    /// An error reply becomes [`RpcError::Remote`]; a reply that fails a
    /// check, [`RpcError::BadReply`]; a reply to another request,
    /// [`RpcError::UnexpectedReply`].
    #[inline]
    pub fn receive_reply(
        &mut self,
        shapes: &[Option<Shape>],
        pending: Pending,
    ) -> Result<Delivery<'_, T::Cap>, RpcError> {
        let event = self.next_reply(shapes)?;
        self.answer(event, pending)
    }

    /// Checks that `event`, the next reply, answers `pending`; see
    /// [`receive_reply`](Self::receive_reply).
    #[inline(always)]
    pub(crate) fn answer(
        &mut self,
        event: Event,
        pending: Pending,
    ) -> Result<Delivery<'_, T::Cap>, RpcError> {
        let header = match event {
            Event::Ready(header) => header,
            Event::Rejected { code, .. } => return Err(RpcError::BadReply(code)),
        };
        if header.id() != pending.id() || header.number() != pending.number() {
            return Err(RpcError::UnexpectedReply { expected: pending.id(), found: header.id() });
        }
        let delivery = self.delivery();
        if let Some(error) = delivery.remote_error() {
            return Err(error);
        }
        Ok(delivery)
    }

    /// Checks the first fragment of a message (in `current`); delivers it if
    /// it is the only one, else starts reassembly.
    #[inline(always)]
    fn start(&mut self, shapes: &[Option<Shape>], side: Side) -> Option<Event> {
        let word = header_word(&self.current);
        let reject = |code| Some(Event::Rejected { number: raw_number(word), id: raw_id(word), code });
        let Some(header) = Header::decode(word) else { return reject(ErrorCode::BadHeader) };
        if !side.accepts(header.kind()) {
            return reject(ErrorCode::BadHeader);
        }
        if header.index() != 0 {
            return reject(ErrorCode::FragmentOrder);
        }
        let length = usize::from(header.length());
        let caps = if header.kind() == Kind::Error {
            if length != 4 {
                return reject(ErrorCode::WrongLength);
            }
            0
        } else {
            let Some(shape) = shapes.get(usize::from(header.number())).copied().flatten() else {
                return reject(ErrorCode::UnknownMessage);
            };
            if length > shape.max_length {
                return reject(ErrorCode::TooLarge);
            }
            shape.caps
        };
        if usize::from(header.count()) != fragments(length, caps, T::Words::LEN) {
            return reject(ErrorCode::FragmentCount);
        }
        if let Err(code) = check_cap(header.cap(), caps > 0, self.current_cap.is_some()) {
            return reject(code);
        }
        if header.count() == 1 {
            self.ready = (header, true);
            return Some(Event::Ready(header));
        }
        self.begin(header, word, caps)
    }

    /// Starts reassembling a message of several fragments.
    #[inline(never)]
    fn begin(&mut self, header: Header, word: u64, caps: usize) -> Option<Event> {
        if usize::from(header.length()).div_ceil(8) > RECV_WORDS || caps > RECV_CAPS {
            let code = ErrorCode::TooLarge;
            return Some(Event::Rejected { number: header.number(), id: header.id(), code });
        }
        self.caps.iter_mut().for_each(|slot| *slot = None);
        let assembly = Assembly { header, identity: identity(word), next: 0, caps };
        self.resume_checked(assembly)
    }

    /// Checks a fragment (in `current`) that should continue the message
    /// being reassembled.
    #[inline(never)]
    fn resume(&mut self, assembly: Assembly) -> Option<Event> {
        let word = header_word(&self.current);
        if identity(word) != assembly.identity {
            self.stashed = true;
            return self.abandon(assembly, ErrorCode::Interleaved);
        }
        let Some(header) = Header::decode(word) else { return self.abandon(assembly, ErrorCode::BadHeader) };
        let first = assembly.header;
        if header.index() != assembly.next
            || header.count() != first.count()
            || header.length() != first.length()
        {
            return self.abandon(assembly, ErrorCode::FragmentOrder);
        }
        let declared = usize::from(header.index()) < assembly.caps;
        if let Err(code) = check_cap(header.cap(), declared, self.current_cap.is_some()) {
            return self.abandon(assembly, code);
        }
        self.resume_checked(assembly)
    }

    /// Drops the message being reassembled and the capabilities it carried.
    fn abandon(&mut self, assembly: Assembly, code: ErrorCode) -> Option<Event> {
        self.caps.iter_mut().for_each(|slot| *slot = None);
        Some(Event::Rejected { number: assembly.header.number(), id: assembly.header.id(), code })
    }

    /// Copies a checked fragment's payload and capability into place;
    /// delivers the message if it was the last fragment.
    fn resume_checked(&mut self, mut assembly: Assembly) -> Option<Event> {
        let per_fragment = T::Words::LEN - 1;
        let index = usize::from(assembly.next);
        let total = usize::from(assembly.header.length()).div_ceil(8);
        let start = (index * per_fragment).min(total);
        let end = (start + per_fragment).min(total);
        let target = self.receive_buffer.get_mut(start..end).unwrap_or_default();
        for (to, from) in target.iter_mut().zip(self.current.words().get(1..).unwrap_or_default()) {
            *to = *from;
        }
        if let (Some(slot), Some(cap)) = (self.caps.get_mut(index), self.current_cap.take()) {
            *slot = Some(cap);
        }
        assembly.next += 1;
        if assembly.next == assembly.header.count() {
            self.ready = (assembly.header, false);
            return Some(Event::Ready(assembly.header));
        }
        self.assembly = Some(assembly);
        None
    }
}
