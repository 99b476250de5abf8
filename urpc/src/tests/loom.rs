//! Loom model check of the ring and the doorbell protocol.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p urpc loom`.
//!
//! Tried and confirmed: removing the `fence(SeqCst)` from either
//! `Doorbell::ring` or `Doorbell::sleep` makes both doorbell models fail
//! with a deadlock (receiver blocked, message unseen, no wake-up sent), and
//! a Relaxed header store makes every model read a stale payload. A Relaxed
//! credit store is not caught: the bug it allows (a receiver's payload load
//! reading the sender's later overwrite) is load buffering, which loom does
//! not model; the Release/Acquire pair on the credit rests on the argument
//! in the comments of `Receiver::release` and `Sender::refresh_credit`.

use crate::{Doorbell, Message, RecvError, Ring, SendError, WaitPolicy, Waiter};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// Ring capacity in the model: small, so a few messages wrap it.
const N: usize = 2;

fn message(index: u64) -> Message {
    Message::new([index, !index, 0, 0, 0, 0, index])
}

/// Runs `model` under loom with a preemption bound that keeps it fast.
fn check(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(model);
}

fn send_all(ring: &Ring<N>, count: u64) {
    let mut sender = ring.sender();
    for index in 0..count {
        while let Err(error) = sender.try_send(&message(index)) {
            assert_eq!(error, SendError::Full);
            thread::yield_now();
        }
    }
}

#[test]
fn loom_ring_delivers_in_order_across_a_wrap() {
    check(|| {
        let ring = Arc::new(Ring::<N>::new());
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || send_all(&ring, 3))
        };
        let mut receiver = ring.receiver();
        for index in 0..3 {
            let got = loop {
                match receiver.try_recv() {
                    Err(RecvError::Empty) => thread::yield_now(),
                    result => break result.unwrap(),
                }
            };
            assert_eq!(got, message(index));
        }
        producer.join().unwrap();
    });
}

#[test]
fn loom_batches_deliver_in_order() {
    check(|| {
        let ring = Arc::new(Ring::<N>::new());
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                let (mut sender, batch) = (ring.sender(), [message(0), message(1), message(2)]);
                let mut sent = 0;
                while sent < batch.len() {
                    match sender.try_send_batch(&batch[sent..]) {
                        Ok(count) => sent += count,
                        Err(error) => {
                            assert_eq!(error, SendError::Full);
                            thread::yield_now();
                        }
                    }
                }
            })
        };
        let (mut receiver, mut got) = (ring.receiver(), [Message::default(); 3]);
        let mut received = 0;
        while received < got.len() {
            match receiver.try_recv_batch(&mut got[received..]) {
                Ok(count) => received += count,
                Err(error) => {
                    assert_eq!(error, RecvError::Empty);
                    thread::yield_now();
                }
            }
        }
        assert_eq!(got, [message(0), message(1), message(2)]);
        producer.join().unwrap();
    });
}

/// The kernel's side, modelled: `wake` sets a pending flag (the SGI handler's
/// pending bit) and `block` sleeps until it is set, then consumes it.
#[derive(Default)]
struct ModelWaiter {
    pending: Mutex<bool>,
    woken: Condvar,
}

impl Waiter for ModelWaiter {
    fn relax(&self) {
        thread::yield_now();
    }

    fn block(&self) {
        let mut pending = self.pending.lock().unwrap();
        while !*pending {
            pending = self.woken.wait(pending).unwrap();
        }
        *pending = false;
    }

    fn wake(&self, _core: usize) {
        *self.pending.lock().unwrap() = true;
        self.woken.notify_one();
    }
}

/// Shared state of the doorbell model: rings into one receiver.
struct Shared {
    rings: [Ring<N>; 2],
    doorbell: Doorbell,
    waiter: ModelWaiter,
}

/// Sends `count` messages on ring `which`, ringing after each.
fn send_and_ring(shared: &Shared, which: usize, count: u64) {
    let mut sender = shared.rings[which].sender();
    for index in 0..count {
        sender.try_send(&message(index)).unwrap();
        let _ = shared.doorbell.notify(&shared.waiter, 1);
    }
}

/// Receives `counts[i]` messages from ring `i`, blocking when idle.
fn receive_all(shared: &Shared, counts: [u64; 2]) {
    let mut receivers = shared.rings.each_ref().map(Ring::receiver);
    let mut next = [0; 2];
    while next != counts {
        let (which, got) = shared.doorbell.wait_for(&shared.waiter, WaitPolicy::BLOCK, || {
            (0..2).find_map(|i| match receivers[i].try_recv() {
                Err(RecvError::Empty) => None,
                result => Some((i, result.unwrap())),
            })
        });
        assert_eq!(got, message(next[which]));
        next[which] += 1;
    }
}

fn doorbell_model(counts: [u64; 2]) {
    check(move || {
        let shared = Arc::new(Shared {
            rings: [Ring::new(), Ring::new()],
            doorbell: Doorbell::new(),
            waiter: ModelWaiter::default(),
        });
        let senders: std::vec::Vec<_> = (0..2)
            .filter(|&i| counts[i] > 0)
            .map(|i| {
                let shared = shared.clone();
                thread::spawn(move || send_and_ring(&shared, i, counts[i]))
            })
            .collect();
        receive_all(&shared, counts);
        senders.into_iter().for_each(|sender| sender.join().unwrap());
    });
}

#[test]
fn loom_doorbell_loses_no_wakeup() {
    doorbell_model([2, 0]);
}

#[test]
fn loom_doorbell_with_two_senders_loses_no_wakeup() {
    doorbell_model([1, 1]);
}
