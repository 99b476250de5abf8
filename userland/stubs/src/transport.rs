//! The transport the stubs run over: fixed-size fragments and one capability.

use core::fmt;

/// The words of one fragment: implemented for `[u64; W]` only.
///
/// The header takes the first word; `W - 1` words carry payload. The stubs
/// need `W >= 2` (checked when a client or dispatcher is built); LMP has
/// `W = 8`, URPC `W = 7`.
pub trait Words: Copy + sealed::Sealed {
    /// `W`, the words in one fragment.
    const LEN: usize;
    /// A fragment of zeros.
    const ZERO: Self;
    /// The words.
    fn words(&self) -> &[u64];
    /// The words, to fill in.
    fn words_mut(&mut self) -> &mut [u64];
    /// A fragment of zeros, as [`ZERO`](Self::ZERO), built in place: a
    /// repeat expression, which compiles to stores of zero, where copying
    /// the constant may compile to a call of `memcpy` (on AArch64).
    #[doc(hidden)]
    fn zeroed() -> Self;
}

impl<const W: usize> Words for [u64; W] {
    const LEN: usize = W;
    const ZERO: Self = [0; W];

    #[inline(always)]
    fn words(&self) -> &[u64] {
        self
    }

    #[inline(always)]
    fn words_mut(&mut self) -> &mut [u64] {
        self
    }

    #[inline(always)]
    fn zeroed() -> Self {
        [0; W]
    }
}

mod sealed {
    /// Keeps [`Words`](super::Words) to arrays, whose length is `LEN`.
    pub trait Sealed {}
    impl<const W: usize> Sealed for [u64; W] {}
}

/// Why a transport operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportError {
    /// No room to send: nothing was consumed. Retry after [`Transport::wait`].
    Full,
    /// A capability was offered but the transport cannot carry one. Nothing
    /// was sent.
    CapsUnsupported,
    /// The peer is gone or the channel was closed.
    Disconnected,
    /// The transport detected a broken or hostile peer (e.g. a corrupt ring
    /// header); the channel is unusable.
    Corrupt,
    /// [`Transport::wait`] cannot block and nothing can make progress (a
    /// polling-only transport whose peer is idle).
    WouldBlock,
}

impl fmt::Display for TransportError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Full => "no room to send",
            Self::CapsUnsupported => "the transport cannot carry capabilities",
            Self::Disconnected => "the peer is gone",
            Self::Corrupt => "the peer broke the transport protocol",
            Self::WouldBlock => "nothing can make progress",
        })
    }
}

/// One direction-pair of a channel that moves fragments: `W` words plus at
/// most one capability each, in order, non-blocking.
///
/// Received fragments come from an untrusted peer; the stubs validate them.
pub trait Transport {
    /// One fragment: `[u64; W]`.
    type Words: Words;
    /// A capability token: opaque to the stubs, moved whole from sender to
    /// receiver. A transport that cannot carry capabilities may use `()` or
    /// [`core::convert::Infallible`].
    type Cap;

    /// Whether fragments can carry a capability. When `false`, the stubs
    /// refuse to send one ([`RpcError::CapsUnsupported`](crate::RpcError)).
    fn carries_caps(&self) -> bool;

    /// Sends one fragment with `cap` if it is `Some`. On success the
    /// transport takes the capability (leaving `None`); on any error it
    /// leaves `cap` alone and sends nothing. [`TransportError::Full`] means
    /// retry after [`wait`](Self::wait).
    fn try_send(&mut self, words: &Self::Words, cap: &mut Option<Self::Cap>) -> Result<(), TransportError>;

    /// Receives the next fragment, if one has arrived, into `words` and
    /// `cap` (`None` if it carries no capability) and reports `true`. If none
    /// has, reports `false` and leaves both alone; an error also leaves both
    /// alone and consumes nothing. Receiving in place spares the stubs a copy
    /// of every fragment.
    fn try_recv(
        &mut self,
        words: &mut Self::Words,
        cap: &mut Option<Self::Cap>,
    ) -> Result<bool, TransportError>;

    /// Blocks, polls or yields until a send that reported `Full` or a
    /// receive that found nothing may succeed. May return early. An error
    /// ends the operation that waits.
    fn wait(&mut self) -> Result<(), TransportError>;

