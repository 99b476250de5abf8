//! Instructions the stubs spend on a one-way message of one fragment, as the
//! monitors exchange them over URPC (the userland `MonitorLink` interface),
//! over the in-memory loopback transport with URPC's 7-word fragments.
//!
//! Each operation measured runs in a function of its own that is never
//! inlined; callgrind counts only inside those (`--toggle-collect`), so the
//! numbers are per call, the transport's own work included:
//!
//! ```text
//! cargo build --release -p stubs --example monitor_link
//! for op in send recv raw_send raw_recv; do
//!     valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!         --toggle-collect='monitor_link::measured_*' \
//!         target/release/examples/monitor_link $op 100000 2>&1 | grep refs
//! done
//! ```
//!
//! (divide by the rounds). Modes:
//!
//! - `send`: `client.submit(words)` (encode, one `try_send`);
//! - `recv`: `dispatcher.poll_one(&mut server)` of one `submit` (one
//!   `try_recv`, the checks, the decoding, the handler);
//! - `raw_send`, `raw_recv`: the same transport operations on hand-built
//!   fragments, without the stubs (and without checking what is received);
//!   the handler's work is the same store of the words;
//! - `send_control`, `recv_control`, `send_hello`, `recv_hello`: the
//!   interface's scalar messages.
//!
//! The stubs' cost is the difference between a mode and its raw twin.
#![forbid(unsafe_code)]

use std::hint::black_box;

use stubs::{Header, Kind, Loopback, LoopbackChannel, Served, Transport};

stubs::interface! {
    /// The userland `MonitorLink` interface (userland/src/interfaces.rs).
    pub interface MonitorLink {
        /// `Wire` kind 1: an update for the sequencer to order.
        message submit(w: [u64; 6]);
        /// `Wire` kind 2: an ordered log entry, down the broadcast tree.
        message ordered(w: [u64; 6]);
        /// `Wire` kind 3: resend the log from an entry.
        message sync(w: [u64; 6]);
        /// `Wire` kind 4: please donate RAM.
        message ram_ask(w: [u64; 6]);
        /// `Wire` kind 5: no RAM to donate.
        message ram_deny(w: [u64; 6]);
        /// `Wire` kind 6: a revoke mark was applied.
        message revoke_ack(w: [u64; 6]);
        /// The sender's monitor is up (boot handshake); `peers` is how many
        /// monitors it has heard from so far.
        message hello(core: u32, peers: u32);
        /// A step of a test or benchmark, or its result (`op` says which).
        message control(op: u32, core: u32, a: u64, b: u64, c: u64, d: u64);
    }
}

/// Fragments each direction holds.
const DEPTH: usize = 4;

/// One end, as URPC: 7 words per fragment.
type End<'a> = Loopback<'a, 7, DEPTH>;

/// A server that keeps the last message, as the monitor copies it into its
/// protocol message.
#[derive(Default)]
struct Inbox {
    /// The kind (1 to 6) and words of the last protocol message.
    last: (u64, [u64; 6]),
    /// The last scalar message's fields.
    scalars: [u64; 6],
}

impl MonitorLinkServer for Inbox {
    fn submit(&mut self, w: [u64; 6]) {
        self.last = (1, w);
    }
    fn ordered(&mut self, w: [u64; 6]) {
        self.last = (2, w);
    }
    fn sync(&mut self, w: [u64; 6]) {
        self.last = (3, w);
    }
    fn ram_ask(&mut self, w: [u64; 6]) {
        self.last = (4, w);
    }
    fn ram_deny(&mut self, w: [u64; 6]) {
        self.last = (5, w);
    }
    fn revoke_ack(&mut self, w: [u64; 6]) {
        self.last = (6, w);
    }
    fn hello(&mut self, core: u32, peers: u32) {
        self.scalars[0] = u64::from(core);
        self.scalars[1] = u64::from(peers);
    }
    fn control(&mut self, op: u32, core: u32, a: u64, b: u64, c: u64, d: u64) {
        self.scalars = [u64::from(op), u64::from(core), a, b, c, d];
    }
}

#[inline(never)]
fn measured_send(client: &mut MonitorLinkClient<End<'_>>, words: [u64; 6]) {
    client.submit(words).unwrap();
}

#[inline(never)]
fn measured_send_control(client: &mut MonitorLinkClient<End<'_>>, words: [u64; 6]) {
    client.control(words[0] as u32, words[1] as u32, words[2], words[3], words[4], words[5]).unwrap();
}

