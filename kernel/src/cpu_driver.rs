//! The per-core CPU driver state, reached through `TPIDR_EL1`, and its
//! interrupt handling.

use crate::arch::aarch64::{cpu, gic::Gic, timer};
use crate::shared::{BootShared, Mailbox};
use crate::user::UserCore;
use core::cell::{Cell, RefCell};
use core::sync::atomic::Ordering;

/// SGI that asks a core to look at its mailbox.
pub const SGI_WAKE: u32 = 0;
/// SGI of the boot self-check mesh.
pub const SGI_MESH: u32 = 1;
/// SGI of the `sgi_rt` benchmark (counted, nothing else).
pub const SGI_BENCH: u32 = 2;
/// SGI of the user doorbell (`Kernel.notify`): signals the dispatcher bound
/// with `Kernel.doorbell`.
pub const SGI_USER: u32 = 3;

/// One core's kernel state. Lives in that core's partition; written by the
/// boot CPU before the core starts, then only by the core itself.
#[repr(C)]
pub struct CpuDriver {
    /// Where an exception from EL0 saves the registers and where the return
    /// to EL0 loads them: the running dispatcher's context (`vectors.S`
    /// reads it at offset 0 through `TPIDR_EL1`).
    pub user_frame: Cell<u64>,
    /// Core number (device-tree order).
    pub index: usize,
    /// MPIDR affinity.
    pub mpidr: u64,
    /// Boot facts and mailboxes.
    pub shared: &'static BootShared,
    /// Interrupt controller handle.
    pub gic: Gic,
    /// Timer ticks taken.
    pub ticks: Cell<u64>,
    /// A wake SGI arrived since the flag was last cleared.
    pub wake_pending: Cell<bool>,
    /// Mesh senders seen.
    pub mesh_received: Cell<u64>,
    /// `SGI_BENCH` interrupts taken.
    pub bench_sgis: Cell<u64>,
    /// User space on this core.
    pub user: RefCell<UserCore>,
    /// This core's sending end of its console ring (used once user space
    /// took the console).
    pub console: RefCell<crate::console::ring::RingWriter>,
}

const _: () = assert!(core::mem::offset_of!(CpuDriver, user_frame) == 0);

impl CpuDriver {
    /// This core's mailbox.
    pub fn mailbox(&self) -> &'static Mailbox {
        &self.shared.mailboxes[self.index]
    }

    /// The cores online (checked in): bit `i` is core `i`.
    pub fn online_set(&self) -> u64 {
        let mailboxes = &self.shared.mailboxes[..self.shared.info.cpu_count];
        mailboxes
            .iter()
            .enumerate()
            .filter(|(_, m)| m.owner.0.state.load(Ordering::Acquire) == crate::shared::state::ONLINE)
            .fold(0, |set, (i, _)| set | 1 << i)
    }

    /// How many cores are online.
    pub fn online_cores(&self) -> u64 {
        self.online_set().count_ones().into()
    }

    /// Sends an SGI to core `target` (its address from its mailbox).
    pub fn send_sgi(&self, sgi: u32, target: usize) {
        let address = self.shared.mailboxes[target].owner.0.sgi_address.load(Ordering::Acquire);
        self.gic.send_sgi(sgi, address);
    }

    /// Sleeps until `done` holds or the counter passes `deadline`; interrupts
    /// are handled while waiting. Returns whether `done` held.
    pub fn wait_until(&self, deadline: u64, mut done: impl FnMut() -> bool) -> bool {
        loop {
            let interrupts = cpu::disable_interrupts();
            if done() {
                cpu::restore_interrupts(interrupts);
                return true;
            }
            if cpu::counter() > deadline {
                cpu::restore_interrupts(interrupts);
                return false;
            }
            // WFI wakes on a pending interrupt even while masked; it is then
            // taken as soon as the mask is lifted, so none is lost between
            // the check and the sleep.
            cpu::wait_for_interrupt();
            cpu::enable_interrupts();
            cpu::restore_interrupts(interrupts);
        }
    }
}

/// The running core's driver, once its boot has set it.
pub fn current() -> Option<&'static CpuDriver> {
    let pointer = cpu::per_core_pointer();
    // SAFETY: TPIDR_EL1 is either 0 or the address of this core's CpuDriver,
    // set once by `enter` and valid for the rest of the kernel's life.
    (pointer != 0).then(|| unsafe { &*(pointer as *const CpuDriver) })
}

/// The running core's number, once known.
pub fn current_index() -> Option<usize> {
    current().map(|driver| driver.index)
}

/// Makes `driver` the running core's driver.
pub fn enter(driver: &'static CpuDriver) {
    cpu::set_per_core_pointer(driver as *const CpuDriver as usize);
}

/// Handles every pending interrupt (called from the IRQ vector).
pub fn handle_interrupt() {
    let Some(me) = current() else { return };
    while let Some((acknowledged, intid)) = me.gic.acknowledge() {
        match intid {
            SGI_WAKE => me.wake_pending.set(true),
            SGI_MESH => {
                let senders = me.mailbox().mesh_from.0.load(Ordering::Acquire);
                me.mesh_received.set(me.mesh_received.get() | senders);
            }
            SGI_BENCH => me.bench_sgis.set(me.bench_sgis.get() + 1),
            SGI_USER => crate::user::doorbell(me),
            id if id == me.shared.info.timer.virtual_timer => {
                me.ticks.set(me.ticks.get() + 1);
                me.mailbox().owner.0.ticks.store(me.ticks.get(), Ordering::Relaxed);
                timer::arm_next_tick();
                crate::user::tick(me);
            }
            id if id >= crate::arch::aarch64::gic::FIRST_SPI && crate::user::irq::fired(me, id) => {}
            other => log::warn!("unexpected interrupt {other}"),
        }
        me.gic.end(acknowledged);
    }
}
