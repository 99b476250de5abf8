//! The multikernel paper's unmap experiment: TLBI broadcast vs. messages.
//!
//! One 4 KiB page that `n` cores (the boot CPU, which initiates, and the
//! `n - 1` lowest other online cores) have mapped and recently touched is
//! unmapped in one of two ways:
//!
//! * `unmap_tlbi_n*`: the participants share one table tree (the boot CPU's),
//!   which is what the hardware broadcast allows. The initiator walks it to
//!   the last-level entry, clears it, `DSB ISHST`, `TLBI VALE1IS`, `DSB ISH`,
//!   `ISB`.
//! * `unmap_msg_n*`: as Barrelfish does it, every participant has its own
//!   replica (four tables in its own RAM mapping the same frame). The
//!   initiator clears its entry and invalidates locally (`TLBI VALE1`,
//!   `DSB NSH`, `ISB`), sends one URPC message to each participant, which
//!   clears its replica's entry, invalidates its own TLB and acknowledges;
//!   the unmap is done when every acknowledgement is in.
//!
//! The page is `TEST_VA` in the low half (`TTBR0_EL1`, which the kernel does
//! not use while it benchmarks: every core puts its own state back
//! afterwards). Tables, the two frames it alternately maps and the control
//! lines lie at the start of each core's free partition RAM (no program has
//! started in a `bench` boot).
//!
//! Method: only the unmap is timed, on the initiator, from before it walks
//! to its entry until the broadcast completed or the last acknowledgement
//! arrived. Making the page present and touched again on every participant
//! happens between two timed windows and is not timed, so nothing has to be
//! subtracted for it. A broadcast unmap is a handful of instructions and one
//! tick of the virtual counter is 16 (62.5 MHz), so the windows are read
//! from the cycle counter (`PMCCNTR_EL0`, which QEMU advances with virtual
//! time: one per instruction under `-icount shift=0`); what reading it twice
//! costs, measured the same way in the same boot, is subtracted, and cycles
//! are converted to virtual nanoseconds with the virtual counter over the
//! whole run. Without a PMU the virtual counter times the windows. As for
//! every benchmark here, a window counts what all cores execute in it,
//! including the other participants' polling.
//!
//! Checks: after each unmap every participant asks `AT S1E1R` whether
//! `TEST_VA` still translates. Then the page is mapped again, to the other
//! frame, and each participant reads it through `TEST_VA`: finding the old
//! frame's contents means a stale TLB entry survived the unmap (QEMU's `AT`
//! walks the tables without its TLB; the read goes through the TLB).

use super::stopwatch::Stopwatch;
use super::{DEADLINE_CHECK, SAMPLES};
use crate::arch::aarch64::{cpu, mmu};
use crate::bootinfo::MAX_CPUS;
use crate::channels::RING_SLOTS;
use crate::command::{broadcast, deadline_in, Command, Kind, Results};
use crate::cpu_driver::CpuDriver;
use crate::shared::RESULT_WORDS;
use core::fmt;
use core::sync::atomic::Ordering::{Acquire, Release};
use region::{leaf_unmap, remap, Region, TEST_VA};
use urpc::{Message, Receiver, RecvError, Sender};

mod region;

/// Unmaps per timed sample.
const PER_SAMPLE: u64 = 8;
/// Untimed warm-up unmaps.
const WARM_UP: u64 = 8;
/// Unmaps per run.
const TOTAL: u64 = WARM_UP + SAMPLES as u64 * PER_SAMPLE;
/// Participants (initiator included) per run, in the order they run.
pub const SIZES: [usize; 3] = [2, 4, 8];
/// `Command::argument` of an unmap benchmark: this bit plus the method.
const ARGUMENT: u64 = 1 << 8;
/// Virtual seconds a run may take (it takes about 0.5 ms; under `-icount`
/// a virtual second of polling takes the host half a minute).
const DEADLINE_SECONDS: u64 = 1;

/// The two ways to unmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Method {
    /// One shared table tree, `TLBI VALE1IS`.
    Broadcast = 0,
    /// A replica per core, one message and acknowledgement per participant.
    Messages = 1,
}

/// The methods, in the order they run.
pub const METHODS: [Method; 2] = [Method::Broadcast, Method::Messages];

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Broadcast => "unmap_tlbi",
            Method::Messages => "unmap_msg",
        }
    }

    /// The method a `Kind::Bench` argument names, if it names one.
    pub fn from_argument(argument: u64) -> Option<Method> {
        METHODS.into_iter().find(|m| ARGUMENT | *m as u64 == argument)
    }

    /// Whether `name` is this method's benchmark on `n` cores.
    pub fn named(self, name: &str, n: usize) -> bool {
        let count = name.strip_prefix(self.name()).and_then(|rest| rest.strip_prefix("_n"));
        count.is_some_and(|count| !count.starts_with('0') && count.parse() == Ok(n))
    }
}

