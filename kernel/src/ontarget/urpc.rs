//! `test=urpc`: every online core sends `MESSAGES_PER_PAIR` sequence-numbered,
//! checksummed messages to every other core over its URPC channel, with
//! random receiver stalls, and verifies everything it receives.

use crate::arch::aarch64::cpu;
use crate::bootinfo::MAX_CPUS;
use crate::channels::{CoreWaiter, RING_SLOTS};
use crate::command::Command;
use crate::cpu_driver::CpuDriver;
use crate::shared::RESULT_WORDS;
use core::cell::Cell;
use urpc::{Message, Receiver, RecvError, SendError, Sender, WaitPolicy, Waiter};

/// Messages each core sends to each other core.
pub const MESSAGES_PER_PAIR: u64 = 10_000;
const BATCH: usize = 8;
const SEQUENCE_MASK: u64 = (1 << 48) - 1;
/// Sequence number of the "ready" and "wake" messages of the doorbell round.
const TOKEN: u64 = MESSAGES_PER_PAIR + 1;

/// Result words.
pub mod result {
    /// Messages received and verified.
    pub const RECEIVED: usize = 0;
    /// Sequence numbers skipped.
    pub const LOST: usize = 1;
    /// Sequence numbers seen twice.
    pub const DUPLICATED: usize = 2;
    /// Bad checksums, wrong sender, corrupt rings.
    pub const CORRUPT: usize = 3;
    /// Sends refused because the ring was full (back-pressure).
    pub const FULL: usize = 4;
    /// Times the core blocked on its doorbell.
    pub const BLOCKED: usize = 5;
}

/// 2^64 / golden ratio, and the 64-bit FNV prime: well-mixing odd constants.
const GOLDEN: u64 = 11_400_714_819_323_198_485;
const FNV_PRIME: u64 = 1_099_511_628_211;
/// Another odd multiplier (Marsaglia's xorshift* constant).
const XORSHIFT_STAR: u64 = 2_685_821_657_736_338_717;

fn checksum(words: &[u64]) -> u64 {
    words.iter().fold(GOLDEN, |acc, w| (acc ^ w).rotate_left(23).wrapping_mul(FNV_PRIME))
}

fn message(from: usize, to: usize, sequence: u64) -> Message {
    let mut words = [0u64; 7];
    let header = ((from as u64) << 56) | ((to as u64) << 48) | sequence;
    words[0] = header;
    for (k, word) in words.iter_mut().enumerate().take(6).skip(1) {
        *word = sequence.wrapping_mul(XORSHIFT_STAR).rotate_left(k as u32 * 11) ^ header;
    }
    words[6] = checksum(&words[..6]);
    Message::new(words)
}

/// One peer's two ends and counters.
struct Peer {
    index: usize,
    sender: Sender<'static, RING_SLOTS>,
    receiver: Receiver<'static, RING_SLOTS>,
    sent: u64,
    /// Next sequence number expected (1-based).
    next: u64,
    /// The peer said it is done and about to block (`TOKEN`).
    ready: bool,
    broken: bool,
}

/// A `Waiter` that counts how often it blocked.
struct CountingWaiter<'a> {
    inner: CoreWaiter<'a>,
    blocks: Cell<u64>,
}

impl Waiter for CountingWaiter<'_> {
    fn relax(&self) {
        self.inner.relax();
    }
    fn block(&self) {
        self.blocks.set(self.blocks.get() + 1);
        self.inner.block();
    }
    fn wake(&self, core: usize) {
        self.inner.wake(core);
    }
}

struct Exchange<'a> {
    me: &'a CpuDriver,
    peers: [Option<Peer>; MAX_CPUS],
    counts: [u64; RESULT_WORDS],
    random: u64,
}

impl Exchange<'_> {
    fn next_random(&mut self) -> u64 {
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        self.random
    }

    fn send(&mut self, waiter: &CountingWaiter<'_>) -> bool {
        let me = self.me.index;
        let mut progress = false;
        for peer in self.peers.iter_mut().flatten().filter(|p| !p.broken && p.sent < MESSAGES_PER_PAIR) {
            let count = (MESSAGES_PER_PAIR - peer.sent).min(BATCH as u64) as usize;
            let batch: [Message; BATCH] =
                core::array::from_fn(|k| message(me, peer.index, peer.sent + 1 + k as u64));
            match peer.sender.try_send_batch(&batch[..count]) {
                Ok(sent) => {
                    peer.sent += sent as u64;
                    progress = true;
                    let _ = self.me.shared.channels.doorbell(peer.index).notify(waiter, peer.index);
                }
                Err(SendError::Full) => self.counts[result::FULL] += 1,
                Err(SendError::Corrupt { .. }) => {
                    self.counts[result::CORRUPT] += 1;
                    peer.broken = true;
                }
            }
        }
        progress
    }

    fn receive(&mut self) -> bool {
        let me = self.me.index as u64;
        let mut progress = false;
        let mut buffer = [Message::default(); 16];
        for peer in self.peers.iter_mut().flatten().filter(|p| !p.broken) {
            loop {
                let count = match peer.receiver.try_recv_batch(&mut buffer) {
                    Ok(count) => count,
                    Err(RecvError::Empty) => break,
                    Err(RecvError::Corrupt { .. }) => {
                        self.counts[result::CORRUPT] += 1;
                        peer.broken = true;
                        break;
                    }
                };
                progress = true;
                for message in &buffer[..count] {
                    let words = message.words;
                    let header = words[0];
                    let from_ok = header >> 56 == peer.index as u64 && (header >> 48) & 0xff == me;
                    if checksum(&words[..6]) != words[6] || !from_ok {
                        self.counts[result::CORRUPT] += 1;
                        continue;
                    }
                    let sequence = header & SEQUENCE_MASK;
                    if sequence == TOKEN {
                        peer.ready = true;
                        continue;
                    }
                    if sequence < peer.next {
                        self.counts[result::DUPLICATED] += 1;
                        continue;
                    }
                    self.counts[result::LOST] += sequence - peer.next;
                    self.counts[result::RECEIVED] += 1;
                    peer.next = sequence + 1;
                }
            }
        }
        progress
    }

    fn finished(&self) -> bool {
        self.peers
            .iter()
            .flatten()
            .all(|p| p.broken || (p.sent == MESSAGES_PER_PAIR && p.next > MESSAGES_PER_PAIR))
    }

    fn all_sent(&self) -> bool {
        self.peers.iter().flatten().all(|p| p.broken || p.sent == MESSAGES_PER_PAIR)
    }
}

