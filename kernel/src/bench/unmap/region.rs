//! The memory of the unmap benchmarks and the table operations on it.
//!
//! Each core's region starts at its partition's free RAM (no program has
//! started in a `bench` boot, and it powers off after the benchmarks): four
//! tables (one replica, levels 0 to 3), then, used on the initiator only,
//! the two frames the test page alternately maps and the control lines.

use crate::arch::aarch64::mmu::descriptor::{
    ACCESS_FLAG, ATTR_INDEX_SHIFT, INNER_SHAREABLE, NOT_GLOBAL, OUTPUT_ADDRESS, PRIVILEGED_EXECUTE_NEVER,
    TABLE_OR_PAGE, USER_EXECUTE_NEVER, VALID,
};
use crate::arch::aarch64::mmu::{self, mair_index, PAGE_SIZE};
use crate::boot::{phys_to_virt, PER_CORE_RESERVED};
use crate::bootinfo::MAX_CPUS;
use crate::shared::{BootShared, CacheLine};
use aarch64_cpu::asm::barrier;
use core::sync::atomic::AtomicU64;

/// The test page: the first page of the low half's second 512 GiB (level-0
/// slot 1), which nothing maps while benchmarks run.
pub const TEST_VA: u64 = 1 << 39;
/// The ASID of every low-half translation here (`TTBR0_EL1`'s, `TCR_EL1.A1`
/// is 0).
const ASID: u64 = 0;
/// Tables per replica (levels 0 to 3).
const TABLES: u64 = 4;
/// Frames the page alternately maps.
const FRAMES: u64 = 2;
/// Pages of control lines.
const CONTROL_PAGES: u64 = (core::mem::size_of::<Control>() as u64).div_ceil(PAGE_SIZE);
/// Pages of a core's region: its tables, then (used on the initiator only)
/// the frames and the control lines.
const REGION_PAGES: u64 = TABLES + FRAMES + CONTROL_PAGES;

/// The synchronisation between two timed unmaps (one writer per line): the
/// initiator's phase, each participant's progress.
#[repr(C)]
pub struct Control {
    /// The initiator's phase.
    pub phase: CacheLine<AtomicU64>,
    /// Each participant's answer, by core number.
    pub cores: [CacheLine<AtomicU64>; MAX_CPUS],
}

/// A core's benchmark region (physical addresses).
#[derive(Clone, Copy)]
pub struct Region {
    base: u64,
}

impl Region {
    /// Core `core`'s region: the start of its partition's free RAM.
    pub fn of(shared: &BootShared, core: usize) -> Option<Region> {
        let piece = shared.partitions.get(core)?.pieces().first()?;
        let fits = piece.size >= PER_CORE_RESERVED + REGION_PAGES * PAGE_SIZE;
        fits.then_some(Region { base: piece.base + PER_CORE_RESERVED })
    }

    /// The table of `level`; level 0 is the root.
    pub fn table(self, level: u64) -> u64 {
        self.base + level * PAGE_SIZE
    }

    /// The frame mapped before unmap `i` (they alternate).
    pub fn frame(self, i: u64) -> u64 {
        self.base + (TABLES + i % FRAMES) * PAGE_SIZE
    }