/// A benchmark's name: method and participants.
#[derive(Clone, Copy)]
struct Name(Method, usize);

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_n{}", self.0.name(), self.1)
    }
}

/// The phase after unmap `i`: check it. A participant answers with the
/// same value when it has.
fn check_phase(i: u64) -> u64 {
    2 * i
}

/// The phase after unmap `i` was checked: the page is mapped again, touch
/// it. A participant answers with the same value when it has.
fn touch_phase(i: u64) -> u64 {
    2 * i + 1
}

/// What went wrong on one core.
#[derive(Clone, Copy, Default)]
struct Faults {
    /// Unmaps after which this core still translated the page.
    still_mapped: u64,
    /// Touches after re-mapping that found the page unmapped, mapped to the
    /// wrong frame, or the old frame's contents (a stale TLB entry).
    stale: u64,
    /// Unexpected messages or entries, and waits that ran out.
    protocol: u64,
}

impl Faults {
    fn words(self) -> [u64; 3] {
        [self.still_mapped, self.stale, self.protocol]
    }

    /// Checks that `TEST_VA` no longer translates here.
    fn check_unmapped(&mut self) {
        if mmu::translate_for_read(TEST_VA).is_some() {
            self.still_mapped += 1;
        }
    }

    /// Reads the page through `TEST_VA`, which must reach `frame` (whose
    /// first word holds its own address).
    fn touch(&mut self, frame: u64) {
        if mmu::translate_for_read(TEST_VA) != Some(frame) {
            self.stale += 1;
            return;
        }
        // SAFETY: `TEST_VA` translates, through this core's current tables,
        // to `frame`, a page of the benchmark region; an aligned u64 read.
        let seen = unsafe { (TEST_VA as *const u64).read_volatile() };
        if seen != frame {
            self.stale += 1;
        }
    }
}

/// Runs one unmap benchmark on the boot CPU and the `n - 1` lowest other
/// online cores, and prints its `BENCH` line or what went wrong.
pub fn measure(me: &CpuDriver, online: u64, method: Method, n: usize) {
    let shared = me.shared;
    let name = Name(method, n);
    let mut cores = 1u64 << me.index;
    for j in (0..shared.info.cpu_count).filter(|&j| online & (1 << j) != 0) {
        if cores.count_ones() < n as u32 {
            cores |= 1 << j;
        }
    }
    if cores.count_ones() < n as u32 {
        log::warn!("bench: {name} skipped: {n} cores needed, {} online", online.count_ones());
        return;
    }
    let participants = || (0..shared.info.cpu_count).filter(move |&j| cores & (1 << j) != 0);
    let (Some(home), true) =
        (Region::of(shared, me.index), participants().all(|j| Region::of(shared, j).is_some()))
    else {
        log::error!("bench: {name}: a partition has no room for its tables");
        return;
    };
    prepare(home);
    shared.channels.reset();
    let argument = ARGUMENT | method as u64;
    let command =
        Command { kind: Kind::Bench, online: cores, deadline: deadline_in(DEADLINE_SECONDS), argument };
    let results = broadcast(me, &command, cpu::counter_frequency());
    report(name, &results, participants(), me.index);
}

/// Builds the initiator's tables (the shared tree, or its replica) mapping
/// the first frame, marks both frames and resets the control lines; before
/// any other core takes part.
fn prepare(home: Region) {
    home.reset_frames_and_control();
    home.control().phase.0.store(touch_phase(0), Release);
    home.build_tables(home.frame(1));
}

/// Prints the `BENCH` line, or an `error: bench:` line for each core that
/// failed a check or did not report.
fn report(name: Name, results: &Results, cores: impl Iterator<Item = usize>, initiator: usize) {
    let mut good = true;
    for core in cores {
        let Some(words) = results[core] else {
            log::error!("bench: {name}: core {core} did not complete");
            good = false;
            continue;
        };
        let [still_mapped, stale, protocol] = [words[3], words[4], words[5]];
        if still_mapped > 0 {
            log::error!("bench: {name}: core {core} still translated the page after {still_mapped} unmaps");
        }
        if stale > 0 {
            log::error!(
                "bench: {name}: core {core} read a stale or missing page {stale} times after re-mapping"
            );
        }
        if protocol > 0 {
            log::error!("bench: {name}: core {core}: {protocol} unexpected messages, entries or timeouts");
        }
        good &= still_mapped == 0 && stale == 0 && protocol == 0;
    }
    match results[initiator] {
        Some(r) if good && r[2] == SAMPLES as u64 => super::print_line(&name, r, "insn"),
        _ if good => log::error!("bench: {name} did not complete"),
        _ => {}
    }
}

