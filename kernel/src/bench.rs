//! `bench`: two-core microbenchmarks for `scripts/bench`. The boot CPU
//! initiates and times; the lowest other online core responds; every other
//! core sleeps in `WFI`. Times come from the virtual counter, so under
//! `-icount shift=0,sleep=off` one nanosecond is one instruction executed by
//! all cores together (the unit `insn`). The unmap benchmarks (`unmap`)
//! involve 2, 4 and 8 cores.

use crate::arch::aarch64::cpu;
use crate::channels::{CoreWaiter, RING_SLOTS};
use crate::command::{broadcast, deadline_in, Command, Kind};
use crate::cpu_driver::{CpuDriver, SGI_BENCH};
use crate::shared::RESULT_WORDS;
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use urpc::{Message, Receiver, RecvError, Sender, WaitPolicy};

mod stopwatch;
mod unmap;

/// Timed samples per benchmark.
const SAMPLES: usize = 31;
/// Untimed warm-up operations.
const WARM_UP: u64 = 16;
/// Operations per sample (one counter tick is 16 instructions at 62.5 MHz,
/// so operations are timed in batches).
const BATCH: u64 = 64;
/// Messages per throughput stream, and streams per sample.
const STREAM: u64 = 1024;
const STREAMS: u64 = 4;
/// Messages per batch call in the throughput benchmark.
const STREAM_BATCH: usize = 32;
/// Polls between two deadline checks.
const DEADLINE_CHECK: u32 = 256;
/// The responder's "counting" mark in the second bench line.
const READY: u64 = u64::MAX;

/// The benchmarks, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Benchmark {
    /// Bare cache-line ping-pong: the floor for `urpc_rt_poll`.
    LineRoundTrip = 1,
    /// URPC round trip, both sides polling.
    UrpcRoundTripPolling = 2,
    /// URPC round trip, both sides blocked and woken by the doorbell SGI.
    UrpcRoundTripSgi = 3,
    /// URPC one way, pipelined (per message).
    UrpcThroughput = 4,
    /// Bare SGI ping-pong between two CPU drivers.
    SgiRoundTrip = 5,
}

const ALL: [Benchmark; 5] = [
    Benchmark::LineRoundTrip,
    Benchmark::UrpcRoundTripPolling,
    Benchmark::UrpcRoundTripSgi,
    Benchmark::UrpcThroughput,
    Benchmark::SgiRoundTrip,
];

impl Benchmark {
    fn name(self) -> &'static str {
        match self {
            Benchmark::LineRoundTrip => "line_rt_raw",
            Benchmark::UrpcRoundTripPolling => "urpc_rt_poll",
            Benchmark::UrpcRoundTripSgi => "urpc_rt_sgi",
            Benchmark::UrpcThroughput => "urpc_tput",
            Benchmark::SgiRoundTrip => "sgi_rt",
        }
    }

    fn unit(self) -> &'static str {
        if self == Benchmark::UrpcThroughput {
            "insn/msg"
        } else {
            "insn"
        }
    }

    /// Operations per timed sample (a throughput operation is a stream).
    fn per_sample(self) -> u64 {
        if self == Benchmark::UrpcThroughput {
            STREAMS
        } else {
            BATCH
        }
    }

    /// Units reported per operation (messages per stream for throughput).
    fn units_per_operation(self) -> u64 {
        if self == Benchmark::UrpcThroughput {
            STREAM
        } else {
            1
        }
    }
}

/// Runs every benchmark (or only the one named), the two-core ones between
/// the boot CPU and the next online core, then the unmap benchmarks on 2, 4
/// and 8 cores (`unmap`), and prints one `BENCH` line each.
pub fn run_all(me: &CpuDriver, online: u64, only: Option<&str>) {
    let shared = me.shared;
    let Some(partner) = (0..shared.info.cpu_count).find(|&j| j != me.index && online & (1 << j) != 0) else {
        log::error!("bench: needs at least 2 online cores");
        return;
    };
    let unmap_named =
        |name: &str| unmap::METHODS.iter().any(|m| unmap::SIZES.iter().any(|&n| m.named(name, n)));
    if let Some(name) = only.filter(|name| !ALL.iter().any(|b| b.name() == *name) && !unmap_named(name)) {
        log::error!("bench: no benchmark {name}");
    }
    for benchmark in ALL.into_iter().filter(|b| only.is_none_or(|name| b.name() == name)) {
        shared.channels.reset();
        shared.bench_lines.iter().for_each(|line| line.0.store(0, Relaxed));
        let online = (1 << me.index) | (1 << partner);
        let command =
            Command { kind: Kind::Bench, online, deadline: deadline_in(60), argument: benchmark as u64 };
        let results = broadcast(me, &command, cpu::counter_frequency());
        match (results[me.index], results[partner]) {
            (Some(r), Some(_)) if r[2] == SAMPLES as u64 => {
                print_line(&benchmark.name(), r, benchmark.unit())
            }
            _ => log::error!("bench: {} did not complete", benchmark.name()),
        }
    }
    for method in unmap::METHODS {
        for n in unmap::SIZES.into_iter().filter(|&n| only.is_none_or(|name| method.named(name, n))) {
            unmap::measure(me, online, method, n);
        }
    }
}

