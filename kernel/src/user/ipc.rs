//! The LMP system calls (`SEND`, `RECV`, `CALL`; registers in
//! `docs/syscalls.md`): message words in x0–x7, control in x9–x13, the
//! error code back in x9.

use super::dispatcher::{self, blocked, state};
use super::error::SysError;
use super::invoke::lookup;
use super::lmp;
use super::syscall::{enter, save_running, schedule};
use super::UserCore;
use crate::arch::aarch64::exceptions::ExceptionFrame;
use crate::cpu_driver::CpuDriver;
use caps::abi::lmp::{BLOCK, WORDS, YIELD};
use caps::{CapError, CapType, Capability, Rights, SlotLocation};

/// The running dispatcher and a copy of its root CNode capability.
fn caller(user: &UserCore) -> Result<(u64, Capability), SysError> {
    let sched = &user.slots.sched;
    if sched.running_gone || sched.running == 0 {
        return Err(CapError::Stale.into());
    }
    // SAFETY: the running dispatcher, alive.
    let object = unsafe { dispatcher::object(sched.running) };
    Ok((sched.running, *object.cspace_in_place(&user.slots)?))
}

/// The endpoint a capability pointer names, checked for `rights`.
fn endpoint(user: &UserCore, root: &Capability, raw: u64, rights: Rights) -> Result<Capability, SysError> {
    let found = lookup(user, root, raw)?;
    if found.cap.kind != CapType::Endpoint {
        return Err(CapError::WrongType.into());
    }
    if !found.cap.rights.contains(rights) {
        return Err(CapError::MissingRights.into());
    }
    Ok(found.cap)
}

/// The receive slot (CNode pointer, index) in the CSpace under `root`.
fn receive_slot(
    user: &UserCore,
    root: &Capability,
    cnode: u64,
    index: u64,
) -> Result<SlotLocation, SysError> {
    let found = lookup(user, root, cnode)?;
    Ok(SlotLocation::in_cnode(&found.cap, index)?)
}

/// Queues x0–x7 (and the capability x10, if not 0) on the endpoint x9 and
/// wakes its receiver; returns the receiver.
fn send_message(user: &mut UserCore, root: &Capability, registers: &[u64; 31]) -> Result<u64, SysError> {
    let target = endpoint(user, root, registers[9], Rights::WRITE)?;
    let cap = if registers[10] != 0 {
        if !target.rights.contains(Rights::GRANT) {
            return Err(CapError::MissingRights.into());
        }
        Some(lookup(user, root, registers[10])?.slot)
    } else {
        None
    };
    let words: &[u64; WORDS] = registers[..WORDS].try_into().map_err(|_| SysError::InvalidArgument)?;
    lmp::enqueue(&mut user.database, &mut user.slots, target.base, words, target.badge, cap)?;
    // SAFETY: the endpoint is alive (the sender's capability names it).
    let receiver = unsafe { lmp::object(target.base) }.receiver;
    deliver(user, receiver, target.base);
    Ok(receiver)
}

/// A message was queued on `endpoint` for `receiver`: complete the
/// receiver's blocked receive on it, or end its `WAIT`.
fn deliver(user: &mut UserCore, receiver: u64, endpoint: u64) {
    // SAFETY: the bound receiver of a live endpoint, alive.
    let object = unsafe { dispatcher::object(receiver) };
    if object.state != state::BLOCKED {
        return;
    }
    match object.blocked {
        blocked::ENDPOINT if object.blocked_on == endpoint => {
            let [cnode, index] = object.receive_slot;
            let slot = object
                .cspace_in_place(&user.slots)
                .copied()
                .map_err(SysError::from)
                .and_then(|root| receive_slot(user, &root, cnode, index));
            // SAFETY: as above.
            let registers = &mut unsafe { dispatcher::frame(receiver) }.disabled_area.x;
            if let Err(error) = lmp::take(&mut user.database, &mut user.slots, endpoint, slot, registers) {
                registers[9] = error.code();
            }
            user.slots.sched.make_runnable(receiver);
        }
        blocked::EVENTS => user.slots.sched.make_runnable(receiver),
        _ => {}
    }
}

/// Switches to `receiver` if it is runnable (a directed yield); the caller
/// was saved already. Otherwise the scheduler picks.
fn yield_to(me: &CpuDriver, frame: &mut ExceptionFrame, receiver: u64) {
    let runnable = {
        let mut guard = me.user.borrow_mut();
        // SAFETY: the receiver is alive (the send just reached it).
        let runnable = receiver != 0 && unsafe { dispatcher::object(receiver) }.state == state::RUNNABLE;
        if runnable {
            guard.slots.sched.unqueue(receiver);
        }
        runnable
    };
    if runnable {
        enter(me, frame, receiver);
    } else {
        schedule(me, frame);
    }
}