    /// A client's round trip in one operation: sends `request` (with `cap`
    /// if it is `Some`), then waits for the next incoming fragment and
    /// receives it into `reply` and `reply_cap` (`None` if it carries no
    /// capability).
    ///
    /// - `Ok(())`: both halves happened. The request was sent and the
    ///   transport took `cap` (leaving `None`); `reply` holds the next
    ///   fragment of the incoming direction, the one [`try_recv`] would have
    ///   returned. It is whatever the peer sent next, not necessarily the
    ///   answer to `request`: the stubs check it like any other fragment.
    /// - `Err(_)`: no incoming fragment was consumed and `reply` and
    ///   `reply_cap` are left alone. The request may or may not have been
    ///   sent: if it was not, `cap` is left alone (as by [`try_send`]); if it
    ///   was, the transport took `cap`. [`TransportError::Full`] is never
    ///   reported: a full transport is waited out.
    ///
    /// The default does exactly that with [`try_send`] (calling [`wait`]
    /// after each `Full`), then [`try_recv`] (calling [`wait`] after each
    /// `false`); an error from any of them ends it. A transport that can do
    /// both halves at once overrides it (LMP: one `CALL` system call sends,
    /// switches to the receiver and blocks until the reply). The generated
    /// client uses it for a blocking RPC whose request is one fragment when
    /// none of its other requests is outstanding.
    ///
    /// [`try_send`]: Self::try_send
    /// [`try_recv`]: Self::try_recv
    /// [`wait`]: Self::wait
    #[inline(always)]
    fn call(
        &mut self,
        request: &Self::Words,
        cap: &mut Option<Self::Cap>,
        reply: &mut Self::Words,
        reply_cap: &mut Option<Self::Cap>,
    ) -> Result<(), TransportError> {
        send_then_receive(self, request, cap, reply, reply_cap)
    }

    /// A server's reply and wait in one operation: sends `reply` (with `cap`
    /// if it is `Some`), then waits for the next incoming fragment (the next
    /// request, from whichever client) and receives it into `next` and
    /// `next_cap` (`None` if it carries no capability).
    ///
    /// Guarantees exactly what [`call`](Self::call) does, with `reply` in the
    /// role of the request and `next` in that of the reply: on `Ok` the reply
    /// was sent (`cap` taken) and `next` holds the next incoming fragment; on
    /// an error nothing was received (`next`, `next_cap` left alone), the
    /// reply may or may not have been sent (`cap` left alone if not), and
    /// `Full` is never reported.
    ///
    /// The default is the same composition of [`try_send`](Self::try_send),
    /// [`try_recv`](Self::try_recv) and [`wait`](Self::wait) as that of
    /// `call`, not a call of `call`: a transport whose client and server
    /// operations differ (LMP: the reply-and-wait `CALL`) overrides each on
    /// its own. The generated dispatcher's serving loop uses it after every
    /// request whose reply (or error reply) is one fragment.
    #[inline(always)]
    fn reply_and_receive(
        &mut self,
        reply: &Self::Words,
        cap: &mut Option<Self::Cap>,
        next: &mut Self::Words,
        next_cap: &mut Option<Self::Cap>,
    ) -> Result<(), TransportError> {
        send_then_receive(self, reply, cap, next, next_cap)
    }
}

/// Sends `words` (waiting while the transport is full), then receives the
/// next fragment (waiting while none has arrived): the default of
/// [`Transport::call`] and [`Transport::reply_and_receive`].
#[inline(always)]
fn send_then_receive<T: Transport + ?Sized>(
    transport: &mut T,
    words: &T::Words,
    cap: &mut Option<T::Cap>,
    into: &mut T::Words,
    into_cap: &mut Option<T::Cap>,
) -> Result<(), TransportError> {
    loop {
        match transport.try_send(words, cap) {
            Err(TransportError::Full) => transport.wait()?,
            result => break result?,
        }
    }
    while !transport.try_recv(into, into_cap)? {
        transport.wait()?;
    }
    Ok(())
}

impl<T: Transport + ?Sized> Transport for &mut T {
    type Words = T::Words;
    type Cap = T::Cap;

    #[inline(always)]
    fn carries_caps(&self) -> bool {
        (**self).carries_caps()
    }

    #[inline(always)]
    fn try_send(&mut self, words: &Self::Words, cap: &mut Option<Self::Cap>) -> Result<(), TransportError> {
        (**self).try_send(words, cap)
    }

    #[inline(always)]
    fn try_recv(
        &mut self,
        words: &mut Self::Words,
        cap: &mut Option<Self::Cap>,
    ) -> Result<bool, TransportError> {
        (**self).try_recv(words, cap)
    }

    #[inline(always)]
    fn wait(&mut self) -> Result<(), TransportError> {
        (**self).wait()
    }

    #[inline(always)]
    fn call(
        &mut self,
        request: &Self::Words,
        cap: &mut Option<Self::Cap>,
        reply: &mut Self::Words,
        reply_cap: &mut Option<Self::Cap>,
    ) -> Result<(), TransportError> {
        (**self).call(request, cap, reply, reply_cap)
    }

    #[inline(always)]
    fn reply_and_receive(
        &mut self,
        reply: &Self::Words,
        cap: &mut Option<Self::Cap>,
        next: &mut Self::Words,
        next_cap: &mut Option<Self::Cap>,
    ) -> Result<(), TransportError> {
        (**self).reply_and_receive(reply, cap, next, next_cap)
    }
}
