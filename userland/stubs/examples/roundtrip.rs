//! Instructions the stubs add to a round trip, over a transport that costs
//! almost nothing: a client's blocking RPC (one [`Transport::call`]) and a
//! server's serving loop (one [`Transport::reply_and_receive`] per request),
//! each measured on its own against a transport that answers at once with a
//! canned fragment.
//!
//! Count instructions with callgrind, at two round counts, and take the
//! difference (start-up and the first and last message cancel out):
//!
//! ```text
//! cargo build --release -p stubs --example roundtrip
//! for n in 10000 20000; do
//!     valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!         target/release/examples/roundtrip client-null 8 $n 2>&1 | grep refs
//! done
//! ```
//!
//! Modes: `{client,server}-{null,add}` through the stubs, and
//! `{client,server}-raw-{null,add}`: the same transport operations on
//! hand-built fragments of the same messages, without the stubs (and without
//! checking what is received). `W` is 7 (no capabilities, as URPC) or 8
//! (capabilities, as LMP). The stubs' cost of a round trip is the client's
//! and the server's difference to their raw twins.
#![forbid(unsafe_code)]

use std::hint::black_box;

use stubs::{Header, Kind, Transport, TransportError};

stubs::interface! {
    /// The userland `Test` interface's shape: the RPC benchmarks' service.
    interface Test {
        /// Nothing either way.
        rpc null() -> ();
        /// One fragment each way.
        rpc add(a: u64, b: u64) -> (sum: u64);
        /// Several fragments each way.
        rpc echo(data: Bytes<2048>) -> (data: Bytes<2048>, sum: u64);
        /// A string each way.
        rpc upper(text: Str<256>) -> (text: Str<256>);
        /// A capability.
        rpc frame(frame: Cap) -> (base: u64);
        /// One-way.
        message note(value: u64);
        /// Two results.
        rpc notes() -> (count: u64, sum: u64);
        /// Three arguments, no result.
        rpc report(core: u32, passed: u32, failed: u32) -> ();
    }
}

