//! Translation tables: a bump pool of tables in the image and a mapper that
//! works both before the MMU is on (tables seen at their physical address)
//! and after (seen through the image mapping).
//!
//! Only the boot CPU maps, and only before it starts the other CPUs; from
//! then on the kernel's tables are read-only and shared by every core's
//! `TTBR1_EL1` (immutable data, not shared mutable state).
//!
//! Also the TLB maintenance, address translation and low-half switch that
//! the unmap benchmarks (`bench::unmap`) use on tables of their own.

use core::cell::UnsafeCell;

/// Bytes in a page.
pub const PAGE_SIZE: u64 = 4096;
const ENTRIES: usize = 512;
/// Tables in the boot pool: image (TTBR0+TTBR1), linear RAM and devices.
const POOL_TABLES: usize = 32;

/// VMSAv8-64 descriptor bits (4 KiB granule), for the kernel's tables and
/// the user tables (`user::vspace`).
pub mod descriptor {
    /// Valid.
    pub const VALID: u64 = 1;
    /// Table (levels 0–2) or page (level 3), rather than block.
    pub const TABLE_OR_PAGE: u64 = 1 << 1;
    /// Position of the `MAIR_EL1` slot number.
    pub const ATTR_INDEX_SHIFT: u64 = 2;
    /// AP[1]: accessible from EL0.
    pub const USER_ACCESS: u64 = 1 << 6;
    /// AP[2]: read-only.
    pub const READ_ONLY: u64 = 1 << 7;
    /// Inner shareable.
    pub const INNER_SHAREABLE: u64 = 3 << 8;
    /// Access flag (set: no access-flag faults).
    pub const ACCESS_FLAG: u64 = 1 << 10;
    /// Not global (tagged with the ASID).
    pub const NOT_GLOBAL: u64 = 1 << 11;
    /// Never executable at EL1.
    pub const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
    /// Never executable at EL0.
    pub const USER_EXECUTE_NEVER: u64 = 1 << 54;
    /// The output address field.
    pub const OUTPUT_ADDRESS: u64 = ((1 << 48) - 1) & !(super::PAGE_SIZE - 1);
}

use descriptor::{
    ACCESS_FLAG, ATTR_INDEX_SHIFT, INNER_SHAREABLE, OUTPUT_ADDRESS, PRIVILEGED_EXECUTE_NEVER, READ_ONLY,
    TABLE_OR_PAGE, USER_EXECUTE_NEVER, VALID,
};

/// `MAIR_EL1` slot numbers used in descriptors.
pub mod mair_index {
    /// Device-nGnRE.
    pub const DEVICE: u64 = 0;
    /// Normal, write-back read/write-allocate, inner and outer.
    pub const NORMAL: u64 = 1;
    /// Normal, non-cacheable.
    pub const NORMAL_NONCACHEABLE: u64 = 2;
}

/// What a mapping is for; decides memory type and permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attributes {
    /// Kernel code: read-only, executable at EL1.
    KernelText,
    /// Kernel constants: read-only, never executable.
    KernelReadOnly,
    /// Kernel data and RAM: read-write, never executable.
    KernelData,
    /// The identity map used while the MMU comes on: read-write-execute.
    BootIdentity,
    /// Device registers.
    Device,
}

impl Attributes {
    fn bits(self) -> u64 {
        let normal = (mair_index::NORMAL << ATTR_INDEX_SHIFT) | INNER_SHAREABLE;
        let no_exec = PRIVILEGED_EXECUTE_NEVER | USER_EXECUTE_NEVER;
        ACCESS_FLAG
            | match self {
                Attributes::KernelText => normal | READ_ONLY | USER_EXECUTE_NEVER,
                Attributes::KernelReadOnly => normal | READ_ONLY | no_exec,
                Attributes::KernelData => normal | no_exec,
                Attributes::BootIdentity => normal | USER_EXECUTE_NEVER,
                Attributes::Device => (mair_index::DEVICE << ATTR_INDEX_SHIFT) | no_exec,
            }
    }
}

/// Why a mapping was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The boot table pool is exhausted.
    OutOfTables,
    /// Part of the range is already mapped differently.
    Overlap,
    /// Address or size not page-aligned.
    Unaligned,
}

