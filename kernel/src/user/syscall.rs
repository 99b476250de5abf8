//! Entry from EL0 (system calls, faults, interrupts) and the switch between
//! dispatchers: stopping the running one (its registers go to a save area
//! of its dispatcher frame) and entering the next (from where it stopped,
//! or by upcall).

use super::dispatcher::{self, blocked, outcome, resume, state, FpState};
use super::vspace;
use crate::arch::aarch64::cpu;
use crate::arch::aarch64::exceptions::{exception_class, ExceptionFrame};
use crate::cpu_driver::{self, CpuDriver};
use caps::abi::{call, lmp::EVENT_CHILD, upcall};

const EC_SVC64: u64 = 0x15;
const EC_FP: u64 = 0x07;
const EC_INSTRUCTION_ABORT_LOWER: u64 = 0x20;
const EC_DATA_ABORT_LOWER: u64 = 0x24;

/// A synchronous exception from EL0 (vector entry 8).
pub fn lower_sync(frame: &mut ExceptionFrame) {
    let Some(me) = cpu_driver::current() else { return };
    let class = (frame.esr >> 26) & 0x3f;
    if class == EC_FP {
        return fp_trap(me);
    }
    if class != EC_SVC64 {
        return fault(me, frame, exception_class(frame.esr));
    }
    match frame.registers[8] {
        call::NULL => {
            frame.registers[0] = 0;
            frame.registers[1..4].fill(0);
        }
        call::INVOKE => invoke(me, frame),
        call::YIELD => yield_now(me, frame),
        call::EXIT => return finish(me, Finish::Exited(frame.registers[0])),
        call::SEND => super::ipc::send(me, frame),
        call::RECV => super::ipc::receive(me, frame),
        call::CALL => super::ipc::call(me, frame),
        call::WAIT => wait(me, frame),
        call::RESUME => resume_upcall(me, frame),
        _ => return fault(me, frame, "bad svc"),
    }
    if me.user.borrow().slots.sched.running_gone {
        finish(me, Finish::Destroyed);
    }
}

fn invoke(me: &CpuDriver, frame: &mut ExceptionFrame) {
    let caller = me.user.borrow().slots.sched.running;
    let result = super::invoke::invoke(me, frame);
    if me.user.borrow().slots.sched.running != caller {
        return; // switched to another dispatcher, whose registers are in `frame`
    }
    match result {
        Ok(values) => {
            frame.registers[0] = 0;
            frame.registers[1..4].copy_from_slice(&values);
        }
        Err(error) => frame.registers[0] = error.code(),
    }
}

/// An FIQ, SError or AArch32 exception from EL0: a trap.
pub fn lower_fault(frame: &mut ExceptionFrame, kind: &str) {
    if let Some(me) = cpu_driver::current() {
        fault(me, frame, kind);
    }
}

/// After the interrupts taken from EL0 were handled: preempt the running
/// dispatcher if the scheduler asks for it.
pub fn after_interrupt(frame: &mut ExceptionFrame) {
    let Some(me) = cpu_driver::current() else { return };
    let preempt = {
        let sched = &me.user.borrow().slots.sched;
        sched.need_resched && sched.running != 0 && !sched.running_gone
    };
    if preempt {
        if let Some(base) = save_running(me, frame, false) {
            me.user.borrow_mut().slots.sched.make_runnable(base);
        }
        schedule(me);
    }
}

/// A timer tick (interrupts masked, from any level): wake dispatchers whose
/// deadline passed, and end the running one's time slice if others of its
/// priority wait.
pub fn tick(me: &CpuDriver) {
    let Ok(mut user) = me.user.try_borrow_mut() else { return };
    let sched = &mut user.slots.sched;
    sched.expire(cpu::counter());
    if sched.running != 0 && (sched.slice_over() || wants_upcall(sched)) {
        sched.need_resched = true;
    }
}

/// The user doorbell rang (`SGI_USER`, interrupts masked): set the bound
/// dispatcher's event and end its `WAIT`.
pub fn doorbell(me: &CpuDriver) {
    let Ok(mut user) = me.user.try_borrow_mut() else { return };
    let sched = &mut user.slots.sched;
    let (base, event) = sched.doorbell;
    if base == 0 {
        return;
    }
    // SAFETY: the bound dispatcher is alive (unbound when it dies).
    unsafe { dispatcher::frame(base) }.events |= 1 << event;
    // SAFETY: as above.
    let object = unsafe { dispatcher::object(base) };
    if object.state == state::BLOCKED && object.blocked == blocked::EVENTS {
        sched.make_runnable(base);
    }
}