/// One core's part of the benchmark `method`. The initiator's result is
/// [median, min] in thousandths of an instruction, the sample count; every
/// core's words 3 to 5 are its `Faults`. Never inlined, so that the
/// two-core benchmarks' code (inlined into the same caller) stays as it was.
#[inline(never)]
pub fn run(me: &CpuDriver, command: &Command, method: Method) -> [u64; RESULT_WORDS] {
    let shared = me.shared;
    let initiator = shared.boot_index;
    let (Some(home), Some(mine)) = (Region::of(shared, initiator), Region::of(shared, me.index)) else {
        return [0, 0, 0, 0, 0, 1];
    };
    let root = match method {
        Method::Broadcast => home.table(0),
        Method::Messages => mine.table(0),
    };
    if method == Method::Messages && me.index != initiator {
        mine.build_tables(home.frame(1));
    }
    let saved = mmu::install_low_half(root);
    let mut side = Side { me, method, home, root, deadline: command.deadline, faults: Faults::default() };
    let mut result = [0; RESULT_WORDS];
    if me.index == initiator {
        let (median, min, samples) = side.initiate(command.online & !(1 << me.index));
        result[..3].copy_from_slice(&[median, min, samples]);
    } else {
        side.participate(initiator);
    }
    mmu::restore_low_half(saved);
    result[3..].copy_from_slice(&side.faults.words());
    result
}

/// A channel pair to one participant.
struct Peer {
    sender: Sender<'static, RING_SLOTS>,
    receiver: Receiver<'static, RING_SLOTS>,
}

/// One core's side of a run.
struct Side<'a> {
    me: &'a CpuDriver,
    method: Method,
    /// The initiator's region: frames, control lines, shared tables.
    home: Region,
    /// The tables this core translates `TEST_VA` with.
    root: u64,
    deadline: u64,
    faults: Faults,
}

