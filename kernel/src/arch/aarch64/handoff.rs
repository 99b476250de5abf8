//! The boot hand-off block: how a CPU that starts with the MMU off finds its
//! translation tables, stack and per-core data (by MPIDR, since spin-table
//! CPUs start with x0 = 0). Written by the boot CPU before it starts a CPU
//! and cleaned to the point of coherency; read by that CPU, once.

use crate::bootinfo::MAX_CPUS;
use core::cell::UnsafeCell;

/// The MMU set-up every CPU loads (layout fixed by `mk_enable_mmu`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MmuConfig {
    /// `MAIR_EL1`.
    pub mair: u64,
    /// `TCR_EL1`.
    pub tcr: u64,
    /// `TTBR0_EL1`: the boot identity map.
    pub ttbr0: u64,
    /// `TTBR1_EL1`: the kernel.
    pub ttbr1: u64,
    /// `SCTLR_EL1` with the MMU on.
    pub sctlr: u64,
}

/// One CPU's entry (layout fixed by `mk_secondary_entry`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HandoffEntry {
    /// MPIDR affinity to match.
    pub mpidr: u64,
    /// Initial stack pointer (virtual).
    pub stack_top: u64,
    /// Argument passed in x0 (virtual).
    pub argument: u64,
    /// Where to jump with the MMU on (virtual); 0 = unused entry.
    pub entry: u64,
}

/// The whole block (`MmuConfig` padded to 64 bytes, then the entries).
#[repr(C, align(64))]
pub struct Handoff {
    /// MMU set-up.
    pub mmu: MmuConfig,
    _pad: [u64; 3],
    /// Per-CPU entries.
    pub entries: [HandoffEntry; MAX_CPUS],
}

/// The hand-off block (allow-listed interior-mutable static).
pub struct HandoffCell(UnsafeCell<Handoff>);

// SAFETY: written only by the boot CPU (before the MMU is on, and later for a
// CPU that is not yet running); a CPU reads its entry after the boot CPU's
// clean to the point of coherency and `CPU_ON`/`sev`, which order the writes.
unsafe impl Sync for HandoffCell {}

impl HandoffCell {
    /// Raw access (see the `Sync` argument).
    pub fn get(&self) -> *mut Handoff {
        self.0.get()
    }
}

/// The hand-off block itself; `boot.S` finds it by this name.
#[no_mangle]
pub static BOOT_HANDOFF: HandoffCell = HandoffCell(UnsafeCell::new(Handoff {
    mmu: MmuConfig { mair: 0, tcr: 0, ttbr0: 0, ttbr1: 0, sctlr: 0 },
    _pad: [0; 3],
    entries: [HandoffEntry { mpidr: 0, stack_top: 0, argument: 0, entry: 0 }; MAX_CPUS],
}));
