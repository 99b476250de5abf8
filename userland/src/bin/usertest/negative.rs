//! Cases that must fail with exactly the documented error.

use crate::check::{expect_error, step, Outcome, Report};
use crate::memory::{copy, frame, ram_with_child, slot};
use userland::allocator::allocate_ram;
use userland::cap::{CNode, Frame, Kernel, Ram};
use userland::cptr::{CPtr, RAM_SLOT};
use userland::object::{self, ObjectType, PAGE_BITS};
use userland::rights::Rights;
use userland::Error;

/// A kernel (upper-half) address.
const KERNEL_ADDRESS: usize = 0xffff_0000_0000_0000;

/// Runs the negative cases; the mapping ones use the positive cases' tables.
pub fn run(report: &mut Report) {
    report.case("invalid cptr", invalid_cptr);
    report.case("wrong type", wrong_type);
    report.case("invalid method", invalid_method);
    report.case("missing rights", missing_rights);
    report.case("use after delete", use_after_delete);
    report.case("delete with descendants", delete_with_descendants);
    report.case("use after revoke", use_after_revoke);
    report.case("retype twice", retype_twice);
    report.case("map twice", map_twice);
    report.case("wrong level frame in L2", frame_in_l2);
    report.case("wrong level L3 in L1", l3_in_l1);
    report.case("invalid buffer", invalid_buffer);
    report.case("table deleted before its frame", table_deleted_first);
    report.case("console refused before any handoff", console_refused);
}

/// `Kernel.console` checks everything before it hands the console over
/// (which would end the test run's own output: `test=console` covers the
/// handoff): without the write right, with one slot for both capabilities,
/// or with an occupied slot, it refuses, and the console stays the kernel's.
fn console_refused(_: &mut Report) -> Outcome {
    let root = CNode::root().cptr();
    let read_only = slot()?;
    step("mint", CNode::root().mint(read_only, Kernel::initial().cptr(), Rights::READ, 0))?;
    let (frame_slot, irq_slot) = (slot()?, slot()?);
    let result = Kernel::at(read_only).console(root, frame_slot, irq_slot);
    expect_error("read-only kernel cap", result, Error::MissingRights)?;
    let result = Kernel::initial().console(root, frame_slot, frame_slot);
    expect_error("one slot for both", result, Error::InvalidArgument)?;
    let result = Kernel::initial().console(root, frame_slot, read_only);
    expect_error("occupied slot", result, Error::SlotOccupied)?;
    // Still the kernel's: a print reaches the UART and never reports Busy.
    step("print", Kernel::initial().print(b"usertest: the console is still the kernel's"))
}

fn invalid_cptr(_: &mut Report) -> Outcome {
    expect_error("index 300", Kernel::new(CPtr::slot(300)).null(), Error::InvalidCPtr)
}

fn wrong_type(report: &mut Report) -> Outcome {
    let (l3, _) = report.mapped()?;
    let result = l3.map(CPtr::slot(RAM_SLOT), 3, Rights::READ_WRITE);
    expect_error("map RAM", result, Error::WrongType)
}

/// Method 4 exists for the Kernel, not for a Frame (Frame has only 1).
fn invalid_method(_: &mut Report) -> Outcome {
    let page = frame()?;
    expect_error("identify", Kernel::new(page.cptr()).identify(), Error::InvalidMethod)
}

fn missing_rights(report: &mut Report) -> Outcome {
    let (l3, _) = report.mapped()?;
    let original = frame()?;
    let minted = slot()?;
    step("mint", CNode::root().mint(minted, original.cptr(), Rights::READ, 0))?;
    let result = l3.map(CPtr::slot(minted), 2, Rights::READ_WRITE);
    expect_error("map writable", result, Error::MissingRights)
}

fn use_after_delete(_: &mut Report) -> Outcome {
    let copied = copy(frame()?.cptr())?;
    step("delete", CNode::root().delete(copied))?;
    expect_error("identify", Frame::at(copied).identify(), Error::SlotEmpty)
}

fn delete_with_descendants(_: &mut Report) -> Outcome {
    let (ram, _child) = ram_with_child()?;
    expect_error("delete", CNode::root().delete(ram), Error::HasDescendants)
}

fn use_after_revoke(_: &mut Report) -> Outcome {
    let (ram, child) = ram_with_child()?;
    step("identify before revoke", child.identify())?;
    step("revoke", CNode::root().revoke(ram))?;
    expect_error("identify after revoke", child.identify(), Error::SlotEmpty)
}

fn retype_twice(_: &mut Report) -> Outcome {
    let offset = step("allocate RAM", allocate_ram(PAGE_BITS))?;
    let (first, second) = (slot()?, slot()?);
    let (ram, root) = (Ram::initial(), CNode::root().cptr());
    let size = PAGE_BITS as usize;
    step("first retype", ram.retype(ObjectType::Frame, size, offset, root, first, 1))?;
    let result = ram.retype(ObjectType::Frame, size, offset, root, second, 1);
    expect_error("second retype", result, Error::RetypeConflict)
}

fn map_twice(report: &mut Report) -> Outcome {
    let (l3, page) = report.mapped()?;
    expect_error("map again", l3.map(page.cptr(), 1, Rights::READ_WRITE), Error::AlreadyMapped)
}

fn frame_in_l2(report: &mut Report) -> Outcome {
    let tables = report.heap()?;
    let page = frame()?;
    expect_error("map", tables.l2.map(page.cptr(), 2, Rights::READ_WRITE), Error::WrongLevel)
}

fn l3_in_l1(report: &mut Report) -> Outcome {
    let tables = report.heap()?;
    let l3 = step("retype L3", object::vnode(3))?;
    expect_error("map", tables.l1.map(l3.cptr(), 1, Rights::READ_WRITE), Error::WrongLevel)
}

/// An L3 table with a frame in it is deleted first: its own mapping goes,
/// the frame's record of its entry is stale, and using or deleting the frame
/// afterwards must neither fail nor touch the (cleared) table.
fn table_deleted_first(report: &mut Report) -> Outcome {
    let tables = report.heap()?;
    let l3 = step("retype L3", object::vnode(3))?;
    let page = frame()?;
    step("map L3", tables.l2.map(l3.cptr(), 7, Rights::READ_WRITE))?;
    step("map frame", l3.map(page.cptr(), 0, Rights::READ_WRITE))?;
    let l3_slot = l3.cptr().address();
    step("delete L3", CNode::root().delete(l3_slot))?;
    expect_error("unmap from deleted L3", l3.unmap(page.cptr()), Error::SlotEmpty)?;
    step("map the frame again, into the heap's L3", tables.l3.map(page.cptr(), 300, Rights::READ_WRITE))?;
    step("unmap it", tables.l3.unmap(page.cptr()))?;
    step("delete the frame", CNode::root().delete(page.cptr().address()))?;
    step("kernel still answers", Kernel::initial().null())
}

fn invalid_buffer(_: &mut Report) -> Outcome {
    expect_error("print", Kernel::initial().print_raw(KERNEL_ADDRESS, 8), Error::InvalidBuffer)
}
