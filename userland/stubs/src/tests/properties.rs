//! Property tests: every type, and every message, round-trips.

use core::fmt::Debug;
use std::string::String;
use std::vec::Vec;

use proptest::prelude::*;

use super::interfaces::EveryReply;
use super::{with_echo, with_every};
use crate::wire::{max_end, Bounded, Decode, Encode, Reader, Writer};
use crate::{Bytes, RpcError, Str, Token};

/// Writes `prefix` `u8`s and `value`, reads them back, and checks the end
/// position against [`Encode::end`] and the [`Bounded`] bound.
fn round_trip<T: Encode + Decode + Bounded + PartialEq + Debug>(prefix: usize, value: &T) {
    let mut words = [0u64; 600];
    let mut writer = Writer::new(&mut words);
    for index in 0..prefix {
        (index as u8).encode(&mut writer);
    }
    value.encode(&mut writer);
    let end = writer.position();
    assert_eq!(value.end(prefix), end);
    assert!(end <= max_end(prefix, T::ALIGN, T::MAX_SIZE));
    let mut reader = Reader::new(&words, end);
    for index in 0..prefix {
        assert_eq!(u8::decode(&mut reader), Ok(index as u8));
    }
    assert_eq!(T::decode(&mut reader).as_ref(), Ok(value));
    assert_eq!(reader.finish(), Ok(()));
    if end > prefix {
        let mut short = Reader::new(&words, end - 1);
        for _ in 0..prefix {
            let _ = u8::decode(&mut short);
        }
        assert!(T::decode(&mut short).is_err(), "a truncated payload must not decode");
    }
}

/// A string of at most `bytes` UTF-8 bytes taken from the front of `text`.
fn clip(text: &str, bytes: usize) -> String {
    let mut clipped = String::new();
    for character in text.chars() {
        if clipped.len() + character.len_utf8() > bytes {
            break;
        }
        clipped.push(character);
    }
    clipped
}

type Scalars = (u8, u16, u32, u64, i8, i16, i32, i64, bool);
type Arrays = ([u8; 5], [i16; 3], [bool; 9], [u64; 2], [i32; 3]);

/// The arguments of one run through every message of `Every`.
#[derive(Clone, Debug)]
struct Input {
    scalars: Scalars,
    arrays: Arrays,
    small: (u8, u16),
    bytes: Vec<u8>,
    text: String,
    big: Vec<u8>,
    tail: u64,
    tokens: (u64, u64, u64),
    note: String,
}

fn input() -> impl Strategy<Value = Input> {
    (
        any::<Scalars>(),
        any::<Arrays>(),
        any::<(u8, u16)>(),
        prop::collection::vec(any::<u8>(), 0..=300),
        ".{0,60}",
        prop::collection::vec(any::<u8>(), 0..=4000),
        any::<u64>(),
        any::<(u64, u64, u64)>(),
        ".{0,30}",
    )
        .prop_map(|(scalars, arrays, small, bytes, text, big, tail, tokens, note)| Input {
            scalars,
            arrays,
            small,
            bytes,
            text: clip(&text, 100),
            big,
            tail,
            tokens,
            note: clip(&note, 50),
        })
}

