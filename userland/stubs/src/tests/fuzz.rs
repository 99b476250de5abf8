//! Decoder fuzzing: random and mutated fragment sequences into a dispatcher.
//!
//! Every sequence goes to two dispatchers: one polled with `poll_one`, one
//! running the serving loop `serve` over a transport that does
//! `reply_and_receive` in one operation, so that most fragments reach it
//! through `reply_and_receive`. Both must answer alike, fragment for
//! fragment. Fuzzed replies reach clients through `recv_reply` and through
//! the `call` of blocking RPCs.
//!
//! A million sequences take about 12 s in a debug build and 1 s in release
//! (`cargo test --release -p stubs fuzz -- --nocapture` shows the outcomes).

use std::boxed::Box;
use std::vec::Vec;

use super::counted::Counted;
use super::handlers::{EchoHandler, EveryHandler};
use super::interfaces::{
    EchoClient, EchoDispatcher, EchoReply, EchoServer, EveryClient, EveryDispatcher, EveryReply,
};
use super::malformed::Fragment;
use super::{receive, End, DEPTH};
use crate::{
    Bytes, ErrorCode, Header, LoopbackChannel, RpcError, Served, Str, Token, Transport, TransportError,
};

/// xorshift64*: fast, deterministic, good enough to pick mutations.
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

