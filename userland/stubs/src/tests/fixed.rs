//! Messages whose fields all have a fixed size: written and read at
//! constant positions (`wire::Fixed`), and taken by `poll_one` straight
//! from the fragment after one comparison of the header. Both must agree
//! with the general encoding and checks, bit for bit and outcome for
//! outcome.

use std::boxed::Box;
use std::vec::Vec;

use super::handlers::{EchoHandler, EveryHandler};
use super::interfaces::{Echo, EchoDispatcher, Every, EveryClient, EveryDispatcher};
use super::malformed::{fragment, request, Fragment};
use super::{receive, DEPTH};
use crate::probe::fast_count;
use crate::wire::{fixed_length, fixed_positions, Encode, Fixed, Writer};
use crate::{ErrorCode, Header, Kind, LoopbackChannel, Served, Transport};

/// xorshift64*, as in the fuzz tests.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

#[test]
fn fixed_layouts_are_those_of_encode() {
    type Five = [u8; 5];
    type Empty = [u8; 0];
    let layout = [
        (<u8 as Fixed>::ALIGN, <u8 as Fixed>::COUNT),
        (<Empty as Fixed>::ALIGN, <Empty as Fixed>::COUNT),
        (<u32 as Fixed>::ALIGN, <u32 as Fixed>::COUNT),
        (<Five as Fixed>::ALIGN, <Five as Fixed>::COUNT),
        (<[i16; 3] as Fixed>::ALIGN, <[i16; 3] as Fixed>::COUNT),
        (<u64 as Fixed>::ALIGN, <u64 as Fixed>::COUNT),
        (<Empty as Fixed>::ALIGN, <Empty as Fixed>::COUNT),
    ];
    assert_eq!(fixed_positions(layout), [0, 1, 4, 8, 14, 24, 32]);
    assert_eq!(fixed_length(layout), 32);
    let mut end = 0;
    end = 1u8.end(end);
    end = [0u8; 0].end(end);
    end = 1u32.end(end);
    end = [0u8; 5].end(end);
    end = [0i16; 3].end(end);
    end = 1u64.end(end);
    end = [0u8; 0].end(end);
    assert_eq!(end, 32);
    assert_eq!(fixed_length([]), 0);
    assert_eq!(fixed_length([(1, 0)]), 0);
}

#[test]
fn fixed_writes_and_reads_are_those_of_encode_and_decode() {
    let mut random = Random(0x5eed_f1ed);
    for _ in 0..2000 {
        let values = (
            random.next() as u8,
            [random.next() as u16, random.next() as u16, random.next() as u16],
            random.next() & 1 == 1,
            [random.next(), random.next(), random.next()],
            random.next() as i32,
            [random.next() & 1 == 0, true, false],
        );
        let mut general = [0u64; 8];
        let mut writer = Writer::new(&mut general);
        values.0.encode(&mut writer);
        values.1.encode(&mut writer);
        values.2.encode(&mut writer);
        values.3.encode(&mut writer);
        values.4.encode(&mut writer);
        values.5.encode(&mut writer);
        let end = writer.position();
        let layout = [(1, 1), (2, 3), (1, 1), (8, 3), (4, 1), (1, 3)];
        let at = fixed_positions(layout);
        assert_eq!(fixed_length(layout), end);
        let mut fixed = [0u64; 8];
        let mut writer = Writer::new(&mut fixed);
        writer.put(&values.0, at[0]);
        writer.put(&values.1, at[1]);
        writer.put(&values.2, at[2]);
        writer.put(&values.3, at[3]);
        writer.put(&values.4, at[4]);
        writer.put(&values.5, at[5]);
        assert_eq!(writer.position(), end);
        assert_eq!(fixed, general);
        assert_eq!(u8::read(&fixed, at[0]), Ok(values.0));
        assert_eq!(<[u16; 3]>::read(&fixed, at[1]), Ok(values.1));
        assert_eq!(bool::read(&fixed, at[2]), Ok(values.2));
        assert_eq!(<[u64; 3]>::read(&fixed, at[3]), Ok(values.3));
        assert_eq!(i32::read(&fixed, at[4]), Ok(values.4));
        assert_eq!(<[bool; 3]>::read(&fixed, at[5]), Ok(values.5));
        // A bool byte of 2 anywhere is refused.
        let mut broken = fixed;
        broken[at[5] / 8] |= 2 << ((at[5] + random.below(3)) % 8 * 8);
        assert_eq!(<[bool; 3]>::read(&broken, at[5]), Err(ErrorCode::InvalidBool));
    }
    // Past the end: dropped when written, zero when read.
    let mut short = [0u64; 1];
    Writer::new(&mut short).put(&[u64::MAX; 3], 0);
    assert_eq!(short, [u64::MAX]);
    assert_eq!(<[u64; 2]>::read(&short, 0), Ok([u64::MAX, 0]));
}