/// Whether the running dispatcher is enabled and takes run upcalls: then
/// every tick stops it and enters it again by upcall, so that its own
/// scheduler can switch threads even when no other dispatcher waits.
fn wants_upcall(sched: &super::sched::Scheduler) -> bool {
    if sched.running_gone {
        return false;
    }
    // SAFETY: the running dispatcher, alive.
    let shared = unsafe { dispatcher::frame(sched.running) };
    shared.disabled == 0 && shared.run_entry != 0
}

/// How a dispatcher ended.
pub enum Finish {
    /// `EXIT` with this status.
    Exited(u64),
    /// A fault with this syndrome and address.
    Faulted { esr: u64, far: u64 },
    /// Its object was destroyed while it ran.
    Destroyed,
}

/// A fault: delivered by upcall to the dispatcher's own handler if it is
/// enabled and has one; otherwise reported, and the dispatcher ends.
fn fault(me: &CpuDriver, frame: &mut ExceptionFrame, kind: &str) {
    let (current, gone) = {
        let sched = &me.user.borrow().slots.sched;
        (sched.running, sched.running_gone)
    };
    if current == 0 {
        return;
    }
    let mut name = [b'?'; 16];
    if !gone {
        // SAFETY: the running dispatcher, alive.
        let (object, shared) = unsafe { (dispatcher::object(current), dispatcher::frame(current)) };
        name = object.name;
        let class = (frame.esr >> 26) & 0x3f;
        let (entry, reason) = match class {
            EC_INSTRUCTION_ABORT_LOWER | EC_DATA_ABORT_LOWER => (shared.page_fault_entry, upcall::PAGE_FAULT),
            _ => (shared.trap_entry, upcall::TRAP),
        };
        if shared.disabled == 0 && entry != 0 {
            dispatcher::save_registers(&mut shared.enabled_area, frame);
            shared.fault_esr = frame.esr;
            shared.fault_far = frame.far;
            shared.disabled = 1;
            let arguments = [object.frame_va, reason, frame.esr, frame.far];
            *frame = ExceptionFrame::user(entry, shared.upcall_stack, &arguments);
            return;
        }
    }
    let name = core::str::from_utf8(&name).unwrap_or("?").trim_end_matches('\0');
    log::info!(
        "fault: core={} program={name} {kind} esr={:#x} far={:#x} elr={:#x}",
        me.index,
        frame.esr,
        frame.far,
        frame.elr
    );
    finish(me, Finish::Faulted { esr: frame.esr, far: frame.far });
}

/// Writes `Dispatcher.run`'s results into the saved registers of the
/// blocked dispatcher `base`.
pub fn set_outcome(base: u64, result: [u64; 3]) {
    // SAFETY: callers pass a live dispatcher of this core.
    let registers = &mut unsafe { dispatcher::object(base) }.context.registers;
    registers[0] = 0;
    registers[1..4].copy_from_slice(&result);
}

/// Ends the running dispatcher: the dispatcher waiting for it in
/// `Dispatcher.run` runs next with the outcome; else the one that started
/// it gets the child event; then the scheduler picks.
fn finish(me: &CpuDriver, how: Finish) {
    let result = match how {
        Finish::Exited(status) => [outcome::EXITED, status, 0],
        Finish::Faulted { esr, far } => [outcome::FAULTED, esr, far],
        Finish::Destroyed => [outcome::DESTROYED, 0, 0],
    };
    let mut guard = me.user.borrow_mut();
    let sched = &mut guard.slots.sched;
    let base = sched.running;
    let (waiter, supervisor, name) = if sched.running_gone {
        (sched.gone_links[0], sched.gone_links[1], [b'?'; 16])
    } else {
        // SAFETY: the running dispatcher, alive.
        let object = unsafe { dispatcher::object(base) };
        object.state = state::DONE;
        object.outcome = result;
        let links = (object.waiter, object.supervisor, object.name);
        object.waiter = 0;
        links
    };
    sched.running = 0;
    sched.running_gone = false;
    sched.gone_links = [0; 2];
    if waiter == 0 {
        if let Finish::Exited(status) = how {
            let name = core::str::from_utf8(&name).unwrap_or("?").trim_end_matches('\0');
            log::info!("exit: core={} program={name} status={status}", me.index);
        }
    }
    if waiter != 0 {
        set_outcome(waiter, result);
        drop(guard);
        return enter(me, waiter);
    }
    if supervisor != 0 {
        // SAFETY: a live dispatcher (references are cleared when it dies).
        unsafe { dispatcher::frame(supervisor) }.events |= EVENT_CHILD;
        // SAFETY: as above.
        let watching = unsafe { dispatcher::object(supervisor) };
        if watching.state == state::BLOCKED && watching.blocked == blocked::EVENTS {
            sched.make_runnable(supervisor);
        }
    }
    drop(guard);
    schedule(me);
}

