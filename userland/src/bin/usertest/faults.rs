//! Child dispatchers sharing this CSpace and VSpace that fault or exit.

use crate::check::{detail, ensure, step, Outcome, Report, Step};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};
use userland::cap::{CNode, RunOutcome, VNode};
use userland::object;
use userland::syscall;

/// An address nothing maps (28 GiB, inside the kernel-built L0 entry 0).
const UNMAPPED: usize = 0x7_0000_0000;
/// ESR exception classes.
const EC_UNKNOWN: usize = 0x00;
const EC_SVC: usize = 0x15;
const EC_INSTRUCTION_ABORT_LOWER: usize = 0x20;
const EC_PC_ALIGNMENT: usize = 0x22;
const EC_DATA_ABORT_LOWER: usize = 0x24;
/// A misaligned code address inside the program (`linker/user.ld`).
const MISALIGNED_PC: usize = 0x40_0002;
/// Status the exiting child returns.
const CHILD_STATUS: usize = 7;
/// Bytes of the children's stack.
const STACK_SIZE: usize = 16 * 1024;

/// The children's stack; they run one at a time.
#[repr(C, align(16))]
struct ChildStack(UnsafeCell<[u8; STACK_SIZE]>);

// SAFETY: Rust code in this program never reads or writes the array; only the
// children use it as their stack, one at a time, while this program waits in
// `Dispatcher.run`.
unsafe impl Sync for ChildStack {}

static CHILD_STACK: ChildStack = ChildStack(UnsafeCell::new([0; STACK_SIZE]));

/// Runs the fault cases and the exit case.
pub fn run(report: &mut Report) {
    report.case("fault undefined instruction", undefined_instruction);
    report.case("fault data abort", data_abort);
    report.case("fault unknown svc", unknown_svc);
    report.case("fault instruction abort", instruction_abort);
    report.case("fault pc alignment", pc_alignment);
    report.case("child exit", child_exit);
    report.case("child deletes its own dispatcher", child_deletes_itself);
}

/// Makes a dispatcher in a fresh slot, sets it up with this program's CSpace
/// and VSpace and the shared stack, and runs `entry` to its end.
fn run_child(entry: extern "C" fn() -> !) -> Step<RunOutcome> {
    let child = step("retype dispatcher", object::dispatcher())?;
    let stack_top = CHILD_STACK.0.get() as usize + STACK_SIZE;
    let (cspace, vspace) = (CNode::root().cptr(), VNode::root().cptr());
    step("setup", child.setup(cspace, vspace, entry as usize, stack_top))?;
    step("run", child.run())
}

/// Expects a fault of exception class `class` (and `far`, if given).
fn expect_fault(entry: extern "C" fn() -> !, class: usize, far: Option<usize>) -> Outcome {
    let outcome = run_child(entry)?;
    let RunOutcome::Faulted { esr, far: fault_address } = outcome else {
        return Err(detail!("expected a fault, got {outcome:?}"));
    };
    ensure(outcome.exception_class() == Some(class), || {
        detail!("esr={esr:#x}: class {:#x}, expected {class:#x}", (esr >> 26) & 0x3f)
    })?;
    match far {
        Some(expected) if expected != fault_address => {
            Err(detail!("far={fault_address:#x}, expected {expected:#x}"))
        }
        _ => Ok(()),
    }
}

fn undefined_instruction(_: &mut Report) -> Outcome {
    expect_fault(child_undefined, EC_UNKNOWN, None)
}

fn data_abort(_: &mut Report) -> Outcome {
    expect_fault(child_data_abort, EC_DATA_ABORT_LOWER, Some(UNMAPPED))
}

fn unknown_svc(_: &mut Report) -> Outcome {
    expect_fault(child_bad_svc, EC_SVC, None)
}

fn instruction_abort(_: &mut Report) -> Outcome {
    expect_fault(child_instruction_abort, EC_INSTRUCTION_ABORT_LOWER, Some(UNMAPPED))
}

fn pc_alignment(_: &mut Report) -> Outcome {
    expect_fault(child_misaligned_jump, EC_PC_ALIGNMENT, Some(MISALIGNED_PC))
}

