//! Threaded tests: back-pressure from a stalled receiver, doorbell wake-ups.

use crate::tests::numbered;
use crate::{Doorbell, Message, RecvError, Ring, SendError, WaitPolicy, Waiter};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Condvar, Mutex};
use std::thread;

/// Ring capacity for these tests.
const N: usize = 8;

/// Sends `message`, yielding while the ring is full.
fn send(sender: &mut crate::Sender<'_, N>, message: &Message) {
    loop {
        match sender.try_send(message) {
            Ok(()) => return,
            Err(SendError::Full) => thread::yield_now(),
            Err(error) => panic!("send failed: {error}"),
        }
    }
}

#[test]
fn stalled_receiver_applies_back_pressure() {
    let ring = Ring::<N>::new();
    let (full_tx, full_rx) = mpsc::channel();
    thread::scope(|scope| {
        scope.spawn(|| {
            let mut sender = ring.sender();
            let mut index = 0;
            while sender.try_send(&numbered(index)).is_ok() {
                index += 1;
            }
            assert_eq!(sender.try_send(&numbered(index)), Err(SendError::Full));
            full_tx.send(index).unwrap();
            (index..10 * N as u64).for_each(|index| send(&mut sender, &numbered(index)));
        });
        let mut receiver = ring.receiver();
        assert_eq!(full_rx.recv().unwrap(), N as u64, "sender stopped early or late");
        for index in 0..10 * N as u64 {
            let message = loop {
                match receiver.try_recv() {
                    Err(RecvError::Empty) => thread::yield_now(),
                    result => break result.unwrap(),
                }
            };
            assert_eq!(message, numbered(index));
        }
    });
}

/// A host waiter for one receiving core: `block` waits for the pending flag
/// that `wake` sets, as the kernel's SGI handler sets a dispatcher's.
#[derive(Default)]
struct HostWaiter {
    pending: Mutex<bool>,
    woken: Condvar,
    blocks: AtomicU64,
}

impl Waiter for HostWaiter {
    fn relax(&self) {
        thread::yield_now();
    }

    fn block(&self) {
        self.blocks.fetch_add(1, Ordering::Relaxed);
        let mut pending = self.pending.lock().unwrap();
        while !*pending {
            pending = self.woken.wait(pending).unwrap();
        }
        *pending = false;
    }

    fn wake(&self, core: usize) {
        assert_eq!(core, 1, "only core 1 receives");
        *self.pending.lock().unwrap() = true;
        self.woken.notify_one();
    }
}

/// Messages per sender in the doorbell test.
const WAKE_COUNT: u64 = if cfg!(debug_assertions) { 2_000 } else { 50_000 };

#[test]
fn doorbell_wakes_a_receiver_of_two_rings() {
    let rings = [Ring::<N>::new(), Ring::<N>::new()];
    let doorbell = Doorbell::new();
    let waiter = HostWaiter::default();
    thread::scope(|scope| {
        for ring in &rings {
            let (doorbell, waiter) = (&doorbell, &waiter);
            scope.spawn(move || {
                let mut sender = ring.sender();
                for index in 0..WAKE_COUNT {
                    if index == WAKE_COUNT / 2 {
                        // Both senders pause halfway until the receiver, with
                        // nothing left to read, has blocked at least once: the
                        // blocking path is exercised however the threads are
                        // scheduled (a busy machine may never let it run dry).
                        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
                        while waiter.blocks.load(Ordering::Relaxed) == 0
                            && std::time::Instant::now() < deadline
                        {
                            thread::yield_now();
                        }
                    }
                    send(&mut sender, &numbered(index));
                    let _ = doorbell.notify(waiter, 1);
                    if index % 64 == 0 {
                        thread::sleep(std::time::Duration::from_micros(50));
                    }
                }
            });
        }
        let mut receivers = rings.each_ref().map(Ring::receiver);
        let mut next = [0; 2];
        while next.iter().any(|&n| n < WAKE_COUNT) {
            let (which, message) = doorbell.wait_for(&waiter, WaitPolicy::polls(16), || {
                (0..2).find_map(|i| match receivers[i].try_recv() {
                    Err(RecvError::Empty) => None,
                    result => Some((i, result.unwrap())),
                })
            });
            assert_eq!(message, numbered(next[which]));
            next[which] += 1;
        }
    });
    assert!(waiter.blocks.load(Ordering::Relaxed) > 0, "receiver never blocked");
}
