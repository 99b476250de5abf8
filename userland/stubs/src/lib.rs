//! Interfaces declared once, with generated client and server stubs.
//!
//! The equivalent of Barrelfish's Flounder: [`interface!`] reads an interface
//! declaration and generates typed messages, a client stub and a server
//! dispatch that run over any [`Transport`] moving fixed-size fragments (LMP:
//! 8 words and a capability; URPC: 7 words, no capability). No heap: every
//! buffer is sized at compile time from the declared bounds.
//!
//! # Interface syntax
//!
//! ```
//! stubs::interface! {
//!     /// Echo and arithmetic service.
//!     pub interface Echo {
//!         /// One-way message: no reply.
//!         message log(level: u8, text: Str<200>);
//!         /// RPC: request arguments -> reply results.
//!         rpc add(a: u32, b: u32) -> (sum: u64);
//!         rpc echo(data: Bytes<1000>, flag: bool) -> (data: Bytes<1000>);
//!         rpc grant(frame: Cap, size: u64) -> (ok: bool);
//!         rpc null() -> ();
//!         rpc table(values: [u16; 12]) -> (total: u32);
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! In use, over the in-memory transport on one thread (the client's waits
//! run the server):
//!
//! ```
//! stubs::interface! {
//!     interface Adder {
//!         rpc add(a: u32, b: u32) -> (sum: u64);
//!         message note(text: Str<40>);
//!     }
//! }
//!
//! struct Server;
//!
//! impl AdderServer for Server {
//!     fn add(&mut self, a: u32, b: u32) -> u64 {
//!         u64::from(a) + u64::from(b)
//!     }
//!     fn note(&mut self, _text: stubs::Str<40>) {}
//! }
//!
//! let channel = stubs::LoopbackChannel::<8, 16>::new();
//! let (client_end, server_end) = channel.ends();
//! let mut dispatcher = AdderDispatcher::new(server_end);
//! let mut serve = || while let Ok(Some(_)) = dispatcher.poll_one(&mut Server) {};
//! let mut client = AdderClient::new(client_end.with_wait(&mut serve));
//! assert_eq!(client.add(2, 3), Ok(5));
//! let first = client.send_add(1, 1).unwrap();
//! let second = client.send_add(2, 2).unwrap();
//! client.note("pipelined").unwrap();
//! assert_eq!(client.recv_add(first), Ok(2));
//! assert_eq!(client.recv_add(second), Ok(4));
//! ```
//!
//! - An optional visibility (`pub`, `pub(crate)`) precedes `interface`; it
//!   applies to every generated item. Doc comments are carried over.
//! - `message name(fields);` is one-way; `rpc name(fields) -> (fields);`
//!   has a reply (`-> ()` for none). At most 256 messages; they are numbered
//!   in declaration order.
//! - Field types: `u8`..`u64`, `i8`..`i64`, `bool`; `[T; N]` of those;
//!   [`Bytes<N>`] (bytes, at most `N`) and [`Str<N>`] (UTF-8, at most `N`
//!   bytes), `N <= 65535`; `Cap`, a capability ([`Transport::Cap`]). `N` is
//!   any constant expression.
//!
//! # Generated items (for `interface Echo`)
//!
//! - `struct Echo`: the message numbers (`Echo::LOG`, `Echo::ADD`, ...), the
//!   shape tables (`REQUEST_SHAPES`, `REPLY_SHAPES`), the maximum sizes
//!   (`MAX_REQUEST_BYTES`, `REQUEST_WORDS`, `REQUEST_CAPS`, and the same for
//!   replies), `NAMES` and `Echo::name(number)`.
//! - `enum EchoRequest` / `enum EchoReply`: one variant per message / RPC
//!   with its fields as named fields (`EchoRequest::Add { a, b }`,
//!   `EchoReply::Null`), generic over the capability type `C` if a field in
//!   that direction is a `Cap`; each with `number(&self) -> u8` and
//!   `decode(&mut Delivery) -> Result<Self, ErrorCode>`.
//! - `struct EchoClient<T: Transport>` with `new(T)`, `transport()`,
//!   `into_transport()` and, per message:
//!   - one-way: `fn log(&mut self, level: u8, text: &str) -> Result<(), RpcError>`;
//!   - RPC: `fn add(&mut self, a: u32, b: u32) -> Result<u64, RpcError>`
//!     (send, then wait for the reply; see [Blocking RPCs and the serving
//!     loop](#blocking-rpcs-and-the-serving-loop)), and its halves
//!     `fn send_add(&mut self, a: u32, b: u32) -> Result<Pending, RpcError>`
//!     and `fn recv_add(&mut self, pending: Pending) -> Result<u64, RpcError>`;
//!   - `fn recv_reply(&mut self) -> Result<(RequestId, Result<EchoReply,
//!     RpcError>), RpcError>`: the next reply, whichever request it answers.
//!
//!   Arguments: `&[u8]` for `Bytes<N>`, `&str` for `Str<N>` (longer than
//!   `N`: [`RpcError::TooLong`], nothing sent), `T::Cap` for `Cap`, the
//!   type itself otherwise. Results: `()` for none, the value for one, a
//!   tuple in declaration order for several; received strings are
//!   [`Bytes<N>`] and [`Str<N>`].
//! - `trait EchoServer` (`EchoServer<C>` if any field is a `Cap`): one
//!   method per message, `fn add(&mut self, a: u32, b: u32) -> u64`, taking
//!   the checked fields by value and returning the results (nothing for a
//!   one-way message).
//! - `struct EchoDispatcher<T: Transport>` with `new(T)`, `transport()`,
//!   `into_transport()`, `fn poll_one(&mut self, server: &mut impl
//!   EchoServer) -> Result<Option<Served>, TransportError>` (never waits;
//!   `None` until a message is complete), `fn serve_one(&mut self,
//!   server: &mut impl EchoServer) -> Result<Served, TransportError>` (waits
//!   through the transport) and the serving loop `fn serve(&mut self,
//!   server: &mut impl EchoServer, keep_going: impl FnMut(Served) -> bool)
//!   -> Result<(), TransportError>`.
//!
//! Blocking happens only in [`Transport::wait`], called when a send finds
//! the transport full or a receive finds nothing, and inside
//! [`Transport::call`] and [`Transport::reply_and_receive`]. Replies come in request
//! order: split-phase calls are collected in the order they were sent, each
//! checked against its [`Pending`] request id ([`RpcError::UnexpectedReply`]
//! otherwise). A pipelining client must not leave more reply fragments
//! outstanding than the return direction holds, or both ends wait on each
//! other.
//!
//! # Blocking RPCs and the serving loop
//!
//! A round trip over LMP is two system calls when each end sends and
//! receives in one: the client's `CALL` (send, switch to the server, block
//! until the reply) and the server's reply-and-wait `CALL` (send the reply,
//! block until the next request). The stubs use the transport's combined
//! operations for that:
//!
//! - A blocking RPC (`client.add(a, b)`) whose request fits one fragment
//!   (known at compile time for fixed-size arguments) sends it and receives
//!   the first reply fragment with one [`Transport::call`], if none of the
//!   client's other requests is outstanding: no `send_` call whose reply is
//!   still to be collected, and no earlier call that failed after its
//!   request may have gone out. Otherwise (a longer request, or pipelined
//!   requests in flight) it sends with [`Transport::try_send`] and receives
//!   with [`Transport::try_recv`], as `send_add` and `recv_add` do. Either
//!   way the reply is checked the same; further fragments of a longer reply
//!   are received one by one.
//! - `dispatcher.serve(&mut server, keep_going)` receives the first request
//!   with [`Transport::try_recv`] and [`Transport::wait`], then serves
//!   forever: it runs the handler (or rejects the request, exactly as
//!   `serve_one` does) and shows the [`Served`] outcome to `keep_going`. If
//!   the reply or error reply fits one fragment, it is sent together with
//!   receiving the next request's first fragment in one
//!   [`Transport::reply_and_receive`]; a longer reply is sent fragment by
//!   fragment as it is ready, and the next request received on its own.
//!   When `keep_going` returns `false`, the last reply is sent alone and
//!   `serve` returns `Ok(())`; it returns only then or on a transport error.
//!
//! So a null RPC costs the client one `call` and, in the steady state, the
//! server one `reply_and_receive`: over LMP, the two system calls of the
//! bare transport. Over a transport that does not override them (URPC, the
//! loopback), both are a send and then a receive, with waits in between.
//!
//! ```
//! stubs::interface! {
//!     interface Bench {
//!         rpc null() -> ();
//!         rpc add(a: u64, b: u64) -> (sum: u64);
//!     }
//! }
//!
//! struct Server;
//!
//! impl BenchServer for Server {
//!     fn null(&mut self) {}
//!     fn add(&mut self, a: u64, b: u64) -> u64 {
//!         a.wrapping_add(b)
//!     }
//! }
//!
//! // Requests queued by a split-phase client, then a serving loop that
//! // stops after two.
//! let channel = stubs::LoopbackChannel::<8, 4>::new();
//! let (client_end, server_end) = channel.ends();
//! let mut client = BenchClient::new(client_end);
//! let sum = client.send_add(2, 3).unwrap();
//! let null = client.send_null().unwrap();
//! let mut dispatcher = BenchDispatcher::new(server_end);
//! let mut served = 0;
//! dispatcher.serve(&mut Server, |_outcome: stubs::Served| {
//!     served += 1;
//!     served < 2
//! }).unwrap();
//! assert_eq!(client.recv_add(sum), Ok(5));
//! assert_eq!(client.recv_null(null), Ok(()));
//! ```
//!
//! # Transport
//!
//! [`Transport`] moves fragments of `W` words (`type Words = [u64; W]`,
//! `W >= 2`; LMP 8, URPC 7) with at most one capability each, without
//! blocking; [`Transport::wait`] is the hook that blocks, polls or yields.
//! Two provided methods combine a send with the receive that follows it:
//! [`Transport::call`] (a client's round trip) and
//! [`Transport::reply_and_receive`] (a server's reply and wait for the next
//! request). Their defaults are [`Transport::try_send`] (waiting while
//! full) then [`Transport::try_recv`] (waiting while empty); a transport
//! that can do either in one operation overrides it. Each reports `Ok` only
//! if both halves happened; on an error nothing was received, and the
//! fragment sent may or may not have gone out (its capability is left in
//! place if it did not).
//! A transport that cannot carry capabilities says so with
//! [`Transport::carries_caps`]: the stubs then refuse a `Cap` argument with
//! [`RpcError::CapsUnsupported`] before sending anything, and a server whose
//! reply has one answers [`ErrorCode::CapsUnsupported`]. [`LoopbackChannel`]
//! is an in-memory transport for host tests, with `W` and depth as const
//! parameters and a wait hook.
//!
//! # Wire format
//!
//! A message is one or more fragments of `W` words. Word 0 of each is the
//! [`Header`] (bits 0..8 message number, 8..24 request id, 24..34 fragment
//! index, 34..44 fragment count, 44..60 payload length in bytes of the whole
//! message, 60 "this fragment carries a capability", 61..63 kind: request,
//! reply, error reply; bit 63 zero). Words `1..W` carry payload: fragment `i`
//! carries payload words `i * (W - 1)..`, unused words are zero. The
//! fragment count is exactly `max(1, ceil(ceil(length / 8) / (W - 1)),
//! caps)`: the `k`-th declared capability rides on fragment `k`, with
//! payload-less fragments added if a message has more capabilities than
//! payload fragments. All fragments of a message repeat its number, id,
//! kind, count and length; a message occupies the channel until its last
//! fragment.
//!
//! The payload (see [`wire`]) holds the fields in declaration order,
//! little-endian, each integer or `bool` (one byte, 0 or 1) aligned to its
//! size, arrays as their elements, `Bytes`/`Str` as a `u16` length and the
//! bytes from the next multiple of 8; capabilities take no payload. Padding
//! is zero when sent and ignored when received. An error reply has the
//! request's number and id, kind "error reply" and a `u32` [`ErrorCode`] as
//! its 4-byte payload.
//!
//! Everything received is checked before a handler sees it: the header,
//! the kind for this side, the message number, the length against the
//! declared maximum, the fragment count, order and interleaving, the
//! capability flags against the declaration and against what the transport
//! delivered, `bool` values, string and byte bounds, UTF-8, and that the
//! fields use exactly the payload. A failed check drops the message (and
//! any capabilities it carried), sends an error reply with its
//! [`ErrorCode`] (the client sees [`RpcError::Remote`]) and the dispatcher
//! goes on with the next message; a fragment that interrupts a message is
//! processed next on its own. A rejected one-way message gets an error reply
//! too (the stubs never send a malformed message, so only a broken or
//! hostile client sees one, as an unexpected reply). The client checks
//! replies the same way and reports a failed check as
//! [`RpcError::BadReply`]. Nothing panics on any input.
//!
//! # Cost
//!
//! A message that fits one fragment (a null RPC, scalar arguments) is
//! written straight into the fragment and read straight out of it, in
//! place, where the transport delivered it: no buffer, no copy, one fragment
//! each way. Larger messages go through buffers sized at compile time. A
//! blocking one-fragment RPC is one transport operation at the client
//! ([`Transport::call`]) and, under the serving loop, one at the server
//! ([`Transport::reply_and_receive`]).
//!
//! A message whose fields all have a fixed size (integers, `bool`s and
//! arrays of them, no capability) has a header known at compile time but
//! for its request id, and each field a byte position known at compile
//! time ([`wire::Fixed`]): it is written with plain stores (an array of
//! `u64` is copied word for word). A blocking RPC checks such a reply, and
//! the serving loop and `poll_one` such a request, by comparing the
//! fragment's header word with the one expected (and that no capability
//! came with it); `poll_one` compares once after a jump on the message
//! number, on a fragment it receives into words of its own, so that the
//! words a handler takes go from the transport to the handler without
//! being stored in between. The fields are read from the fragment at their
//! positions, still checked (`bool`s), and the one-fragment reply is built
//! where it is sent from. Any other fragment takes the general path, which
//! checks everything: each malformed message still gets its own error.
//! Over a transport that costs nothing, the stubs add a few dozen
//! instructions to a null round trip, both ends together
//! (`examples/roundtrip.rs` counts them), and to a one-way message
//! (`examples/monitor_link.rs`).
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

extern crate self as stubs;

mod bytes;
mod delivery;
mod endpoint;
mod error;
pub mod header;
mod loopback;
mod receive;
mod transport;
pub mod wire;

#[cfg(test)]
mod tests;

/// Counts, per thread, the messages taken by a fast path (a header checked
/// in one comparison), so that tests can tell it is taken.
#[cfg(test)]
pub(crate) mod probe {
    use core::cell::Cell;

    std::thread_local! {
        static FAST: Cell<u64> = const { Cell::new(0) };
    }

    /// Notes a message taken by a fast path.
    pub fn fast() {
        FAST.with(|count| count.set(count.get() + 1));
    }

    /// The messages taken by a fast path on this thread so far.
    pub fn fast_count() -> u64 {
        FAST.with(Cell::get)
    }
}

pub use bytes::{Bytes, Str};
pub use delivery::{Delivery, Event, Pending, Served, Shape, Side};
pub use endpoint::{fragments, Endpoint};
pub use error::{ErrorCode, RpcError, ValueError};
pub use header::{Header, Kind, RequestId, MAX_FRAGMENTS, MAX_MESSAGE_BYTES};
pub use loopback::{Loopback, LoopbackChannel, Token};
pub use stubs_macros::interface;
pub use transport::{Transport, TransportError, Words};

/// Helpers for generated code, not part of the API.
#[doc(hidden)]
pub mod __private {
    /// Whether a message of `length` payload bytes without capabilities is
    /// one fragment of `words` words (`words >= 2`).
    #[inline(always)]
    pub const fn fits_one(length: usize, words: usize) -> bool {
        length <= (words - 1) * 8
    }
}
