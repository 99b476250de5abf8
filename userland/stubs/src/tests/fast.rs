//! The fast paths: a blocking call takes a reply of a fixed length after
//! one comparison of its header, and the serving loop a request of a fixed
//! length; everything else is checked in full, with the same outcome.

use std::boxed::Box;
use std::vec::Vec;

use super::handlers::{EchoHandler, EveryHandler};
use super::interfaces::{Echo, EchoClient, EchoDispatcher, Every, EveryDispatcher};
use super::malformed::{fragment, request, Fragment};
use super::{receive, DEPTH};
use crate::probe::fast_count;
use crate::{ErrorCode, Header, Kind, LoopbackChannel, RpcError, Served, Token, Transport, TransportError};

/// The header word of a one-fragment message.
fn single(kind: Kind, number: u8, id: u16, length: u16) -> u64 {
    Header::single(kind, number, id, length, false).word()
}

#[test]
fn blocking_calls_check_replies_in_full_but_for_the_one_expected() {
    let channel = LoopbackChannel::<8, DEPTH>::new();
    let (client_end, mut server) = channel.ends();
    let mut client = EchoClient::new(client_end);
    let mut next_id = 0;
    // Queues the reply (with the id of the next request), then calls.
    let mut answer = |client: &mut EchoClient<_>, words: u64, payload: &[u64], cap: Option<Token>| {
        let (reply, mut cap) = fragment::<8>(words | u64::from(next_id) << 8, payload, cap);
        server.try_send(&reply, &mut cap).unwrap();
        let result = client.grant(Token(1), 8);
        let (request, cap) = receive(&mut server).unwrap();
        assert_eq!(Header::decode(request[0]).unwrap().id(), next_id);
        assert_eq!(cap, Some(Token(1)));
        assert_eq!(receive(&mut server), None);
        next_id += 1;
        result
    };
    let reply = |length| single(Kind::Reply, Echo::GRANT, 0, length);
    let before = fast_count();
    assert_eq!(answer(&mut client, reply(1), &[1], None), Ok(true));
    assert_eq!(fast_count(), before + 1, "the expected reply was checked in full");
    assert_eq!(answer(&mut client, reply(1), &[1, 5, 6], None), Ok(true));
    assert_eq!(answer(&mut client, reply(1), &[2], None), Err(RpcError::BadReply(ErrorCode::InvalidBool)));
    assert_eq!(answer(&mut client, reply(0), &[], None), Err(RpcError::BadReply(ErrorCode::WrongLength)));
    assert_eq!(answer(&mut client, reply(9), &[1, 0], None), Err(RpcError::BadReply(ErrorCode::TooLarge)));
    assert_eq!(
        answer(&mut client, reply(1), &[1], Some(Token(3))),
        Err(RpcError::BadReply(ErrorCode::UnexpectedCap))
    );
    let flagged = reply(1) | 1 << 60;
    assert_eq!(answer(&mut client, flagged, &[1], None), Err(RpcError::BadReply(ErrorCode::UnexpectedCap)));
    let two = Header::new(Kind::Reply, Echo::GRANT, 0, 0, 2, 1, false).word();
    assert_eq!(answer(&mut client, two, &[1], None), Err(RpcError::BadReply(ErrorCode::FragmentCount)));
    assert_eq!(
        answer(&mut client, reply(1) | 1 << 63, &[1], None),
        Err(RpcError::BadReply(ErrorCode::BadHeader))
    );
    let request = single(Kind::Request, Echo::GRANT, 0, 1);
    assert_eq!(answer(&mut client, request, &[1], None), Err(RpcError::BadReply(ErrorCode::BadHeader)));
    let log = single(Kind::Reply, Echo::LOG, 0, 0);
    assert_eq!(answer(&mut client, log, &[], None), Err(RpcError::BadReply(ErrorCode::UnknownMessage)));
    let add = single(Kind::Reply, Echo::ADD, 0, 8);
    assert!(matches!(answer(&mut client, add, &[1], None), Err(RpcError::UnexpectedReply { .. })));
    let error = single(Kind::Error, Echo::GRANT, 0, 4);
    assert_eq!(answer(&mut client, error, &[3], None), Err(RpcError::Remote(ErrorCode::WrongLength)));
    assert_eq!(answer(&mut client, error, &[99], None), Err(RpcError::BadReply(ErrorCode::UnknownCode)));
    assert_eq!(answer(&mut client, reply(1), &[0], None), Ok(false));
    // The replies with the header expected: the fields are still checked.
    assert_eq!(fast_count(), before + 4);
}