/// Sends the doorbell round's token to `peer`, retrying while its ring is full.
fn send_token(state: &mut Exchange<'_>, waiter: &CountingWaiter<'_>, peer: usize, deadline: u64) {
    let me = state.me;
    let Some(p) = state.peers[peer].as_mut() else { return };
    while p.sender.try_send(&message(me.index, peer, TOKEN)) == Err(SendError::Full)
        && cpu::counter() < deadline
    {
        cpu::relax();
    }
    let _ = me.shared.channels.doorbell(peer).notify(waiter, peer);
}

/// The doorbell round, after the exchange: every other core tells the lowest
/// core it is done and blocks at once on its doorbell; the lowest core waits
/// for all of them, lets them fall asleep, then sends each a wake-up message,
/// which must arrive through the doorbell's SGI.
fn doorbell_round(state: &mut Exchange<'_>, waiter: &CountingWaiter<'_>, lowest: usize, deadline: u64) {
    let me = state.me;
    let peers: u64 = state.peers.iter().flatten().fold(0, |mask, p| mask | 1 << p.index);
    if me.index == lowest {
        while state.peers.iter().flatten().any(|p| !p.ready && !p.broken) && cpu::counter() < deadline {
            if !state.receive() {
                cpu::relax();
            }
        }
        // Every peer said it is about to block (its doorbell's flag), then
        // 2 ms more for it to get there: a peer whose host thread was slow to
        // run would otherwise find the token before it ever blocked.
        let asleep = |j: usize| me.shared.channels.doorbell(j).asleep();
        while (0..MAX_CPUS).any(|j| peers & (1 << j) != 0 && !asleep(j)) && cpu::counter() < deadline {
            cpu::relax();
        }
        me.wait_until(cpu::counter() + cpu::counter_frequency() / 500, || false);
        for peer in (0..MAX_CPUS).filter(|j| peers & (1 << j) != 0) {
            send_token(state, waiter, peer, deadline);
        }
        return;
    }
    send_token(state, waiter, lowest, deadline);
    let doorbell = me.shared.channels.doorbell(me.index);
    let Some(from_lowest) = state.peers[lowest].as_mut() else { return };
    let token = doorbell.wait_for(waiter, WaitPolicy::BLOCK, || match from_lowest.receiver.try_recv() {
        Ok(message) => Some(Some(message)),
        Err(RecvError::Empty) if cpu::counter() < deadline => None,
        Err(_) => Some(None),
    });
    if token != Some(message(lowest, me.index, TOKEN)) {
        state.counts[result::CORRUPT] += 1;
    }
}

/// This core's part of the exchange.
pub fn exchange(me: &CpuDriver, command: &Command) -> [u64; RESULT_WORDS] {
    let channels = me.shared.channels;
    let mut state = Exchange {
        me,
        peers: core::array::from_fn(|j| {
            (j != me.index && command.online & (1 << j) != 0).then(|| Peer {
                index: j,
                sender: channels.sender(me.index, j),
                receiver: channels.receiver(me.index, j),
                sent: 0,
                next: 1,
                ready: false,
                broken: false,
            })
        }),
        counts: [0; RESULT_WORDS],
        random: (me.index as u64 + 1).wrapping_mul(GOLDEN) | 1,
    };
    let waiter = CountingWaiter { inner: CoreWaiter { me }, blocks: Cell::new(0) };
    let doorbell = channels.doorbell(me.index);
    let mut stall = 0u64;
    while !state.finished() && cpu::counter() < command.deadline {
        let mut progress = state.send(&waiter);
        if stall > 0 {
            stall -= 1;
            cpu::relax();
            continue;
        }
        if state.next_random().is_multiple_of(1024) {
            stall = state.next_random() % 512;
        }
        progress |= state.receive();
        if !progress && state.all_sent() {
            doorbell.wait_for(&waiter, WaitPolicy::polls(64), || {
                (state.receive() || state.finished() || cpu::counter() >= command.deadline).then_some(())
            });
        } else if !progress {
            // Rings full or nothing arrived: let the other cores run.
            cpu::relax();
        }
    }
    if state.finished() {
        let lowest = command.online.trailing_zeros() as usize;
        doorbell_round(&mut state, &waiter, lowest, command.deadline);
    }
    state.counts[result::BLOCKED] = waiter.blocks.get();
    state.counts
}
