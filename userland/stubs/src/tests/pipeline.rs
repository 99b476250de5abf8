//! Pipelined requests with large payloads over the loopback transport.

use std::vec::Vec;

use super::interfaces::EveryReply;
use super::{with_echo, with_every};
use crate::{Bytes, ErrorCode, Header, Kind, RpcError, Transport, TransportError};

/// Payload `index` of a pipeline: its length and contents vary with `index`.
fn data(index: usize, longest: usize) -> Vec<u8> {
    (0..(index * 97) % (longest + 1)).map(|byte| (byte * 31 + index) as u8).collect()
}

fn pipelined_echoes<const W: usize>() {
    let ((), _) = with_echo::<W, _>(true, |client| {
        let pending: Vec<_> =
            (0..10).map(|index| client.send_echo(&data(index, 1000), index % 2 == 0).unwrap()).collect();
        let sums: Vec<_> = (0..24).map(|index| client.send_add(index, 1000).unwrap()).collect();
        for (index, pending) in pending.into_iter().enumerate() {
            let mut expected = data(index, 1000);
            if index % 2 == 0 {
                expected.reverse();
            }
            assert_eq!(client.recv_echo(pending).unwrap().as_slice(), &*expected);
        }
        for (index, pending) in sums.into_iter().enumerate() {
            assert_eq!(client.recv_add(pending), Ok(index as u64 + 1000));
        }
    });
}

#[test]
fn pipelined_echoes_at_every_width() {
    pipelined_echoes::<4>();
    pipelined_echoes::<7>();
    pipelined_echoes::<8>();
}

#[test]
fn pipelined_replies_of_any_kind() {
    let ((), _) = with_every::<7, _>(true, |client| {
        let big = client.send_big(&[5; 4000], 17).unwrap();
        let nothing = client.send_nothing().unwrap();
        let strings = client.send_strings(1, b"bytes", "text", &[], 2).unwrap();
        let (id, reply) = client.recv_reply().unwrap();
        let Ok(EveryReply::Big { data, length: 4000, tail: 17 }) = reply else { panic!("{reply:?}") };
        assert_eq!((id, data), (big.id(), Bytes::from_slice(&[5; 4000]).unwrap()));
        assert_eq!(client.recv_reply(), Ok((nothing.id(), Ok(EveryReply::Nothing))));
        let (id, reply) = client.recv_reply().unwrap();
        assert_eq!(id, strings.id());
        assert!(matches!(reply, Ok(EveryReply::Strings { x: 1, y: 2, .. })));
    });
}

#[test]
fn a_rejected_request_does_not_disturb_the_pipeline() {
    let ((), _) = with_echo::<4, _>(true, |client| {
        let first = client.send_echo(&[1; 600], false).unwrap();
        let second = client.send_add(1, 2).unwrap();
        // An unknown message number, injected between two good requests.
        let stray = [Header::single(Kind::Request, 99, 7, 0, false).word(), 0, 0, 0];
        client.transport().try_send(&stray, &mut None).unwrap();
        let third = client.send_null().unwrap();
        assert_eq!(client.recv_echo(first).map(|data| data.len()), Ok(600));
        assert_eq!(client.recv_add(second), Ok(3));
        assert_eq!(client.recv_reply(), Ok((7, Err(RpcError::Remote(ErrorCode::UnknownMessage)))));
        assert_eq!(client.recv_null(third), Ok(()));
        assert_eq!(client.recv_reply(), Err(RpcError::Transport(TransportError::WouldBlock)));
    });
}
