//! The combined operations: a blocking RPC is one `call`, the serving loop
//! one `reply_and_receive` per request, counted on a transport that does
//! each in one operation.

use std::boxed::Box;
use std::thread;
use std::vec::Vec;

use super::counted::{Counted, Counter, Counts};
use super::handlers::EchoHandler;
use super::interfaces::{Echo, EchoClient, EchoDispatcher, EchoReply};
use super::malformed::{fragment, request};
use super::threads::ThreadEnd;
use super::{receive, End, DEPTH};
use crate::{
    fragments, Bytes, ErrorCode, LoopbackChannel, RpcError, Served, Token, Transport, TransportError,
};

crate::interface! {
    /// A benchmark service: the null RPC and friends.
    pub interface Bench {
        /// Nothing either way.
        rpc null() -> ();
        /// One fragment each way.
        rpc add(a: u64, b: u64) -> (sum: u64);
        /// A one-fragment request, a reply of several fragments.
        rpc fill(byte: u8, length: u16) -> (data: Bytes<500>);
        /// A request of several fragments, a one-fragment reply.
        rpc sum(data: Bytes<500>) -> (total: u64);
        /// One-way.
        message tick(count: u64);
    }
}

/// Answers `Bench` and counts ticks.
#[derive(Default)]
struct Bencher {
    ticks: u64,
}

impl BenchServer for Bencher {
    fn null(&mut self) {}

    fn add(&mut self, a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }

    fn fill(&mut self, byte: u8, length: u16) -> Bytes<500> {
        let mut data = Bytes::new();
        for _ in 0..usize::from(length).min(500) {
            let _ = data.push(byte);
        }
        data
    }

    fn sum(&mut self, data: Bytes<500>) -> u64 {
        data.iter().map(|&byte| u64::from(byte)).sum()
    }

    fn tick(&mut self, count: u64) {
        self.ticks += count;
    }
}

/// `counts`, which must be what was asked of the transport since `before`.
fn assert_since(counter: &Counter, before: Counts, counts: Counts) {
    assert_eq!(counter.get().since(before), counts);
}

/// The payload bytes of one `Bytes` field of `length` bytes.
const fn bytes_field(length: usize) -> usize {
    8 + length
}

/// A blocking `Bench` client over a counted loopback end whose waits serve
/// its requests with `poll_one`.
fn blocking_calls<const W: usize>() {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (client_end, server_end) = channel.ends();
    let mut dispatcher = BenchDispatcher::new(server_end);
    let mut handler = Bencher::default();
    let mut serve = || while let Ok(Some(_)) = dispatcher.poll_one(&mut handler) {};
    let (end, counter) = Counted::new(client_end.with_wait(&mut serve));
    let mut client = BenchClient::new(end);
    let one_call = Counts { calls: 1, ..Counts::NONE };
    for index in 0..100 {
        let before = counter.get();
        assert_eq!(client.add(index, 1), Ok(index + 1));
        assert_since(&counter, before, one_call);
        let before = counter.get();
        assert_eq!(client.null(), Ok(()));
        assert_since(&counter, before, one_call);
    }

    // A reply of several fragments: the first comes with the call, the
    // rest (already queued by then) one receive each.
    let before = counter.get();
    assert_eq!(client.fill(7, 300).map(|data| data.as_slice() == [7; 300]), Ok(true));
    let rest = fragments(bytes_field(300), 0, W) as u64 - 1;
    assert!(rest > 0);
    assert_since(&counter, before, Counts { calls: 1, receives: rest, ..Counts::NONE });

    // A request of several fragments is sent fragment by fragment.
    let before = counter.get();
    assert_eq!(client.sum(&[2; 300]), Ok(600));
    let sent = fragments(bytes_field(300), 0, W) as u64;
    let counts = counter.get().since(before);
    assert_eq!((counts.calls, counts.replies, counts.sends), (0, 0, sent));

    // With another request outstanding, the blocking RPC does not `call`:
    // it sends, and collects the replies in order.
    let earlier = client.send_add(1, 1).unwrap();
    let before = counter.get();
    let expected = RpcError::UnexpectedReply { expected: earlier.id().wrapping_add(1), found: earlier.id() };
    assert_eq!(client.null(), Err(expected));
    let counts = counter.get().since(before);
    assert_eq!((counts.calls, counts.sends), (0, 1));
    assert_eq!(client.recv_reply(), Ok((earlier.id().wrapping_add(1), Ok(BenchReply::Null))));
    // Collected: the next blocking RPC is one call again.
    let before = counter.get();
    assert_eq!(client.add(2, 2), Ok(4));
    assert_since(&counter, before, one_call);

    // Split-phase calls and one-way messages are unchanged.
    let before = counter.get();
    let first = client.send_add(3, 4).unwrap();
    let second = client.send_null().unwrap();
    client.tick(5).unwrap();
    assert_eq!(client.recv_add(first), Ok(7));
    assert_eq!(client.recv_null(second), Ok(()));
    let counts = counter.get().since(before);
    assert_eq!((counts.calls, counts.replies, counts.sends), (0, 0, 3));
    assert_eq!(client.add(5, 6), Ok(11));
    drop(client);
    assert_eq!(handler.ticks, 5);
}

