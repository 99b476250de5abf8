//! Each malformed request gets its own error reply; the server goes on.

use std::vec::Vec;

use super::handlers::{EchoHandler, EveryHandler};
use super::interfaces::{Echo, EchoClient, EchoDispatcher, EveryClient, EveryDispatcher};
use super::{receive, End, DEPTH};
use crate::wire::Writer;
use crate::{ErrorCode, Header, Kind, LoopbackChannel, RpcError, Served, Token, Transport};

/// A fragment as injected: words and capability.
pub type Fragment<const W: usize> = ([u64; W], Option<Token>);

/// The header word of a request fragment.
pub fn request(number: u8, id: u16, index: u16, count: u16, length: u16, cap: bool) -> u64 {
    Header::new(Kind::Request, number, id, index, count, length, cap).word()
}

/// A fragment of `header` and `payload` words (the rest zero).
pub fn fragment<const W: usize>(header: u64, payload: &[u64], cap: Option<Token>) -> Fragment<W> {
    let mut words = [0; W];
    words[0] = header;
    for (to, from) in words[1..].iter_mut().zip(payload) {
        *to = *from;
    }
    (words, cap)
}

/// The payload words `write` produces.
pub fn payload(write: impl FnOnce(&mut Writer<'_>)) -> Vec<u64> {
    let mut words = [0; 200];
    let mut writer = Writer::new(&mut words);
    write(&mut writer);
    let used = writer.position().div_ceil(8);
    Vec::from(&words[..used])
}

/// An `Echo` server and the raw client end of its channel.
pub struct Rig<'a, const W: usize> {
    pub client: End<'a, W>,
    pub dispatcher: EchoDispatcher<End<'a, W>>,
    pub handler: EchoHandler,
}

impl<'a, const W: usize> Rig<'a, W> {
    pub fn new(channel: &'a LoopbackChannel<W, DEPTH>) -> Self {
        let (client, server) = channel.ends();
        Self { client, dispatcher: EchoDispatcher::new(server), handler: EchoHandler::default() }
    }

    /// Sends `fragments` as they are.
    pub fn inject(&mut self, fragments: &[Fragment<W>]) {
        for (words, cap) in fragments {
            self.client.try_send(words, &mut cap.clone()).unwrap();
        }
    }

    /// Serves until no message is complete.
    pub fn serve(&mut self) -> Vec<Served> {
        let mut served = Vec::new();
        while let Some(outcome) = self.dispatcher.poll_one(&mut self.handler).unwrap() {
            served.push(outcome);
        }
        served
    }

    /// The fragments sent back, raw.
    pub fn replies(&mut self) -> Vec<[u64; W]> {
        let mut replies = Vec::new();
        while let Some((words, _)) = receive(&mut self.client) {
            replies.push(words);
        }
        replies
    }

    /// Injects `fragments` and checks they draw exactly one error reply,
    /// `code` to request `id` of message `number`; then that the server
    /// still answers.
    pub fn rejects(&mut self, fragments: &[Fragment<W>], number: u8, id: u16, code: ErrorCode) {
        self.inject(fragments);
        assert_eq!(self.serve(), [Served::Rejected { number, id, code }]);
        let replies = self.replies();
        assert_eq!(replies.len(), 1);
        assert_error_reply(&replies[0], number, id, code);
        self.answers();
    }

    /// Checks that a well-formed `add` is answered.
    pub fn answers(&mut self) {
        let mut client = EchoClient::new(&mut self.client);
        let pending = client.send_add(20, 22).unwrap();
        assert_eq!(
            self.dispatcher.poll_one(&mut self.handler),
            Ok(Some(Served::Handled { number: Echo::ADD, id: pending.id() }))
        );
        assert_eq!(client.recv_add(pending), Ok(42));
    }
}

