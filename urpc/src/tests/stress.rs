//! Two-thread stress: many messages, checked for order, loss and checksums.

use crate::tests::{checksum, numbered};
use crate::{Message, Receiver, RecvError, Ring, SendError, Sender};
use std::thread;

/// Ring capacity for the stress test.
const N: usize = 64;

/// Messages per run: 10^7 in release builds, 10^5 in debug builds.
const COUNT: u64 = if cfg!(debug_assertions) { 100_000 } else { 10_000_000 };

/// Sends `COUNT` numbered messages, alternating single sends and batches.
fn produce(mut sender: Sender<'_, N>) {
    let mut next = 0;
    let mut batch = [Message::default(); 8];
    while next < COUNT {
        let result = if next % 3 == 0 {
            sender.try_send(&numbered(next)).map(|()| 1)
        } else {
            let len = (COUNT - next).min(batch.len() as u64) as usize;
            for (offset, slot) in batch[..len].iter_mut().enumerate() {
                *slot = numbered(next + offset as u64);
            }
            sender.try_send_batch(&batch[..len])
        };
        match result {
            Ok(sent) => next += sent as u64,
            Err(SendError::Full) => thread::yield_now(),
            Err(error) => panic!("send failed: {error}"),
        }
    }
}

/// Receives `COUNT` messages and checks each one.
fn consume(mut receiver: Receiver<'_, N>) {
    let mut next = 0;
    let mut batch = [Message::default(); 8];
    while next < COUNT {
        let result = if next % 2 == 0 {
            receiver.try_recv().map(|message| {
                batch[0] = message;
                1
            })
        } else {
            receiver.try_recv_batch(&mut batch)
        };
        match result {
            Ok(count) => {
                batch[..count].iter().for_each(|message| {
                    check(message, next);
                    next += 1;
                });
            }
            Err(RecvError::Empty) => thread::yield_now(),
            Err(error) => panic!("receive failed: {error}"),
        }
    }
    assert_eq!(receiver.try_recv(), Err(RecvError::Empty), "duplicate or extra message");
}

/// Checks that `message` is message number `index`, intact.
fn check(message: &Message, index: u64) {
    assert_eq!(message.words[0], index, "out of order or lost");
    let last = message.words[crate::PAYLOAD_WORDS - 1];
    assert_eq!(last, checksum(&message.words), "payload torn at {index}");
}

#[test]
fn two_threads_exchange_many_messages() {
    let ring = Ring::<N>::new();
    thread::scope(|scope| {
        scope.spawn(|| produce(ring.sender()));
        scope.spawn(|| consume(ring.receiver()));
    });
}
