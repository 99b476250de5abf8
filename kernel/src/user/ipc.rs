//! The LMP system calls (`SEND`, `RECV`, `CALL`; registers in
//! `docs/syscalls.md`): message words in x0–x7, control in x9–x13, the
//! error code back in x9.

use super::dispatcher::{self, blocked, state};
use super::error::SysError;
use super::invoke::{find, lookup};
use super::lmp;
use super::syscall::{enter, save_running, schedule};
use super::UserCore;
use crate::arch::aarch64::exceptions::ExceptionFrame;
use crate::cpu_driver::CpuDriver;
use caps::abi::lmp::{BLOCK, WORDS, YIELD};
use caps::{CapError, CapType, Capability, Rights, SlotAddr, SlotLocation};

/// The running dispatcher.
fn running(user: &UserCore) -> Result<u64, SysError> {
    let sched = &user.slots.sched;
    if sched.running_gone || sched.running == 0 {
        return Err(CapError::Stale.into());
    }
    Ok(sched.running)
}

/// The root CNode capability of dispatcher `base`, read in place.
fn root(user: &UserCore, base: u64) -> Result<&Capability, SysError> {
    // SAFETY: callers pass the running dispatcher or a live receiver.
    Ok(unsafe { dispatcher::object(base) }.cspace_in_place(&user.slots)?)
}

/// What a send or receive needs of an endpoint capability.
#[derive(Clone, Copy)]
struct Target {
    base: u64,
    badge: u64,
    rights: Rights,
}

/// The endpoint a capability pointer names, checked for `rights`.
fn endpoint(user: &UserCore, root: &Capability, raw: u64, rights: Rights) -> Result<Target, SysError> {
    let (_, cap) = find(user, root, raw)?;
    if cap.kind != CapType::Endpoint {
        return Err(CapError::WrongType.into());
    }
    if !cap.rights.contains(rights) {
        return Err(CapError::MissingRights.into());
    }
    Ok(Target { base: cap.base, badge: cap.badge, rights: cap.rights })
}

/// A send, checked before anything changes: the endpoint x9 and the slot
/// of the capability x10 (0: none).
struct Send {
    target: Target,
    cap: Option<SlotAddr>,
}

fn prepare_send(user: &UserCore, root: &Capability, registers: &[u64; 31]) -> Result<Send, SysError> {
    let target = endpoint(user, root, registers[9], Rights::WRITE)?;
    let cap = if registers[10] != 0 {
        if !target.rights.contains(Rights::GRANT) {
            return Err(CapError::MissingRights.into());
        }
        Some(find(user, root, registers[10])?.0)
    } else {
        None
    };
    Ok(Send { target, cap })
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

/// Takes the oldest message of `endpoint` into `registers`; its capability,
/// if it has one, goes to slot (`cnode`, `index`) of the CSpace `root`
/// returns (asked only then).
fn take_into(
    user: &mut UserCore,
    root: impl FnOnce(&UserCore) -> Result<Capability, SysError>,
    endpoint: u64,
    [cnode, index]: [u64; 2],
    registers: &mut [u64; 31],
) -> Result<(), SysError> {
    let slot = match lmp::head_has_cap(&user.slots, endpoint) {
        None => return Err(SysError::EndpointEmpty),
        Some(true) => Some(receive_slot(user, &root(user)?, cnode, index)?),
        Some(false) => None,
    };
    lmp::take(&mut user.database, &mut user.slots, endpoint, slot, registers)
}

/// Queues x0–x7 (and the capability, if any) on the endpoint and wakes its
/// receiver; returns the receiver. With `direct`, a receiver that gets the
/// message at once is left off the run queue: the caller must enter it
/// (`yield_to`).
fn send_message(
    user: &mut UserCore,
    send: Send,
    registers: &[u64; 31],
    direct: bool,
) -> Result<u64, SysError> {
    let Send { target, cap } = send;
    if cap.is_none()
        && lmp::deliver_direct(&mut user.slots.sched, target.base, registers, target.badge, !direct)
    {
        // SAFETY: the endpoint is alive (the sender's capability names it).
        return Ok(unsafe { lmp::object(target.base) }.receiver);
    }
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
            let root = |user: &UserCore| Ok(*root(user, receiver)?);
            // SAFETY: as above; it is blocked, its registers wait in its
            // context.
            let registers = &mut unsafe { dispatcher::object(receiver) }.context.registers;
            if let Err(error) = take_into(user, root, endpoint, object.receive_slot, registers) {
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
fn yield_to(me: &CpuDriver, receiver: u64) {
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
        enter(me, receiver);
    } else {
        schedule(me);
    }
}

/// Queues `receiver` if a direct delivery left it runnable off the queues.
fn wake(me: &CpuDriver, receiver: u64) {
    // SAFETY: the receiver is alive (a send just reached it).
    if receiver != 0 && unsafe { dispatcher::object(receiver) }.state == state::RUNNABLE {
        me.user.borrow_mut().slots.sched.make_runnable(receiver);
    }
}

/// `SEND`: x9 endpoint, x10 capability (0: none), x11 flags (`YIELD`).
pub fn send(me: &CpuDriver, frame: &mut ExceptionFrame) {
    let direct = frame.registers[11] & YIELD != 0;
    let result = {
        let mut guard = me.user.borrow_mut();
        let user = &mut *guard;
        running(user)
            .and_then(|base| prepare_send(user, root(user, base)?, &frame.registers).map(|send| (base, send)))
            .and_then(|(base, send)| Ok((base, send_message(user, send, &frame.registers, direct)?)))
    };
    match result {
        Err(error) => frame.registers[9] = error.code(),
        Ok((base, receiver)) => {
            frame.registers[9] = 0;
            if direct && receiver != base {
                if save_running(me, frame, false).is_some() {
                    me.user.borrow_mut().slots.sched.make_runnable(base);
                    yield_to(me, receiver);
                } else {
                    // The caller is gone (ended when this call returns): the
                    // receiver, if delivered to directly, waits its turn.
                    wake(me, receiver);
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
        let outcome = running(user).and_then(|base| {
            let source = endpoint(user, root(user, base)?, frame.registers[9], Rights::READ)?;
            // SAFETY: the endpoint is alive (the capability names it).
            if unsafe { lmp::object(source.base) }.receiver != base {
                return Err(SysError::NotBound);
            }
            let slot = [frame.registers[10], frame.registers[11]];
            let own_root = |user: &UserCore| Ok(*root(user, base)?);
            match take_into(user, own_root, source.base, slot, &mut frame.registers) {
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
        schedule(me);
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
        running(user).and_then(|base| {
            let (reply, send) = {
                let root = root(user, base)?;
                (
                    endpoint(user, root, frame.registers[11], Rights::READ)?,
                    prepare_send(user, root, &frame.registers)?,
                )
            };
            // SAFETY: the endpoint is alive (the capability names it).
            if unsafe { lmp::object(reply.base) }.receiver != base {
                return Err(SysError::NotBound);
            }
            let receiver = send_message(user, send, &frame.registers, true)?;
            // A reply already queued is taken at once.
            let slot = [frame.registers[12], frame.registers[13]];
            let own_root = |user: &UserCore| Ok(*root(user, base)?);
            match take_into(user, own_root, reply.base, slot, &mut frame.registers) {
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
            yield_to(me, receiver);
        }
    }
}
