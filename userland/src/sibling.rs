//! Dispatchers that share this program's address space (its code, statics
//! and heap) on this core, each with a CSpace of its own: the program's
//! other "processes" until programs can be spawned (issue 9), and the
//! partners of LMP tests and benchmarks.

extern crate alloc;

use crate::cap::{CNode, Dispatcher, Kernel, VNode};
use crate::dispatch::Frame;
use crate::error::{Error, Result};
use crate::heap::HeapTables;
use crate::object::{self, ObjectType, PAGE_SIZE};
use crate::rights::Rights;

/// Slots of a sibling's root CNode (radix 8, like the first program's).
pub mod slot {
    /// Its root CNode.
    pub const CNODE: usize = 1;
    /// Its dispatcher.
    pub const DISPATCHER: usize = 3;
    /// The Kernel capability (for `println!`).
    pub const KERNEL: usize = 5;
    /// Its receive endpoint (by convention).
    pub const RECEIVE: usize = 10;
    /// The endpoint it sends or replies to (by convention).
    pub const SEND: usize = 11;
    /// Where received capabilities go (by convention).
    pub const RECEIVED: usize = 12;
}

/// Makes siblings: their dispatcher frames go into an L3 table of the heap's
/// tables (entry `l2_entry` of its L2).
pub struct Siblings {
    frames: crate::cap::VNode,
    base: usize,
    next: usize,
}

/// A sibling dispatcher, set up and not yet started.
#[derive(Clone, Copy, Debug)]
pub struct Sibling {
    /// Its dispatcher capability (in our CSpace).
    pub dispatcher: Dispatcher,
    /// Its root CNode (in our CSpace).
    pub cnode: CNode,
    /// Its dispatcher frame, mapped here.
    pub frame: Frame,
}

impl Siblings {
    /// Maps a fresh L3 table at entry `l2_entry` (1 to 511) of the heap's
    /// L2 table for the siblings' frames (up to 512 siblings).
    pub fn new(heap: &HeapTables, l2_entry: usize) -> Result<Siblings> {
        let frames = object::vnode(3)?;
        heap.l2.map(frames.cptr(), l2_entry, Rights::READ_WRITE)?;
        Ok(Siblings { frames, base: heap.base + l2_entry * crate::heap::L2_ENTRY_SIZE, next: 0 })
    }

    /// Makes a dispatcher sharing this address space, with its own root
    /// CNode (holding itself, its dispatcher and the Kernel capability), a
    /// 16 KiB stack from the heap and its frame mapped, set up to start at
    /// `entry(frame address, core)`.
    pub fn make(&mut self, entry: extern "C" fn(usize, usize) -> !) -> Result<Sibling> {
        if self.next >= object::TABLE_ENTRIES {
            return Err(Error::LimitReached);
        }
        let dispatcher = object::dispatcher()?;
        let cnode = CNode::at(object::create(ObjectType::CNode, 8, 8 + caps::SLOT_BITS as u32)?);
        cnode.copy(slot::CNODE, cnode.cptr())?;
        cnode.copy(slot::DISPATCHER, dispatcher.cptr())?;
        cnode.copy(slot::KERNEL, Kernel::initial().cptr())?;
        let index = self.next;
        self.next += 1;
        self.frames.map(dispatcher.cptr(), index, Rights::READ_WRITE)?;
        let frame_va = self.base + index * PAGE_SIZE;
        let stack = alloc::vec![0u8; crate::thread::STACK_SIZE].leak();
        let stack_top = (stack.as_ptr() as usize + stack.len()) & !15;
        let entry = entry as *const () as usize;
        dispatcher.setup_with_frame(cnode.cptr(), VNode::root().cptr(), entry, stack_top, frame_va)?;
        Ok(Sibling { dispatcher, cnode, frame: Frame::at(frame_va).ok_or(Error::InvalidArgument)? })
    }
}