/// Checks that `words` is an error reply with `code` to `id` of `number`.
pub fn assert_error_reply<const W: usize>(words: &[u64; W], number: u8, id: u16, code: ErrorCode) {
    let header = Header::decode(words[0]).unwrap();
    assert_eq!(header, Header::single(Kind::Error, number, id, 4, false));
    assert_eq!(words[1], u64::from(code.code()));
}

/// The payload of `echo(data, flag)` with a raw flag byte.
fn echo_payload(data: &[u8], flag: u8) -> Vec<u64> {
    payload(|writer| {
        writer.bytes(data);
        writer.scalar(1, u64::from(flag));
    })
}

#[test]
fn bad_headers() {
    let channel = LoopbackChannel::<8, DEPTH>::new();
    let mut rig = Rig::new(&channel);
    let add = request(Echo::ADD, 1, 0, 1, 8, false);
    let bad = ErrorCode::BadHeader;
    rig.rejects(&[fragment(add | 1 << 63, &[5], None)], Echo::ADD, 1, bad);
    rig.rejects(&[fragment(add | 3 << 61, &[5], None)], Echo::ADD, 1, bad);
    rig.rejects(&[fragment(add & !(0x3ff << 34), &[5], None)], Echo::ADD, 1, bad);
    rig.rejects(&[fragment(request(Echo::ADD, 2, 1, 1, 8, false), &[5], None)], Echo::ADD, 2, bad);
    let reply = Header::single(Kind::Reply, Echo::ADD, 3, 8, false).word();
    rig.rejects(&[fragment(reply, &[5], None)], Echo::ADD, 3, bad);
    let error = Header::single(Kind::Error, Echo::ADD, 4, 4, false).word();
    rig.rejects(&[fragment(error, &[1], None)], Echo::ADD, 4, bad);
}

#[test]
fn unknown_message_and_lengths() {
    let channel = LoopbackChannel::<8, DEPTH>::new();
    let mut rig = Rig::new(&channel);
    rig.rejects(&[fragment(request(200, 1, 0, 1, 0, false), &[], None)], 200, 1, ErrorCode::UnknownMessage);
    rig.rejects(&[fragment(request(6, 1, 0, 1, 0, false), &[], None)], 6, 1, ErrorCode::UnknownMessage);
    rig.rejects(
        &[fragment(request(Echo::ADD, 2, 0, 1, 16, false), &[1, 2], None)],
        Echo::ADD,
        2,
        ErrorCode::TooLarge,
    );
    rig.rejects(
        &[fragment(request(Echo::ADD, 3, 0, 1, 4, false), &[1], None)],
        Echo::ADD,
        3,
        ErrorCode::WrongLength,
    );
    rig.rejects(
        &[fragment(request(Echo::NULL, 4, 0, 1, 1, false), &[0], None)],
        Echo::NULL,
        4,
        ErrorCode::TooLarge,
    );
    let trailing = request(Echo::ECHO, 5, 0, 1, 16, false);
    rig.rejects(&[fragment(trailing, &echo_payload(b"abc", 0), None)], Echo::ECHO, 5, ErrorCode::WrongLength);
    let short_table = request(Echo::TABLE, 6, 0, 1, 16, false);
    rig.rejects(&[fragment(short_table, &[1, 2], None)], Echo::TABLE, 6, ErrorCode::WrongLength);
    let short_bytes = request(Echo::ECHO, 7, 0, 1, 10, false);
    rig.rejects(
        &[fragment(short_bytes, &echo_payload(b"abc", 0), None)],
        Echo::ECHO,
        7,
        ErrorCode::WrongLength,
    );
}