/// The valid fragment sequences the client stub sends after `send`, one
/// vector per message.
fn capture<const W: usize>(send: impl FnOnce(&mut End<'_, W>)) -> Vec<Vec<Fragment<W>>> {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut client, mut server) = channel.ends();
    send(&mut client);
    let mut messages: Vec<Vec<Fragment<W>>> = Vec::new();
    while let Some(fragment) = receive(&mut server) {
        match Header::decode(fragment.0[0]).unwrap().index() {
            0 => messages.push(Vec::from([fragment])),
            _ => messages.last_mut().unwrap().push(fragment),
        }
    }
    messages
}

/// Makes fragment sequences from `corpus`, most of them broken.
struct Mutator<const W: usize> {
    random: Random,
    corpus: Vec<Vec<Fragment<W>>>,
    caps: bool,
}

impl<const W: usize> Mutator<W> {
    /// Fills `out` with a fresh sequence.
    fn sequence(&mut self, out: &mut Vec<Fragment<W>>) {
        out.clear();
        let pick = self.random.below(self.corpus.len());
        out.extend_from_slice(&self.corpus[pick]);
        if self.random.below(16) == 0 {
            return;
        }
        for _ in 0..1 + self.random.below(3) {
            self.mutate(out);
        }
        out.truncate(64);
    }

    fn mutate(&mut self, out: &mut Vec<Fragment<W>>) {
        let random = &mut self.random;
        let at = random.below(out.len().max(1));
        match random.below(12) {
            0 | 1 if !out.is_empty() => {
                let word = random.below(W);
                out[at].0[word] ^= 1 << random.below(64);
            }
            2 | 3 if !out.is_empty() => {
                let (shift, width) =
                    [(0, 8), (8, 16), (24, 10), (34, 10), (44, 16), (60, 1), (61, 2), (63, 1)]
                        [random.below(8)];
                let mask = ((1u64 << width) - 1) << shift;
                let value = match random.below(3) {
                    0 => random.next(),
                    1 => 0,
                    _ => random.next() % 4,
                };
                out[at].0[0] = out[at].0[0] & !mask | (value << shift) & mask;
            }
            4 if !out.is_empty() => {
                out.remove(at);
            }
            5 if !out.is_empty() => out.insert(at, out[at]),
            6 if out.len() > 1 => {
                let other = random.below(out.len());
                out.swap(at, other);
            }
            7 => {
                let other = &self.corpus[random.below(self.corpus.len())];
                let keep = random.below(out.len() + 1);
                out.truncate(keep);
                out.extend_from_slice(&other[random.below(other.len())..]);
            }
            8 => {
                let mut words = [0; W];
                words.iter_mut().for_each(|word| *word = random.next());
                if random.below(2) == 0 {
                    words[0] &= !(1 << 63);
                    words[0] = (words[0] & !0xff) | (random.next() % 8);
                }
                out.insert(at.min(out.len()), (words, None));
            }
            9 if self.caps && !out.is_empty() => {
                let cap = &mut out[at].1;
                *cap = if cap.is_some() { None } else { Some(Token(random.next())) };
            }
            10 if !out.is_empty() => {
                let word = 1 + random.below(W - 1);
                out[at].0[word] = [0, u64::MAX, random.next(), 1 << 16 | 0xff][random.below(4)];
            }
            _ if !out.is_empty() => {
                let cut = random.below(out.len());
                out.truncate(cut.max(1));
            }
            _ => {}
        }
    }
}

/// Handles `Echo` requests without recording anything.
struct Quiet;

impl EchoServer<Token> for Quiet {
    fn log(&mut self, _level: u8, _text: Str<200>) {}
    fn add(&mut self, a: u32, b: u32) -> u64 {
        u64::from(a) + u64::from(b)
    }
    fn echo(&mut self, data: Bytes<1000>, _flag: bool) -> Bytes<1000> {
        data
    }
    fn grant(&mut self, _frame: Token, size: u64) -> bool {
        size > 0
    }
    fn null(&mut self) {}
    fn table(&mut self, values: [u16; 12]) -> u32 {
        values.iter().map(|&value| u32::from(value)).sum()
    }
}

/// The requests the `Echo` corpus starts from.
fn echo_corpus<const W: usize>(caps: bool) -> Vec<Vec<Fragment<W>>> {
    capture::<W>(|end| {
        let mut client = EchoClient::new(end);
        let _ = client.send_add(1, 2).unwrap();
        let _ = client.send_null().unwrap();
        let _ = client.send_table([7; 12]).unwrap();
        client.log(1, "").unwrap();
        client.log(2, "a log line long enough for two fragments at four words").unwrap();
        for length in [0, 5, 23, 40, 100, 333, 1000] {
            let _ = client.send_echo(&[0x5a; 1000][..length], length % 2 == 0).unwrap();
        }
        if caps {
            let _ = client.send_grant(Token(7), 4096).unwrap();
        }
    })
}

/// Runs `iterations` fuzzed sequences into an `Echo` dispatcher and its
/// serving-loop twin over `W` words, checking every 4096 and at the end that
/// both still answer; the outcomes, and the `reply_and_receive`s done.
fn fuzz_echo<const W: usize>(iterations: usize, seed: u64, caps: bool) -> (Outcomes, u64) {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut client, server) = channel.ends();
    let mut dispatcher = EchoDispatcher::new(if caps { server } else { server.without_caps() });
    let twin_channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut twin_client, twin_server) = twin_channel.ends();
    let (twin_server, counter) = Counted::new(if caps { twin_server } else { twin_server.without_caps() });
    let mut looping = EchoDispatcher::new(twin_server);
    let mut mutator = Mutator { random: Random(seed), corpus: echo_corpus::<W>(caps), caps };
    let mut sequence = Vec::new();
    let mut twins = Twins::default();
    for iteration in 0..iterations {
        mutator.sequence(&mut sequence);
        twins.inject(&sequence, &mut client, &mut twin_client);
        poll_all(&mut twins.polled, || dispatcher.poll_one(&mut Quiet));
        serve_looping(&mut twins.looped, |keep_going| looping.serve(&mut Quiet, keep_going));
        twins.compare(&mut client, &mut twin_client);
        if iteration % 4096 == 0 || iteration + 1 == iterations {
            echo_answers(&mut client, || {
                poll_all(&mut Vec::new(), || dispatcher.poll_one(&mut EchoHandler::default()));
            });
            echo_answers(&mut twin_client, || {
                let handler = &mut EchoHandler::default();
                serve_looping(&mut Vec::new(), |keep_going| looping.serve(handler, keep_going));
            });
        }
    }
    (twins.outcomes, counter.get().replies)
}

/// Outcomes by error code; index 0 counts handled messages.
type Outcomes = [u64; 16];