#[test]
fn a_blocking_rpc_is_one_call() {
    blocking_calls::<3>();
    blocking_calls::<4>();
    blocking_calls::<7>();
    blocking_calls::<8>();
}

#[test]
fn a_capability_rides_the_call() {
    let channel = Box::new(LoopbackChannel::<8, DEPTH>::new());
    let (client_end, server_end) = channel.ends();
    let mut dispatcher = EchoDispatcher::new(server_end);
    let mut handler = EchoHandler::default();
    let mut serve = || while let Ok(Some(_)) = dispatcher.poll_one(&mut handler) {};
    let (end, counter) = Counted::new(client_end.with_wait(&mut serve));
    let mut client = EchoClient::new(end);
    let before = counter.get();
    assert_eq!(client.grant(Token(3), 64), Ok(true));
    assert_eq!(client.table([2; 12]), Ok(24));
    assert_eq!(client.echo(b"short", true).map(|data| data.as_slice() == b"trohs"), Ok(true));
    assert_since(&counter, before, Counts { calls: 3, ..Counts::NONE });
    drop(client);
    assert_eq!(handler.granted, [Token(3)]);
}

#[test]
fn a_blocking_rpc_over_the_default_call() {
    // Loopback does not override `call`: the default sends, then waits
    // (running the server) and receives.
    let ((), handler) = super::with_echo::<8, _>(true, |client| {
        assert_eq!(client.add(1, 2), Ok(3));
        assert_eq!(client.grant(Token(1), 2), Ok(true));
        assert_eq!(client.null(), Ok(()));
    });
    assert_eq!(handler.granted, [Token(1)]);
}

/// `requests` queued by a split-phase client, then served by `serve` over a
/// counted end; the counts when each outcome is shown, and at the end.
fn serve_queued<const W: usize>(
    requests: impl FnOnce(&mut BenchClient<&mut End<'_, W>>) -> Vec<crate::Pending>,
    count: usize,
) -> (Vec<Counts>, Counts, Vec<Result<BenchReply, RpcError>>) {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut client_end, server_end) = channel.ends();
    let mut client = BenchClient::new(&mut client_end);
    let pending = requests(&mut client);
    let (end, counter) = Counted::new(server_end);
    let mut dispatcher = BenchDispatcher::new(end);
    let mut seen = Vec::new();
    let outcome = dispatcher.serve(&mut Bencher::default(), |served| {
        assert!(matches!(served, Served::Handled { .. }), "{served:?}");
        seen.push(counter.get());
        seen.len() < count
    });
    assert_eq!(outcome, Ok(()));
    let replies = pending
        .iter()
        .map(|pending| {
            let (id, reply) = client.recv_reply().unwrap();
            assert_eq!(id, pending.id());
            reply
        })
        .collect();
    assert_eq!(dispatcher.transport().inner().waiting(), 0);
    (seen, counter.get(), replies)
}

/// The serving loop's steady state: one `reply_and_receive` per request.
fn steady_state<const W: usize>() {
    let (seen, end, replies) = serve_queued::<W>(
        |client| {
            (0..64)
                .map(|index| match index % 2 {
                    0 => client.send_add(index, 1).unwrap(),
                    _ => client.send_null().unwrap(),
                })
                .collect()
        },
        64,
    );
    assert_eq!(seen[0], Counts { receives: 1, ..Counts::NONE });
    for pair in seen.windows(2) {
        assert_eq!(pair[1].since(pair[0]), Counts { replies: 1, ..Counts::NONE });
    }
    assert_eq!(end.since(seen[63]), Counts { sends: 1, ..Counts::NONE });
    for (index, reply) in replies.into_iter().enumerate() {
        let expected = match index % 2 {
            0 => BenchReply::Add { sum: index as u64 + 1 },
            _ => BenchReply::Null,
        };
        assert_eq!(reply, Ok(expected));
    }
}