#[test]
fn out_of_range_values() {
    let channel = LoopbackChannel::<8, DEPTH>::new();
    let mut rig = Rig::new(&channel);
    let echo = request(Echo::ECHO, 1, 0, 1, 12, false);
    rig.rejects(&[fragment(echo, &echo_payload(b"abc", 2), None)], Echo::ECHO, 1, ErrorCode::InvalidBool);
    rig.rejects(&[fragment(echo, &[1001, 0], None)], Echo::ECHO, 1, ErrorCode::OverBound);
    let log = request(Echo::LOG, 2, 0, 1, 16, false);
    rig.rejects(&[fragment(log, &[201 << 16 | 3, 0], None)], Echo::LOG, 2, ErrorCode::OverBound);
    let utf8 = payload(|writer| {
        writer.scalar(1, 3);
        writer.bytes(&[b'o', 0xff, 0xfe]);
    });
    let log = request(Echo::LOG, 3, 0, 1, 11, false);
    rig.rejects(&[fragment(log, &utf8, None)], Echo::LOG, 3, ErrorCode::InvalidUtf8);
    assert!(rig.handler.logs.is_empty());
}

#[test]
fn fragment_count_and_order() {
    let channel = LoopbackChannel::<4, DEPTH>::new();
    let mut rig = Rig::new(&channel);
    let data = echo_payload(&[9; 100], 1);
    assert_eq!(data.len(), 14);
    let length = 109;
    rig.rejects(
        &[fragment(request(Echo::ECHO, 1, 0, 1, length, false), &data, None)],
        Echo::ECHO,
        1,
        ErrorCode::FragmentCount,
    );
    rig.rejects(
        &[fragment(request(Echo::ECHO, 2, 0, 6, length, false), &data, None)],
        Echo::ECHO,
        2,
        ErrorCode::FragmentCount,
    );
    rig.rejects(
        &[fragment(request(Echo::ADD, 3, 0, 2, 8, false), &[1], None)],
        Echo::ADD,
        3,
        ErrorCode::FragmentCount,
    );
    let second = request(Echo::ECHO, 4, 1, 5, length, false);
    rig.rejects(&[fragment(second, &data[3..], None)], Echo::ECHO, 4, ErrorCode::FragmentOrder);
    let first = fragment(request(Echo::ECHO, 5, 0, 5, length, false), &data, None);
    let third = fragment(request(Echo::ECHO, 5, 2, 5, length, false), &data[6..], None);
    rig.rejects(&[first, third], Echo::ECHO, 5, ErrorCode::FragmentOrder);
    let first = fragment(request(Echo::ECHO, 6, 0, 5, length, false), &data, None);
    let again = fragment(request(Echo::ECHO, 6, 0, 5, length, false), &data, None);
    rig.rejects(&[first, again], Echo::ECHO, 6, ErrorCode::FragmentOrder);
    let first = fragment(request(Echo::ECHO, 7, 0, 5, length, false), &data, None);
    let longer = fragment(request(Echo::ECHO, 7, 1, 5, length + 1, false), &data[3..], None);
    rig.rejects(&[first, longer], Echo::ECHO, 7, ErrorCode::FragmentOrder);
    let first = fragment(request(Echo::ECHO, 8, 0, 5, length, false), &data, None);
    let broken = fragment(request(Echo::ECHO, 8, 1, 5, length, false) & !(0x3ff << 34), &data[3..], None);
    rig.rejects(&[first, broken], Echo::ECHO, 8, ErrorCode::BadHeader);
    let fragments: Vec<_> = (0..5)
        .map(|index| {
            fragment(request(Echo::ECHO, 9, index, 5, length, false), &data[3 * usize::from(index)..], None)
        })
        .collect();
    rig.inject(&fragments);
    assert_eq!(rig.serve(), [Served::Handled { number: Echo::ECHO, id: 9 }]);
    assert_eq!(rig.replies().len(), 5);
}