#[test]
fn fixed_requests_are_sent_as_encode_writes_them() {
    let mut random = Random(0xc0ffee);
    let channel = Box::new(LoopbackChannel::<8, DEPTH>::new());
    let (client_end, mut server) = channel.ends();
    let mut client = EveryClient::new(client_end);
    for _ in 0..500 {
        let scalars = (
            random.next() as u8,
            random.next() as u16,
            random.next() as u32,
            random.next(),
            random.next() as i8,
            random.next() as i16,
            random.next() as i32,
            random.next() as i64,
            random.next() & 1 == 1,
        );
        let (a, b, c, d, e, f, g, h, i) = scalars;
        let pending = client.send_scalars(a, b, c, d, e, f, g, h, i).unwrap();
        let mut expected = [0u64; 7];
        let mut writer = Writer::new(&mut expected);
        a.encode(&mut writer);
        b.encode(&mut writer);
        c.encode(&mut writer);
        d.encode(&mut writer);
        e.encode(&mut writer);
        f.encode(&mut writer);
        g.encode(&mut writer);
        h.encode(&mut writer);
        i.encode(&mut writer);
        let header = Header::single(Kind::Request, Every::SCALARS, pending.id(), 33, false).word();
        let (words, cap) = receive(&mut server).unwrap();
        assert_eq!(cap, None);
        assert_eq!(words[0], header);
        assert_eq!(words[1..], expected);
        let array = |random: &mut Random| random.next().to_le_bytes();
        let bytes = array(&mut random);
        let arrays = (
            [bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]],
            [random.next() as i16, random.next() as i16, random.next() as i16],
            core::array::from_fn::<bool, 9, _>(|_| random.next() & 1 == 1),
            [random.next(), random.next()],
            [random.next() as i32, random.next() as i32, random.next() as i32],
        );
        let (a, b, c, d, e) = arrays;
        let pending = client.send_arrays(a, b, c, d, e, []).unwrap();
        let mut expected = [0u64; 7];
        let mut writer = Writer::new(&mut expected);
        a.encode(&mut writer);
        b.encode(&mut writer);
        c.encode(&mut writer);
        d.encode(&mut writer);
        e.encode(&mut writer);
        [0u8; 0].encode(&mut writer);
        let header = Header::single(Kind::Request, Every::ARRAYS, pending.id(), 52, false).word();
        let (words, _) = receive(&mut server).unwrap();
        assert_eq!(words[0], header);
        assert_eq!(words[1..], expected);
    }
}

/// The bytes of `payload` that hold `bool`s, for each fixed-size request of
/// `Every` and `Echo`: `(number, length, bool byte positions)`.
const EVERY_FIXED: [(u8, u16, &[usize]); 3] = [
    (Every::SCALARS, 33, &[32]),
    (Every::ARRAYS, 52, &[12, 13, 14, 15, 16, 17, 18, 19, 20]),
    (Every::NOTHING, 0, &[]),
];
const ECHO_FIXED: [(u8, u16, &[usize]); 3] =
    [(Echo::ADD, 8, &[]), (Echo::NULL, 0, &[]), (Echo::TABLE, 24, &[])];

