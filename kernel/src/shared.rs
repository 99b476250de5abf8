//! What the boot CPU hands to every CPU driver: read-only boot facts, and the
//! boot mailboxes, the only memory CPU drivers write for one another.

use crate::arch::aarch64::gic::GicRegisters;
use crate::board::{BoardOps, ConsoleUart};
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
}

/// Words of result a core reports for a command.
pub const RESULT_WORDS: usize = 6;

/// What a core publishes about itself.
#[derive(Default)]
pub struct OwnerLine {
    /// One of `state::*`.
    pub state: AtomicU32,
    /// How other cores address SGIs to it (`gic::SgiAddress`).
    pub sgi_address: AtomicU64,
    /// Timer ticks taken.
    pub ticks: AtomicU64,
    /// The sequence number of the last command completed (release, after
    /// `result`).
    pub done: AtomicU64,
    /// The last command's result.
    pub result: [AtomicU64; RESULT_WORDS],
}

/// What the boot CPU asks of a core (see `command`).
#[derive(Default)]
pub struct CommandLine {
    /// Bumped for each new command, written last (release).
    pub sequence: AtomicU64,
    /// Which command (`command::Kind`).
    pub kind: AtomicU32,
    /// Cores taking part (bit i = core i).
    pub online: AtomicU64,
    /// Counter value by which the command should be over.
    pub deadline: AtomicU64,
    /// A command-specific argument.
    pub argument: AtomicU64,
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
    /// The board's console UART (what `Kernel.console` hands over).
    pub console_uart: ConsoleUart,
    /// The interrupt controller's mapped registers.
    pub gic: GicRegisters,
    /// Each core's RAM.
    pub partitions: [Partition; MAX_CPUS],
    /// Where the loader put the kernel image.
    pub image_physical: u64,
    /// Index of the boot CPU.
    pub boot_index: usize,
    /// URPC channels between every pair of cores.
    pub channels: crate::channels::Channels,
    /// The same layout for user programs: mapped into every core's first
    /// program (`caps::abi::layout::CHANNELS`), a stand-in for the channels
    /// the monitors will set up by handing frame capabilities around.
    pub user_channels: crate::bootinfo::Region,
    /// The user channel area's layout (the kernel rings the console core's
    /// doorbell there after it sent a console line).
    pub user_mesh: crate::channels::Channels,
    /// The console rings (`console::ring`): one per listed core, mapped
    /// into every core's first program (`caps::abi::layout::CONSOLE_RINGS`).
    pub console_rings: crate::bootinfo::Region,
    /// Two cache lines for the bare ping-pong benchmark (one writer each).
    pub bench_lines: [CacheLine<AtomicU64>; 2],
    /// One mailbox per core, indexed by core number.
    pub mailboxes: [Mailbox; MAX_CPUS],
}