/// Prints one `BENCH` line from a result: [median, min] in thousandths of
/// `unit`, then the sample count.
fn print_line(name: &dyn core::fmt::Display, result: [u64; RESULT_WORDS], unit: &str) {
    log::info!(
        "BENCH {name} n={} median={}.{} min={}.{} unit={unit}",
        result[2],
        result[0] / 1000,
        result[0] % 1000 / 100,
        result[1] / 1000,
        result[1] % 1000 / 100,
    );
}

/// One side of the benchmark named in `command.argument`. The initiator's
/// result is [median, min] in thousandths of the unit, then the sample count.
pub fn run(me: &CpuDriver, command: &Command) -> [u64; RESULT_WORDS] {
    if let Some(method) = unmap::Method::from_argument(command.argument) {
        return unmap::run(me, command, method);
    }
    let Some(benchmark) = ALL.into_iter().find(|b| *b as u64 == command.argument) else {
        return [0; RESULT_WORDS];
    };
    let initiator = command.online.trailing_zeros() as usize;
    let responder = (command.online & !(1 << initiator)).trailing_zeros() as usize;
    let peer = if me.index == initiator { responder } else { initiator };
    let channels = me.shared.channels;
    let mut pair = Pair {
        me,
        peer,
        deadline: command.deadline,
        sender: channels.sender(me.index, peer),
        receiver: channels.receiver(me.index, peer),
    };
    let warm_up = if benchmark == Benchmark::UrpcThroughput { 1 } else { WARM_UP };
    let total = warm_up + SAMPLES as u64 * benchmark.per_sample();
    let ready = &me.shared.bench_lines[1].0;
    if me.index != initiator {
        pair.respond(benchmark, total);
        return [0; RESULT_WORDS];
    }
    // The responder announces that it is counting before the first operation.
    pair.spin_until(|| ready.load(Acquire) == READY);
    let mut operation = 0u64;
    let mut timed = |count: u64, pair: &mut Pair<'_>| {
        let start = cpu::counter();
        for _ in 0..count {
            operation += 1;
            pair.initiate(benchmark, operation);
        }
        cpu::counter() - start
    };
    timed(warm_up, &mut pair);
    let mut samples = [0u64; SAMPLES];
    for slot in samples.iter_mut() {
        let ticks = timed(benchmark.per_sample(), &mut pair);
        // Thousandths of a virtual nanosecond per operation.
        *slot = (u128::from(ticks) * 1_000_000_000_000
            / u128::from(cpu::counter_frequency())
            / u128::from(benchmark.per_sample() * benchmark.units_per_operation())) as u64;
    }
    samples.sort_unstable();
    let mut result = [0; RESULT_WORDS];
    result[0] = samples[SAMPLES / 2];
    result[1] = samples[0];
    result[2] = if pair.late() { 0 } else { SAMPLES as u64 };
    result
}

/// One side of a two-core benchmark.
struct Pair<'a> {
    me: &'a CpuDriver,
    peer: usize,
    deadline: u64,
    sender: Sender<'static, RING_SLOTS>,
    receiver: Receiver<'static, RING_SLOTS>,
}