/// The capability token of the measuring transports.
#[derive(Clone, Copy, Debug)]
struct Token(#[allow(dead_code)] u64);

/// The request id bits of a header word.
const ID_BITS: u64 = 0xffff << 8;

/// A transport that answers every fragment sent at once with `canned`, its
/// request id bits replaced by `id` (the request's id for a client, a
/// counter for a server).
struct Canned<const W: usize> {
    /// The fragment received, but for its id.
    canned: [u64; W],
    /// The id of the next fragment received, for a server.
    id: u64,
    /// Fragments left to receive before `try_recv` finds none.
    left: u64,
}

impl<const W: usize> Canned<W> {
    fn new(canned: [u64; W], left: u64) -> Self {
        Self { canned, id: 0, left }
    }

    /// The next fragment received, with request id `id`.
    #[inline(always)]
    fn next(&mut self, id: u64, into: &mut [u64; W], into_cap: &mut Option<Token>) {
        let mut words = self.canned;
        words[0] |= id & ID_BITS;
        *into = words;
        *into_cap = None;
    }
}

impl<const W: usize> Transport for Canned<W> {
    type Words = [u64; W];
    type Cap = Token;

    fn carries_caps(&self) -> bool {
        W == 8
    }

    #[inline(never)]
    fn try_send(&mut self, words: &[u64; W], cap: &mut Option<Token>) -> Result<(), TransportError> {
        black_box(words);
        *cap = None;
        Ok(())
    }

    #[inline(never)]
    fn try_recv(&mut self, words: &mut [u64; W], cap: &mut Option<Token>) -> Result<bool, TransportError> {
        if self.left == 0 {
            return Ok(false);
        }
        self.left -= 1;
        let id = self.id << 8;
        self.id += 1;
        self.next(id, words, cap);
        Ok(true)
    }

    fn wait(&mut self) -> Result<(), TransportError> {
        Err(TransportError::WouldBlock)
    }

    #[inline(never)]
    fn call(
        &mut self,
        request: &[u64; W],
        cap: &mut Option<Token>,
        reply: &mut [u64; W],
        reply_cap: &mut Option<Token>,
    ) -> Result<(), TransportError> {
        let request = black_box(request);
        *cap = None;
        self.next(request[0], reply, reply_cap);
        Ok(())
    }

    #[inline(never)]
    fn reply_and_receive(
        &mut self,
        reply: &[u64; W],
        cap: &mut Option<Token>,
        next: &mut [u64; W],
        next_cap: &mut Option<Token>,
    ) -> Result<(), TransportError> {
        black_box(reply);
        *cap = None;
        let id = self.id << 8;
        self.id += 1;
        self.next(id, next, next_cap);
        Ok(())
    }
}

/// A fragment: `header`, then `payload`, then zeros.
fn fragment<const W: usize>(header: Header, payload: &[u64]) -> [u64; W] {
    let mut words = [0; W];
    words[0] = header.word();
    words[1..=payload.len()].copy_from_slice(payload);
    words
}

/// The null service.
struct Null;

impl TestServer<Token> for Null {
    fn null(&mut self) {}
    fn add(&mut self, a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }
    fn echo(&mut self, data: stubs::Bytes<2048>) -> (stubs::Bytes<2048>, u64) {
        (data, 0)
    }
    fn upper(&mut self, text: stubs::Str<256>) -> stubs::Str<256> {
        text
    }
    fn frame(&mut self, _frame: Token) -> u64 {
        0
    }
    fn note(&mut self, _value: u64) {}
    fn notes(&mut self) -> (u64, u64) {
        (0, 0)
    }
    fn report(&mut self, _core: u32, _passed: u32, _failed: u32) {}
}

/// `rounds` of `mode` at `W` words per fragment.
fn run<const W: usize>(mode: &str, rounds: u64) {
    let null_reply = fragment::<W>(Header::single(Kind::Reply, Test::NULL, 0, 0, false), &[]);
    let add_reply = fragment::<W>(Header::single(Kind::Reply, Test::ADD, 0, 8, false), &[5]);
    let null_request = fragment::<W>(Header::single(Kind::Request, Test::NULL, 0, 0, false), &[]);
    let add_request = fragment::<W>(Header::single(Kind::Request, Test::ADD, 0, 16, false), &[2, 3]);
    match mode {
        "client-raw-null" | "client-raw-add" => {
            let add = mode == "client-raw-add";
            let mut transport = Canned::new(if add { add_reply } else { null_reply }, 0);
            let header = match add {
                true => Header::single(Kind::Request, Test::ADD, 0, 16, false),
                false => Header::single(Kind::Request, Test::NULL, 0, 0, false),
            };
            let mut reply = [0; W];
            for round in 0..rounds {
                let mut request = [0; W];
                request[0] = header.word() | (round & 0xffff) << 8;
                if add {
                    request[1] = black_box(round);
                    request[2] = 1;
                }
                let _ = transport.call(&request, &mut None, &mut reply, &mut None);
                if add {
                    black_box(reply[1]);
                }
            }
        }
        "client-null" => {
            let mut client = TestClient::new(Canned::new(null_reply, 0));
            for _ in 0..rounds {
                client.null().unwrap();
            }
        }
        "client-add" => {
            let mut client = TestClient::new(Canned::new(add_reply, 0));
            for round in 0..rounds {
                black_box(client.add(black_box(round), 1).unwrap());
            }
        }
        "server-raw-null" | "server-raw-add" => {
            let add = mode == "server-raw-add";
            let mut transport = Canned::new(if add { add_request } else { null_request }, 0);
            let header = match add {
                true => Header::single(Kind::Reply, Test::ADD, 0, 8, false),
                false => Header::single(Kind::Reply, Test::NULL, 0, 0, false),
            };
            let mut request = [0; W];
            let mut reply = [0; W];
            for _ in 0..rounds {
                let _ = transport.reply_and_receive(&reply, &mut None, &mut request, &mut None);
                reply = [0; W];
                reply[0] = (request[0] & ID_BITS) | header.word();
                if add {
                    reply[1] = request[1].wrapping_add(request[2]);
                }
            }
            black_box(reply);
        }
        "server-null" | "server-add" => {
            let request = if mode == "server-null" { null_request } else { add_request };
            let mut dispatcher = TestDispatcher::new(Canned::new(request, 1));
            let mut left = rounds;
            dispatcher
                .serve(&mut Null, |_| {
                    left -= 1;
                    left > 0
                })
                .unwrap();
        }
        _ => panic!("unknown mode {mode}"),
    }
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, mode, words, rounds] = arguments.as_slice() else {
        panic!("usage: roundtrip {{client,server}}-[raw-]{{null,add}} {{7,8}} ROUNDS");
    };
    let rounds = rounds.parse().expect("ROUNDS is a number");
    match words.as_str() {
        "7" => run::<7>(mode, rounds),
        "8" => run::<8>(mode, rounds),
        _ => panic!("W is 7 or 8"),
    }
}
