//! Property test: random send/receive sequences against a `VecDeque` model.

use crate::tests::numbered;
use crate::{Message, RecvError, Ring, SendError};
use proptest::prelude::*;
use std::collections::VecDeque;
use std::vec::Vec;

/// Capacity of the ring under test.
const N: usize = 4;

/// One step of the test.
#[derive(Clone, Debug)]
enum Step {
    Send,
    SendBatch(usize),
    SendEach(usize),
    Recv,
    RecvBatch(usize),
    RecvEach(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Send),
        (0..=2 * N).prop_map(Step::SendBatch),
        (0..=2 * N).prop_map(Step::SendEach),
        Just(Step::Recv),
        (0..=2 * N).prop_map(Step::RecvBatch),
        (0..=2 * N).prop_map(Step::RecvEach),
    ]
}

/// The model: messages in flight, and the next message's number.
struct Model {
    queue: VecDeque<Message>,
    next: u64,
}

impl Model {
    fn fresh(&mut self, count: usize) -> Vec<Message> {
        (self.next..self.next + count as u64).map(numbered).collect()
    }

    fn check_send(&mut self, batch: &[Message], result: Result<usize, SendError>) {
        let room = N - self.queue.len();
        let expected = if batch.is_empty() {
            Ok(0)
        } else if room == 0 {
            Err(SendError::Full)
        } else {
            Ok(room.min(batch.len()))
        };
        assert_eq!(result, expected);
        let sent = result.unwrap_or(0);
        self.queue.extend(&batch[..sent]);
        self.next += sent as u64;
    }

    fn check_recv(&mut self, got: &[Message], result: Result<usize, RecvError>) {
        let expected = if got.is_empty() {
            Ok(0)
        } else if self.queue.is_empty() {
            Err(RecvError::Empty)
        } else {
            Ok(self.queue.len().min(got.len()))
        };
        assert_eq!(result, expected);
        for message in &got[..result.unwrap_or(0)] {
            assert_eq!(Some(*message), self.queue.pop_front());
        }
    }
}

proptest! {
    #[test]
    fn ring_matches_queue(steps in proptest::collection::vec(step(), 0..200)) {
        let ring = Ring::<N>::new();
        let (mut sender, mut receiver) = (ring.sender(), ring.receiver());
        let mut model = Model { queue: VecDeque::new(), next: 0 };
        for step in steps {
            match step {
                Step::Send => {
                    let batch = model.fresh(1);
                    let result = sender.try_send(&batch[0]).map(|()| 1);
                    model.check_send(&batch, result);
                }
                Step::SendBatch(count) => {
                    let batch = model.fresh(count);
                    let result = sender.try_send_batch(&batch);
                    model.check_send(&batch, result);
                }
                Step::SendEach(count) => {
                    let batch = model.fresh(count);
                    let result = sender.try_send_each(count, |i| batch[i]);
                    model.check_send(&batch, result);
                }
                Step::RecvEach(count) => {
                    let mut got = std::vec![Message::default(); count];
                    let mut at = 0;
                    let result = receiver.try_recv_each(count, |message| {
                        got[at] = *message;
                        at += 1;
                    });
                    prop_assert_eq!(at, result.unwrap_or(0));
                    model.check_recv(&got, result);
                }
                Step::Recv => {
                    let expected = model.queue.pop_front().ok_or(RecvError::Empty);
                    prop_assert_eq!(receiver.try_recv(), expected);
                }
                Step::RecvBatch(count) => {
                    let mut got = std::vec![Message::default(); count];
                    let result = receiver.try_recv_batch(&mut got);
                    model.check_recv(&got, result);
                }
            }
        }
        prop_assert_eq!(sender.sent() - receiver.received(), model.queue.len() as u64);
    }
}

#[test]
fn full_ring_keeps_its_contents() {
    let ring = Ring::<N>::new();
    let (mut sender, mut receiver) = (ring.sender(), ring.receiver());
    for index in 0..N as u64 {
        sender.try_send(&numbered(index)).unwrap();
    }
    assert_eq!(sender.try_send(&numbered(99)), Err(SendError::Full));
    assert_eq!(sender.try_send_batch(&[numbered(99)]), Err(SendError::Full));
    for index in 0..N as u64 {
        assert_eq!(receiver.try_recv(), Ok(numbered(index)));
    }
    assert_eq!(receiver.try_recv(), Err(RecvError::Empty));
}

#[test]
fn has_room_counts_free_slots() {
    let ring = Ring::<N>::new();
    let (mut sender, mut receiver) = (ring.sender(), ring.receiver());
    assert_eq!(sender.has_room(N), Ok(true));
    assert_eq!(sender.has_room(N + 1), Ok(false));
    sender.try_send(&numbered(0)).unwrap();
    assert_eq!(sender.has_room(N), Ok(false));
    assert_eq!(sender.has_room(N - 1), Ok(true));
    assert_eq!(receiver.try_recv(), Ok(numbered(0)));
    assert_eq!(sender.has_room(N), Ok(true));
}

#[test]
fn bytes_round_trip() {
    let bytes: [u8; crate::PAYLOAD_BYTES] = core::array::from_fn(|i| i as u8);
    assert_eq!(Message::from_bytes(&bytes).to_bytes(), bytes);
}