#[test]
fn interleaved_and_truncated_messages() {
    let channel = LoopbackChannel::<4, DEPTH>::new();
    let mut rig = Rig::new(&channel);
    let data = echo_payload(&[9; 100], 1);
    let first = fragment(request(Echo::ECHO, 1, 0, 5, 109, false), &data, None);
    let second = fragment(request(Echo::ECHO, 1, 1, 5, 109, false), &data[3..], None);
    let add = fragment(request(Echo::ADD, 2, 0, 1, 8, false), &[3 | 4 << 32], None);
    rig.inject(&[first, second, add]);
    let interleaved = Served::Rejected { number: Echo::ECHO, id: 1, code: ErrorCode::Interleaved };
    assert_eq!(rig.serve(), [interleaved, Served::Handled { number: Echo::ADD, id: 2 }]);
    let replies = rig.replies();
    assert_eq!(replies.len(), 2);
    assert_error_reply(&replies[0], Echo::ECHO, 1, ErrorCode::Interleaved);
    assert_eq!(replies[1][1], 7);
    let other = fragment(request(Echo::ECHO, 4, 0, 5, 109, false), &data, None);
    let stray = fragment(request(Echo::ECHO, 3, 1, 5, 109, false), &data[3..], None);
    rig.inject(&[other, stray]);
    let interleaved = Served::Rejected { number: Echo::ECHO, id: 4, code: ErrorCode::Interleaved };
    let stray = Served::Rejected { number: Echo::ECHO, id: 3, code: ErrorCode::FragmentOrder };
    assert_eq!(rig.serve(), [interleaved, stray]);
    assert_eq!(rig.replies().len(), 2);
    rig.answers();
}

#[test]
fn capabilities_where_not_declared_or_missing() {
    let channel = LoopbackChannel::<8, DEPTH>::new();
    let mut rig = Rig::new(&channel);
    let token = Some(Token(5));
    let add = |cap| request(Echo::ADD, 1, 0, 1, 8, cap);
    rig.rejects(&[fragment(add(true), &[1], token)], Echo::ADD, 1, ErrorCode::UnexpectedCap);
    rig.rejects(&[fragment(add(false), &[1], token)], Echo::ADD, 1, ErrorCode::UnexpectedCap);
    rig.rejects(&[fragment(add(true), &[1], None)], Echo::ADD, 1, ErrorCode::UnexpectedCap);
    let grant = |cap| request(Echo::GRANT, 2, 0, 1, 8, cap);
    rig.rejects(&[fragment(grant(false), &[1], None)], Echo::GRANT, 2, ErrorCode::MissingCap);
    rig.rejects(&[fragment(grant(true), &[1], None)], Echo::GRANT, 2, ErrorCode::MissingCap);
    rig.rejects(&[fragment(grant(false), &[1], token)], Echo::GRANT, 2, ErrorCode::MissingCap);
    let data = echo_payload(&[9; 100], 1);
    let first = fragment(request(Echo::ECHO, 3, 0, 2, 109, false), &data, None);
    let second = fragment(request(Echo::ECHO, 3, 1, 2, 109, true), &data[7..], token);
    rig.rejects(&[first, second], Echo::ECHO, 3, ErrorCode::UnexpectedCap);
    assert!(rig.handler.granted.is_empty());
    rig.inject(&[fragment(grant(true), &[4096], token)]);
    assert_eq!(rig.serve(), [Served::Handled { number: Echo::GRANT, id: 2 }]);
    assert_eq!(rig.handler.granted, [Token(5)]);
}

#[test]
fn a_capability_in_a_reply_over_a_transport_without_them() {
    let channel = LoopbackChannel::<8, DEPTH>::new();
    let (client_end, server_end) = channel.ends();
    let mut dispatcher = EveryDispatcher::new(server_end.without_caps());
    let mut handler = EveryHandler::default();
    let mut serve = || while let Ok(Some(_)) = dispatcher.poll_one(&mut handler) {};
    let mut client = EveryClient::new(client_end.with_wait(&mut serve));
    let reply = client.caps(Token(1), 2, Token(3), Token(4));
    assert_eq!(reply, Err(RpcError::Remote(ErrorCode::CapsUnsupported)));
    assert_eq!(client.nothing(), Ok(()));
    assert_eq!(client.scalars(1, 2, 3, 4, 5, 6, 7, 8, true), Ok((1, 2, 3, 4, 5, 6, 7, 8, true)));
}
