//! Faults of other dispatchers: reported to their supervisor (the others
//! go on), or delivered to their own handler first; and lazy FP/SIMD
//! switching between dispatchers.

use crate::fp::{hold_registers, pattern};
use crate::{child, detail, ensure, step, Outcome, Report, Setup};
use core::sync::atomic::{AtomicUsize, Ordering};
use userland::cap::RunOutcome;
use userland::dispatch::{self, EVENT_CHILD};
use userland::syscall;
use userland::thread;

/// An address nothing maps.
const UNMAPPED: usize = 0x7_0000_0000;
/// Exit status of a handler that handled its fault.
const HANDLED: usize = 42;

/// Runs the cases.
pub fn run(report: &mut Report, setup: &mut Setup) {
    report.case(setup, "children: a faulting dispatcher does not stop the others", unhandled_fault);
    report.case(setup, "children: a fault goes to the dispatcher's own handler first", handled_fault);
    report.case(setup, "children: a handler that faults again goes to the supervisor", double_fault);
    report.case(setup, "children: FP registers survive preemption between dispatchers", fp_dispatchers);
}

fn read_unmapped() -> usize {
    // SAFETY: deliberately reads an unmapped address: the kernel stops us.
    unsafe { (UNMAPPED as *const usize).read_volatile() }
}

extern "C" fn fault_at_once(_frame: usize, _core: usize) -> ! {
    syscall::exit(read_unmapped())
}

fn unhandled_fault(setup: &mut Setup) -> Outcome {
    let faulty = step("child", child(setup, fault_at_once))?;
    let own = dispatch::own_frame().ok_or_else(|| detail!("no frame"))?;
    own.clear_events(EVENT_CHILD);
    step("start", faulty.dispatcher.start())?;
    // Split-phase: this thread sleeps until the child event arrives.
    step("wait", thread::wait_event(63))?;
    own.clear_events(EVENT_CHILD);
    let status = step("status", faulty.dispatcher.status())?;
    ensure(status.ended() && status.outcome == 1, || detail!("status {status:?}"))?;
    ensure((status.value >> 26) & 0x3f == 0x24, || detail!("esr {:#x}", status.value))
}

/// What the handler saw: reason, ESR, FAR.
static HANDLER_SAW: [AtomicUsize; 3] = [AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)];

/// Stack for the fault handlers (one child at a time).
#[repr(C, align(16))]
struct HandlerStack(core::cell::UnsafeCell<[u8; 8192]>);
// SAFETY: used only as a stack by one handler at a time.
unsafe impl Sync for HandlerStack {}
static HANDLER_STACK: HandlerStack = HandlerStack(core::cell::UnsafeCell::new([0; 8192]));

fn handler_stack_top() -> usize {
    HANDLER_STACK.0.get() as usize + 8192
}

extern "C" fn handler(_frame: usize, reason: usize, esr: usize, far: usize) -> ! {
    HANDLER_SAW[0].store(reason, Ordering::SeqCst);
    HANDLER_SAW[1].store(esr, Ordering::SeqCst);
    HANDLER_SAW[2].store(far, Ordering::SeqCst);
    syscall::exit(HANDLED)
}

extern "C" fn handler_faulting_again(_frame: usize, _reason: usize, _esr: usize, _far: usize) -> ! {
    syscall::exit(read_unmapped())
}

extern "C" fn fault_with_handler(frame: usize, _core: usize) -> ! {
    if let Some(frame) = dispatch::Frame::at(frame) {
        frame.set_fault_handler(handler as *const () as usize, handler_stack_top());
    }
    syscall::exit(read_unmapped())
}

extern "C" fn fault_with_bad_handler(frame: usize, _core: usize) -> ! {
    if let Some(frame) = dispatch::Frame::at(frame) {
        frame.set_fault_handler(handler_faulting_again as *const () as usize, handler_stack_top());
    }
    syscall::exit(read_unmapped())
}

fn handled_fault(setup: &mut Setup) -> Outcome {
    let faulty = step("child", child(setup, fault_with_handler))?;
    let outcome = step("run", faulty.dispatcher.run())?;
    ensure(outcome == RunOutcome::Exited(HANDLED), || detail!("ended {outcome:?}"))?;
    let saw: [usize; 3] = core::array::from_fn(|i| HANDLER_SAW[i].load(Ordering::SeqCst));
    ensure(saw[0] == dispatch::upcall::PAGE_FAULT as usize && saw[2] == UNMAPPED, || {
        detail!("handler saw reason {} esr {:#x} far {:#x}", saw[0], saw[1], saw[2])
    })
}

fn double_fault(setup: &mut Setup) -> Outcome {
    let faulty = step("child", child(setup, fault_with_bad_handler))?;
    let outcome = step("run", faulty.dispatcher.run())?;
    ensure(matches!(outcome, RunOutcome::Faulted { far: UNMAPPED, .. }), || detail!("ended {outcome:?}"))
}

extern "C" fn fp_holder(frame: usize, _core: usize) -> ! {
    let Some(frame) = dispatch::Frame::at(frame) else { syscall::exit(2) };
    let input = pattern(frame.address() as u128);
    let mut output = [0u128; 32];
    // SAFETY: only the field's address is taken.
    let counter = unsafe { core::ptr::addr_of!((*frame.raw()).preemptions) };
    hold_registers(&input, &mut output, counter, 3);
    syscall::exit(usize::from(input != output))
}

fn fp_dispatchers(setup: &mut Setup) -> Outcome {
    let first = step("child", child(setup, fp_holder))?;
    let second = step("child", child(setup, fp_holder))?;
    step("start", first.dispatcher.start())?;
    step("start", second.dispatcher.start())?;
    // This dispatcher uses its own FP registers meanwhile.
    let mine = pattern(7);
    let mut back = [0u128; 32];
    let own = dispatch::own_frame().ok_or_else(|| detail!("no frame"))?;
    // SAFETY: only the field's address is taken.
    let counter = unsafe { core::ptr::addr_of!((*own.raw()).preemptions) };
    hold_registers(&mine, &mut back, counter, 2);
    let outcomes = (step("run", first.dispatcher.run())?, step("run", second.dispatcher.run())?);
    ensure(mine == back, || detail!("this dispatcher's FP registers changed"))?;
    ensure(outcomes == (RunOutcome::Exited(0), RunOutcome::Exited(0)), || detail!("ended {outcomes:?}"))
}
