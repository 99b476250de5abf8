//! Hostile peer: random values over the whole shared region must be reported
//! as errors, never cause a panic, a hang or an out-of-bounds access.

use crate::sync::{AtomicU64, Ordering::Relaxed};
use crate::tests::numbered;
use crate::{
    Channel, Doorbell, Message, Receiver, RecvError, Ring, SendError, Sender, Side, WaitPolicy, Waiter,
};
use proptest::prelude::*;
use std::vec::Vec;

/// Ring capacity under test.
const N: usize = 4;

/// Every word of a ring: payloads, headers and the credit.
fn ring_words<const M: usize>(ring: &Ring<M>) -> impl Iterator<Item = &AtomicU64> {
    let slots = ring.slots.iter();
    let slot_words = slots.flat_map(|slot| slot.payload.iter().chain([&slot.sequence]));
    slot_words.chain([&ring.consumed.word])
}

/// Every word of the shared region: both rings and the doorbell.
fn region_words<'a>(channel: &'a Channel<N>, bell: &'a Doorbell) -> Vec<&'a AtomicU64> {
    let rings = ring_words(&channel.a_to_b).chain(ring_words(&channel.b_to_a));
    rings.chain([&bell.bell.word, &bell.sleeping.word]).collect()
}

/// One step: a scribble by the hostile peer, or an operation of one side.
#[derive(Clone, Debug)]
enum Step {
    Scribble(usize, u64),
    Send(bool, usize),
    Recv(bool, usize),
    Ring,
}

fn step() -> impl Strategy<Value = Step> {
    // Small values too, so that plausible-looking headers and credits occur.
    let value = prop_oneof![any::<u64>(), 0..16u64];
    prop_oneof![
        (any::<usize>(), value).prop_map(|(word, value)| Step::Scribble(word, value)),
        (any::<bool>(), 0..=N + 1).prop_map(|(a, count)| Step::Send(a, count)),
        (any::<bool>(), 0..=N + 1).prop_map(|(a, count)| Step::Recv(a, count)),
        Just(Step::Ring),
    ]
}

/// A sender and what it must do, derived independently from the rules.
struct CheckedSender<'a> {
    sender: Sender<'a, N>,
    ring: &'a Ring<N>,
    credit: u64,
}

impl CheckedSender<'_> {
    fn expected(&mut self, wanted: usize) -> Result<usize, SendError> {
        let sent = self.sender.sent();
        let room = |credit: u64| N - (sent - credit) as usize;
        if wanted == 0 || room(self.credit) >= wanted {
            return Ok(room(self.credit).min(wanted));
        }
        let consumed = self.ring.consumed.word.load(Relaxed);
        if consumed < self.credit || consumed > sent {
            return Err(SendError::Corrupt { consumed, previous: self.credit, sent });
        }
        self.credit = consumed;
        match room(consumed).min(wanted) {
            0 => Err(SendError::Full),
            count => Ok(count),
        }
    }

    fn step(&mut self, count: usize) {
        let expected = self.expected(count);
        let batch: Vec<Message> = (0..count as u64).map(numbered).collect();
        assert_eq!(self.sender.try_send_batch(&batch), expected);
        let sent = self.sender.sent();
        if let Ok(1..) = expected {
            let last = self.ring.slot(sent - 1).sequence.load(Relaxed);
            assert_eq!(last, sent, "header of the last message sent");
        }
    }
}

/// What the receiver must report, from the next slot's header alone.
fn expected_recv(receiver: &Receiver<'_, N>, ring: &Ring<N>) -> Result<(), RecvError> {
    let next = receiver.received();
    let found = ring.slot(next).sequence.load(Relaxed);
    let previous_lap = (next + 1).saturating_sub(N as u64);
    match found {
        _ if found == next + 1 => Ok(()),
        _ if found == previous_lap => Err(RecvError::Empty),
        _ => Err(RecvError::Corrupt { slot: (next % N as u64) as usize, expected: next + 1, found }),
    }
}

fn check_recv(receiver: &mut Receiver<'_, N>, ring: &Ring<N>, count: usize) {
    let expected = expected_recv(receiver, ring);
    let before = receiver.received();
    let mut out = std::vec![Message::default(); count];
    match receiver.try_recv_batch(&mut out) {
        Ok(got) => {
            assert!(count == 0 || expected.is_ok(), "received despite {expected:?}");
            assert_eq!(receiver.received(), before + got as u64);
            if got > 0 {
                assert_eq!(ring.consumed.word.load(Relaxed), receiver.received(), "credit");
            }
        }
        Err(error) => assert_eq!(Err(error), expected),
    }
}

proptest! {
    #[test]
    fn scribbling_peer_is_reported(
        initial in proptest::collection::vec(any::<u64>(), 0..80),
        steps in proptest::collection::vec(step(), 0..150),
    ) {
        let (channel, bell) = (Channel::<N>::new(), Doorbell::new());
        let words = region_words(&channel, &bell);
        for (word, value) in words.iter().zip(initial) {
            word.store(value, Relaxed);
        }
        let sides = [Side::A, Side::B].map(|side| channel.outgoing(side));
        let mut senders = sides.map(|ring| CheckedSender { sender: ring.sender(), ring, credit: 0 });
        let mut receivers = sides.map(Ring::receiver);
        for step in steps {
            match step {
                Step::Scribble(word, value) => words[word % words.len()].store(value, Relaxed),
                Step::Send(a, count) => senders[usize::from(a)].step(count),
                Step::Recv(a, count) => {
                    check_recv(&mut receivers[usize::from(a)], sides[usize::from(a)], count);
                }
                Step::Ring => { let _ = bell.ring(); }
            }
        }
    }
}

/// A waiter that must not be asked to block.
struct NeverBlock;

impl Waiter for NeverBlock {
    fn relax(&self) {}
    fn block(&self) {
        panic!("blocked although the ring reports corruption");
    }
    fn wake(&self, _core: usize) {}
}

#[test]
fn waiting_on_a_corrupt_ring_returns() {
    let ring = Ring::<N>::new();
    ring.slot(0).sequence.store(12345, Relaxed);
    let result = ring.receiver().recv_wait(&Doorbell::new(), &NeverBlock, WaitPolicy::BLOCK);
    let corrupt = RecvError::Corrupt { slot: 0, expected: 1, found: 12345 };
    assert_eq!(result, Err(corrupt));
}

#[test]
fn credit_beyond_sent_is_reported() {
    let ring = Ring::<N>::new();
    let mut sender = ring.sender();
    (0..N as u64).for_each(|index| sender.try_send(&numbered(index)).unwrap());
    ring.consumed.word.store(N as u64 + 1, Relaxed);
    let corrupt = SendError::Corrupt { consumed: N as u64 + 1, previous: 0, sent: N as u64 };
    assert_eq!(sender.try_send(&numbered(N as u64)), Err(corrupt));
}
