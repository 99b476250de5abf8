//! User translation tables: entries in VNode objects (4 KiB tables in this
//! core's RAM), written by the kernel after it checked the capabilities.
//! User space gets 4 KiB pages only; tables hold table or page descriptors,
//! never blocks.

use crate::arch::aarch64::mmu::mair_index;
use crate::boot::phys_to_virt;
use caps::Rights;

use crate::arch::aarch64::mmu::descriptor::{
    ACCESS_FLAG, ATTR_INDEX_SHIFT, INNER_SHAREABLE, NOT_GLOBAL, OUTPUT_ADDRESS, PRIVILEGED_EXECUTE_NEVER,
    READ_ONLY, TABLE_OR_PAGE, USER_ACCESS, USER_EXECUTE_NEVER, VALID,
};
/// Entries in a table.
pub const ENTRIES: u64 = 512;
/// Bytes in a user page.
pub const PAGE: u64 = 4096;
/// First address above user space (TTBR0 covers 48 bits).
pub const USER_LIMIT: u64 = 1 << 48;

/// A table descriptor for the table at `table`.
pub fn table_entry(table: u64) -> u64 {
    table | TABLE_OR_PAGE | VALID
}

/// A user page descriptor for `frame` with `rights` (read is implied).
pub fn page_entry(frame: u64, rights: Rights) -> u64 {
    let mut entry = frame
        | VALID
        | TABLE_OR_PAGE
        | ACCESS_FLAG
        | INNER_SHAREABLE
        | NOT_GLOBAL
        | USER_ACCESS
        | PRIVILEGED_EXECUTE_NEVER
        | (mair_index::NORMAL << ATTR_INDEX_SHIFT);
    if !rights.contains(Rights::WRITE) {
        entry |= READ_ONLY;
    }
    if !rights.contains(Rights::EXECUTE) {
        entry |= USER_EXECUTE_NEVER;
    }
    entry
}

/// A user page descriptor for the device page `frame` (a DevFrame):
/// Device-nGnRE, never executable at any level, read-only without `WRITE`.
pub fn device_page_entry(frame: u64, rights: Rights) -> u64 {
    let mut entry = frame
        | VALID
        | TABLE_OR_PAGE
        | ACCESS_FLAG
        | NOT_GLOBAL
        | USER_ACCESS
        | PRIVILEGED_EXECUTE_NEVER
        | USER_EXECUTE_NEVER
        | (mair_index::DEVICE << ATTR_INDEX_SHIFT);
    if !rights.contains(Rights::WRITE) {
        entry |= READ_ONLY;
    }
    entry
}

/// The entry at physical address `entry`.
pub fn read_entry(entry: u64) -> u64 {
    // SAFETY: `entry` is inside a VNode object in this core's RAM (checked
    // by the caller's capability), linearly mapped; aligned u64 access.
    unsafe { (phys_to_virt(entry) as *const u64).read_volatile() }
}

/// Writes a new entry into an empty slot (no TLB maintenance needed).
pub fn write_entry(entry: u64, value: u64) {
    // SAFETY: as in `read_entry`.
    unsafe { (phys_to_virt(entry) as *mut u64).write_volatile(value) };
    aarch64_cpu::asm::barrier::dsb(aarch64_cpu::asm::barrier::ISHST);
}

/// Clears an entry and removes it from this core's TLB.
pub fn clear_entry(entry: u64) {
    // SAFETY: as in `read_entry`.
    unsafe { (phys_to_virt(entry) as *mut u64).write_volatile(0) };
    flush_tlb();
}

/// Clears the entry if it still maps `target` (a frame or table base). A
/// capability's mapping record can outlive the table it points into (the
/// table's last capability was deleted, and its memory may since hold
/// another object); the check makes a stale record harmless: the word is
/// left alone unless it is exactly a valid descriptor for `target`, a value
/// only user-controlled data could hold.
pub fn clear_entry_if_maps(entry: u64, target: u64) {
    if maps(entry, target) {
        clear_entry(entry);
    }
}

/// Whether the entry at `entry` is a valid descriptor for `target`. A
/// capability's mapping record counts only while this holds (a record can
/// outlive the table it points into).
pub fn maps(entry: u64, target: u64) -> bool {
    let value = read_entry(entry);
    is_valid(value) && value & OUTPUT_ADDRESS == target
}

/// Drops every EL1&0 translation this core cached (address spaces share
/// ASID 0 for now).
pub fn flush_tlb() {
    // SAFETY: TLB maintenance and barriers only.
    unsafe { core::arch::asm!("dsb ishst", "tlbi vmalle1", "dsb nsh", "isb", options(nostack)) };
}

/// Whether `entry` holds a valid descriptor.
pub fn is_valid(value: u64) -> bool {
    value & VALID != 0
}

/// Installs `root` (an L0 VNode) as this core's user address space.
pub fn switch_to(root: u64) {
    use aarch64_cpu::registers::{ReadWriteable, Writeable, TCR_EL1, TTBR0_EL1};
    TTBR0_EL1.set(root);
    TCR_EL1.modify(TCR_EL1::EPD0::EnableTTBR0Walks);
    flush_tlb();
}

/// The L0 table `TTBR0_EL1` points at.
pub fn active_root() -> u64 {
    use aarch64_cpu::registers::{Readable, TTBR0_EL1};
    TTBR0_EL1.get() & OUTPUT_ADDRESS
}

/// The index of `va` in the table of `level` (0..=3).
pub fn index(va: u64, level: u32) -> u64 {
    (va >> (39 - 9 * level)) & (ENTRIES - 1)
}

/// Walks `root` for `va`: the page's physical address and whether EL0 may
/// read it.
pub fn translate(root: u64, va: u64) -> Option<u64> {
    if va >= USER_LIMIT {
        return None;
    }
    let mut table = root;
    for level in 0..4 {
        let value = read_entry(table + index(va, level) * 8);
        if value & (VALID | TABLE_OR_PAGE) != VALID | TABLE_OR_PAGE {
            return None;
        }
        if level == 3 {
            return (value & USER_ACCESS != 0).then_some((value & OUTPUT_ADDRESS) | (va & (PAGE - 1)));
        }
        table = value & OUTPUT_ADDRESS;
    }
    None
}

/// Maps one page for the kernel's program loader, taking zeroed tables from
/// `allocate`; returns the entry's address. `None` when a table cannot be
/// had or the page is already mapped.
pub fn map_page(
    root: u64,
    va: u64,
    frame: u64,
    rights: Rights,
    allocate: &mut dyn FnMut() -> Option<u64>,
) -> Option<u64> {
    let mut table = root;
    for level in 0..3 {
        let entry = table + index(va, level) * 8;
        let value = read_entry(entry);
        table = if is_valid(value) {
            value & OUTPUT_ADDRESS
        } else {
            let next = allocate()?;
            write_entry(entry, table_entry(next));
            next
        };
    }
    let entry = table + index(va, 3) * 8;
    if is_valid(read_entry(entry)) {
        return None;
    }
    write_entry(entry, page_entry(frame, rights));
    Some(entry)
}

/// The page a capability's mapping maps: a frame's base, a dispatcher's
/// frame page (the second page of the object), a table's base.
pub fn mapped_page(cap: &caps::Capability) -> u64 {
    match cap.kind {
        caps::CapType::Dispatcher => cap.base + super::dispatcher::FRAME_OFFSET,
        _ => cap.base,
    }
}