impl Pair<'_> {
    fn late(&self) -> bool {
        cpu::counter() > self.deadline
    }

    /// One unsuccessful poll: yields and says whether to keep waiting. The
    /// deadline is checked only every `DEADLINE_CHECK` polls, to keep the
    /// counter read off the measured path.
    fn keep_waiting(&self, polls: &mut u32) -> bool {
        *polls = polls.wrapping_add(1);
        if polls.is_multiple_of(DEADLINE_CHECK) && self.late() {
            return false;
        }
        cpu::relax();
        true
    }

    /// Spins (yielding) until `done` or the deadline.
    fn spin_until(&self, mut done: impl FnMut() -> bool) {
        let mut polls = 0u32;
        while !done() && self.keep_waiting(&mut polls) {}
    }

    fn send(&mut self, n: u64, wake: bool) {
        let message = Message::new([n, 0, 0, 0, 0, 0, 0]);
        let mut polls = 0u32;
        while self.sender.try_send(&message).is_err() {
            if !self.keep_waiting(&mut polls) {
                return;
            }
        }
        if wake {
            let waiter = CoreWaiter { me: self.me };
            let _ = self.me.shared.channels.doorbell(self.peer).notify(&waiter, self.peer);
        }
    }

    fn receive_polling(&mut self) -> Option<Message> {
        let mut polls = 0u32;
        loop {
            match self.receiver.try_recv() {
                Ok(message) => return Some(message),
                Err(RecvError::Empty) => {
                    if !self.keep_waiting(&mut polls) {
                        return None;
                    }
                }
                Err(_) => return None,
            }
        }
    }

    fn receive_blocking(&mut self) -> Option<Message> {
        let waiter = CoreWaiter { me: self.me };
        let doorbell = self.me.shared.channels.doorbell(self.me.index);
        let deadline = self.deadline;
        let receiver = &mut self.receiver;
        doorbell.wait_for(&waiter, WaitPolicy::BLOCK, || match receiver.try_recv() {
            Ok(message) => Some(Some(message)),
            Err(RecvError::Empty) if cpu::counter() <= deadline => None,
            Err(_) => Some(None),
        })
    }

    /// Sends `count` messages, written straight into the ring in batches
    /// of up to `STREAM_BATCH`, as the ring allows.
    fn stream_out(&mut self, count: u64) {
        let mut sent = 0;
        let mut polls = 0u32;
        while sent < count {
            let want = ((count - sent) as usize).min(STREAM_BATCH);
            match self.sender.try_send_each(want, |k| Message::new([sent + k as u64, 0, 0, 0, 0, 0, 0])) {
                Ok(n) => sent += n as u64,
                Err(_) => {
                    if !self.keep_waiting(&mut polls) {
                        return;
                    }
                }
            }
        }
    }

    /// Receives `count` messages in batches, summing their first words (the
    /// consumer reads each message once, from its private copy).
    fn stream_in(&mut self, count: u64) -> u64 {
        let mut received = 0;
        let mut sum = 0u64;
        let mut polls = 0u32;
        while received < count {
            let want = ((count - received) as usize).min(STREAM_BATCH);
            match self.receiver.try_recv_each(want, |message| sum = sum.wrapping_add(message.words[0])) {
                Ok(n) => received += n as u64,
                Err(RecvError::Empty) => {
                    if !self.keep_waiting(&mut polls) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        sum
    }

    /// Operation number `n` (from 1) on the initiator.
    fn initiate(&mut self, benchmark: Benchmark, n: u64) {
        let lines = &self.me.shared.bench_lines;
        match benchmark {
            Benchmark::LineRoundTrip => {
                lines[0].0.store(n, Release);
                self.spin_until(|| lines[1].0.load(Acquire) == n);
            }
            Benchmark::UrpcRoundTripPolling => {
                self.send(n, false);
                self.receive_polling();
            }
            Benchmark::UrpcRoundTripSgi => {
                self.send(n, true);
                self.receive_blocking();
            }
            Benchmark::UrpcThroughput => {
                self.stream_out(STREAM);
                self.receive_polling();
            }
            Benchmark::SgiRoundTrip => {
                let before = self.me.bench_sgis.get();
                self.me.send_sgi(SGI_BENCH, self.peer);
                self.me.wait_until(self.deadline, || self.me.bench_sgis.get() > before);
            }
        }
    }

    /// The responder's whole part: `total` operations.
    fn respond(&mut self, benchmark: Benchmark, total: u64) {
        let lines = &self.me.shared.bench_lines;
        let sgis_before = self.me.bench_sgis.get();
        lines[1].0.store(READY, Release);
        for n in 1..=total {
            if self.late() {
                return;
            }
            match benchmark {
                Benchmark::LineRoundTrip => {
                    self.spin_until(|| lines[0].0.load(Acquire) == n);
                    lines[1].0.store(n, Release);
                }
                Benchmark::UrpcRoundTripPolling => {
                    self.receive_polling();
                    self.send(n, false);
                }
                Benchmark::UrpcRoundTripSgi => {
                    self.receive_blocking();
                    self.send(n, true);
                }
                Benchmark::UrpcThroughput => {
                    let sum = self.stream_in(STREAM);
                    self.send(sum, false);
                }
                Benchmark::SgiRoundTrip => {
                    self.me.wait_until(self.deadline, || self.me.bench_sgis.get() >= sgis_before + n);
                    self.me.send_sgi(SGI_BENCH, self.peer);
                }
            }
        }
    }
}