/// A polling dispatcher and a serving-loop one fed the same fragments:
/// what each did with them.
struct Twins<const W: usize> {
    /// The outcomes of `poll_one`.
    polled: Vec<Served>,
    /// The outcomes of the serving loop.
    looped: Vec<Served>,
    /// The fragments the polling dispatcher sent back.
    polled_replies: Vec<Fragment<W>>,
    /// The fragments the serving loop sent back.
    looped_replies: Vec<Fragment<W>>,
    /// Every outcome so far, by code.
    outcomes: Outcomes,
}

impl<const W: usize> Default for Twins<W> {
    fn default() -> Self {
        Self {
            polled: Vec::new(),
            looped: Vec::new(),
            polled_replies: Vec::new(),
            looped_replies: Vec::new(),
            outcomes: Outcomes::default(),
        }
    }
}

impl<const W: usize> Twins<W> {
    /// Sends `sequence` as it is to both dispatchers.
    fn inject(&mut self, sequence: &[Fragment<W>], first: &mut End<'_, W>, second: &mut End<'_, W>) {
        for (words, cap) in sequence {
            first.try_send(words, &mut cap.clone()).unwrap();
            second.try_send(words, &mut cap.clone()).unwrap();
        }
    }

    /// Checks that both dispatchers did the same and sent back the same
    /// fragments, and counts the outcomes.
    fn compare(&mut self, first: &mut End<'_, W>, second: &mut End<'_, W>) {
        assert_eq!(self.polled, self.looped, "the serving loop and poll_one disagree");
        for served in &self.polled {
            let index = match served {
                Served::Handled { .. } => 0,
                Served::Rejected { code, .. } => code.code() as usize,
            };
            self.outcomes[index] += 1;
        }
        self.polled_replies.clear();
        self.polled_replies.extend(core::iter::from_fn(|| receive(first)));
        self.looped_replies.clear();
        self.looped_replies.extend(core::iter::from_fn(|| receive(second)));
        assert_eq!(self.polled_replies, self.looped_replies, "the serving loop and poll_one replied apart");
    }
}

/// Polls until no message is complete, recording the outcomes in `seen`; a
/// poll never fails and each serves a message, so a few dozen at most are
/// needed.
fn poll_all<E: core::fmt::Debug>(
    seen: &mut Vec<Served>,
    mut poll: impl FnMut() -> Result<Option<Served>, E>,
) {
    seen.clear();
    for _ in 0..200 {
        match poll().unwrap() {
            None => return,
            Some(served) => seen.push(served),
        }
    }
    panic!("the dispatcher kept serving");
}

/// Runs a serving loop until it runs out of input (the loopback's wait
/// fails with `WouldBlock`), recording the outcomes in `seen`.
fn serve_looping(
    seen: &mut Vec<Served>,
    serve: impl FnOnce(&mut dyn FnMut(Served) -> bool) -> Result<(), TransportError>,
) {
    seen.clear();
    let end = serve(&mut |served| {
        seen.push(served);
        seen.len() < 200
    });
    assert_eq!(end, Err(TransportError::WouldBlock), "the serving loop kept serving");
}

/// Checks that every code in `expected` (0: handled) was seen.
fn assert_seen(outcomes: &Outcomes, expected: &[ErrorCode]) {
    std::eprintln!("outcomes by code (0 = handled): {outcomes:?}");
    assert!(outcomes[0] > 0, "no fuzzed message was handled");
    for code in expected {
        assert!(outcomes[code.code() as usize] > 0, "never rejected with {code:?}");
    }
}

/// The codes a fuzzed `Echo` or `Every` dispatcher can send.
const REACHABLE: [ErrorCode; 12] = [
    ErrorCode::BadHeader,
    ErrorCode::UnknownMessage,
    ErrorCode::WrongLength,
    ErrorCode::TooLarge,
    ErrorCode::FragmentCount,
    ErrorCode::FragmentOrder,
    ErrorCode::Interleaved,
    ErrorCode::InvalidBool,
    ErrorCode::OverBound,
    ErrorCode::InvalidUtf8,
    ErrorCode::UnexpectedCap,
    ErrorCode::MissingCap,
];

