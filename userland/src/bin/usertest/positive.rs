//! Cases that must succeed: identify, print, heap, mapping, copy/mint/delete/revoke.

use crate::check::{detail, ensure, step, Outcome, Report};
use crate::memory::{copy, frame, pattern_mismatch, ram_with_child, slot};
use alloc::boxed::Box;
use alloc::vec::Vec;
use userland::cap::{CNode, Kernel};
use userland::heap::{self, L2_ENTRY_SIZE};
use userland::object::{self, PAGE_SIZE};
use userland::rights::Rights;
use userland::syscall;

/// Pages the heap gets.
const HEAP_PAGES: usize = 4;

/// Runs the positive cases in order (later ones use the heap's tables).
pub fn run(report: &mut Report) {
    report.case("identify", identify);
    report.case("print", print);
    report.case("null calls", null_calls);
    report.case("heap", heap);
    report.case("map frame", map_frame);
    report.case("copy", copy_frame);
    report.case("mint read-only", mint_read_only);
    report.case("delete", delete);
    report.case("revoke", revoke);
}

fn identify(report: &mut Report) -> Outcome {
    let (core, cores) = step("Kernel.identify", Kernel::initial().identify())?;
    ensure((core, cores) == (report.core, report.cores), || {
        detail!("identify says core {core} of {cores}, entry said {} of {}", report.core, report.cores)
    })
}

fn print(report: &mut Report) -> Outcome {
    let line = detail!("usertest: core {} of {} prints", report.core, report.cores);
    step("Kernel.print", Kernel::initial().print(line.as_bytes()))
}

fn null_calls(_: &mut Report) -> Outcome {
    step("NULL", syscall::null())?;
    step("Kernel.null", Kernel::initial().null())
}

fn heap(report: &mut Report) -> Outcome {
    let tables = step("heap::init", heap::init(HEAP_PAGES))?;
    report.heap = Some(tables);
    let numbers: Vec<u64> = (0..1000).map(|n| n * n).collect();
    let boxed = Box::new([0xa5u8; 1024]);
    let range = tables.base..tables.base + tables.size;
    ensure(range.contains(&(numbers.as_ptr() as usize)), || detail!("Vec outside the heap"))?;
    ensure(range.contains(&(boxed.as_ptr() as usize)), || detail!("Box outside the heap"))?;
    let sum: u64 = numbers.iter().sum();
    ensure(sum == 332_833_500, || detail!("Vec read back sum {sum}"))?;
    ensure(boxed.iter().all(|&byte| byte == 0xa5), || detail!("Box read back wrong"))?;
    ensure(heap::used() >= 8000 + 1024, || detail!("allocator reports {} bytes used", heap::used()))
}

/// A new L3 table at entry 1 of the heap's L2 and a new frame at its entry 0:
/// VA = heap base + 2 MiB.
fn map_frame(report: &mut Report) -> Outcome {
    let tables = report.heap()?;
    let l3 = step("retype L3", object::vnode(3))?;
    step("map L3 in L2", tables.l2.map(l3.cptr(), 1, Rights::READ_WRITE))?;
    let page = frame()?;
    step("map frame in L3", l3.map(page.cptr(), 0, Rights::READ_WRITE))?;
    report.mapped = Some((l3, page));
    let info = step("Frame.identify", page.identify())?;
    ensure(info.size == PAGE_SIZE && info.base % PAGE_SIZE == 0, || detail!("identify: {info:?}"))?;
    let address = tables.base + L2_ENTRY_SIZE;
    match pattern_mismatch(address, PAGE_SIZE / 8) {
        None => Ok(()),
        Some(index) => Err(detail!("word {index} at {address:#x} read back wrong")),
    }
}

fn copy_frame(_: &mut Report) -> Outcome {
    let original = frame()?;
    let copied = copy(original.cptr())?;
    let base = step("identify original", original.identify())?.base;
    let copied_base = step("identify copy", userland::cap::Frame::at(copied).identify())?.base;
    ensure(base == copied_base, || detail!("copy at {copied_base:#x}, original at {base:#x}"))
}

fn mint_read_only(_: &mut Report) -> Outcome {
    let original = frame()?;
    let minted = slot()?;
    step("mint", CNode::root().mint(minted, original.cptr(), Rights::READ, 0))?;
    let base = step("identify original", original.identify())?.base;
    let minted_base = step("identify minted", userland::cap::Frame::at(minted).identify())?.base;
    ensure(base == minted_base, || detail!("minted at {minted_base:#x}, original at {base:#x}"))
}

fn delete(_: &mut Report) -> Outcome {
    let original = frame()?;
    let copied = copy(original.cptr())?;
    step("delete copy", CNode::root().delete(copied))?;
    step("delete original", CNode::root().delete(original.cptr().address()))
}

fn revoke(_: &mut Report) -> Outcome {
    let (ram, _child) = ram_with_child()?;
    step("revoke", CNode::root().revoke(ram))?;
    step("delete after revoke", CNode::root().delete(ram))
}