/// Every message of `Every` once with `input`, over `W`-word fragments,
/// then the same requests pipelined.
fn every_message<const W: usize>(input: &Input, caps: bool) {
    let (a, b, c, d, e, f, g, h, i) = input.scalars;
    let (x, y) = input.small;
    let (first, second, third) = (Token(input.tokens.0), Token(input.tokens.1), Token(input.tokens.2));
    let ((), handler) = with_every::<W, _>(caps, |client| {
        assert_eq!(client.scalars(a, b, c, d, e, f, g, h, i), Ok(input.scalars));
        let (p, q, r, s, t) = input.arrays;
        assert_eq!(client.arrays(p, q, r, s, t, []), Ok((p, q, r, s, t, [])));
        let (text, bytes, echoed_x, echoed_y) = client.strings(x, &input.bytes, &input.text, &[], y).unwrap();
        assert_eq!(
            (text.as_str(), bytes.as_slice(), echoed_x, echoed_y),
            (&*input.text, &*input.bytes, x, y)
        );
        let expected_caps = if caps { Ok((third, first, c)) } else { Err(RpcError::CapsUnsupported) };
        assert_eq!(client.caps(first, c, second, third), expected_caps);
        let expected_note = if caps { Ok(()) } else { Err(RpcError::CapsUnsupported) };
        assert_eq!(client.notify(first, &input.note), expected_note);
        let (big, length, tail) = client.big(&input.big, input.tail).unwrap();
        assert_eq!((big.as_slice(), length as usize, tail), (&*input.big, input.big.len(), input.tail));
        assert_eq!(client.nothing(), Ok(()));

        let scalars = client.send_scalars(a, b, c, d, e, f, g, h, i).unwrap();
        let big = client.send_big(&input.big, input.tail).unwrap();
        let nothing = client.send_nothing().unwrap();
        assert_eq!(client.recv_scalars(scalars), Ok(input.scalars));
        assert_eq!(client.recv_big(big).map(|reply| reply.0.len()), Ok(input.big.len()));
        assert_eq!(client.recv_nothing(nothing), Ok(()));

        let pending = client.send_strings(x, &input.bytes, &input.text, &[], y).unwrap();
        let (id, reply) = client.recv_reply().unwrap();
        assert_eq!(id, pending.id());
        let Ok(EveryReply::Strings { b, a, x: echoed, y: _ }) = reply else { panic!("{reply:?}") };
        assert_eq!((b.as_str(), a.as_slice(), echoed), (&*input.text, &*input.bytes, x));
    });
    let notes: Vec<(Token, String)> =
        if caps { Vec::from([(first, input.note.clone())]) } else { Vec::new() };
    assert_eq!(handler.notes, notes);
}

/// `Echo`'s calls with `data` over `W`-word fragments.
fn echo_messages<const W: usize>(data: &[u8], text: &str, caps: bool) {
    let ((), handler) = with_echo::<W, _>(caps, |client| {
        assert_eq!(client.echo(data, false).unwrap().as_slice(), data);
        let mut reversed = Vec::from(data);
        reversed.reverse();
        assert_eq!(client.echo(data, true).unwrap().as_slice(), &*reversed);
        assert_eq!(client.log(7, text), Ok(()));
        assert_eq!(client.table([3; 12]), Ok(36));
        let expected = if caps { Ok(true) } else { Err(RpcError::CapsUnsupported) };
        assert_eq!(client.grant(Token(1), 64), expected);
    });
    assert_eq!(handler.logs, [(7, text.into())]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scalars_round_trip(prefix in 0usize..9, values in any::<Scalars>()) {
        let (a, b, c, d, e, f, g, h, i) = values;
        round_trip(prefix, &a);
        round_trip(prefix, &b);
        round_trip(prefix, &c);
        round_trip(prefix, &d);
        round_trip(prefix, &e);
        round_trip(prefix, &f);
        round_trip(prefix, &g);
        round_trip(prefix, &h);
        round_trip(prefix, &i);
    }

    #[test]
    fn arrays_round_trip(prefix in 0usize..9, arrays in any::<Arrays>(), longer in any::<[u8; 13]>()) {
        round_trip(prefix, &arrays.0);
        round_trip(prefix, &arrays.1);
        round_trip(prefix, &arrays.2);
        round_trip(prefix, &arrays.3);
        round_trip(prefix, &arrays.4);
        round_trip(prefix, &longer);
        round_trip::<[u16; 0]>(prefix, &[]);
    }

    #[test]
    fn strings_round_trip(prefix in 0usize..9, bytes in prop::collection::vec(any::<u8>(), 0..=4000), text in ".{0,80}") {
        round_trip(prefix, &Bytes::<4000>::from_slice(&bytes).unwrap());
        round_trip(prefix, &Str::<400>::from_text(&text).unwrap());
        round_trip(prefix, &Bytes::<0>::new());
    }

    #[test]
    fn every_message_round_trips(input in input()) {
        for caps in [true, false] {
            every_message::<4>(&input, caps);
            every_message::<7>(&input, caps);
            every_message::<8>(&input, caps);
        }
    }

    #[test]
    fn echo_round_trips(data in prop::collection::vec(any::<u8>(), 0..=1000), text in ".{0,60}") {
        let text = clip(&text, 200);
        for caps in [true, false] {
            echo_messages::<4>(&data, &text, caps);
            echo_messages::<7>(&data, &text, caps);
            echo_messages::<8>(&data, &text, caps);
        }
    }
}