/// Checks that a good `add` is answered once `serve` has served what is
/// waiting (a second try if the first collided with a partial fuzzed
/// message of the same id).
fn echo_answers<const W: usize>(client: &mut End<'_, W>, mut serve: impl FnMut()) {
    let mut client = EchoClient::new(client);
    for attempt in 0..2 {
        let pending = client.send_add(40, 2).unwrap();
        serve();
        let mut answer = None;
        while let Ok((id, reply)) = client.recv_reply() {
            if id == pending.id() {
                answer = Some(reply);
            }
        }
        match answer {
            Some(Ok(reply)) => return assert_eq!(reply, EchoReply::Add { sum: 42 }),
            other => assert_eq!(attempt, 0, "no answer: {other:?}"),
        }
    }
}

/// Runs `iterations` fuzzed sequences into an `Every` dispatcher (several
/// capabilities per message) and its serving-loop twin.
fn fuzz_every<const W: usize>(iterations: usize, seed: u64) -> (Outcomes, u64) {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut client, server) = channel.ends();
    let mut dispatcher = EveryDispatcher::new(server);
    let mut handler = EveryHandler::default();
    let twin_channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut twin_client, twin_server) = twin_channel.ends();
    let (twin_server, counter) = Counted::new(twin_server);
    let mut looping = EveryDispatcher::new(twin_server);
    let mut twin_handler = EveryHandler::default();
    let corpus = capture::<W>(|end| {
        let mut client = EveryClient::new(end);
        let _ = client.send_scalars(1, 2, 3, 4, -5, -6, -7, -8, true).unwrap();
        let _ = client.send_arrays([1; 5], [-2; 3], [true; 9], [4; 2], [-5; 3], []).unwrap();
        let _ = client.send_strings(1, b"some bytes", "some text", &[], 2).unwrap();
        let _ = client.send_caps(Token(1), 2, Token(3), Token(4)).unwrap();
        client.notify(Token(5), "note").unwrap();
        let _ = client.send_big(&[3; 200], 9).unwrap();
        let _ = client.send_nothing().unwrap();
    });
    let mut mutator = Mutator { random: Random(seed), corpus, caps: true };
    let mut sequence = Vec::new();
    let mut twins = Twins::default();
    for iteration in 0..iterations {
        mutator.sequence(&mut sequence);
        twins.inject(&sequence, &mut client, &mut twin_client);
        poll_all(&mut twins.polled, || dispatcher.poll_one(&mut handler));
        serve_looping(&mut twins.looped, |keep_going| looping.serve(&mut twin_handler, keep_going));
        twins.compare(&mut client, &mut twin_client);
        assert_eq!(handler.notes, twin_handler.notes);
        handler.notes.clear();
        twin_handler.notes.clear();
        if iteration % 4096 == 0 || iteration + 1 == iterations {
            every_answers(&mut client, || {
                poll_all(&mut Vec::new(), || dispatcher.poll_one(&mut handler));
            });
            every_answers(&mut twin_client, || {
                serve_looping(&mut Vec::new(), |keep_going| looping.serve(&mut twin_handler, keep_going));
            });
        }
    }
    (twins.outcomes, counter.get().replies)
}

/// Checks that an `Every` dispatcher answers `nothing` once `serve` has
/// served what is waiting.
fn every_answers<const W: usize>(client: &mut End<'_, W>, serve: impl FnOnce()) {
    let mut client = EveryClient::new(client);
    let pending = [client.send_nothing().unwrap(), client.send_nothing().unwrap()];
    serve();
    let mut answered = false;
    while let Ok((id, reply)) = client.recv_reply() {
        answered |= pending.iter().any(|pending| pending.id() == id) && reply == Ok(EveryReply::Nothing);
    }
    assert!(answered, "the dispatcher stopped answering");
}

/// The replies a dispatcher sends to the `Echo` corpus.
fn reply_corpus<const W: usize>() -> Vec<Vec<Fragment<W>>> {
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut client_end, server_end) = channel.ends();
    let mut dispatcher = EchoDispatcher::new(server_end);
    for message in echo_corpus::<W>(true) {
        for (words, cap) in message {
            client_end.try_send(&words, &mut cap.clone()).unwrap();
        }
    }
    poll_all(&mut Vec::new(), || dispatcher.poll_one(&mut Quiet));
    let mut replies: Vec<Vec<Fragment<W>>> = Vec::new();
    while let Some(fragment) = receive(&mut client_end) {
        match Header::decode(fragment.0[0]).unwrap().index() {
            0 => replies.push(Vec::from([fragment])),
            _ => replies.last_mut().unwrap().push(fragment),
        }
    }
    replies
}

