//! Commands the boot CPU broadcasts to every online core through the boot
//! mailboxes (the SGI mesh, on-target tests, benchmarks), and their results.

use crate::arch::aarch64::cpu;
use crate::bootinfo::MAX_CPUS;
use crate::cpu_driver::{CpuDriver, SGI_WAKE};
use crate::shared::RESULT_WORDS;
use core::sync::atomic::Ordering;

/// The commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// The all-to-all SGI mesh; result 0 = senders seen.
    Mesh = 1,
    /// Panic (`test=panic`).
    Panic = 2,
    /// The all-to-all URPC exchange (`test=urpc`).
    UrpcExchange = 3,
    /// A two-core benchmark (`bench::Benchmark` in the argument).
    Bench = 4,
    /// Start this core's monitor at EL0 (does not report back).
    StartUser = 5,
}

impl Kind {
    fn from_u32(value: u32) -> Option<Kind> {
        [Kind::Mesh, Kind::Panic, Kind::UrpcExchange, Kind::Bench, Kind::StartUser]
            .into_iter()
            .find(|k| *k as u32 == value)
    }
}

/// One command as a core sees it.
#[derive(Clone, Copy, Debug)]
pub struct Command {
    /// What to do.
    pub kind: Kind,
    /// Cores taking part.
    pub online: u64,
    /// Counter value by which to give up.
    pub deadline: u64,
    /// Command-specific.
    pub argument: u64,
}

/// Each core's result words; `None` for a core that did not report in time.
pub type Results = [Option<[u64; RESULT_WORDS]>; MAX_CPUS];

/// Runs `command` on this core.
pub fn execute(me: &CpuDriver, command: &Command) -> [u64; RESULT_WORDS] {
    match command.kind {
        Kind::Mesh => crate::boot::run_mesh(me, command),
        Kind::Panic => panic!("panic requested by test=panic"),
        Kind::UrpcExchange => crate::ontarget::urpc::exchange(me, command),
        Kind::Bench => crate::bench::run(me, command),
        Kind::StartUser => {
            // Reports back as soon as the program is about to run.
            let program = program_name(me, command.argument);
            let error = crate::user::start(me, program, || report(me, [1, 0, 0, 0, 0, 0]));
            log::error!("user: core {} cannot start {program}: {error:?}", me.index);
            [0; RESULT_WORDS]
        }
    }
}

/// Programs a `StartUser` command can name by number (argument `index`).
const PROGRAMS: [&str; 2] = ["monitor", "stubstest"];

/// `StartUser` argument flag: the name is bytes `offset << 16 | length` of
/// the boot arguments (at most 512 bytes, so both fit 16 bits).
const FROM_BOOTARGS: u64 = 1 << 63;

/// The `StartUser` argument naming `program`: its number in `PROGRAMS`,
/// or its place in the boot arguments (`FROM_BOOTARGS`), which every core
/// can read; `None` for a name from neither.
pub fn program_argument(me: &CpuDriver, program: &str) -> Option<u64> {
    if let Some(index) = PROGRAMS.iter().position(|name| *name == program) {
        return Some(index as u64);
    }
    let line = me.shared.info.bootargs.as_str();
    let offset = (program.as_ptr() as usize).checked_sub(line.as_ptr() as usize)?;
    (offset + program.len() <= line.len())
        .then_some(FROM_BOOTARGS | (offset as u64) << 16 | program.len() as u64)
}

/// The program a `StartUser` argument names (`monitor` if it is bad).
fn program_name(me: &CpuDriver, argument: u64) -> &'static str {
    if argument & FROM_BOOTARGS == 0 {
        return PROGRAMS.get(argument as usize).copied().unwrap_or(PROGRAMS[0]);
    }
    let line = me.shared.info.bootargs.as_str();
    let (offset, length) = (usize::from((argument >> 16) as u16), usize::from(argument as u16));
    line.get(offset..offset + length).unwrap_or(PROGRAMS[0])
}

/// Serves commands forever (the secondary CPUs' idle loop).
pub fn serve(me: &CpuDriver) -> ! {
    let line = &me.mailbox().command.0;
    let owner = &me.mailbox().owner.0;
    let mut seen = owner.done.load(Ordering::Acquire);
    loop {
        me.wait_until(u64::MAX, || line.sequence.load(Ordering::Acquire) != seen);
        seen = line.sequence.load(Ordering::Acquire);
        let Some(kind) = Kind::from_u32(line.kind.load(Ordering::Relaxed)) else {
            log::warn!("cpu {}: unknown command {}", me.index, line.kind.load(Ordering::Relaxed));
            continue;
        };
        let command = Command {
            kind,
            online: line.online.load(Ordering::Relaxed),
            deadline: line.deadline.load(Ordering::Relaxed),
            argument: line.argument.load(Ordering::Relaxed),
        };
        let result = execute(me, &command);
        report(me, result);
    }
}

/// Publishes the result of the command this core is running and tells the
/// boot CPU.
fn report(me: &CpuDriver, result: [u64; RESULT_WORDS]) {
    let owner = &me.mailbox().owner.0;
    for (word, value) in owner.result.iter().zip(result) {
        word.store(value, Ordering::Relaxed);
    }
    let sequence = me.mailbox().command.0.sequence.load(Ordering::Acquire);
    owner.done.store(sequence, Ordering::Release);
    me.send_sgi(SGI_WAKE, me.shared.boot_index);
}

/// Idles for good: the boot CPU sleeps, the others serve commands.
pub fn idle(me: &CpuDriver) -> ! {
    if me.index != me.shared.boot_index {
        serve(me);
    }
    loop {
        me.wait_until(u64::MAX, || false);
    }
}

/// Sends `command` to every core in `command.online` (running the boot CPU's
/// own part here), waits until each reported or `command.deadline` plus
/// `grace` passed, and collects the results.
pub fn broadcast(me: &CpuDriver, command: &Command, grace: u64) -> Results {
    let shared = me.shared;
    let cores = |mask: u64| (0..shared.info.cpu_count).filter(move |&j| mask & (1 << j) != 0);
    let mut sequences = [0u64; MAX_CPUS];
    for j in cores(command.online).filter(|&j| j != me.index) {
        let line = &shared.mailboxes[j].command.0;
        line.kind.store(command.kind as u32, Ordering::Relaxed);
        line.online.store(command.online, Ordering::Relaxed);
        line.deadline.store(command.deadline, Ordering::Relaxed);
        line.argument.store(command.argument, Ordering::Relaxed);
        sequences[j] = line.sequence.load(Ordering::Relaxed) + 1;
        line.sequence.store(sequences[j], Ordering::Release);
        me.send_sgi(SGI_WAKE, j);
    }
    let mut results: Results = [None; MAX_CPUS];
    if command.online & (1 << me.index) != 0 {
        results[me.index] = Some(execute(me, command));
    }
    let done = |j: usize| shared.mailboxes[j].owner.0.done.load(Ordering::Acquire) == sequences[j];
    let others = || cores(command.online).filter(|&j| j != me.index);
    me.wait_until(command.deadline.saturating_add(grace), || others().all(done));
    for j in others().filter(|&j| done(j)) {
        let owner = &shared.mailboxes[j].owner.0;
        results[j] = Some(core::array::from_fn(|w| owner.result[w].load(Ordering::Relaxed)));
    }
    results
}

/// `seconds` of counter ticks from now.
pub fn deadline_in(seconds: u64) -> u64 {
    cpu::counter() + seconds * cpu::counter_frequency()
}