/// A request with the header its fast path expects and random payload
/// words: random padding, random words past the length, and `bool`s valid
/// but for (sometimes) one.
fn fixed_request<const W: usize>(
    random: &mut Random,
    messages: &[(u8, u16, &[usize])],
    id: u16,
) -> Fragment<W> {
    let (number, length, bools) = messages[random.below(messages.len())];
    let mut payload: Vec<u64> = (1..W).map(|_| random.next()).collect();
    let set = |payload: &mut Vec<u64>, at: usize, value: u64| {
        if let Some(word) = payload.get_mut(at / 8) {
            let shift = at % 8 * 8;
            *word = *word & !(0xff << shift) | value << shift;
        }
    };
    for &at in bools {
        set(&mut payload, at, random.next() & 1);
    }
    if !bools.is_empty() && random.below(4) == 0 {
        set(&mut payload, bools[random.below(bools.len())], 2 + random.next() % 254);
    }
    fragment(request(number, id, 0, 1, length, false), &payload, None)
}

/// The first fragment of a two-fragment request (message `number`, whose
/// bound allows it): whatever follows interrupts it, is stashed and then
/// checked in full.
fn opening<const W: usize>(number: u8) -> Fragment<W> {
    let length = ((W - 1) * 8 * 2) as u16;
    fragment(Header::new(Kind::Request, number, 0xbeef, 0, 2, length, false).word(), &[], None)
}

/// What a dispatcher made of fragments: outcomes, replies and what the
/// handler saw.
type Run<const W: usize> = (Vec<Served>, Vec<[u64; W]>);

/// Serves each of `requests` with `poll_one`: on its own (`general` false:
/// the fast path), or after the opening of a longer message that it
/// interrupts (`general`: checked in full after the interruption, whose
/// rejection is left out).
fn serve_every<const W: usize>(requests: &[Fragment<W>], general: bool) -> (Run<W>, u64) {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut client, server) = channel.ends();
    let mut dispatcher = EveryDispatcher::new(server);
    let mut handler = EveryHandler::default();
    let mut outcomes = Vec::new();
    let mut replies = Vec::new();
    let before = fast_count();
    for (words, cap) in requests {
        if general {
            let (opening, mut none) = opening::<W>(Every::BIG);
            client.try_send(&opening, &mut none).unwrap();
        }
        client.try_send(words, &mut cap.clone()).unwrap();
        if general {
            let interrupted = dispatcher.poll_one(&mut handler).unwrap();
            let code = ErrorCode::Interleaved;
            assert_eq!(interrupted, Some(Served::Rejected { number: Every::BIG, id: 0xbeef, code }));
            let (reply, _) = receive(&mut client).unwrap();
            assert_eq!(reply[0], Header::single(Kind::Error, Every::BIG, 0xbeef, 4, false).word());
        }
        outcomes.push(dispatcher.poll_one(&mut handler).unwrap());
        assert_eq!(dispatcher.poll_one(&mut handler), Ok(None));
        while let Some((reply, _)) = receive(&mut client) {
            replies.push(reply);
        }
    }
    let outcomes = outcomes.into_iter().map(Option::unwrap).collect();
    ((outcomes, replies), fast_count() - before)
}

