//! Pages of the monitor's address space for frames it maps (received RAM,
//! channels shared with another core): one L3 table at an entry of the
//! heap's L2 table, filled in order.

use userland::cap::VNode;
use userland::cptr::CPtr;
use userland::error::{Error, Result};
use userland::heap::{HeapTables, L2_ENTRY_SIZE};
use userland::object::{self, PAGE_SIZE, TABLE_ENTRIES};
use userland::rights::Rights;

/// 2 MiB of virtual addresses, mapped a page at a time.
pub struct Window {
    table: VNode,
    base: usize,
    next: usize,
}

impl Window {
    /// A window at entry `l2_entry` of the heap's L2 table.
    pub fn new(heap: &HeapTables, l2_entry: usize) -> Result<Window> {
        let table = object::vnode(3)?;
        heap.l2.map(table.cptr(), l2_entry, Rights::READ_WRITE)?;
        Ok(Window { table, base: heap.base + l2_entry * L2_ENTRY_SIZE, next: 0 })
    }

    /// Maps the 4 KiB frames in root `slots` at consecutive pages; returns
    /// the address of the first.
    pub fn map(&mut self, slots: &[usize]) -> Result<usize> {
        if self.next + slots.len() > TABLE_ENTRIES {
            return Err(Error::LimitReached);
        }
        let first = self.next;
        for (i, &slot) in slots.iter().enumerate() {
            self.table.map(CPtr::slot(slot), first + i, Rights::READ_WRITE)?;
        }
        self.next += slots.len();
        Ok(self.base + first * PAGE_SIZE)
    }
}
