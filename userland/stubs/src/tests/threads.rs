//! Client and server on two threads over a small bounded transport.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread;
use std::vec::Vec;

use super::handlers::EchoHandler;
use super::interfaces::{EchoClient, EchoDispatcher};
use crate::{Served, Token, Transport, TransportError};

/// One direction: a bounded queue of fragments, and whether its sender hung up.
type Queue<const W: usize> = Arc<Mutex<(VecDeque<([u64; W], Option<Token>)>, bool)>>;

/// A transport between threads: `capacity` fragments per direction; `wait`
/// yields the thread. Dropping an end disconnects the other.
pub struct ThreadEnd<const W: usize> {
    send: Queue<W>,
    receive: Queue<W>,
    capacity: usize,
}

impl<const W: usize> ThreadEnd<W> {
    /// The two ends of a new channel.
    pub fn pair(capacity: usize) -> (Self, Self) {
        let (forth, back): (Queue<W>, Queue<W>) = Default::default();
        (
            Self { send: forth.clone(), receive: back.clone(), capacity },
            Self { send: back, receive: forth, capacity },
        )
    }
}

impl<const W: usize> Drop for ThreadEnd<W> {
    fn drop(&mut self) {
        self.send.lock().unwrap().1 = true;
    }
}

impl<const W: usize> Transport for ThreadEnd<W> {
    type Words = [u64; W];
    type Cap = Token;

    fn carries_caps(&self) -> bool {
        true
    }

    fn try_send(&mut self, words: &[u64; W], cap: &mut Option<Token>) -> Result<(), TransportError> {
        let mut queue = self.send.lock().unwrap();
        if queue.0.len() >= self.capacity {
            return Err(TransportError::Full);
        }
        queue.0.push_back((*words, cap.take()));
        Ok(())
    }

    fn try_recv(&mut self, words: &mut [u64; W], cap: &mut Option<Token>) -> Result<bool, TransportError> {
        let mut queue = self.receive.lock().unwrap();
        match queue.0.pop_front() {
            None if queue.1 => Err(TransportError::Disconnected),
            None => Ok(false),
            Some(fragment) => {
                (*words, *cap) = fragment;
                Ok(true)
            }
        }
    }

    fn wait(&mut self) -> Result<(), TransportError> {
        thread::yield_now();
        Ok(())
    }
}

/// A client mixing blocking, pipelined, multi-fragment, one-way and
/// capability-carrying calls against a server on another thread, serving
/// with `serve` if `looping`, else with `serve_one`.
fn threads<const W: usize>(looping: bool) {
    let (client_end, server_end) = ThreadEnd::<W>::pair(64);
    let server = thread::spawn(move || {
        let mut dispatcher = EchoDispatcher::new(server_end);
        let mut handler = EchoHandler::default();
        let mut served = 0;
        if looping {
            let end = dispatcher.serve(&mut handler, |outcome| {
                assert!(matches!(outcome, Served::Handled { .. }), "{outcome:?}");
                served += 1;
                true
            });
            assert_eq!(end, Err(TransportError::Disconnected));
        } else {
            while dispatcher.serve_one(&mut handler).is_ok() {
                served += 1;
            }
        }
        (served, handler.granted, handler.logs.len())
    });
    let mut client = EchoClient::new(client_end);
    for round in 0..20u32 {
        let sums: Vec<_> = (0..32).map(|index| client.send_add(round, index).unwrap()).collect();
        for (index, pending) in sums.into_iter().enumerate() {
            assert_eq!(client.recv_add(pending), Ok(u64::from(round) + index as u64));
        }
        let data: Vec<u8> = (0..1000).map(|byte| (byte as u32 ^ round) as u8).collect();
        assert_eq!(client.echo(&data, false).unwrap().as_slice(), &*data);
        let first = client.send_echo(&data[..500], true).unwrap();
        let second = client.send_echo(&data[500..], false).unwrap();
        let mut reversed = Vec::from(&data[..500]);
        reversed.reverse();
        assert_eq!(client.recv_echo(first).unwrap().as_slice(), &*reversed);
        assert_eq!(client.recv_echo(second).unwrap().as_slice(), &data[500..]);
        assert_eq!(client.grant(Token(u64::from(round)), 4096), Ok(true));
        assert_eq!(client.add(round, 1), Ok(u64::from(round) + 1));
        client.log(1, "between calls").unwrap();
        assert_eq!(client.null(), Ok(()));
    }
    drop(client);
    let (served, granted, logs) = server.join().unwrap();
    assert_eq!(served, 20 * (32 + 4 + 3));
    assert_eq!(granted, (0..20).map(Token).collect::<Vec<_>>());
    assert_eq!(logs, 20);
}

#[test]
fn client_and_server_on_two_threads() {
    threads::<4>(false);
    threads::<7>(false);
    threads::<8>(false);
}

#[test]
fn client_and_serving_loop_on_two_threads() {
    threads::<4>(true);
    threads::<7>(true);
    threads::<8>(true);
}
