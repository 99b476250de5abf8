//! What the boot CPU hands to every CPU driver: read-only boot facts, and the
//! boot mailboxes, the only memory CPU drivers write for one another.

use crate::arch::aarch64::gic::GicRegisters;
use crate::board::BoardOps;
use crate::bootinfo::{BootInfo, MAX_CPUS};
use crate::memory::Partition;
use core::sync::atomic::{AtomicU32, AtomicU64};

/// A value alone in its cache line, so writers of neighbours never share it.
#[repr(C, align(64))]
#[derive(Default)]
pub struct CacheLine<T>(pub T);

/// Mailbox states, written by the mailbox's own core.
pub mod state {
    /// Not started, or given up on.
    pub const OFFLINE: u32 = 0;
    /// Checked in: interrupts, timer and SGIs work.
    pub const ONLINE: u32 = 1;
    /// Could not initialise (reported on the console).
    pub const FAILED: u32 = 2;
    /// Finished the SGI mesh; `mesh_result` is valid.
    pub const MESH_DONE: u32 = 3;
}

/// Commands from the boot CPU.
pub mod command {
    /// Nothing to do.
    pub const NONE: u32 = 0;
    /// Run the SGI mesh among `online` until `deadline`.
    pub const MESH: u32 = 1;
    /// Panic (`test=panic`): shows another core's panic line and power-off.
    pub const PANIC: u32 = 2;
}

/// What a core publishes about itself.
#[derive(Default)]
pub struct OwnerLine {
    /// One of `state::*`.
    pub state: AtomicU32,
    /// How other cores address SGIs to it (`gic::SgiAddress`).
    pub sgi_address: AtomicU64,
    /// Senders seen during the mesh.
    pub mesh_result: AtomicU64,
    /// Timer ticks taken.
    pub ticks: AtomicU64,
}

/// What the boot CPU asks of a core.
#[derive(Default)]
pub struct CommandLine {
    /// One of `command::*`, written last (release).
    pub command: AtomicU32,
    /// Cores taking part (bit i = core i).
    pub online: AtomicU64,
    /// Counter value after which the core stops waiting.
    pub deadline: AtomicU64,
}

/// One core's boot mailbox: three lines, each with a single writer (the
/// owner, the boot CPU, the SGI senders).
#[derive(Default)]
pub struct Mailbox {
    /// Written by the owner.
    pub owner: CacheLine<OwnerLine>,
    /// Written by the boot CPU.
    pub command: CacheLine<CommandLine>,
    /// Senders of mesh SGIs set their bit here before raising the SGI.
    pub mesh_from: CacheLine<AtomicU64>,
}

/// Boot facts shared read-only by every CPU driver.
pub struct BootShared {
    /// The device tree's contents.
    pub info: BootInfo,
    /// The board, for power-off.
    pub board: &'static dyn BoardOps,
    /// The board's name.
    pub board_name: &'static str,
    /// The interrupt controller's mapped registers.
    pub gic: GicRegisters,
    /// Each core's RAM.
    pub partitions: [Partition; MAX_CPUS],
    /// Where the loader put the kernel image.
    pub image_physical: u64,
    /// Index of the boot CPU.
    pub boot_index: usize,
    /// One mailbox per core, indexed by core number.
    pub mailboxes: [Mailbox; MAX_CPUS],
}
