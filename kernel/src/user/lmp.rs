//! LMP endpoints: same-core messages through the kernel. An endpoint
//! (4 KiB, retyped from RAM) queues up to 16 messages of 8 words, each with
//! the sender's badge and at most one capability, held in the endpoint's
//! own slot for that message (a child of the sender's capability, so a
//! revoke catches it in flight). An endpoint is bound to the one dispatcher
//! that receives from it, with an event index: while messages are queued,
//! that bit is set in the receiver's `events`, and a receiver blocked in
//! `WAIT`, or in a receive on this endpoint, is woken.

use super::dispatcher::{self, blocked, state};
use super::error::SysError;
use super::sched::Scheduler;
use super::store::KernelSlots;
use caps::abi::lmp::{CAP_RECEIVED, QUEUE, WORDS};
use caps::{CapDatabase, SlotAddr, SlotLocation, SlotStore};

/// One queued message.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Message {
    /// The payload.
    pub words: [u64; WORDS],
    /// The badge of the capability it was sent with.
    pub badge: u64,
    /// Bit 0: a capability waits in the endpoint's slot for this message.
    pub flags: u64,
}

/// The endpoint object's layout (the capability slots lie above it, at
/// `caps::cap_type::ENDPOINT_SLOTS_OFFSET`).
#[repr(C)]
pub struct EndpointObject {
    /// The dispatcher that receives (0: unbound).
    pub receiver: u64,
    /// Its event index.
    pub event: u64,
    /// Links of the receiver's list of bound endpoints.
    pub bound_next: u64,
    /// See `bound_next`.
    pub bound_prev: u64,
    /// Index of the oldest message.
    pub head: u64,
    /// Messages queued.
    pub count: u64,
    reserved: [u64; 10],
    /// The queue.
    pub messages: [Message; QUEUE as usize],
}

const _: () = assert!(core::mem::size_of::<EndpointObject>() as u64 <= caps::cap_type::ENDPOINT_SLOTS_OFFSET);

const HAS_CAP: u64 = 1;

/// The endpoint object at physical `base`.
///
/// # Safety
/// `base` must be an Endpoint object of this core (from a capability, or a
/// reference the kernel drops when the object dies); no other reference to
/// it may be live.
pub unsafe fn object<'a>(base: u64) -> &'a mut EndpointObject {
    // SAFETY: per the contract; linearly mapped RAM, valid when all zero.
    unsafe { &mut *(crate::boot::phys_to_virt(base) as *mut EndpointObject) }
}

fn held_slot(base: u64, index: u64) -> Option<SlotAddr> {
    SlotAddr::new(base + caps::cap_type::ENDPOINT_SLOTS_OFFSET + index * caps::SLOT_BYTES)
}

/// Binds the endpoint at `base` to the dispatcher `receiver`.
pub fn bind(base: u64, receiver: u64, event: u64) -> Result<(), SysError> {
    // SAFETY: the caller resolved Endpoint and Dispatcher capabilities.
    let endpoint = unsafe { object(base) };
    if endpoint.receiver != 0 {
        return Err(SysError::AlreadyBound);
    }
    // SAFETY: as above.
    let owner = unsafe { dispatcher::object(receiver) };
    endpoint.receiver = receiver;
    endpoint.event = event;
    endpoint.bound_prev = 0;
    endpoint.bound_next = owner.bound;
    if owner.bound != 0 {
        // SAFETY: the first endpoint bound to `receiver`, alive (unbound
        // when it dies).
        unsafe { object(owner.bound) }.bound_prev = base;
    }
    owner.bound = base;
    if endpoint.count != 0 {
        // SAFETY: as above.
        unsafe { dispatcher::frame(receiver) }.events |= 1 << event;
    }
    Ok(())
}

/// The dispatcher at `base` dies: its endpoints keep their messages but
/// have no receiver until bound again.
pub fn unbind_all(base: u64) {
    // SAFETY: the dying dispatcher, intact until the hook returns.
    let mut cursor = unsafe { dispatcher::object(base) }.bound;
    while cursor != 0 {
        // SAFETY: endpoints on the bound list are alive.
        let endpoint = unsafe { object(cursor) };
        cursor = endpoint.bound_next;
        endpoint.receiver = 0;
        endpoint.bound_next = 0;
        endpoint.bound_prev = 0;
    }
}

/// The endpoint at `base` dies (its capability slots are already empty):
/// off its receiver's list, and a receiver blocked on it wakes with
/// `Stale`.
pub fn endpoint_destroyed(sched: &mut Scheduler, base: u64) {
    // SAFETY: the dying endpoint, intact until the hook returns.
    let endpoint = unsafe { object(base) };
    let receiver = endpoint.receiver;
    if receiver == 0 {
        return;
    }
    let (prev, next) = (endpoint.bound_prev, endpoint.bound_next);
    if prev == 0 {
        // SAFETY: the receiver is alive while an endpoint is bound to it.
        unsafe { dispatcher::object(receiver) }.bound = next;
    } else {
        // SAFETY: a live neighbour on the list.
        unsafe { object(prev) }.bound_next = next;
    }
    if next != 0 {
        // SAFETY: a live neighbour on the list.
        unsafe { object(next) }.bound_prev = prev;
    }
    // SAFETY: as above.
    let frame = unsafe { dispatcher::frame(receiver) };
    frame.events &= !(1 << endpoint.event);
    // SAFETY: as above.
    let waiting = unsafe { dispatcher::object(receiver) };
    if waiting.state == state::BLOCKED && waiting.blocked == blocked::ENDPOINT && waiting.blocked_on == base {
        waiting.context.registers[9] = u64::from(caps::CapError::Stale.code());
        sched.make_runnable(receiver);
    }
    endpoint.receiver = 0;
}