#[test]
fn the_serving_loop_is_one_reply_and_receive_per_request() {
    steady_state::<3>();
    steady_state::<4>();
    steady_state::<8>();
}

/// Longer messages and one-way messages fall back to separate sends and
/// receives, and the loop goes on.
fn mixed<const W: usize>() {
    let (seen, end, replies) = serve_queued::<W>(
        |client| {
            let mut pending = Vec::new();
            pending.push(client.send_add(1, 2).unwrap());
            pending.push(client.send_fill(9, 200).unwrap());
            pending.push(client.send_null().unwrap());
            client.tick(3).unwrap();
            pending.push(client.send_sum(&[1; 300]).unwrap());
            pending.push(client.send_add(3, 4).unwrap());
            pending.push(client.send_sum(&[2; 300]).unwrap());
            pending.push(client.send_null().unwrap());
            pending
        },
        8,
    );
    let reply = fragments(bytes_field(200), 0, W) as u64;
    let request = fragments(bytes_field(300), 0, W) as u64;
    let none = Counts::NONE;
    let expected = [
        Counts { receives: 1, ..none },
        // The reply of several fragments is sent as soon as it is ready.
        Counts { replies: 1, sends: reply, ..none },
        Counts { receives: 1, ..none },
        Counts { replies: 1, ..none },
        Counts { receives: request, ..none },
        Counts { replies: 1, ..none },
        Counts { replies: 1, receives: request - 1, ..none },
        Counts { replies: 1, ..none },
    ];
    let mut before = Counts::NONE;
    for (index, (counts, expected)) in seen.iter().zip(expected).enumerate() {
        assert_eq!(counts.since(before), expected, "request {index}");
        before = *counts;
    }
    assert_eq!(end.since(before), Counts { sends: 1, ..none });
    let filled = Bytes::from_slice(&[9; 200]).unwrap();
    assert_eq!(
        replies,
        [
            Ok(BenchReply::Add { sum: 3 }),
            Ok(BenchReply::Fill { data: filled }),
            Ok(BenchReply::Null),
            Ok(BenchReply::Sum { total: 300 }),
            Ok(BenchReply::Add { sum: 7 }),
            Ok(BenchReply::Sum { total: 600 }),
            Ok(BenchReply::Null),
        ]
    );
}

#[test]
fn the_serving_loop_falls_back_for_longer_messages() {
    mixed::<3>();
    mixed::<4>();
    mixed::<8>();
}

/// Client and serving loop on two threads, both counted: every blocking
/// RPC is one `call`; after the first request, every request costs the
/// server one `reply_and_receive`.
fn two_threads<const W: usize>() {
    const ROUNDS: u64 = 500;
    let (client_end, server_end) = ThreadEnd::<W>::pair(4);
    let (server_end, server_counter) = Counted::new(server_end);
    let server = thread::spawn(move || {
        let mut dispatcher = BenchDispatcher::new(server_end);
        let mut seen = Vec::new();
        let outcome = dispatcher.serve(&mut Bencher::default(), |served| {
            assert!(matches!(served, Served::Handled { .. }), "{served:?}");
            seen.push(server_counter.get());
            seen.len() < 2 * ROUNDS as usize
        });
        (outcome, seen, server_counter.get())
    });
    let (client_end, client_counter) = Counted::new(client_end);
    let mut client = BenchClient::new(client_end);
    for index in 0..ROUNDS {
        let before = client_counter.get();
        assert_eq!(client.add(index, index), Ok(2 * index));
        assert_eq!(client.null(), Ok(()));
        assert_since(&client_counter, before, Counts { calls: 2, ..Counts::NONE });
    }
    let (outcome, seen, end) = server.join().unwrap();
    assert_eq!(outcome, Ok(()));
    let first = seen[0];
    assert_eq!((first.sends, first.calls, first.replies), (0, 0, 0));
    for pair in seen.windows(2) {
        assert_eq!(pair[1].since(pair[0]), Counts { replies: 1, ..Counts::NONE });
    }
    assert_eq!(end.since(seen[seen.len() - 1]), Counts { sends: 1, ..Counts::NONE });
    drop(client);
}