/// Runs `iterations` fuzzed reply sequences into an `Echo` client: every
/// reply is reported as a value or an error, never a panic or a hang.
fn fuzz_replies<const W: usize>(iterations: usize, seed: u64) -> usize {
    let corpus = reply_corpus::<W>();
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (client_end, mut server) = channel.ends();
    let mut client = EchoClient::new(client_end);
    let mut mutator = Mutator { random: Random(seed), corpus, caps: true };
    let mut sequence = Vec::new();
    let mut good = 0;
    for _ in 0..iterations {
        mutator.sequence(&mut sequence);
        for (words, cap) in &sequence {
            server.try_send(words, &mut cap.clone()).unwrap();
        }
        for _ in 0..200 {
            match client.recv_reply() {
                Ok((_, reply)) => good += usize::from(reply.is_ok()),
                Err(error) => {
                    assert_eq!(error, crate::RpcError::Transport(crate::TransportError::WouldBlock));
                    break;
                }
            }
        }
    }
    good
}

/// Runs `iterations` fuzzed reply sequences into fresh `Echo` clients
/// making blocking calls over a transport that does `call` in one
/// operation: every result is a value or an error, never a panic or a
/// hang. The calls that returned a value, and the `call`s done.
fn fuzz_calls<const W: usize>(iterations: usize, seed: u64) -> (usize, u64) {
    let corpus = reply_corpus::<W>();
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (client_end, mut server) = channel.ends();
    let (mut client_end, counter) = Counted::new(client_end);
    let mut mutator = Mutator { random: Random(seed), corpus, caps: true };
    let mut sequence = Vec::new();
    let mut good = 0;
    for _ in 0..iterations {
        mutator.sequence(&mut sequence);
        for (words, cap) in &sequence {
            server.try_send(words, &mut cap.clone()).unwrap();
        }
        // Fresh, so that its request ids match those of the corpus.
        let mut client = EchoClient::new(&mut client_end);
        for index in 0..200 {
            let result = match index % 4 {
                0 => client.add(1, 2).map(drop),
                1 => client.null(),
                2 => client.table([7; 12]).map(drop),
                _ => client.grant(Token(7), 4096).map(drop),
            };
            match result {
                Ok(()) => good += 1,
                Err(RpcError::Transport(error)) => {
                    assert_eq!(error, TransportError::WouldBlock);
                    break;
                }
                Err(_) => {}
            }
        }
        while receive(&mut server).is_some() {}
    }
    (good, counter.get().calls)
}

/// One blocking call of `Echo` (by `index`), made on `client` and split in
/// two (`send_`, then `recv_`) on `twin`; both results as numbers.
fn call_both<A: Transport<Cap = Token>, B: Transport<Cap = Token>>(
    index: usize,
    client: &mut EchoClient<A>,
    twin: &mut EchoClient<B>,
) -> (Result<u64, RpcError>, Result<u64, RpcError>) {
    match index % 5 {
        0 => (client.add(1, 2), twin.send_add(1, 2).and_then(|pending| twin.recv_add(pending))),
        1 => (
            client.null().map(|()| 0),
            twin.send_null().and_then(|pending| twin.recv_null(pending)).map(|()| 0),
        ),
        2 => (
            client.table([7; 12]).map(u64::from),
            twin.send_table([7; 12]).and_then(|pending| twin.recv_table(pending)).map(u64::from),
        ),
        3 => (
            client.grant(Token(7), 4096).map(u64::from),
            twin.send_grant(Token(7), 4096).and_then(|pending| twin.recv_grant(pending)).map(u64::from),
        ),
        _ => (
            client.echo(b"abc", false).map(|data| data.len() as u64),
            twin.send_echo(b"abc", false)
                .and_then(|pending| twin.recv_echo(pending))
                .map(|data| data.len() as u64),
        ),
    }
}

