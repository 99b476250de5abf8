//! CNode nesting: a chain of CNodes, each holding the last capability to
//! the next, is as deep as the per-core CNode limit allows; deleting its head
//! destroys them all without exhausting the kernel stack, and the limit
//! itself answers `LimitReached`.

use crate::check::{detail, ensure, expect_error, step, Outcome, Report};
use userland::allocator::{allocate_ram, allocate_slot};
use userland::cap::{CNode, Kernel, Ram};
use userland::cptr::{CPtr, ROOT_CNODE_SLOT};
use userland::object::ObjectType;
use userland::Error;

/// CNodes of two slots (radix 1): 256 bytes each.
const RADIX: usize = 1;
const CNODE_BITS: u32 = 8;
/// The root CNode's radix (bits of a depth-8 pointer).
const ROOT_BITS: u8 = 8;

/// Runs the nesting case.
pub fn run(report: &mut Report) {
    report.case("cnode nesting to the limit", nesting);
}

/// Makes a CNode in slot `index` of the CNode at `parent`.
fn cnode_into(parent: CPtr, index: usize) -> userland::Result<()> {
    let offset = allocate_ram(CNODE_BITS)?;
    Ram::initial().retype(ObjectType::CNode, RADIX, offset, parent, index, 1)
}

fn nesting(_: &mut Report) -> Outcome {
    let root = CNode::root();
    let head = step("slot", allocate_slot())?;
    step("head", cnode_into(CPtr::slot(ROOT_CNODE_SLOT), head))?;
    // Two root slots take turns holding a copy of the newest CNode, so the
    // next one can be made in it; each older copy is deleted, leaving the
    // capability inside the previous CNode as the only one.
    let handles = [step("slot", allocate_slot())?, step("slot", allocate_slot())?];
    let mut newest = head;
    let mut depth = 1;
    let limit = loop {
        match cnode_into(CPtr::slot(newest), 0) {
            Ok(()) => {}
            Err(error) => break error,
        }
        let handle = handles[depth % 2];
        // Slot 0 of the CNode whose copy is in root slot `newest`.
        let inner = CPtr::new(newest << RADIX, ROOT_BITS + RADIX as u8);
        step("copy", root.copy(handle, inner))?;
        if newest != head {
            step("drop copy", root.delete(newest))?;
        }
        newest = handle;
        depth += 1;
    };
    ensure(limit == Error::LimitReached, || {
        detail!("stopped at depth {depth} with {limit}, not LimitReached")
    })?;
    ensure(depth >= 100, || detail!("only {depth} CNodes before the limit"))?;
    step("drop last copy", root.delete(newest))?;
    step("delete the chain", root.delete(head))?;
    step("kernel still answers", Kernel::initial().null())?;
    let again = step("slot", allocate_slot())?;
    step("a CNode after the chain is gone", cnode_into(CPtr::slot(ROOT_CNODE_SLOT), again))?;
    step("delete it", root.delete(again))?;
    expect_error("empty slot", root.delete(again), Error::SlotEmpty)
}