#[repr(C, align(4096))]
struct Table([u64; ENTRIES]);

/// The boot table pool: zero (BSS) tables handed out in order.
struct TablePool {
    tables: UnsafeCell<[Table; POOL_TABLES]>,
    used: UnsafeCell<usize>,
}

// SAFETY: only the boot CPU touches the pool, and only before it starts the
// other CPUs (see the module comment); afterwards the tables are only read by
// the MMU.
unsafe impl Sync for TablePool {}

static TABLE_POOL: TablePool = TablePool {
    tables: UnsafeCell::new([const { Table([0; ENTRIES]) }; POOL_TABLES]),
    used: UnsafeCell::new(0),
};

/// Builds mappings in tables from the pool.
///
/// `view_offset` is added to a table's physical address to reach it: 0 while
/// the MMU is off, `image virtual - image physical` after.
pub struct Mapper {
    view_offset: u64,
    pool_physical: u64,
}

impl Mapper {
    /// A mapper for the current view of the image: `image_seen_at` is the
    /// address at which the running code sees the image's first byte (its
    /// physical address while the MMU is off, its link address after).
    ///
    /// # Safety
    /// 1. Only the boot CPU may create a mapper, before other CPUs run.
    /// 2. `image_physical` must be where the image is loaded.
    pub unsafe fn new(image_physical: u64, image_seen_at: u64) -> Self {
        // PC-relative, so this is the pool as the running code sees it.
        let pool_seen = TABLE_POOL.tables.get() as u64;
        Mapper {
            view_offset: image_seen_at.wrapping_sub(image_physical),
            pool_physical: pool_seen.wrapping_sub(image_seen_at).wrapping_add(image_physical),
        }
    }

    fn table(&self, physical: u64) -> *mut u64 {
        physical.wrapping_add(self.view_offset) as *mut u64
    }

    /// A fresh zeroed table's physical address.
    pub fn allocate_table(&self) -> Result<u64, MapError> {
        // SAFETY: single boot CPU (Mapper::new contract 1).
        let used = unsafe { &mut *TABLE_POOL.used.get() };
        if *used >= POOL_TABLES {
            return Err(MapError::OutOfTables);
        }
        let physical = self.pool_physical + (*used as u64) * PAGE_SIZE;
        *used += 1;
        Ok(physical)
    }

    /// Maps `[virt, virt + size)` to `[phys, phys + size)` under `root`,
    /// with the largest blocks alignment allows.
    pub fn map(
        &self,
        root: u64,
        virt: u64,
        phys: u64,
        size: u64,
        attributes: Attributes,
    ) -> Result<(), MapError> {
        if (virt | phys | size) & (PAGE_SIZE - 1) != 0 {
            return Err(MapError::Unaligned);
        }
        let mut done = 0;
        while done < size {
            done += self.map_one(root, virt + done, phys + done, size - done, attributes.bits())?;
        }
        Ok(())
    }

    /// Maps one block or page at the first level where it fits; returns its size.
    fn map_one(&self, root: u64, virt: u64, phys: u64, left: u64, bits: u64) -> Result<u64, MapError> {
        let mut table = root;
        for level in 0..4u32 {
            let shift = 39 - 9 * level;
            let block = 1u64 << shift;
            let index = ((virt >> shift) as usize) % ENTRIES;
            // SAFETY: `table` is a pool table (root or allocated below) and
            // `index` < ENTRIES.
            let entry = unsafe { self.table(table).add(index) };
            // SAFETY: as above; the pool is only accessed by this CPU.
            let current = unsafe { entry.read_volatile() };
            let fits = level >= 1 && (virt | phys) & (block - 1) == 0 && left >= block;
            if fits && current & VALID == 0 {
                let kind = if level == 3 { TABLE_OR_PAGE } else { 0 };
                // SAFETY: as above.
                unsafe { entry.write_volatile(phys | bits | kind | VALID) };
                return Ok(block);
            }
            let is_table = current & (VALID | TABLE_OR_PAGE) == VALID | TABLE_OR_PAGE && level < 3;
            if current & VALID != 0 && !is_table {
                let same = current & OUTPUT_ADDRESS == phys & !(block - 1) && fits;
                return if same { Ok(block) } else { Err(MapError::Overlap) };
            }
            if current & VALID == 0 {
                let next = self.allocate_table()?;
                // SAFETY: as above.
                unsafe { entry.write_volatile(next | TABLE_OR_PAGE | VALID) };
                table = next;
            } else {
                table = current & OUTPUT_ADDRESS;
            }
        }
        Err(MapError::Overlap)
    }
}