/// Stops the running dispatcher, whose registers `frame` (its context)
/// holds: when `blocking` (it waits in a system call, which completes into
/// its context) or when it is disabled or has no upcalls, it will be
/// resumed from there (after a preemption the registers are also copied to
/// the frame's disabled area, for user-level debuggers); otherwise they go
/// to the enabled area, and it will be entered by upcall. Returns it, or
/// `None` if none runs (or it is gone).
pub fn save_running(me: &CpuDriver, frame: &ExceptionFrame, blocking: bool) -> Option<u64> {
    let mut guard = me.user.borrow_mut();
    let sched = &mut guard.slots.sched;
    let base = sched.running;
    if base == 0 || sched.running_gone {
        return None;
    }
    // SAFETY: the running dispatcher, alive.
    let (object, shared) = unsafe { (dispatcher::object(base), dispatcher::frame(base)) };
    if blocking {
        object.thread_pointer = cpu::user_thread_pointer();
        object.resume = resume::DISABLED;
    } else {
        if shared.disabled == 0 && shared.run_entry != 0 {
            dispatcher::save_registers(&mut shared.enabled_area, frame);
            object.resume = resume::UPCALL;
        } else {
            dispatcher::save_registers(&mut shared.disabled_area, frame);
            object.thread_pointer = shared.disabled_area.tpidr;
            object.resume = resume::DISABLED;
        }
        shared.preemptions = shared.preemptions.wrapping_add(1);
    }
    sched.running = 0;
    Some(base)
}

/// Makes `base` (not on any queue) the running dispatcher: the return to
/// EL0 resumes its context, or an upcall built there; its address space
/// and thread pointer are installed, and FP/SIMD traps unless it owns the
/// registers.
pub fn enter(me: &CpuDriver, base: u64) {
    let mut guard = me.user.borrow_mut();
    let slots = &mut guard.slots;
    // SAFETY: callers pass a live dispatcher of this core.
    let (object, shared) = unsafe { (dispatcher::object(base), dispatcher::frame(base)) };
    if object.resume == resume::UPCALL {
        shared.disabled = 1;
        let (entry, reason) = if shared.events != 0 && shared.message_entry != 0 {
            (shared.message_entry, upcall::MESSAGE)
        } else {
            (shared.run_entry, upcall::RUN)
        };
        object.context = ExceptionFrame::user(entry, shared.upcall_stack, &[object.frame_va, reason]);
        cpu::set_user_thread_pointer(shared.enabled_area.tpidr);
        object.resume = resume::DISABLED;
    } else {
        cpu::set_user_thread_pointer(object.thread_pointer);
    }
    me.user_frame.set(&object.context as *const ExceptionFrame as u64);
    object.state = state::RUNNING;
    object.blocked = blocked::NONE;
    let sched = &mut slots.sched;
    sched.running = base;
    sched.running_gone = false;
    sched.need_resched = false;
    let fp_owner = sched.fp_owner;
    let active = sched.active_root;
    match object.vspace(slots) {
        Ok(root) if root == active => {}
        Ok(root) => {
            vspace::switch_to(root);
            slots.sched.active_root = root;
        }
        // Its address space is gone: no translation at all (not a table at
        // physical 0), so it faults at once.
        Err(_) => {
            cpu::disable_low_half();
            slots.sched.active_root = 0;
        }
    }
    let owns_fp = fp_owner == base;
    if slots.sched.fp_allowed != owns_fp {
        cpu::allow_user_fp(owns_fp);
        slots.sched.fp_allowed = owns_fp;
    }
}