    /// The control lines (in the initiator's region).
    pub fn control(self) -> &'static Control {
        let address = phys_to_virt(self.control_base());
        // SAFETY: the control pages are mapped RAM in this region, used for
        // nothing else while benchmarks run (a `bench` boot starts no
        // program and powers off after them), page-aligned, and zeroed by
        // `reset_frames_and_control` before any core gets here; zero is a
        // valid AtomicU64.
        unsafe { &*(address as *const Control) }
    }

    /// The control pages' physical address.
    fn control_base(self) -> u64 {
        self.base + (TABLES + FRAMES) * PAGE_SIZE
    }

    /// Marks both frames (the first word of each holds its own address)
    /// and zeroes the control lines; on the initiator, before any other
    /// core takes part.
    pub fn reset_frames_and_control(self) {
        for which in 0..FRAMES {
            let frame = self.frame(which);
            // SAFETY: the frame is a page of this region (mapped RAM only
            // the benchmark uses), so aligned and ours to write.
            unsafe { core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize) };
            // SAFETY: as above.
            unsafe { (phys_to_virt(frame) as *mut u64).write_volatile(frame) };
        }
        let control = phys_to_virt(self.control_base()) as *mut u8;
        // SAFETY: the control pages, as above; zero is their initial state.
        unsafe { core::ptr::write_bytes(control, 0, (CONTROL_PAGES * PAGE_SIZE) as usize) };
    }

    /// Zeroes the tables and maps `TEST_VA` to `frame` through them.
    pub fn build_tables(self, frame: u64) {
        for level in 0..TABLES {
            (0..512).for_each(|index| Entry::at(self.table(level), index).set(0));
        }
        for level in 0..TABLES - 1 {
            let entry = Entry::at(self.table(level), index(TEST_VA, level));
            entry.set(self.table(level + 1) | TABLE_OR_PAGE | VALID);
        }
        Entry::at(self.table(TABLES - 1), index(TEST_VA, TABLES - 1)).set(page(frame));
        // Visible to every core's table walker before anyone installs them.
        barrier::dsb(barrier::ISHST);
    }
}

/// The index of `va` in the table of `level` (0..=3).
fn index(va: u64, level: u64) -> u64 {
    (va >> (39 - 9 * level)) & 511
}

/// The page descriptor for `frame`: EL1 read-write, never executable,
/// normal memory, not global (like a user page).
fn page(frame: u64) -> u64 {
    frame
        | VALID
        | TABLE_OR_PAGE
        | ACCESS_FLAG
        | INNER_SHAREABLE
        | NOT_GLOBAL
        | (mair_index::NORMAL << ATTR_INDEX_SHIFT)
        | PRIVILEGED_EXECUTE_NEVER
        | USER_EXECUTE_NEVER
}

/// One translation-table entry in a benchmark region (its kernel address).
#[derive(Clone, Copy)]
struct Entry(usize);

impl Entry {
    /// Entry `index` of the table at `table`, which must be one of the
    /// tables of a `Region` (or found by walking them).
    fn at(table: u64, index: u64) -> Entry {
        Entry(phys_to_virt(table + index * 8))
    }

    fn get(self) -> u64 {
        // SAFETY: per `at`, inside a table of a benchmark region: mapped RAM
        // that only the benchmark uses; aligned u64 access.
        unsafe { (self.0 as *const u64).read_volatile() }
    }

    fn set(self, value: u64) {
        // SAFETY: as in `get`.
        unsafe { (self.0 as *mut u64).write_volatile(value) }
    }
}

/// The last-level entry for `TEST_VA` under `root`, found as an unmap
/// finds it: by walking the tables.
fn leaf(root: u64) -> Option<Entry> {
    let mut table = root;
    for level in 0..TABLES - 1 {
        let value = Entry::at(table, index(TEST_VA, level)).get();
        if value & (VALID | TABLE_OR_PAGE) != VALID | TABLE_OR_PAGE {
            return None;
        }
        table = value & OUTPUT_ADDRESS;
    }
    Some(Entry::at(table, index(TEST_VA, TABLES - 1)))
}

/// Unmaps `TEST_VA` under `root` and invalidates its translation (on every
/// core, or on this one); `false` if it was not mapped.
pub fn leaf_unmap(root: u64, everywhere: bool) -> bool {
    let Some(entry) = leaf(root).filter(|entry| entry.get() & VALID != 0) else {
        return false;
    };
    entry.set(0);
    if everywhere {
        mmu::invalidate_page_broadcast(TEST_VA, ASID);
    } else {
        mmu::invalidate_page_local(TEST_VA, ASID);
    }
    true
}

/// Maps `TEST_VA` to `frame` again under `root` (an invalid entry is never
/// cached, so no TLB maintenance is needed); `false` if the tables are gone.
pub fn remap(root: u64, frame: u64) -> bool {
    let Some(entry) = leaf(root) else {
        return false;
    };
    entry.set(page(frame));
    barrier::dsb(barrier::ISHST);
    barrier::isb(barrier::SY);
    true
}

// The control lines fit the region `Region::of` checks for.
const _: () = assert!(CONTROL_PAGES >= 1 && REGION_PAGES <= 16);