fn child_exit(_: &mut Report) -> Outcome {
    match run_child(child_exits)? {
        RunOutcome::Exited(CHILD_STATUS) => Ok(()),
        other => Err(detail!("expected Exited({CHILD_STATUS}), got {other:?}")),
    }
}

extern "C" fn child_undefined() -> ! {
    trap::undefined_instruction();
    syscall::exit(200)
}

extern "C" fn child_data_abort() -> ! {
    trap::load(UNMAPPED);
    syscall::exit(201)
}

extern "C" fn child_bad_svc() -> ! {
    trap::system_call(99);
    syscall::exit(202)
}

extern "C" fn child_instruction_abort() -> ! {
    trap::jump(UNMAPPED);
    syscall::exit(203)
}

extern "C" fn child_misaligned_jump() -> ! {
    trap::jump(MISALIGNED_PC);
    syscall::exit(204)
}

/// Slot of the dispatcher that deletes itself (read by the child).
static SELF_SLOT: AtomicUsize = AtomicUsize::new(0);
/// Status that child would exit with if it went on running.
const SELF_DELETE_STATUS: usize = 9;

/// A child deletes the last capability to its own dispatcher while it runs:
/// the kernel must stop touching the object (its memory may be reused),
/// end the child at once, and tell the parent it was destroyed.
fn child_deletes_itself(_: &mut Report) -> Outcome {
    let child = step("retype dispatcher", object::dispatcher())?;
    let stack_top = CHILD_STACK.0.get() as usize + STACK_SIZE;
    let (cspace, vspace) = (CNode::root().cptr(), VNode::root().cptr());
    step("setup", child.setup(cspace, vspace, child_self_delete as *const () as usize, stack_top))?;
    SELF_SLOT.store(child.cptr().address(), Ordering::SeqCst);
    match step("run", child.run())? {
        RunOutcome::Destroyed => {}
        other => return Err(detail!("expected Destroyed, got {other:?}")),
    }
    let result = child.run();
    ensure(result.is_err(), || detail!("the deleted dispatcher ran again: {result:?}"))
}

extern "C" fn child_self_delete() -> ! {
    let status = match CNode::root().delete(SELF_SLOT.load(Ordering::SeqCst)) {
        Ok(()) => SELF_DELETE_STATUS,
        Err(_) => 205,
    };
    syscall::exit(status)
}

extern "C" fn child_exits() -> ! {
    syscall::exit(CHILD_STATUS)
}

/// The instructions that fault (each returns only if the kernel let it).
#[cfg(target_arch = "aarch64")]
mod trap {
    use core::arch::asm;

    /// Executes `udf #0`.
    pub fn undefined_instruction() {
        // SAFETY: `udf` traps to the kernel, which stops this child and
        // returns to the parent; it touches no memory or register.
        unsafe { asm!("udf #0", options(nomem, nostack)) };
    }

    /// Loads a word from `address`.
    pub fn load(address: usize) {
        // SAFETY: only reads `address` into a scratch register; from an
        // unmapped address the load traps and the kernel stops this child.
        unsafe {
            asm!("ldr {value}, [{address}]", address = in(reg) address, value = out(reg) _, options(readonly, nostack))
        };
    }

    /// Branches to `address` (never returns if the kernel stops us there).
    pub fn jump(address: usize) {
        // SAFETY: the branch leaves this function for good: fetching from an
        // unmapped or misaligned address traps, and the kernel stops this
        // child and returns to the parent.
        unsafe { asm!("br {address}", address = in(reg) address, options(nomem, nostack)) };
    }

    /// `svc #0` with call `number` in x8 and nothing else.
    pub fn system_call(number: usize) {
        // SAFETY: an unknown call number stops this child like a fault; the
        // kernel touches no memory of ours and at most x0–x3.
        unsafe {
            asm!("svc #0", in("x8") number, lateout("x0") _, lateout("x1") _, lateout("x2") _,
                 lateout("x3") _, options(nostack));
        }
    }
}

/// Host stand-ins: the program runs only on the target.
#[cfg(not(target_arch = "aarch64"))]
mod trap {
    pub fn undefined_instruction() {}
    pub fn load(_address: usize) {}
    pub fn jump(_address: usize) {}
    pub fn system_call(_number: usize) {}
}
