//! The client checks replies as the server checks requests.

use super::interfaces::{Echo, EchoClient, EchoReply};
use super::malformed::fragment;
use super::{receive, DEPTH};
use crate::{ErrorCode, Header, Kind, LoopbackChannel, RpcError, Token, Transport, TransportError};

/// The header word of a one-fragment message.
fn single(kind: Kind, number: u8, id: u16, length: u16) -> u64 {
    Header::single(kind, number, id, length, false).word()
}

#[test]
fn malformed_replies_are_reported() {
    let channel = LoopbackChannel::<8, DEPTH>::new();
    let (client_end, mut server) = channel.ends();
    let mut client = EchoClient::new(client_end);
    let mut answer = |client: &mut EchoClient<_>, words: u64, payload: &[u64], cap: Option<Token>| {
        let pending = client.send_grant(Token(1), 8).unwrap();
        let (request, _) = receive(&mut server).unwrap();
        assert_eq!(Header::decode(request[0]).unwrap().id(), pending.id());
        let (reply, mut cap) = fragment::<8>(words | u64::from(pending.id()) << 8, payload, cap);
        server.try_send(&reply, &mut cap).unwrap();
        client.recv_grant(pending)
    };
    let reply = |length| single(Kind::Reply, Echo::GRANT, 0, length);
    assert_eq!(answer(&mut client, reply(1), &[1], None), Ok(true));
    assert_eq!(answer(&mut client, reply(1), &[2], None), Err(RpcError::BadReply(ErrorCode::InvalidBool)));
    assert_eq!(answer(&mut client, reply(0), &[], None), Err(RpcError::BadReply(ErrorCode::WrongLength)));
    assert_eq!(answer(&mut client, reply(9), &[1, 0], None), Err(RpcError::BadReply(ErrorCode::TooLarge)));
    assert_eq!(
        answer(&mut client, reply(1), &[1], Some(Token(3))),
        Err(RpcError::BadReply(ErrorCode::UnexpectedCap))
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
    let long_error = single(Kind::Error, Echo::GRANT, 0, 8);
    assert_eq!(answer(&mut client, long_error, &[3], None), Err(RpcError::BadReply(ErrorCode::WrongLength)));
    assert_eq!(answer(&mut client, reply(1), &[0], None), Ok(false));
}

#[test]
fn replies_to_other_requests_are_reported() {
    let channel = LoopbackChannel::<8, DEPTH>::new();
    let (client_end, mut server) = channel.ends();
    let mut client = EchoClient::new(client_end);
    let first = client.send_add(1, 2).unwrap();
    let second = client.send_null().unwrap();
    for _ in 0..2 {
        receive(&mut server).unwrap();
    }
    let (words, mut cap) = fragment::<8>(single(Kind::Reply, Echo::ADD, first.id(), 8), &[3], None);
    server.try_send(&words, &mut cap).unwrap();
    let expected = RpcError::UnexpectedReply { expected: second.id(), found: first.id() };
    assert_eq!(client.recv_null(second), Err(expected));
    let (words, mut cap) = fragment::<8>(single(Kind::Reply, Echo::NULL, second.id(), 0), &[], None);
    server.try_send(&words, &mut cap).unwrap();
    assert_eq!(client.recv_reply(), Ok((second.id(), Ok(EchoReply::Null))));
    assert_eq!(client.recv_reply(), Err(RpcError::Transport(TransportError::WouldBlock)));
}
