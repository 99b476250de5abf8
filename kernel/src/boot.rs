//! Boot: the boot CPU from the loader's hand-over to every core online, then
//! the SGI self-check; the other CPUs from their hand-off entry to idle.

mod primary;
mod secondary;
mod start;

pub use primary::primary;
pub use secondary::{run_mesh, secondary};

use crate::arch::aarch64::mmu::PAGE_SIZE;

/// Start of the linear map: physical address `p` is at `LINEAR_BASE + p`
/// (TTBR1, L0 slot 0).
pub const LINEAR_BASE: u64 = !0 << 48;
/// Physical addresses the linear map can reach (one L0 slot, 512 GiB).
pub const LINEAR_LIMIT: u64 = 1 << 39;
/// Each core's kernel stack.
pub const STACK_SIZE: u64 = 64 << 10;
/// Room for the core's `CpuDriver` at the start of its partition.
pub const DRIVER_AREA: u64 = 16 << 10;
/// What a partition's first piece must hold before its free RAM.
pub const PER_CORE_RESERVED: u64 = DRIVER_AREA + STACK_SIZE;
/// Largest device tree the kernel maps.
pub const MAX_DTB_SIZE: u64 = 16 << 20;

/// The kernel's view of physical address `physical`.
pub fn phys_to_virt(physical: u64) -> usize {
    (LINEAR_BASE + physical) as usize
}

fn page_span(physical: u64, size: u64) -> (u64, u64) {
    let start = physical & !(PAGE_SIZE - 1);
    let end = (physical + size).div_ceil(PAGE_SIZE) * PAGE_SIZE;
    (start, end - start)
}