#[test]
fn a_blocking_call_after_a_reply_to_another_request() {
    let channel = LoopbackChannel::<8, DEPTH>::new();
    let (client_end, mut server) = channel.ends();
    let mut client = EchoClient::new(client_end);
    // A reply to request 5, which was never sent, then the one to request 0.
    for (number, id, length, payload) in [(Echo::ADD, 5, 8, 7), (Echo::ADD, 0, 8, 3)] {
        let (words, mut cap) = fragment::<8>(single(Kind::Reply, number, id, length), &[payload], None);
        server.try_send(&words, &mut cap).unwrap();
    }
    assert_eq!(client.add(1, 2), Err(RpcError::UnexpectedReply { expected: 0, found: 5 }));
    // Replies come in request order: the next call collects the reply to
    // request 0.
    assert_eq!(client.add(1, 2), Err(RpcError::UnexpectedReply { expected: 1, found: 0 }));
    let (words, mut cap) = fragment::<8>(single(Kind::Reply, Echo::ADD, 2, 8), &[3], None);
    server.try_send(&words, &mut cap).unwrap();
    assert_eq!(client.add(1, 2), Ok(3));
    assert_eq!(client.add(1, 2), Err(RpcError::Transport(TransportError::WouldBlock)));
}

/// What a serving loop and `poll_one` each do with `fragments` (queued at
/// once): the outcomes and the fragments sent back, which must agree; and
/// the requests the serving loop took after one comparison of the header.
fn served<const W: usize>(fragments: &[Fragment<W>]) -> (Vec<Served>, Vec<[u64; W]>, u64) {
    let mut results = Vec::new();
    let mut fast = 0;
    for looping in [false, true] {
        let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
        let (mut client, server) = channel.ends();
        for (words, cap) in fragments {
            client.try_send(words, &mut cap.clone()).unwrap();
        }
        let mut dispatcher = EchoDispatcher::new(server);
        let mut handler = EchoHandler::default();
        let mut outcomes = Vec::new();
        match looping {
            true => {
                let before = fast_count();
                let end = dispatcher.serve(&mut handler, |served| {
                    outcomes.push(served);
                    true
                });
                assert_eq!(end, Err(TransportError::WouldBlock));
                fast = fast_count() - before;
            }
            false => {
                while let Some(served) = dispatcher.poll_one(&mut handler).unwrap() {
                    outcomes.push(served);
                }
            }
        }
        let replies: Vec<_> = core::iter::from_fn(|| receive(&mut client)).map(|(words, _)| words).collect();
        results.push((outcomes, replies));
    }
    let looped = results.pop().unwrap();
    let polled = results.pop().unwrap();
    assert_eq!(looped, polled, "the serving loop and poll_one disagree");
    (looped.0, looped.1, fast)
}

