//! On-target tests selected by `test=<name>`; each returns (passed, failed)
//! and prints one line per check.

use crate::arch::aarch64::cpu;
use crate::boot::{phys_to_virt, PER_CORE_RESERVED};
use crate::cpu_driver::CpuDriver;
use crate::shared::state;
use core::sync::atomic::Ordering;

/// Runs test `name` on the boot CPU after the self-check.
pub fn run(name: &str, me: &CpuDriver, online: u64, mesh_ok: bool) -> (u32, u32) {
    match name {
        "boot" => boot(me, online, mesh_ok),
        "fault" => fault(),
        "panic" => panic_elsewhere(me, online),
        _ => {
            log::error!("test {name}: no such test (known: boot, fault, panic)");
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
fn boot(me: &CpuDriver, online: u64, mesh_ok: bool) -> (u32, u32) {
    let shared = me.shared;
    let mut checks = Checks { name: "boot", passed: 0, failed: 0 };
    let startable = shared.info.cpus().iter().filter(|c| c.mpidr.is_some()).count();
    checks.check("every core with an MPIDR is online", online.count_ones() as usize == startable);
    let all_ticked = (0..shared.info.cpu_count)
        .filter(|&i| online & (1 << i) != 0)
        .all(|i| shared.mailboxes[i].owner.0.ticks.load(Ordering::Relaxed) > 0);
    checks.check("every online core's timer ticks", all_ticked);
    checks.check("sgi mesh complete", mesh_ok);
    let done = (0..shared.info.cpu_count)
        .filter(|&i| online & (1 << i) != 0)
        .all(|i| shared.mailboxes[i].owner.0.state.load(Ordering::Acquire) == state::MESH_DONE);
    checks.check("every online core reported its mesh", done);
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
    let line = &shared.mailboxes[target].command.0;
    line.command.store(crate::shared::command::PANIC, Ordering::Release);
    me.send_sgi(crate::cpu_driver::SGI_WAKE, target);
    let deadline = cpu::counter() + cpu::counter_frequency();
    me.wait_until(deadline, || false);
    log::error!("test panic: core {target} did not power the machine off");
    (0, 1)
}

fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads SP into a register; no memory is touched.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}