/// `SEND`: x9 endpoint, x10 capability (0: none), x11 flags (`YIELD`).
pub fn send(me: &CpuDriver, frame: &mut ExceptionFrame) {
    let result = {
        let mut guard = me.user.borrow_mut();
        let user = &mut *guard;
        caller(user).and_then(|(_, root)| send_message(user, &root, &frame.registers))
    };
    match result {
        Err(error) => frame.registers[9] = error.code(),
        Ok(receiver) => {
            frame.registers[9] = 0;
            if frame.registers[11] & YIELD != 0 && receiver != me.user.borrow().slots.sched.running {
                if let Some(base) = save_running(me, frame, false) {
                    me.user.borrow_mut().slots.sched.make_runnable(base);
                    yield_to(me, frame, receiver);
                }
            }
        }
    }
}

/// `RECV`: x9 endpoint, x10/x11 receive slot (CNode pointer, index), x12
/// flags (`BLOCK`).
pub fn receive(me: &CpuDriver, frame: &mut ExceptionFrame) {
    let (base, block) = {
        let mut guard = me.user.borrow_mut();
        let user = &mut *guard;
        let outcome = caller(user).and_then(|(base, root)| {
            let source = endpoint(user, &root, frame.registers[9], Rights::READ)?;
            // SAFETY: the endpoint is alive (the capability names it).
            if unsafe { lmp::object(source.base) }.receiver != base {
                return Err(SysError::NotBound);
            }
            let slot = receive_slot(user, &root, frame.registers[10], frame.registers[11]);
            match lmp::take(&mut user.database, &mut user.slots, source.base, slot, &mut frame.registers) {
                Err(SysError::EndpointEmpty) if frame.registers[12] & BLOCK != 0 => Ok(Some(source.base)),
                other => other.map(|()| None),
            }
        });
        match outcome {
            Ok(block) => (user.slots.sched.running, block),
            Err(error) => {
                frame.registers[9] = error.code();
                return;
            }
        }
    };
    if let Some(endpoint) = block {
        block_on(me, frame, base, endpoint, [frame.registers[10], frame.registers[11]]);
        schedule(me, frame);
    }
}

/// Blocks the running dispatcher `base` until a message on `endpoint`.
fn block_on(me: &CpuDriver, frame: &mut ExceptionFrame, base: u64, endpoint: u64, slot: [u64; 2]) {
    frame.registers[9] = 0;
    if save_running(me, frame, true).is_some() {
        // SAFETY: the caller, alive (not gone: it was just saved).
        unsafe { dispatcher::object(base) }.receive_slot = slot;
        me.user.borrow_mut().slots.sched.block(base, blocked::ENDPOINT, endpoint, 0);
    }
}

/// `CALL`: sends like `SEND` (x9 endpoint, x10 capability), then receives
/// on x11 with receive slot x12/x13, blocking; the receiver of the message
/// runs next (a directed yield). The client's call and the server's
/// reply-and-wait.
pub fn call(me: &CpuDriver, frame: &mut ExceptionFrame) {
    let result = {
        let mut guard = me.user.borrow_mut();
        let user = &mut *guard;
        caller(user).and_then(|(base, root)| {
            let reply = endpoint(user, &root, frame.registers[11], Rights::READ)?;
            // SAFETY: the endpoint is alive (the capability names it).
            if unsafe { lmp::object(reply.base) }.receiver != base {
                return Err(SysError::NotBound);
            }
            let receiver = send_message(user, &root, &frame.registers)?;
            // A reply already queued is taken at once.
            let slot = receive_slot(user, &root, frame.registers[12], frame.registers[13]);
            match lmp::take(&mut user.database, &mut user.slots, reply.base, slot, &mut frame.registers) {
                Err(SysError::EndpointEmpty) => Ok(Some((base, receiver, reply.base))),
                Ok(()) => Ok(None),
                Err(error) => Err(error),
            }
        })
    };
    match result {
        Err(error) => frame.registers[9] = error.code(),
        Ok(None) => {}
        Ok(Some((base, receiver, reply))) => {
            block_on(me, frame, base, reply, [frame.registers[12], frame.registers[13]]);
            yield_to(me, frame, receiver);
        }
    }
}