/// Removes the last-level translation of `va` (tagged `asid`) from the TLB
/// of every core in the inner shareable domain: the hardware broadcast. The
/// caller has just cleared the entry; `DSB ISHST` makes that store visible
/// to every table walker first, `DSB ISH` waits until every core is done.
pub fn invalidate_page_broadcast(va: u64, asid: u64) {
    let operand = tlbi_operand(va, asid);
    // SAFETY: barriers and TLB maintenance only (no memory is accessed; the
    // missing `nomem` keeps the compiler from moving the entry's store
    // past it).
    unsafe {
        core::arch::asm!("dsb ishst", "tlbi vale1is, {}", "dsb ish", "isb",
            in(reg) operand, options(nostack, preserves_flags))
    };
}

/// Removes the last-level translation of `va` (tagged `asid`) from this
/// core's TLB only, after the cleared entry's store.
pub fn invalidate_page_local(va: u64, asid: u64) {
    let operand = tlbi_operand(va, asid);
    // SAFETY: as in `invalidate_page_broadcast`, for this core alone.
    unsafe {
        core::arch::asm!("dsb nshst", "tlbi vale1, {}", "dsb nsh", "isb",
            in(reg) operand, options(nostack, preserves_flags))
    };
}

/// The `TLBI VA*` operand: ASID in bits 63:48, VA[55:12] in bits 43:0.
fn tlbi_operand(va: u64, asid: u64) -> u64 {
    (asid << 48) | ((va >> 12) & ((1 << 44) - 1))
}

/// Drops every EL1&0 translation this core cached.
pub fn invalidate_all_local() {
    // SAFETY: barriers and TLB maintenance only.
    unsafe {
        core::arch::asm!("dsb ishst", "tlbi vmalle1", "dsb nsh", "isb", options(nostack, preserves_flags))
    };
}

/// The physical page an EL1 read of `va` reaches through this core's
/// current translation (`AT S1E1R`, which may use the TLB), or `None` if it
/// faults.
pub fn translate_for_read(va: u64) -> Option<u64> {
    use aarch64_cpu::registers::{Readable, PAR_EL1};
    // SAFETY: an address translation only: it writes PAR_EL1, never memory,
    // and does not fault.
    unsafe { core::arch::asm!("at s1e1r, {}", "isb", in(reg) va, options(nostack, preserves_flags)) };
    let result = PAR_EL1.get();
    (result & 1 == 0).then_some(result & OUTPUT_ADDRESS)
}

/// A core's low-half translation state, as `install_low_half` found it.
#[derive(Clone, Copy, Debug)]
pub struct LowHalf {
    ttbr0: u64,
    tcr: u64,
}

/// Makes this core translate the low half through `root` (ASID 0) and
/// returns the previous state for `restore_low_half`.
pub fn install_low_half(root: u64) -> LowHalf {
    use aarch64_cpu::registers::{ReadWriteable, Readable, Writeable, TCR_EL1, TTBR0_EL1};
    let saved = LowHalf { ttbr0: TTBR0_EL1.get(), tcr: TCR_EL1.get() };
    TTBR0_EL1.set(root & descriptor::OUTPUT_ADDRESS);
    TCR_EL1.modify(TCR_EL1::EPD0::EnableTTBR0Walks);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    invalidate_all_local();
    saved
}

/// Puts back what `install_low_half` replaced and drops every translation
/// cached meanwhile.
pub fn restore_low_half(saved: LowHalf) {
    use aarch64_cpu::registers::{Writeable, TCR_EL1, TTBR0_EL1};
    TTBR0_EL1.set(saved.ttbr0);
    TCR_EL1.set(saved.tcr);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    invalidate_all_local();
}
