//! On-target tests selected by `test=<name>`; each returns (passed, failed)
//! and prints one line per check.

pub mod urpc;

use crate::arch::aarch64::cpu;
use crate::boot::{phys_to_virt, PER_CORE_RESERVED};
use crate::command::{broadcast, deadline_in, Command, Kind};
use crate::cpu_driver::CpuDriver;
use core::sync::atomic::Ordering;

/// What the boot self-check found.
#[derive(Clone, Copy, Debug)]
pub struct MeshOutcome {
    /// Every pair's SGI arrived.
    pub ok: bool,
    /// Every online core answered the mesh command.
    pub all_reported: bool,
}

/// Runs test `name` on the boot CPU after the self-check.
pub fn run(name: &str, me: &CpuDriver, online: u64, mesh: MeshOutcome) -> (u32, u32) {
    match name {
        "boot" => boot(me, online, mesh),
        "fault" => fault(),
        "panic" => panic_elsewhere(me, online),
        "urpc" => urpc_mesh(me, online),
        _ => {
            log::error!("test {name}: no such test (known: boot, fault, panic, urpc)");
            (0, 1)
        }
    }
}

/// Tallies checks.
struct Checks {
    name: &'static str,
    passed: u32,
    failed: u32,
}

impl Checks {
    fn check(&mut self, what: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        log::info!("test {}: {what}: {}", self.name, if ok { "ok" } else { "FAILED" });
    }
}

/// The boot: every startable core online, ticking, in the mesh, with its own
/// partition, stack and driver.
fn boot(me: &CpuDriver, online: u64, mesh: MeshOutcome) -> (u32, u32) {
    let shared = me.shared;
    let mut checks = Checks { name: "boot", passed: 0, failed: 0 };
    let startable = shared.info.cpus().iter().filter(|c| c.mpidr.is_some()).count();
    checks.check("every core with an MPIDR is online", online.count_ones() as usize == startable);
    let all_ticked = (0..shared.info.cpu_count)
        .filter(|&i| online & (1 << i) != 0)
        .all(|i| shared.mailboxes[i].owner.0.ticks.load(Ordering::Relaxed) > 0);
    checks.check("every online core's timer ticks", all_ticked);
    checks.check("sgi mesh complete", mesh.ok);
    checks.check("every online core reported its mesh", mesh.all_reported);
    let mut disjoint = true;
    let parts = &shared.partitions[..shared.info.cpu_count];
    for (i, a) in parts.iter().enumerate() {
        for b in &parts[i + 1..] {
            disjoint &= a.pieces().iter().all(|x| b.pieces().iter().all(|y| !x.overlaps(y)));
        }
    }
    checks.check("per-core partitions are disjoint", disjoint);
    let base = shared.partitions[me.index].pieces()[0].base;
    let mine = phys_to_virt(base) == me as *const CpuDriver as usize;
    let sp = stack_pointer();
    let on_own_stack = sp > phys_to_virt(base) && sp <= phys_to_virt(base + PER_CORE_RESERVED);
    checks.check("driver and stack live in the core's own partition", mine && on_own_stack);
    let frequency = cpu::counter_frequency();
    checks.check("counter frequency known", frequency > 0);
    (checks.passed, checks.failed)
}

/// Reads an unmapped kernel address: the vector table must dump the
/// registers and syndrome, and the panic must power the machine off.
fn fault() -> (u32, u32) {
    let unmapped = (crate::boot::LINEAR_BASE + crate::boot::LINEAR_LIMIT) as *const u64;
    log::info!("test fault: reading unmapped {:#x}", unmapped as usize);
    // SAFETY: deliberately faults; the exception handler never returns here.
    let value = unsafe { unmapped.read_volatile() };
    log::error!("test fault: read {value:#x} from an unmapped address");
    (0, 1)
}

/// Asks another core (the highest online one) to panic: its `PANIC core=<i>`
/// line must appear and the machine must power off.
fn panic_elsewhere(me: &CpuDriver, online: u64) -> (u32, u32) {
    let shared = me.shared;
    let Some(target) = (0..shared.info.cpu_count).rev().find(|&i| i != me.index && online & (1 << i) != 0)
    else {
        panic!("panic requested by test=panic");
    };
    log::info!("test panic: asking core {target} to panic");
    let command = Command { kind: Kind::Panic, online: 1 << target, deadline: deadline_in(1), argument: 0 };
    broadcast(me, &command, 0);
    log::error!("test panic: core {target} did not power the machine off");
    (0, 1)
}

/// All-to-all URPC exchange among the online cores.
fn urpc_mesh(me: &CpuDriver, online: u64) -> (u32, u32) {
    use self::urpc::{result, MESSAGES_PER_PAIR};
    let shared = me.shared;
    shared.channels.reset();
    let command = Command { kind: Kind::UrpcExchange, online, deadline: deadline_in(60), argument: 0 };
    let results = broadcast(me, &command, cpu::counter_frequency());
    let cores: u64 = online.count_ones().into();
    let sum = |word: usize| results.iter().flatten().map(|r| r[word]).sum::<u64>();
    let (received, lost, duplicated, corrupt) =
        (sum(result::RECEIVED), sum(result::LOST), sum(result::DUPLICATED), sum(result::CORRUPT));
    for (j, r) in results.iter().enumerate().filter_map(|(j, r)| r.map(|r| (j, r))) {
        log::info!(
            "urpc: core {j} received={} full={} blocked={}",
            r[result::RECEIVED],
            r[result::FULL],
            r[result::BLOCKED]
        );
    }
    let reported =
        (0..shared.info.cpu_count).filter(|&j| online & (1 << j) != 0).all(|j| results[j].is_some());
    let complete = (0..shared.info.cpu_count)
        .filter(|&j| online & (1 << j) != 0)
        .all(|j| results[j].is_some_and(|r| r[result::RECEIVED] == (cores - 1) * MESSAGES_PER_PAIR));
    if reported && complete && lost + duplicated + corrupt == 0 {
        log::info!("urpc: mesh {cores}x{cores} ok messages={received} lost=0");
    } else {
        log::info!("urpc: mesh FAILED lost={lost} dup={duplicated} corrupt={corrupt}");
    }
    let mut checks = Checks { name: "urpc", passed: 0, failed: 0 };
    checks.check("every core reported before the deadline", reported);
    checks.check("every pair delivered every message", complete);
    checks.check("nothing lost, duplicated or corrupted", lost + duplicated + corrupt == 0);
    if cores > 1 {
        checks.check("stalled receivers pushed back on senders (ring full)", sum(result::FULL) > 0);
        checks.check("blocked receivers were woken through their doorbells", sum(result::BLOCKED) > 0);
    }
    (checks.passed, checks.failed)
}

fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads SP into a register; no memory is touched.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}
