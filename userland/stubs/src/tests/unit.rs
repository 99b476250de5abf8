//! Unit tests: the types, the header, and calls over the loopback transport.

use super::handlers::EchoHandler;
use super::interfaces::{Echo, EchoClient, EchoDispatcher};
use super::receive;
use crate::{
    Bytes, ErrorCode, Header, Kind, LoopbackChannel, RpcError, Served, Str, Token, TransportError, ValueError,
};

#[test]
fn echo_calls_over_loopback() {
    let channel = LoopbackChannel::<8, 64>::new();
    let (client_end, server_end) = channel.ends();
    let mut dispatcher = EchoDispatcher::new(server_end);
    let mut handler = EchoHandler::default();
    let mut serve = || while let Ok(Some(_)) = dispatcher.poll_one(&mut handler) {};
    let mut client = EchoClient::new(client_end.with_wait(&mut serve));
    assert_eq!(client.add(2, 3), Ok(5));
    assert_eq!(client.null(), Ok(()));
    assert_eq!(client.table([1; 12]), Ok(12));
    let data = [7u8; 999];
    let echoed = client.echo(&data, false).unwrap();
    assert_eq!(echoed.as_slice(), &data[..]);
    assert_eq!(client.echo(b"abc", true).unwrap().as_slice(), b"cba");
    assert_eq!(client.grant(Token(9), 4096), Ok(true));
    assert_eq!(client.log(3, "hello"), Ok(()));
    assert_eq!(client.echo(&[0; 1001], false), Err(RpcError::TooLong { length: 1001, bound: 1000 }));
    assert_eq!(client.add(1, 1), Ok(2));
    assert_eq!(handler.logs, [(3, "hello".into())]);
    assert_eq!(handler.granted, [Token(9)]);
    assert_eq!(Echo::name(Echo::ADD), Some("add"));
}

#[test]
fn bytes_and_str_bounds() {
    assert_eq!(Bytes::<4>::from_slice(b"abcde"), Err(ValueError::TooLong { length: 5, capacity: 4 }));
    let mut bytes = Bytes::<4>::from_slice(b"ab").unwrap();
    bytes.extend_from_slice(b"cd").unwrap();
    assert_eq!(bytes.push(b'e'), Err(ValueError::TooLong { length: 5, capacity: 4 }));
    assert_eq!(&*bytes, b"abcd");
    assert_eq!(Str::<3>::from_text("abcd"), Err(ValueError::TooLong { length: 4, capacity: 3 }));
    assert_eq!(Str::<8>::from_utf8(&[0xff]), Err(ValueError::InvalidUtf8));
    let text: Str<8> = "héllo".parse().unwrap();
    assert_eq!(text.as_str(), "héllo");
    assert_eq!(text.len(), 6);
}

#[test]
fn a_null_rpc_is_one_fragment_each_way() {
    let channel = LoopbackChannel::<4, 8>::new();
    let (client_end, mut server_end) = channel.ends();
    let mut client = EchoClient::new(client_end);
    let null = client.send_null().unwrap();
    let add = client.send_add(1, 2).unwrap();
    assert_eq!(server_end.waiting(), 2);
    let mut dispatcher = EchoDispatcher::new(&mut server_end);
    let mut handler = EchoHandler::default();
    assert_eq!(
        dispatcher.poll_one(&mut handler),
        Ok(Some(Served::Handled { number: Echo::NULL, id: null.id() }))
    );
    assert_eq!(
        dispatcher.poll_one(&mut handler),
        Ok(Some(Served::Handled { number: Echo::ADD, id: add.id() }))
    );
    assert_eq!(dispatcher.poll_one(&mut handler), Ok(None));
    assert_eq!(client.transport().waiting(), 2);
    let header = Header::single(Kind::Reply, Echo::NULL, null.id(), 0, false);
    assert_eq!(receive(client.transport()).map(|(words, _)| words), Some([header.word(), 0, 0, 0]));
    let header = Header::single(Kind::Reply, Echo::ADD, add.id(), 8, false);
    assert_eq!(receive(client.transport()).map(|(words, _)| words), Some([header.word(), 3, 0, 0]));
}

#[test]
fn a_wait_that_cannot_progress_fails_instead_of_hanging() {
    let channel = LoopbackChannel::<8, 2>::new();
    let (client_end, _server_end) = channel.ends();
    let mut idle = || {};
    let mut client = EchoClient::new(client_end.with_wait(&mut idle));
    assert_eq!(client.add(1, 2), Err(RpcError::Transport(TransportError::WouldBlock)));
    assert_eq!(client.add(1, 2), Err(RpcError::Transport(TransportError::WouldBlock)));
    assert_eq!(client.null(), Err(RpcError::Transport(TransportError::WouldBlock)));
    assert_eq!(client.echo(&[1; 100], true), Err(RpcError::Transport(TransportError::WouldBlock)));
}

#[test]
fn narrow_fragments_work_too() {
    fn calls<const W: usize>() {
        let ((), handler) = super::with_echo::<W, _>(true, |client| {
            assert_eq!(client.add(7, 8), Ok(15));
            assert_eq!(client.echo(&[3; 1000], false).map(|data| data.len()), Ok(1000));
            assert_eq!(client.grant(Token(2), 3), Ok(false));
            assert_eq!(client.log(1, "narrow"), Ok(()));
        });
        assert_eq!(handler.granted, [Token(2)]);
    }
    calls::<2>();
    calls::<3>();
    calls::<5>();
    calls::<9>();
}

#[test]
fn headers_round_trip() {
    for kind in [Kind::Request, Kind::Reply, Kind::Error] {
        let header = Header::new(kind, 200, 0xbeef, 1022, 1023, 0xffff, true);
        let decoded = Header::decode(header.word()).unwrap();
        assert_eq!(decoded, header);
        let fields = (decoded.kind(), decoded.number(), decoded.id(), decoded.index(), decoded.count());
        assert_eq!(fields, (kind, 200, 0xbeef, 1022, 1023));
        assert_eq!((decoded.length(), decoded.cap()), (0xffff, true));
    }
    assert_eq!(Header::decode(Header::new(Kind::Request, 0, 0, 1, 1, 0, false).word()), None);
    assert_eq!(Header::decode(Header::new(Kind::Request, 0, 0, 0, 0, 0, false).word()), None);
    assert_eq!(Header::decode(Header::single(Kind::Request, 0, 0, 0, false).word() | 1 << 63), None);
    assert_eq!(Header::decode(3 << 61 | 1 << 34), None);
}

#[test]
fn error_codes_are_stable() {
    for (index, code) in ErrorCode::ALL.into_iter().enumerate() {
        assert_eq!(code.code() as usize, index + 1);
        assert_eq!(ErrorCode::from_code(code.code()), Some(code));
    }
    assert_eq!(ErrorCode::from_code(0), None);
}
