//! Small helpers: fresh objects in fresh slots, page access through pointers.

use crate::check::{step, Step};
use userland::allocator::allocate_slot;
use userland::cap::{CNode, Frame, Ram};
use userland::cptr::CPtr;
use userland::object::{self, ObjectType, PAGE_BITS};

/// A fresh root slot.
pub fn slot() -> Step<usize> {
    step("allocate slot", allocate_slot())
}

/// A fresh 4 KiB frame.
pub fn frame() -> Step<Frame> {
    step("retype frame", object::frame())
}

/// A fresh 4 KiB RAM capability with one Frame retyped from it into another
/// slot: (RAM slot, frame).
pub fn ram_with_child() -> Step<(usize, Frame)> {
    let ram: Ram = step("retype RAM into RAM", object::ram(PAGE_BITS))?;
    let child = slot()?;
    let root = CNode::root().cptr();
    step("retype child frame", ram.retype(ObjectType::Frame, PAGE_BITS as usize, 0, root, child, 1))?;
    Ok((ram.cptr().address(), Frame::at(child)))
}

/// Copies the capability at `source` into a fresh slot.
pub fn copy(source: CPtr) -> Step<usize> {
    let dest = slot()?;
    step("copy", CNode::root().copy(dest, source))?;
    Ok(dest)
}

/// Writes a pattern to `words` words at `address`, reads it back, and returns
/// the first index that differs.
pub fn pattern_mismatch(address: usize, words: usize) -> Option<usize> {
    let base = address as *mut u64;
    for index in 0..words {
        // SAFETY: the caller mapped `words` words at `address` read-write, and
        // nothing else in this program refers to that memory.
        unsafe { base.add(index).write_volatile(pattern(index)) };
    }
    (0..words).find(|&index| {
        // SAFETY: as above.
        unsafe { base.add(index).read_volatile() != pattern(index) }
    })
}

fn pattern(index: usize) -> u64 {
    0x5a5a_0000_0000_0000 ^ (index as u64).wrapping_mul(0x9e37_79b9)
}
