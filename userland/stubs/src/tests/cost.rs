//! What the stubs add to a round trip, against the bare loopback transport.
//!
//! A measurement, not a check: `cargo test --release -p stubs cost --
//! --ignored --nocapture`. The loopback transport costs a few nanoseconds,
//! far less than LMP or URPC, so the ratio printed is a worst case; the
//! absolute overhead is what carries over.

use core::hint::black_box;
use std::time::Instant;

use super::handlers::EchoHandler;
use super::interfaces::{EchoClient, EchoDispatcher};
use super::receive;
use crate::{Loopback, LoopbackChannel, Token, Transport, TransportError};

/// A loopback end whose `call` sends, runs the peer once and receives, as
/// LMP's `CALL` switches to the receiver and back: the blocking RPC path.
struct Switch<'a, P: FnMut()> {
    end: Loopback<'a, 8, 16>,
    peer: P,
}

impl<P: FnMut()> Transport for Switch<'_, P> {
    type Words = [u64; 8];
    type Cap = Token;

    fn carries_caps(&self) -> bool {
        true
    }

    #[inline]
    fn try_send(&mut self, words: &[u64; 8], cap: &mut Option<Token>) -> Result<(), TransportError> {
        self.end.try_send(words, cap)
    }

    #[inline]
    fn try_recv(&mut self, words: &mut [u64; 8], cap: &mut Option<Token>) -> Result<bool, TransportError> {
        self.end.try_recv(words, cap)
    }

    fn wait(&mut self) -> Result<(), TransportError> {
        Err(TransportError::WouldBlock)
    }

    #[inline]
    fn call(
        &mut self,
        request: &[u64; 8],
        cap: &mut Option<Token>,
        reply: &mut [u64; 8],
        reply_cap: &mut Option<Token>,
    ) -> Result<(), TransportError> {
        self.end.try_send(request, cap)?;
        (self.peer)();
        match self.end.try_recv(reply, reply_cap)? {
            true => Ok(()),
            false => Err(TransportError::WouldBlock),
        }
    }
}

const ROUNDS: u32 = 200_000;

/// Nanoseconds per round of `round`: the best of 20 batches.
fn time(mut round: impl FnMut(u32)) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..20 {
        let start = Instant::now();
        for index in 0..ROUNDS {
            round(index);
        }
        best = best.min(start.elapsed().as_nanos() as f64 / f64::from(ROUNDS));
    }
    best
}

#[test]
#[ignore = "a measurement: run in release with --ignored --nocapture"]
fn cost_of_a_round_trip() {
    let channel = LoopbackChannel::<8, 16>::new();
    let (mut client_end, mut server_end) = channel.ends();
    let raw = time(|index| {
        let request = [u64::from(index), 1, 2, 0, 0, 0, 0, 0];
        client_end.try_send(black_box(&request), &mut None).unwrap();
        let (request, _) = receive(&mut server_end).unwrap();
        let reply = [request[0], request[1] + request[2], 0, 0, 0, 0, 0, 0];
        server_end.try_send(black_box(&reply), &mut None).unwrap();
        black_box(receive(&mut client_end).unwrap());
    });
    let mut client = EchoClient::new(&mut client_end);
    let mut dispatcher = EchoDispatcher::new(&mut server_end);
    let mut handler = EchoHandler::default();
    let null = time(|_| {
        let pending = client.send_null().unwrap();
        black_box(dispatcher.poll_one(&mut handler).unwrap());
        client.recv_null(black_box(pending)).unwrap();
    });
    let add = time(|index| {
        let pending = client.send_add(black_box(index), 1).unwrap();
        black_box(dispatcher.poll_one(&mut handler).unwrap());
        black_box(client.recv_add(pending).unwrap());
    });
    let (switch_client, switch_server) = channel.ends();
    let mut dispatcher = EchoDispatcher::new(switch_server);
    let peer = || {
        black_box(dispatcher.poll_one(&mut handler).unwrap());
    };
    let mut client = EchoClient::new(Switch { end: switch_client, peer });
    let blocking_null = time(|_| client.null().unwrap());
    let blocking_add = time(|index| {
        black_box(client.add(black_box(index), 1).unwrap());
    });
    std::println!("raw loopback round trip: {raw:.1} ns");
    std::println!("null RPC through the stubs: {null:.1} ns (+{:.1} ns)", null - raw);
    std::println!("add RPC through the stubs: {add:.1} ns (+{:.1} ns)", add - raw);
    let extra = blocking_null - raw;
    std::println!("blocking null RPC (one call): {blocking_null:.1} ns (+{extra:.1} ns)");
    let extra = blocking_add - raw;
    std::println!("blocking add RPC (one call): {blocking_add:.1} ns (+{extra:.1} ns)");
}