/// Requests whose headers are one bit or field away from those the serving
/// loop takes after one comparison, at `W` words.
fn near_misses<const W: usize>() {
    let add = |id| request(Echo::ADD, id, 0, 1, 8, false);
    let table = request(Echo::TABLE, 10, 0, 1, 24, false);
    let token = Some(Token(9));
    let fragments: Vec<Fragment<W>> = Vec::from([
        fragment(add(1), &[2 | 3 << 32], None),
        fragment(add(2), &[2 | 3 << 32], token),
        fragment(add(3) | 1 << 60, &[2 | 3 << 32], None),
        fragment(add(4) | 1 << 63, &[2 | 3 << 32], None),
        fragment(request(Echo::ADD, 5, 0, 1, 7, false), &[2 | 3 << 32], None),
        fragment(request(Echo::ADD, 6, 0, 1, 16, false), &[2 | 3 << 32], None),
        fragment(request(Echo::ADD, 7, 0, 2, 8, false), &[2 | 3 << 32], None),
        fragment(single(Kind::Reply, Echo::ADD, 8, 8), &[2 | 3 << 32], None),
        fragment(request(Echo::NULL, 9, 0, 1, 0, false), &[u64::MAX], None),
        fragment(table, &[1, 2, 3], None),
        fragment(request(Echo::NULL, 11, 0, 1, 0, false), &[], None),
    ]);
    let (outcomes, replies, fast) = served::<W>(&fragments);
    let handled = |number, id| Served::Handled { number, id };
    let rejected = |number, id, code| Served::Rejected { number, id, code };
    // The table's 24 bytes are one fragment only from four words on.
    let table = match W >= 4 {
        true => handled(Echo::TABLE, 10),
        false => rejected(Echo::TABLE, 10, ErrorCode::FragmentCount),
    };
    assert_eq!(
        outcomes,
        [
            handled(Echo::ADD, 1),
            rejected(Echo::ADD, 2, ErrorCode::UnexpectedCap),
            rejected(Echo::ADD, 3, ErrorCode::UnexpectedCap),
            rejected(Echo::ADD, 4, ErrorCode::BadHeader),
            rejected(Echo::ADD, 5, ErrorCode::WrongLength),
            rejected(Echo::ADD, 6, ErrorCode::TooLarge),
            rejected(Echo::ADD, 7, ErrorCode::FragmentCount),
            rejected(Echo::ADD, 8, ErrorCode::BadHeader),
            handled(Echo::NULL, 9),
            table,
            handled(Echo::NULL, 11),
        ]
    );
    // The first request is received on its own and checked in full; then
    // `null` twice, and `table` where it is one fragment.
    assert_eq!(fast, if W >= 4 { 3 } else { 2 });
    assert_eq!(replies.len(), outcomes.len());
    assert_eq!(replies[0][..2], [single(Kind::Reply, Echo::ADD, 1, 8), 5]);
    assert_eq!(replies[8][0], single(Kind::Reply, Echo::NULL, 9, 0));
    assert!(replies[8][1..].iter().all(|&word| word == 0));
}

#[test]
fn the_serving_loop_checks_near_misses_in_full() {
    near_misses::<2>();
    near_misses::<3>();
    near_misses::<4>();
    near_misses::<7>();
    near_misses::<8>();
}

#[test]
fn the_serving_loop_checks_fields_of_fixed_length() {
    let channel = Box::new(LoopbackChannel::<8, DEPTH>::new());
    let (mut client, server) = channel.ends();
    // `scalars` (33 bytes) and `arrays` (52 bytes, the last array empty)
    // are one fragment of 8 words; a bool of 2 is still refused.
    let scalars = request(Every::SCALARS, 1, 0, 1, 33, false);
    let mut fields = [1 | 2 << 16 | 3 << 32, 4, 5 | 6 << 16 | 7 << 32, 8, 1];
    let arrays = request(Every::ARRAYS, 2, 0, 1, 52, false);
    let array_fields =
        [0x01_0101_0101_u64 | 0xfffe << 48, 0xfffe_fffe | 1 << 32, 0x01_0101_0101, 4, 4, 1 | 2 << 32, 3];
    let mut sequence =
        Vec::from([fragment::<8>(scalars, &fields, None), fragment::<8>(arrays, &array_fields, None)]);
    fields[4] = 2;
    sequence.push(fragment::<8>(scalars | 3 << 8, &fields, None));
    for (words, cap) in &sequence {
        client.try_send(words, &mut cap.clone()).unwrap();
    }
    let mut dispatcher = EveryDispatcher::new(server);
    let mut outcomes = Vec::new();
    let before = fast_count();
    let end = dispatcher.serve(&mut EveryHandler::default(), |served| {
        outcomes.push(served);
        true
    });
    assert_eq!(end, Err(TransportError::WouldBlock));
    // All but the first, received on its own, after one comparison.
    assert_eq!(fast_count() - before, 2);
    assert_eq!(
        outcomes,
        [
            Served::Handled { number: Every::SCALARS, id: 1 },
            Served::Handled { number: Every::ARRAYS, id: 2 },
            Served::Rejected { number: Every::SCALARS, id: 3, code: ErrorCode::InvalidBool },
        ]
    );
    let replies: Vec<_> = core::iter::from_fn(|| receive(&mut client)).map(|(words, _)| words).collect();
    assert_eq!(replies[0][..6], [single(Kind::Reply, Every::SCALARS, 1, 33), fields[0], 4, fields[2], 8, 1]);
    assert_eq!(replies[1][0], single(Kind::Reply, Every::ARRAYS, 2, 52));
    assert_eq!(replies[1][1..], array_fields);
}