/// Queues a message on the endpoint at `base`, with a copy of the
/// capability in slot `cap` (already checked to be transferable). Errors:
/// `NotBound`, `EndpointFull` (nothing was queued).
pub fn enqueue(
    database: &mut CapDatabase,
    slots: &mut KernelSlots,
    base: u64,
    words: &[u64; WORDS],
    badge: u64,
    cap: Option<SlotAddr>,
) -> Result<(), SysError> {
    // SAFETY: the caller resolved an Endpoint capability to `base`.
    let endpoint = unsafe { object(base) };
    if endpoint.receiver == 0 {
        return Err(SysError::NotBound);
    }
    if endpoint.count >= QUEUE {
        return Err(SysError::EndpointFull);
    }
    let index = (endpoint.head + endpoint.count) % QUEUE;
    let mut flags = 0;
    if let Some(source) = cap {
        let slot = held_slot(base, index).ok_or(SysError::InvalidArgument)?;
        database.copy_to_slot(slots, source, slot)?;
        flags = HAS_CAP;
    }
    endpoint.messages[index as usize] = Message { words: *words, badge, flags };
    endpoint.count += 1;
    let receiver = endpoint.receiver;
    // SAFETY: the bound receiver is alive.
    unsafe { dispatcher::frame(receiver) }.events |= 1 << endpoint.event;
    Ok(())
}

/// The fast path: a receiver blocked on the empty endpoint at `base` gets
/// a message without a capability straight into its saved registers, and
/// becomes runnable: queued, or (`queue` false) left for the caller to
/// enter at once. Returns whether it did.
pub fn deliver_direct(sched: &mut Scheduler, base: u64, words: &[u64], badge: u64, queue: bool) -> bool {
    // SAFETY: the caller resolved an Endpoint capability to `base`.
    let endpoint = unsafe { object(base) };
    let receiver = endpoint.receiver;
    if endpoint.count != 0 || receiver == 0 {
        return false;
    }
    // SAFETY: the bound receiver is alive.
    let waiting = unsafe { dispatcher::object(receiver) };
    if waiting.state != state::BLOCKED || waiting.blocked != blocked::ENDPOINT || waiting.blocked_on != base {
        return false;
    }
    // It is blocked: its registers wait in its context.
    let registers = &mut waiting.context.registers;
    registers[..WORDS].copy_from_slice(&words[..WORDS]);
    registers[9] = 0;
    registers[10] = badge;
    registers[11] = 0;
    if queue {
        sched.make_runnable(receiver);
    } else {
        waiting.state = state::RUNNABLE;
        waiting.blocked = blocked::NONE;
    }
    true
}

/// Whether the oldest message on the endpoint at `base` carries a
/// capability (`None`: the queue is empty).
pub fn head_has_cap(slots: &KernelSlots, base: u64) -> Option<bool> {
    // SAFETY: the caller resolved an Endpoint capability to `base`.
    let endpoint = unsafe { object(base) };
    if endpoint.count == 0 {
        return None;
    }
    let flagged = endpoint.messages[endpoint.head as usize].flags & HAS_CAP != 0;
    let held = held_slot(base, endpoint.head).and_then(|slot| slots.slot(slot)).and_then(|s| s.capability());
    Some(flagged && held.is_some())
}

/// Where a received capability goes: `None` when the message has none
/// (see [`head_has_cap`]).
pub type ReceiveSlot = Option<SlotLocation>;

/// Takes the oldest message off the endpoint at `base` into `registers`
/// (x0–x7 the words, x9 0, x10 the badge, x11 the info bits), moving its
/// capability into `slot` (which the caller resolved if [`head_has_cap`]
/// said so; a capability that cannot be placed leaves the message queued).
/// Errors: `EndpointEmpty`, those of the move.
pub fn take(
    database: &mut CapDatabase,
    slots: &mut KernelSlots,
    base: u64,
    slot: ReceiveSlot,
    registers: &mut [u64; 31],
) -> Result<(), SysError> {
    // SAFETY: the caller resolved an Endpoint capability to `base`, or
    // holds the receiver's reference to it.
    let endpoint = unsafe { object(base) };
    if endpoint.count == 0 {
        return Err(SysError::EndpointEmpty);
    }
    let index = endpoint.head;
    let message = endpoint.messages[index as usize];
    let mut info = 0;
    // A capability revoked while in flight is gone from its slot: the
    // message arrives without it (`head_has_cap` says so).
    if let Some(dest) = slot {
        let from = held_slot(base, index).ok_or(SysError::InvalidArgument)?;
        database.move_cap(slots, from, &dest)?;
        info |= CAP_RECEIVED;
    }
    endpoint.head = (index + 1) % QUEUE;
    endpoint.count -= 1;
    if endpoint.count == 0 && endpoint.receiver != 0 {
        // SAFETY: the bound receiver is alive.
        unsafe { dispatcher::frame(endpoint.receiver) }.events &= !(1 << endpoint.event);
    }
    registers[..WORDS].copy_from_slice(&message.words);
    registers[9] = 0;
    registers[10] = message.badge;
    registers[11] = info;
    Ok(())
}