/// Runs `iterations` fuzzed reply sequences into two fresh `Echo` clients:
/// one making blocking calls over a transport that does `call` in one
/// operation (a reply whose header is the one expected is taken after one
/// comparison), the other making the same calls split in two, whose replies
/// are checked in full. Both must see the same results and send the same
/// requests. The calls that returned a value, and the `call`s done.
fn fuzz_call_twins<const W: usize>(iterations: usize, seed: u64) -> (usize, u64) {
    let corpus = reply_corpus::<W>();
    let channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (client_end, mut server) = channel.ends();
    let (mut client_end, counter) = Counted::new(client_end);
    let twin_channel = Box::new(LoopbackChannel::<W, DEPTH>::new());
    let (mut twin_end, mut twin_server) = twin_channel.ends();
    let mut mutator = Mutator { random: Random(seed), corpus, caps: true };
    let mut sequence = Vec::new();
    let mut good = 0;
    for _ in 0..iterations {
        mutator.sequence(&mut sequence);
        for (words, cap) in &sequence {
            server.try_send(words, &mut cap.clone()).unwrap();
            twin_server.try_send(words, &mut cap.clone()).unwrap();
        }
        // Fresh, so that their request ids match those of the corpus.
        let mut client = EchoClient::new(&mut client_end);
        let mut twin = EchoClient::new(&mut twin_end);
        for index in 0..200 {
            let (result, twin_result) = call_both(index, &mut client, &mut twin);
            assert_eq!(result, twin_result, "a blocking call and its split twin disagree");
            match result {
                Ok(_) => good += 1,
                Err(RpcError::Transport(error)) => {
                    assert_eq!(error, TransportError::WouldBlock);
                    break;
                }
                Err(_) => {}
            }
        }
        let requests: Vec<_> = core::iter::from_fn(|| receive(&mut server)).collect();
        let twin_requests: Vec<_> = core::iter::from_fn(|| receive(&mut twin_server)).collect();
        assert_eq!(requests, twin_requests, "a blocking call and its split twin sent apart");
    }
    (good, counter.get().calls)
}

#[test]
fn fuzz_client_replies() {
    assert!(fuzz_replies::<4>(100_000, 0x5eed_0005) > 0);
    assert!(fuzz_replies::<8>(100_000, 0x5eed_0006) > 0);
}

#[test]
fn fuzz_replies_to_blocking_calls() {
    for (good, calls) in [fuzz_calls::<4>(100_000, 0x5eed_0007), fuzz_calls::<8>(100_000, 0x5eed_0008)] {
        std::eprintln!("blocking calls: {good} answered, {calls} calls");
        assert!(good > 0 && calls > 100_000);
    }
}

#[test]
fn fuzz_blocking_calls_against_split_calls() {
    for (good, calls) in [
        fuzz_call_twins::<4>(50_000, 0x5eed_0009),
        fuzz_call_twins::<7>(50_000, 0x5eed_000a),
        fuzz_call_twins::<8>(50_000, 0x5eed_000b),
    ] {
        std::eprintln!("blocking calls against split calls: {good} answered, {calls} calls");
        assert!(good > 0 && calls > 50_000);
    }
}

/// 1,000,000 sequences: `Echo` at 4, 7 (no capabilities) and 8 words,
/// `Every` (several capabilities a message) at 4 and 8 (where most of its
/// requests are one fragment of a fixed length, served straight from the
/// fragment by the serving loop); each into `poll_one` and the serving loop.
#[test]
fn fuzz_million_sequences() {
    let runs = [
        (fuzz_echo::<4>(400_000, 0x5eed_0001, true), &REACHABLE[..]),
        (fuzz_echo::<7>(200_000, 0x5eed_0002, false), &REACHABLE[..10]),
        (fuzz_echo::<8>(200_000, 0x5eed_0003, true), &REACHABLE[..]),
        (fuzz_every::<4>(100_000, 0x5eed_0004), &REACHABLE[..]),
        (fuzz_every::<8>(100_000, 0x5eed_000c), &REACHABLE[..]),
    ];
    for ((outcomes, replies), expected) in runs {
        assert_seen(&outcomes, expected);
        std::eprintln!("through reply_and_receive: {replies} fragments");
        assert!(replies > 100_000, "the serving loop seldom used reply_and_receive");
    }
}