/// As [`serve_every`], for `Echo`.
fn serve_echo<const W: usize>(requests: &[Fragment<W>], general: bool) -> (Run<W>, u64) {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut client, server) = channel.ends();
    let mut dispatcher = EchoDispatcher::new(server);
    let mut handler = EchoHandler::default();
    let mut outcomes = Vec::new();
    let mut replies = Vec::new();
    let before = fast_count();
    for (words, cap) in requests {
        if general {
            let (opening, mut none) = opening::<W>(Echo::ECHO);
            client.try_send(&opening, &mut none).unwrap();
            client.try_send(words, &mut cap.clone()).unwrap();
            let interrupted = dispatcher.poll_one(&mut handler).unwrap();
            assert!(matches!(interrupted, Some(Served::Rejected { code: ErrorCode::Interleaved, .. })));
            receive(&mut client).unwrap();
        } else {
            client.try_send(words, &mut cap.clone()).unwrap();
        }
        outcomes.push(dispatcher.poll_one(&mut handler).unwrap().unwrap());
        while let Some((reply, _)) = receive(&mut client) {
            replies.push(reply);
        }
    }
    ((outcomes, replies), fast_count() - before)
}

/// Random fixed-size requests to `poll_one`'s fast path and to the full
/// checks: the same outcomes, and the same replies (which, for `Every`,
/// carry the fields decoded back).
fn fast_agrees_with_general<const W: usize>(seed: u64) {
    let mut random = Random(seed);
    let every: Vec<Fragment<W>> = (0..300).map(|id| fixed_request(&mut random, &EVERY_FIXED, id)).collect();
    let ((fast, fast_replies), taken) = serve_every(&every, false);
    let ((general, general_replies), checked) = serve_every(&every, true);
    assert_eq!(fast, general, "W = {W}");
    assert_eq!(fast_replies, general_replies, "W = {W}");
    // Each request that fits one fragment takes the fast path, the others
    // none.
    let fits =
        |(words, _): &Fragment<W>| usize::from(Header::decode(words[0]).unwrap().length()) <= (W - 1) * 8;
    assert_eq!(taken, every.iter().filter(|request| fits(request)).count() as u64);
    assert_eq!(checked, 0);
    assert!(fast.iter().any(|served| matches!(served, Served::Handled { .. })));
    if W >= 6 {
        let invalid =
            |served: &Served| matches!(served, Served::Rejected { code: ErrorCode::InvalidBool, .. });
        assert!(fast.iter().any(invalid));
    }
    let echo: Vec<Fragment<W>> = (0..300).map(|id| fixed_request(&mut random, &ECHO_FIXED, id)).collect();
    let ((fast, fast_replies), _) = serve_echo(&echo, false);
    let ((general, general_replies), _) = serve_echo(&echo, true);
    assert_eq!(fast, general, "W = {W}");
    assert_eq!(fast_replies, general_replies, "W = {W}");
}

#[test]
fn poll_one_takes_fixed_requests_after_one_comparison_with_the_same_outcome() {
    fast_agrees_with_general::<2>(1);
    fast_agrees_with_general::<3>(2);
    fast_agrees_with_general::<4>(3);
    fast_agrees_with_general::<7>(4);
    fast_agrees_with_general::<8>(5);
}

crate::interface! {
    /// The userland `MonitorLink` interface: one-way messages of one URPC
    /// fragment between the monitors.
    interface MonitorLink {
        message submit(w: [u64; 6]);
        message ordered(w: [u64; 6]);
        message sync(w: [u64; 6]);
        message ram_ask(w: [u64; 6]);
        message ram_deny(w: [u64; 6]);
        message revoke_ack(w: [u64; 6]);
        message hello(core: u32, peers: u32);
        message control(op: u32, core: u32, a: u64, b: u64, c: u64, d: u64);
    }
}

/// Records what arrives, by message number.
#[derive(Default)]
struct Inbox {
    received: Vec<(u8, [u64; 6])>,
}