#[test]
fn client_and_serving_loop_count_one_operation_per_request() {
    two_threads::<4>();
    two_threads::<8>();
}

#[test]
fn a_failing_transport_ends_the_serving_loop() {
    let (client_end, server_end) = ThreadEnd::<8>::pair(4);
    let mut client = BenchClient::new(client_end);
    let pending = client.send_add(1, 2).unwrap();
    drop(client);
    let mut dispatcher = BenchDispatcher::new(server_end);
    let mut served = Vec::new();
    let outcome = dispatcher.serve(&mut Bencher::default(), |outcome| {
        served.push(outcome);
        true
    });
    assert_eq!(outcome, Err(TransportError::Disconnected));
    assert_eq!(served, [Served::Handled { number: Bench::ADD, id: pending.id() }]);
}

#[test]
fn the_serving_loop_rejects_and_goes_on() {
    // The requests as a client sends them, split into fragments.
    let scratch = Box::new(LoopbackChannel::<4, DEPTH>::new());
    let (mut sender, mut receiver) = scratch.ends();
    let mut requests = EchoClient::new(&mut sender);
    let _ = requests.send_add(1, 2).unwrap();
    requests.log(1, "long enough for several fragments of four words").unwrap();
    let _ = requests.send_null().unwrap();
    let _ = requests.send_add(3, 4).unwrap();
    let fragments: Vec<_> = core::iter::from_fn(|| receive(&mut receiver)).collect();
    let (add, log, rest) = (fragments[0], fragments[1], &fragments[fragments.len() - 2..]);
    let unknown = fragment::<4>(request(99, 9, 0, 1, 0, false), &[], None);

    let channel = Box::new(LoopbackChannel::<4, DEPTH>::new());
    let (mut client_end, server_end) = channel.ends();
    // A good request, an unknown message, a message cut short by the next
    // request, then two good requests.
    for (words, cap) in [add, unknown, log, rest[0], rest[1]] {
        client_end.try_send(&words, &mut cap.clone()).unwrap();
    }
    let (end, counter) = Counted::new(server_end);
    let mut dispatcher = EchoDispatcher::new(end);
    let mut seen = Vec::new();
    let outcome = dispatcher.serve(&mut EchoHandler::default(), |served| {
        seen.push((served, counter.get()));
        seen.len() < 5
    });
    assert_eq!(outcome, Ok(()));
    let none = Counts::NONE;
    let expected = [
        (Served::Handled { number: Echo::ADD, id: 0 }, Counts { receives: 1, ..none }),
        (
            Served::Rejected { number: 99, id: 9, code: ErrorCode::UnknownMessage },
            Counts { replies: 1, ..none },
        ),
        // The continuation that never came is the next request: received
        // on its own, and processed next.
        (
            Served::Rejected { number: Echo::LOG, id: 1, code: ErrorCode::Interleaved },
            Counts { replies: 1, receives: 1, ..none },
        ),
        // So the error reply goes out alone.
        (Served::Handled { number: Echo::NULL, id: 2 }, Counts { sends: 1, ..none }),
        (Served::Handled { number: Echo::ADD, id: 3 }, Counts { replies: 1, ..none }),
    ];
    let mut before = Counts::NONE;
    for (index, ((served, counts), (expected_served, expected_counts))) in
        seen.iter().zip(expected).enumerate()
    {
        assert_eq!(*served, expected_served, "request {index}");
        assert_eq!(counts.since(before), expected_counts, "request {index}");
        before = *counts;
    }
    assert_eq!(counter.get().since(before), Counts { sends: 1, ..none });

    let mut client = EchoClient::new(&mut client_end);
    assert_eq!(client.recv_reply(), Ok((0, Ok(EchoReply::Add { sum: 3 }))));
    assert_eq!(client.recv_reply(), Ok((9, Err(RpcError::Remote(ErrorCode::UnknownMessage)))));
    assert_eq!(client.recv_reply(), Ok((1, Err(RpcError::Remote(ErrorCode::Interleaved)))));
    assert_eq!(client.recv_reply(), Ok((2, Ok(EchoReply::Null))));
    assert_eq!(client.recv_reply(), Ok((3, Ok(EchoReply::Add { sum: 7 }))));
    assert_eq!(client.recv_reply(), Err(RpcError::Transport(TransportError::WouldBlock)));
}
