//! Entry from EL0: system calls, faults, and the switch between a parent
//! dispatcher and the child it runs.

use super::dispatcher::{self, state};
use super::error::SysError;
use super::vspace;
use crate::arch::aarch64::exceptions::{exception_class, ExceptionFrame};
use crate::cpu_driver::{self, CpuDriver};

use caps::abi::call;

const EC_SVC64: u64 = 0x15;
/// SPSR's N, Z, C, V bits.
const SPSR_FLAGS: u64 = 0xf << 28;

/// A synchronous exception from EL0 (vector entry 8).
pub fn lower_sync(frame: &mut ExceptionFrame) {
    let Some(me) = cpu_driver::current() else { return };
    if (frame.esr >> 26) & 0x3f != EC_SVC64 {
        return stop(me, frame, exception_class(frame.esr));
    }
    let caller = me.user.borrow().slots.running;
    let result = match frame.registers[8] {
        call::NULL => Ok([0; 3]),
        call::INVOKE => super::invoke::invoke(me, frame),
        call::YIELD => {
            // Nothing else to run on this core yet: sleep until the next
            // interrupt, which is taken once we return to EL0.
            crate::arch::aarch64::cpu::wait_for_interrupt();
            Ok([0; 3])
        }
        call::EXIT => return finish(me, frame, Finish::Exited(frame.registers[0])),
        _ => return stop(me, frame, "bad svc"),
    };
    if me.user.borrow().slots.running != caller {
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

/// An FIQ, SError or AArch32 exception from EL0: always a fault.
pub fn lower_fault(frame: &mut ExceptionFrame, kind: &str) {
    if let Some(me) = cpu_driver::current() {
        stop(me, frame, kind);
    }
}

/// How a dispatcher ended.
pub enum Finish {
    /// `EXIT` with this status.
    Exited(u64),
    /// A fault with this syndrome and address.
    Faulted { esr: u64, far: u64 },
}

/// Reports a fault and ends the dispatcher.
fn stop(me: &CpuDriver, frame: &mut ExceptionFrame, kind: &str) {
    let (current, gone) = {
        let slots = &me.user.borrow().slots;
        (slots.running, slots.running_gone)
    };
    // SAFETY: `current` is this core's running dispatcher; read only while
    // its object is alive.
    let name = if gone { [b'?'; 16] } else { unsafe { dispatcher::object(current) }.name };
    let name = core::str::from_utf8(&name).unwrap_or("?").trim_end_matches('\0');
    log::info!(
        "fault: core={} program={name} {kind} esr={:#x} far={:#x} elr={:#x}",
        me.index,
        frame.esr,
        frame.far,
        frame.elr
    );
    finish(me, frame, Finish::Faulted { esr: frame.esr, far: frame.far });
}

/// Ends the running dispatcher: back to its parent if it has one (which sees
/// the outcome as the result of `Dispatcher.run`), else the core goes idle.
fn finish(me: &CpuDriver, frame: &mut ExceptionFrame, how: Finish) {
    let (current, gone, gone_parent) = {
        let slots = &me.user.borrow().slots;
        (slots.running, slots.running_gone, slots.gone_parent)
    };
    let mut name = [b'?'; 16];
    let parent_base = if gone {
        gone_parent
    } else {
        // SAFETY: `current` is this core's running dispatcher, alive.
        let child = unsafe { dispatcher::object(current) };
        child.state = state::DONE;
        name = child.name;
        child.parent
    };
    if parent_base == 0 {
        if let Finish::Exited(status) = how {
            let name = core::str::from_utf8(&name).unwrap_or("?").trim_end_matches('\0');
            log::info!("exit: core={} program={name} status={status}", me.index);
        }
        me.user.borrow_mut().slots.set_running(0);
        crate::arch::aarch64::cpu::disable_low_half();
        crate::command::idle(me);
    }
    // SAFETY: the parent is this core's dispatcher that ran the child.
    let parent = unsafe { dispatcher::object(parent_base) };
    let (reason, value, address) = match how {
        Finish::Exited(status) => (0, status, 0),
        Finish::Faulted { esr, far } => (1, esr, far),
    };
    parent.context.registers[0] = 0;
    parent.context.registers[1] = reason;
    parent.context.registers[2] = value;
    parent.context.registers[3] = address;
    resume(me, frame, parent_base);
}

/// Makes the dispatcher at `base` the running one: its context goes into
/// `frame` (resumed when the exception returns) and its address space in.
pub fn resume(me: &CpuDriver, frame: &mut ExceptionFrame, base: u64) {
    // SAFETY: `base` is one of this core's dispatchers (checked by callers).
    let next = unsafe { dispatcher::object(base) };
    let root = next.vspace(&me.user.borrow().slots);
    *frame = next.context;
    // Only the condition flags come from the saved state: whatever is in the
    // object, the `eret` goes to EL0 with interrupts unmasked.
    frame.spsr &= SPSR_FLAGS;
    next.state = state::RUNNING;
    me.user.borrow_mut().slots.set_running(base);
    match root {
        Ok(root) => vspace::switch_to(root),
        // Its address space is gone: no translation at all (not a table at
        // physical 0), so it faults at once on return.
        Err(_) => crate::arch::aarch64::cpu::disable_low_half(),
    }
}

/// Saves the running dispatcher's context from `frame`.
pub fn save(me: &CpuDriver, frame: &ExceptionFrame) -> Result<u64, SysError> {
    let (current, gone) = {
        let slots = &me.user.borrow().slots;
        (slots.running, slots.running_gone)
    };
    if current == 0 || gone {
        return Err(SysError::NotSetUp);
    }
    // SAFETY: `current` is this core's running dispatcher.
    let object = unsafe { dispatcher::object(current) };
    object.context = *frame;
    Ok(current)
}