/// Enters the next runnable dispatcher; with none, sleeps until one is
/// (a deadline passes), or idles for good when nothing could wake.
pub fn schedule(me: &CpuDriver) {
    loop {
        let (next, timed) = {
            let sched = &mut me.user.borrow_mut().slots.sched;
            (sched.pick(), sched.has_timed())
        };
        if let Some(next) = next {
            return enter(me, next);
        }
        if !timed {
            crate::command::idle(me);
        }
        // Interrupts are masked here: WFI wakes when one is pending, and it
        // is taken (the tick wakes sleepers) once they are unmasked.
        cpu::wait_for_interrupt();
        cpu::enable_interrupts();
        cpu::disable_interrupts();
    }
}

/// `YIELD`: to the next runnable dispatcher of at least this priority; with
/// none runnable at all, sleep until the next interrupt.
fn yield_now(me: &CpuDriver, frame: &mut ExceptionFrame) {
    frame.registers[0] = 0;
    let (any, others) = {
        let sched = &me.user.borrow().slots.sched;
        let mine = if sched.running_gone || sched.running == 0 {
            0
        } else {
            // SAFETY: the running dispatcher, alive.
            unsafe { dispatcher::object(sched.running) }.priority
        };
        let highest = sched.highest_runnable();
        (highest.is_some(), highest.is_some_and(|p| p >= mine))
    };
    if !any {
        cpu::wait_for_interrupt();
        return;
    }
    if !others {
        return;
    }
    if let Some(base) = save_running(me, frame, false) {
        me.user.borrow_mut().slots.sched.make_runnable(base);
        schedule(me);
    }
}

/// `WAIT` (x0 = deadline, a counter value; 0 = none): returns at once if
/// events are pending or the deadline passed.
fn wait(me: &CpuDriver, frame: &mut ExceptionFrame) {
    let deadline = frame.registers[0];
    frame.registers[0] = 0;
    let current = {
        let sched = &me.user.borrow().slots.sched;
        if sched.running_gone {
            return;
        }
        sched.running
    };
    // SAFETY: the running dispatcher, alive.
    let events = unsafe { dispatcher::frame(current) }.events;
    if events != 0 || (deadline != 0 && deadline <= cpu::counter()) {
        return;
    }
    if let Some(base) = save_running(me, frame, true) {
        me.user.borrow_mut().slots.sched.block(base, blocked::EVENTS, 0, deadline);
        schedule(me);
    }
}

/// `RESUME`: leaves an upcall for the enabled save area.
fn resume_upcall(me: &CpuDriver, frame: &mut ExceptionFrame) {
    let sched = &me.user.borrow().slots.sched;
    if sched.running_gone {
        return;
    }
    // SAFETY: the running dispatcher, alive.
    let shared = unsafe { dispatcher::frame(sched.running) };
    shared.disabled = 0;
    // `frame` is its context: the return to EL0 continues there.
    dispatcher::load_registers(frame, &shared.enabled_area);
}

/// The FP/SIMD registers are wanted by a dispatcher that does not own them:
/// save the owner's, load the running one's (zero if it never had any).
fn fp_trap(me: &CpuDriver) {
    let mut guard = me.user.borrow_mut();
    let sched = &mut guard.slots.sched;
    let (owner, current) = (sched.fp_owner, sched.running);
    if owner != 0 && owner != current {
        // SAFETY: the owner is a live dispatcher (cleared when it dies).
        let object = unsafe { dispatcher::object(owner) };
        cpu::save_fp(&mut object.fp);
        object.fp_valid = 1;
    }
    if current != 0 && !sched.running_gone {
        // SAFETY: the running dispatcher, alive.
        let object = unsafe { dispatcher::object(current) };
        if object.fp_valid != 0 {
            cpu::load_fp(&object.fp);
        } else {
            cpu::load_fp(&ZERO_FP);
        }
        sched.fp_owner = current;
    } else {
        cpu::load_fp(&ZERO_FP);
        sched.fp_owner = 0;
    }
    cpu::allow_user_fp(true);
    sched.fp_allowed = true;
}

static ZERO_FP: FpState = FpState { q: [0; 32], fpcr: 0, fpsr: 0 };
