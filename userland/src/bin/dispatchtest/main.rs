//! `test=dispatch`: dispatchers, upcalls, the core-local scheduler, user
//! threads and LMP on one core. Prints `test dispatch: <case>: ok|FAILED
//! (<detail>)` per case and `test dispatch: N passed, M failed`, then
//! powers off.
//!
//! The other dispatchers it makes share this program's address space (its
//! code, statics and heap), each with a CSpace of its own; their dispatcher
//! frames are mapped in an L3 table of the test.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]
// Failure details are 256-byte stack lines; their size in `Err` costs
// nothing that matters here.
#![allow(clippy::result_large_err)]

extern crate alloc;

mod children;
mod fp;
mod lmp;
mod sched;
mod threads;

use userland::cap::{CNode, Dispatcher, Kernel, VNode};
use userland::console::LineBuffer;
use userland::dispatch;
use userland::heap::{self, HeapTables};
use userland::object::{self, ObjectType};
use userland::rights::Rights;
use userland::{println, Result};

userland::entry!(main);

/// What a case returns: `Err` carries the failure detail.
pub type Outcome = core::result::Result<(), LineBuffer>;

/// Builds a failure detail with `format!` syntax.
macro_rules! detail {
    ($($argument:tt)*) => {
        userland::console::LineBuffer::format(format_args!($($argument)*))
    };
}
pub(crate) use detail;

/// A failure detail from a system-call error.
pub fn step<T>(what: &str, result: Result<T>) -> core::result::Result<T, LineBuffer> {
    result.map_err(|error| detail!("{what}: {error}"))
}

/// Success if `condition` holds.
pub fn ensure(condition: bool, what: impl FnOnce() -> LineBuffer) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}

/// The tables for the children's frames.
pub struct Setup {
    /// The heap's tables.
    pub heap: HeapTables,
    /// An L3 table (at entry 2 of the heap's L2) for dispatcher frames.
    pub frames: VNode,
    /// Next free entry of `frames`.
    pub next_frame: usize,
}

/// Virtual address of entry 0 of the frames' L3 table.
pub fn frames_base(setup: &Setup) -> usize {
    setup.heap.base + 2 * heap::L2_ENTRY_SIZE
}

/// Slots of a child's CSpace (radix 8, like the first program's).
pub mod child_slot {
    /// Its CNode.
    pub const CNODE: usize = 1;
    /// Its dispatcher.
    pub const DISPATCHER: usize = 3;
    /// The Kernel capability (for `println!`).
    pub const KERNEL: usize = 5;
    /// Its receive endpoint.
    pub const RECEIVE: usize = 10;
    /// The endpoint it replies or sends to.
    pub const SEND: usize = 11;
    /// Where received capabilities go.
    pub const RECEIVED: usize = 12;
}

/// A dispatcher made by the test, in a fresh slot of the root CNode.
#[derive(Clone, Copy)]
pub struct Child {
    /// Its capability.
    pub dispatcher: Dispatcher,
    /// Its root CNode (in our CSpace).
    pub cnode: CNode,
    /// Where its frame is mapped.
    pub frame: dispatch::Frame,
}

/// Makes a dispatcher sharing this address space with its own CSpace, its
/// own stack and its frame mapped, set up to start at `entry(frame, core)`.
pub fn child(setup: &mut Setup, entry: extern "C" fn(usize, usize) -> !) -> Result<Child> {
    let dispatcher = object::dispatcher()?;
    let cnode_slot = object::create(ObjectType::CNode, 8, 8 + caps::SLOT_BITS as u32)?;
    let cnode = CNode::at(cnode_slot);
    cnode.copy(child_slot::CNODE, cnode.cptr())?;
    cnode.copy(child_slot::DISPATCHER, dispatcher.cptr())?;
    cnode.copy(child_slot::KERNEL, Kernel::initial().cptr())?;
    let entry_index = setup.next_frame;
    setup.next_frame += 1;
    setup.frames.map(dispatcher.cptr(), entry_index, Rights::READ_WRITE)?;
    let frame_va = frames_base(setup) + entry_index * object::PAGE_SIZE;
    let stack = alloc::vec![0u8; userland::thread::STACK_SIZE].leak();
    let stack_top = (stack.as_ptr() as usize + stack.len()) & !15;
    dispatcher.setup_with_frame(cnode.cptr(), VNode::root().cptr(), entry as usize, stack_top, frame_va)?;
    let frame = dispatch::Frame::at(frame_va).ok_or(userland::Error::InvalidArgument)?;
    Ok(Child { dispatcher, cnode, frame })
}

/// The report.
pub struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    /// Runs `case` and prints its line.
    pub fn case(&mut self, setup: &mut Setup, name: &str, case: impl FnOnce(&mut Setup) -> Outcome) {
        match case(setup) {
            Ok(()) => {
                self.passed += 1;
                println!("test dispatch: {name}: ok");
            }
            Err(detail) => {
                self.failed += 1;
                println!("test dispatch: {name}: FAILED ({detail})");
            }
        }
    }
}

fn prepare() -> Result<Setup> {
    let heap = heap::init(160)?;
    let frames = object::vnode(3)?;
    heap.l2.map(frames.cptr(), 2, Rights::READ_WRITE)?;
    let own = dispatch::own_frame().ok_or(userland::Error::NotSetUp)?;
    userland::thread::init(own)?;
    Ok(Setup { heap, frames, next_frame: 0 })
}

fn main(_core: usize, _cores: usize) -> i32 {
    let mut report = Report { passed: 0, failed: 0 };
    match prepare() {
        Ok(mut setup) => {
            lmp::run(&mut report, &mut setup);
            threads::run(&mut report, &mut setup);
            sched::run(&mut report, &mut setup);
            children::run(&mut report, &mut setup);
        }
        Err(error) => {
            report.failed += 1;
            println!("test dispatch: setup: FAILED ({error})");
        }
    }
    println!("test dispatch: {} passed, {} failed", report.passed, report.failed);
    Kernel::initial().power_off()
}
