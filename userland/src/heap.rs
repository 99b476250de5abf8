//! The heap: user space maps its own memory at VA 512 GiB and hands it to
//! `linked_list_allocator`.
//!
//! `init` retypes RAM into an L1, an L2 and an L3 VNode and `pages` Frames,
//! maps L1 at entry 1 of the L0 VNode (slot 2), L2 at entry 0 of L1, L3 at
//! entry 0 of L2 and the frames at entries `0..pages` of L3.

use crate::cap::VNode;
use crate::error::{Error, Result};
use crate::object::{self, PAGE_SIZE, TABLE_ENTRIES};
use crate::rights::Rights;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use linked_list_allocator::LockedHeap;

/// Entry of the L0 table that holds the heap (index 0 is the kernel's).
pub const L0_ENTRY: usize = 1;
/// Virtual address of the heap: the start of L0 entry 1 (512 GiB).
pub const HEAP_BASE: usize = L0_ENTRY << 39;
/// Bytes covered by one L2 entry (one L3 table).
pub const L2_ENTRY_SIZE: usize = 1 << 21;

#[cfg_attr(target_os = "none", global_allocator)]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

static STARTED: AtomicBool = AtomicBool::new(false);
/// The root slot of the heap's first frame (the others follow it), and the
/// heap's pages.
static FIRST_FRAME: AtomicUsize = AtomicUsize::new(0);
static PAGES: AtomicUsize = AtomicUsize::new(0);

/// The heap's frames: the root slot of the first (the frame of the page at
/// [`HEAP_BASE`] + `i` pages is in slot `first + i`) and their number;
/// `None` before [`init`]. A program that spans cores shares them.
pub fn frames() -> Option<(usize, usize)> {
    let (first, pages) = (FIRST_FRAME.load(Ordering::Relaxed), PAGES.load(Ordering::Acquire));
    (first != 0 && pages != 0).then_some((first, pages))
}

/// The tables `init` built; further pages can be mapped through them (e.g. a
/// new L3 table at another entry of `l2`).
#[derive(Clone, Copy, Debug)]
pub struct HeapTables {
    /// The L1 table, at entry [`L0_ENTRY`] of the L0 VNode.
    pub l1: VNode,
    /// The L2 table, at entry 0 of `l1`.
    pub l2: VNode,
    /// The L3 table, at entry 0 of `l2`: the heap's pages.
    pub l3: VNode,
    /// Virtual address of the first heap byte.
    pub base: usize,
    /// Heap size in bytes.
    pub size: usize,
}

/// Maps `pages` 4 KiB pages (1 to 512) at [`HEAP_BASE`] and makes them the
/// global allocator's heap. Only the first call may succeed
/// (`InvalidArgument` afterwards or for a bad `pages`).
pub fn init(pages: usize) -> Result<HeapTables> {
    if pages == 0 || pages > TABLE_ENTRIES || STARTED.swap(true, Ordering::AcqRel) {
        return Err(Error::InvalidArgument);
    }
    let tables = map_tables()?;
    for entry in 0..pages {
        let frame = object::frame()?;
        tables.l3.map(frame.cptr(), entry, Rights::READ_WRITE)?;
        let slot = frame.cptr().address();
        if entry == 0 {
            FIRST_FRAME.store(slot, Ordering::Relaxed);
        } else if slot != FIRST_FRAME.load(Ordering::Relaxed) + entry {
            // Not one run of slots: `frames` cannot describe the heap.
            FIRST_FRAME.store(0, Ordering::Relaxed);
        }
    }
    PAGES.store(pages, Ordering::Release);
    let size = pages * PAGE_SIZE;
    // SAFETY: `[HEAP_BASE, HEAP_BASE + size)` was just mapped read-write to
    // fresh frames, nothing else in this program uses that range, and the
    // `STARTED` flag makes this the only initialisation.
    unsafe { ALLOCATOR.lock().init(HEAP_BASE as *mut u8, size) };
    Ok(HeapTables { size, ..tables })
}

/// Builds L1 → L2 → L3 under the L0 VNode for the heap's first 2 MiB.
fn map_tables() -> Result<HeapTables> {
    let (l1, l2, l3) = (object::vnode(1)?, object::vnode(2)?, object::vnode(3)?);
    VNode::root().map(l1.cptr(), L0_ENTRY, Rights::READ_WRITE)?;
    l1.map(l2.cptr(), 0, Rights::READ_WRITE)?;
    l2.map(l3.cptr(), 0, Rights::READ_WRITE)?;
    Ok(HeapTables { l1, l2, l3, base: HEAP_BASE, size: 0 })
}

/// Bytes of heap in use (0 before `init`).
pub fn used() -> usize {
    ALLOCATOR.lock().used()
}
