//! Every CPU's own set-up (interrupts, timer, check-in) and the secondary
//! CPUs' life: check in, then serve boot-mailbox commands.

use crate::arch::aarch64::gic::{Gic, GicError};
use crate::arch::aarch64::{cpu, timer};
use crate::command::Command;
use crate::cpu_driver::{self, CpuDriver, SGI_BENCH, SGI_MESH, SGI_USER, SGI_WAKE};
use crate::shared::{state, RESULT_WORDS};
use core::fmt;
use core::sync::atomic::Ordering;

/// Why a core could not come online.
#[derive(Debug)]
pub enum LocalInitError {
    /// Its interrupt controller interface could not be set up.
    Gic(GicError),
    /// Its timer did not tick within 1 s.
    TimerSilent,
}

impl fmt::Display for LocalInitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalInitError::Gic(e) => write!(f, "interrupt controller: {e:?}"),
            LocalInitError::TimerSilent => write!(f, "timer did not tick within 1 s"),
        }
    }
}

/// Sets up this core's GIC interface and timer, waits for its first tick,
/// and marks it online.
pub fn init_local(me: &CpuDriver) -> Result<(), LocalInitError> {
    let mailbox = &me.mailbox().owner.0;
    let private = [SGI_WAKE, SGI_MESH, SGI_BENCH, SGI_USER, me.shared.info.timer.virtual_timer];
    let (_, address) = Gic::init_cpu(me.shared.gic, me.mpidr, &private).map_err(|e| {
        mailbox.state.store(state::FAILED, Ordering::Release);
        LocalInitError::Gic(e)
    })?;
    mailbox.sgi_address.store(address, Ordering::Release);
    timer::arm_next_tick();
    let deadline = cpu::counter() + cpu::counter_frequency();
    if !me.wait_until(deadline, || me.ticks.get() > 0) {
        timer::stop();
        mailbox.state.store(state::FAILED, Ordering::Release);
        return Err(LocalInitError::TimerSilent);
    }
    mailbox.state.store(state::ONLINE, Ordering::Release);
    Ok(())
}

/// Entered from `mk_secondary_entry` with the MMU on and this core's stack.
pub fn secondary(driver: usize) -> ! {
    // SAFETY: `driver` is the CpuDriver the boot CPU placed in this core's
    // partition and named in its hand-off entry.
    let me: &'static CpuDriver = unsafe { &*(driver as *const CpuDriver) };
    cpu::install_vectors();
    cpu::disable_low_half();
    cpu_driver::enter(me);
    let boot = me.shared.boot_index;
    if let Err(e) = init_local(me) {
        log::error!("cpu {}: {e}; offline", me.index);
        me.send_sgi(SGI_WAKE, boot);
        crate::power::halt();
    }
    me.send_sgi(SGI_WAKE, boot);
    crate::command::serve(me)
}

/// This core's part of the all-to-all SGI mesh: mark itself in each other
/// online core's mailbox, raise the SGI, wait (until the deadline) to hear
/// from every other core; the result is the set of senders heard.
pub fn run_mesh(me: &CpuDriver, command: &Command) -> [u64; RESULT_WORDS] {
    let shared = me.shared;
    let others = command.online & !(1 << me.index);
    for j in (0..shared.info.cpu_count).filter(|&j| others & (1 << j) != 0) {
        shared.mailboxes[j].mesh_from.0.fetch_or(1 << me.index, Ordering::Release);
        me.send_sgi(SGI_MESH, j);
    }
    me.wait_until(command.deadline, || me.mesh_received.get() & others == others);
    let mut result = [0; RESULT_WORDS];
    result[0] = me.mesh_received.get() & others;
    result
}