#[inline(never)]
fn measured_send_hello(client: &mut MonitorLinkClient<End<'_>>, words: [u64; 6]) {
    client.hello(words[0] as u32, words[1] as u32).unwrap();
}

#[inline(never)]
fn measured_recv(dispatcher: &mut MonitorLinkDispatcher<End<'_>>, inbox: &mut Inbox) -> Option<Served> {
    dispatcher.poll_one(inbox).unwrap()
}

#[inline(never)]
fn measured_raw_send(end: &mut End<'_>, id: u64, words: [u64; 6]) {
    const HEADER: u64 = Header::single(Kind::Request, MonitorLink::SUBMIT, 0, 48, false).word();
    let [a, b, c, d, e, f] = words;
    let fragment = [HEADER | (id & 0xffff) << 8, a, b, c, d, e, f];
    end.try_send(&fragment, &mut None).unwrap();
}

#[inline(never)]
fn measured_raw_recv(end: &mut End<'_>, inbox: &mut Inbox) -> bool {
    let mut fragment = [0; 7];
    let mut cap = None;
    if !end.try_recv(&mut fragment, &mut cap).unwrap() {
        return false;
    }
    let [_, a, b, c, d, e, f] = fragment;
    inbox.last = (1, [a, b, c, d, e, f]);
    true
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, mode, rounds] = arguments.as_slice() else {
        panic!("usage: monitor_link MODE ROUNDS");
    };
    let rounds: u64 = rounds.parse().expect("ROUNDS is a number");
    let channel = LoopbackChannel::<7, DEPTH>::new();
    let (client_end, server_end) = channel.ends();
    let (client_end, server_end) = (client_end.without_caps(), server_end.without_caps());
    let mut client = MonitorLinkClient::new(client_end);
    let mut dispatcher = MonitorLinkDispatcher::new(server_end);
    let mut inbox = Inbox::default();
    let mut sum = 0u64;
    for round in 0..rounds {
        let words = black_box([round, 2, 3, 4, 5, 6]);
        match mode.as_str() {
            "send" | "recv" => {
                match mode == "send" {
                    true => measured_send(&mut client, words),
                    false => client.submit(words).unwrap(),
                }
                let served = match mode == "recv" {
                    true => measured_recv(&mut dispatcher, &mut inbox),
                    false => dispatcher.poll_one(&mut inbox).unwrap(),
                };
                assert!(matches!(served, Some(Served::Handled { number: MonitorLink::SUBMIT, .. })));
                sum = sum.wrapping_add(inbox.last.1[0]);
            }
            "send_control" | "recv_control" => {
                match mode == "send_control" {
                    true => measured_send_control(&mut client, words),
                    false => client.control(1, 2, round, 4, 5, 6).unwrap(),
                }
                let served = match mode == "recv_control" {
                    true => measured_recv(&mut dispatcher, &mut inbox),
                    false => dispatcher.poll_one(&mut inbox).unwrap(),
                };
                assert!(matches!(served, Some(Served::Handled { number: MonitorLink::CONTROL, .. })));
                sum = sum.wrapping_add(inbox.scalars[2]);
            }
            "send_hello" | "recv_hello" => {
                match mode == "send_hello" {
                    true => measured_send_hello(&mut client, words),
                    false => client.hello(round as u32, 2).unwrap(),
                }
                let served = match mode == "recv_hello" {
                    true => measured_recv(&mut dispatcher, &mut inbox),
                    false => dispatcher.poll_one(&mut inbox).unwrap(),
                };
                assert!(matches!(served, Some(Served::Handled { number: MonitorLink::HELLO, .. })));
                sum = sum.wrapping_add(inbox.scalars[0]);
            }
            "raw_send" | "raw_recv" => {
                let (client_end, server_end) = (client.transport(), dispatcher.transport());
                match mode == "raw_send" {
                    true => measured_raw_send(client_end, round, words),
                    false => client_end.try_send(&[round, 1, 2, 3, 4, 5, 6], &mut None).unwrap(),
                }
                let received = match mode == "raw_recv" {
                    true => measured_raw_recv(server_end, &mut inbox),
                    false => {
                        let mut fragment = [0; 7];
                        let received = server_end.try_recv(&mut fragment, &mut None).unwrap();
                        inbox.last.1[0] = fragment[1];
                        received
                    }
                };
                assert!(received);
                sum = sum.wrapping_add(inbox.last.1[0]);
            }
            _ => panic!("unknown mode {mode}"),
        }
    }
    black_box(sum);
}