impl MonitorLinkServer for Inbox {
    fn submit(&mut self, w: [u64; 6]) {
        self.received.push((MonitorLink::SUBMIT, w));
    }
    fn ordered(&mut self, w: [u64; 6]) {
        self.received.push((MonitorLink::ORDERED, w));
    }
    fn sync(&mut self, w: [u64; 6]) {
        self.received.push((MonitorLink::SYNC, w));
    }
    fn ram_ask(&mut self, w: [u64; 6]) {
        self.received.push((MonitorLink::RAM_ASK, w));
    }
    fn ram_deny(&mut self, w: [u64; 6]) {
        self.received.push((MonitorLink::RAM_DENY, w));
    }
    fn revoke_ack(&mut self, w: [u64; 6]) {
        self.received.push((MonitorLink::REVOKE_ACK, w));
    }
    fn hello(&mut self, core: u32, peers: u32) {
        self.received.push((MonitorLink::HELLO, [u64::from(core), u64::from(peers), 0, 0, 0, 0]));
    }
    fn control(&mut self, op: u32, core: u32, a: u64, b: u64, c: u64, d: u64) {
        self.received.push((MonitorLink::CONTROL, [u64::from(op), u64::from(core), a, b, c, d]));
    }
}

#[test]
fn monitor_link_messages_are_one_fragment_each_way_and_take_the_fast_path() {
    let channel = Box::new(LoopbackChannel::<7, DEPTH>::new());
    let (client_end, server_end) = channel.ends();
    let mut client = MonitorLinkClient::new(client_end.without_caps());
    let mut dispatcher = MonitorLinkDispatcher::new(server_end.without_caps());
    let mut inbox = Inbox::default();
    let mut random = Random(7);
    let mut expected = Vec::new();
    for round in 0..200u16 {
        let w: [u64; 6] = core::array::from_fn(|_| random.next());
        let number = (random.next() % 8) as u8;
        match number {
            MonitorLink::SUBMIT => client.submit(w),
            MonitorLink::ORDERED => client.ordered(w),
            MonitorLink::SYNC => client.sync(w),
            MonitorLink::RAM_ASK => client.ram_ask(w),
            MonitorLink::RAM_DENY => client.ram_deny(w),
            MonitorLink::REVOKE_ACK => client.revoke_ack(w),
            MonitorLink::HELLO => client.hello(w[0] as u32, w[1] as u32),
            _ => client.control(w[0] as u32, w[1] as u32, w[2], w[3], w[4], w[5]),
        }
        .unwrap();
        let w = match number {
            MonitorLink::HELLO => [w[0] & 0xffff_ffff, w[1] & 0xffff_ffff, 0, 0, 0, 0],
            MonitorLink::CONTROL => [w[0] & 0xffff_ffff, w[1] & 0xffff_ffff, w[2], w[3], w[4], w[5]],
            _ => w,
        };
        expected.push((number, w));
        assert_eq!(dispatcher.transport().waiting(), 1, "one fragment per message");
        let before = fast_count();
        assert_eq!(dispatcher.poll_one(&mut inbox), Ok(Some(Served::Handled { number, id: round })));
        assert_eq!(fast_count(), before + 1);
        assert_eq!(dispatcher.poll_one(&mut inbox), Ok(None));
        assert_eq!(client.transport().waiting(), 0, "no reply to a one-way message");
    }
    assert_eq!(inbox.received, expected);
    // A malformed one still gets its own error, after the full checks.
    let mut raw = client.into_transport();
    let submit = request(MonitorLink::SUBMIT, 9, 0, 1, 40, false);
    raw.try_send(&fragment::<7>(submit, &[1, 2, 3, 4, 5], None).0, &mut None).unwrap();
    let code = ErrorCode::WrongLength;
    let rejected = Served::Rejected { number: MonitorLink::SUBMIT, id: 9, code };
    assert_eq!(dispatcher.poll_one(&mut inbox), Ok(Some(rejected)));
    let (reply, _) = receive(&mut raw).unwrap();
    let error = Header::single(Kind::Error, MonitorLink::SUBMIT, 9, 4, false).word();
    assert_eq!(reply[..2], [error, u64::from(code.code())]);
}
