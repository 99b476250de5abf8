//! Host tests: interfaces, handlers and harnesses shared by the test files.

extern crate std;

mod combined;
mod cost;
mod counted;
mod fast;
mod fixed;
mod fuzz;
mod handlers;
mod interfaces;
mod malformed;
mod pipeline;
mod properties;
mod replies;
mod threads;
mod unit;

use std::boxed::Box;

use handlers::{EchoHandler, EveryHandler};
use interfaces::{EchoClient, EchoDispatcher, EveryClient, EveryDispatcher};

use crate::{Loopback, LoopbackChannel, Transport, Words};

/// Fragments each loopback direction holds: enough for the largest reply
/// of every pipelined test at `W = 4`.
pub const DEPTH: usize = 512;

/// A loopback end as the tests use it.
pub type End<'a, const W: usize> = Loopback<'a, W, DEPTH>;

/// Runs `body` with an `Every` client whose waits serve its requests; then
/// returns its result and the handler. Both ends refuse capabilities unless
/// `caps`.
pub fn with_every<const W: usize, R>(
    caps: bool,
    body: impl FnOnce(&mut EveryClient<End<'_, W>>) -> R,
) -> (R, EveryHandler) {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (client_end, server_end) = ends(&channel, caps);
    let mut dispatcher = EveryDispatcher::new(server_end);
    let mut handler = EveryHandler::default();
    let mut serve = || while let Ok(Some(_)) = dispatcher.poll_one(&mut handler) {};
    let mut client = EveryClient::new(client_end.with_wait(&mut serve));
    let result = body(&mut client);
    (result, handler)
}

/// As [`with_every`], for `Echo`.
pub fn with_echo<const W: usize, R>(
    caps: bool,
    body: impl FnOnce(&mut EchoClient<End<'_, W>>) -> R,
) -> (R, EchoHandler) {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (client_end, server_end) = ends(&channel, caps);
    let mut dispatcher = EchoDispatcher::new(server_end);
    let mut handler = EchoHandler::default();
    let mut serve = || while let Ok(Some(_)) = dispatcher.poll_one(&mut handler) {};
    let mut client = EchoClient::new(client_end.with_wait(&mut serve));
    let result = body(&mut client);
    (result, handler)
}

/// The two ends of `channel`, refusing capabilities unless `caps`.
pub fn ends<const W: usize>(channel: &LoopbackChannel<W, DEPTH>, caps: bool) -> (End<'_, W>, End<'_, W>) {
    let (client_end, server_end) = channel.ends();
    match caps {
        true => (client_end, server_end),
        false => (client_end.without_caps(), server_end.without_caps()),
    }
}

/// The next fragment at `end`, if any, as a value.
pub fn receive<T: Transport>(end: &mut T) -> Option<(T::Words, Option<T::Cap>)> {
    let (mut words, mut cap) = (T::Words::ZERO, None);
    end.try_recv(&mut words, &mut cap).unwrap().then_some((words, cap))
}