impl Side<'_> {
    /// Spins (yielding) until `done`; `false` (and a protocol fault) if the
    /// deadline passed first.
    fn wait(&mut self, mut done: impl FnMut() -> bool) -> bool {
        let mut polls = 0u32;
        while !done() {
            polls = polls.wrapping_add(1);
            if polls.is_multiple_of(DEADLINE_CHECK) && cpu::counter() > self.deadline {
                self.faults.protocol += 1;
                return false;
            }
            cpu::relax();
        }
        true
    }

    /// Sends `message`; `false` if the ring stayed full until the deadline.
    fn send(&mut self, sender: &mut Sender<'static, RING_SLOTS>, message: &Message) -> bool {
        self.wait(|| sender.try_send(message).is_ok())
    }

    /// The next message; `None` at the deadline or on a broken channel.
    fn receive(&mut self, receiver: &mut Receiver<'static, RING_SLOTS>) -> Option<Message> {
        let mut received = None;
        self.wait(|| match receiver.try_recv() {
            Ok(message) => {
                received = Some(message);
                true
            }
            Err(RecvError::Empty) => false,
            Err(_) => true,
        });
        received
    }

    /// The initiator: `TOTAL` timed unmaps among itself and `others`;
    /// returns median, min (thousandths of an instruction) and the sample
    /// count (0 if the run did not complete).
    fn initiate(&mut self, others: u64) -> (u64, u64, u64) {
        let mut peers = self.peers(others);
        let count = others.count_ones() as usize;
        let control = self.home.control();
        let all_at = |value: u64| {
            move || {
                (0..MAX_CPUS)
                    .filter(|&j| others & (1 << j) != 0)
                    .all(|j| control.cores[j].0.load(Acquire) == value)
            }
        };
        self.faults.touch(self.home.frame(1));
        if !self.wait(all_at(touch_phase(0))) {
            return (0, 0, 0);
        }
        let watch = Stopwatch::start();
        let overhead = watch.overhead();
        let (first_tick, first_cycle) = (cpu::counter(), watch.read());
        let mut samples = [0u64; SAMPLES];
        let mut completed = 0;
        for i in 1..=TOTAL {
            let start = watch.read();
            let unmapped = match self.method {
                Method::Broadcast => leaf_unmap(self.root, true),
                Method::Messages => self.unmap_by_messages(&mut peers[..count], i),
            };
            let took = (watch.read() - start).saturating_sub(overhead);
            if let Some(sample) = i.checked_sub(WARM_UP + 1).map(|k| (k / PER_SAMPLE) as usize) {
                samples[sample] += took;
            }
            if !unmapped {
                self.faults.protocol += 1;
                break;
            }
            self.faults.check_unmapped();
            control.phase.0.store(check_phase(i), Release);
            if !self.wait(all_at(check_phase(i))) {
                break;
            }
            if !remap(self.root, self.home.frame(i + 1)) {
                self.faults.protocol += 1;
                break;
            }
            self.faults.touch(self.home.frame(i + 1));
            control.phase.0.store(touch_phase(i), Release);
            if !self.wait(all_at(touch_phase(i))) {
                break;
            }
            completed = i;
        }
        let (ticks, cycles) = (cpu::counter() - first_tick, watch.read() - first_cycle);
        watch.stop();
        if completed != TOTAL {
            return (0, 0, 0);
        }
        summarise(samples, ticks, cycles)
    }

    /// Channels to each of `others`, in core order, then `None`s.
    fn peers(&self, others: u64) -> [Option<Peer>; MAX_CPUS - 1] {
        let channels = self.me.shared.channels;
        let mut cores = (0..MAX_CPUS).filter(|&j| others & (1 << j) != 0);
        core::array::from_fn(|_| {
            cores.next().map(|j| Peer {
                sender: channels.sender(self.me.index, j),
                receiver: channels.receiver(self.me.index, j),
            })
        })
    }

    /// The message-based unmap, operation `i`: the local part, one message
    /// to each participant, every acknowledgement.
    fn unmap_by_messages(&mut self, peers: &mut [Option<Peer>], i: u64) -> bool {
        let mut done = leaf_unmap(self.root, false);
        let message = Message::new([TEST_VA, i, 0, 0, 0, 0, 0]);
        for peer in peers.iter_mut().flatten() {
            done &= self.send(&mut peer.sender, &message);
        }
        for peer in peers.iter_mut().flatten() {
            done &= self.receive(&mut peer.receiver).is_some_and(|ack| ack.words[0] == i);
        }
        done
    }

    /// A participant: answers `TOTAL` unmaps from `initiator`.
    fn participate(&mut self, initiator: usize) {
        let channels = self.me.shared.channels;
        let mut sender = channels.sender(self.me.index, initiator);
        let mut receiver = channels.receiver(self.me.index, initiator);
        let control = self.home.control();
        let (phase, line) = (&control.phase.0, &control.cores[self.me.index].0);
        if !self.wait(|| phase.load(Acquire) == touch_phase(0)) {
            return;
        }
        self.faults.touch(self.home.frame(1));
        line.store(touch_phase(0), Release);
        for i in 1..=TOTAL {
            if self.method == Method::Messages {
                let request = self.receive(&mut receiver);
                if request.is_none_or(|r| r.words[0] != TEST_VA || r.words[1] != i)
                    || !leaf_unmap(self.root, false)
                {
                    self.faults.protocol += 1;
                    return;
                }
                if !self.send(&mut sender, &Message::new([i, 0, 0, 0, 0, 0, 0])) {
                    return;
                }
            }
            if !self.wait(|| phase.load(Acquire) == check_phase(i)) {
                return;
            }
            self.faults.check_unmapped();
            line.store(check_phase(i), Release);
            if !self.wait(|| phase.load(Acquire) == touch_phase(i)) {
                return;
            }
            if self.method == Method::Messages && !remap(self.root, self.home.frame(i + 1)) {
                self.faults.protocol += 1;
                return;
            }
            self.faults.touch(self.home.frame(i + 1));
            line.store(touch_phase(i), Release);
        }
    }
}

/// Median and minimum of `samples` (stopwatch counts of `PER_SAMPLE` unmaps
/// each) in thousandths of a virtual nanosecond per unmap, rounded to the
/// tenth that `BENCH` lines show, given that `cycles` stopwatch counts took
/// `ticks` of the virtual counter; and the sample count.
fn summarise(mut samples: [u64; SAMPLES], ticks: u64, cycles: u64) -> (u64, u64, u64) {
    let nanoseconds = u128::from(ticks) * 1_000_000_000 / u128::from(cpu::counter_frequency());
    let per_unmap = u128::from(cycles.max(1)) * u128::from(PER_SAMPLE);
    for sample in samples.iter_mut() {
        let tenths = (u128::from(*sample) * 10 * nanoseconds + per_unmap / 2) / per_unmap;
        *sample = tenths as u64 * 100;
    }
    samples.sort_unstable();
    (samples[SAMPLES / 2], samples[0], SAMPLES as u64)
}
