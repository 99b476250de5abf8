//! Capability invocations (`INVOKE`): look the capability up in the caller's
//! CSpace, check, then act. Methods and codes: `docs/syscalls.md`.

use super::dispatcher::{self as dispatcher_object, state};
use super::error::{SysError, SysResult};
use super::syscall::{resume, save};
use super::vspace;
use super::UserCore;
use crate::arch::aarch64::exceptions::ExceptionFrame;
use crate::boot::phys_to_virt;
use crate::cpu_driver::CpuDriver;
use caps::abi::method::{cnode, dispatcher, frame, kernel, ram, vnode};
use caps::SlotStore;
use caps::{
    resolve_cap, CPtr, CapDatabase, CapError, CapType, Capability, RetypeRequest, Rights, SlotAddr,
    SlotLocation,
};

/// Longest `Kernel.print` text.
const PRINT_LIMIT: u64 = 256;

/// A resolved capability: its slot and a copy.
#[derive(Clone, Copy)]
struct Resolved {
    slot: SlotAddr,
    cap: Capability,
}

/// Decodes a capability pointer (depth in bits 63:56; 0 = the root radix).
fn cptr(raw: u64, root: &Capability) -> CPtr {
    let depth = (raw >> 56) as u8;
    let depth = if depth == 0 { root.cnode_radix().unwrap_or(0) } else { depth };
    CPtr { address: raw & ((1 << 56) - 1), depth }
}

/// The slot `raw` names and its capability, read in place.
fn find<'a>(user: &'a UserCore, root: &Capability, raw: u64) -> Result<(SlotAddr, &'a Capability), SysError> {
    let pointer = cptr(raw, root);
    let slot = if Some(pointer.depth) == root.cnode_radix() {
        // A slot of the root CNode, the common case: the same checks as
        // `resolve_cap`, without walking.
        if pointer.address >> pointer.depth != 0 {
            return Err(CapError::InvalidCPtr.into());
        }
        SlotLocation::in_cnode(root, pointer.address)?.addr()?
    } else {
        resolve_cap(&user.slots, root, pointer)?.0
    };
    let held = user.slots.slot(slot).ok_or(CapError::BadSlotAddress)?;
    Ok((slot, held.capability().ok_or(CapError::SlotEmpty)?))
}

fn lookup(user: &UserCore, root: &Capability, raw: u64) -> Result<Resolved, SysError> {
    let (slot, cap) = find(user, root, raw)?;
    Ok(Resolved { slot, cap: *cap })
}

/// Handles `INVOKE`: x0 = cptr, x1 = method, x2.. = arguments.
pub fn invoke(me: &CpuDriver, frame: &mut ExceptionFrame) -> SysResult {
    let method = frame.registers[1];
    let a: [u64; 6] = core::array::from_fn(|i| frame.registers[2 + i]);
    let user = me.user.borrow();
    if user.slots.running_gone {
        return Err(CapError::Stale.into());
    }
    // SAFETY: `running` is this core's running dispatcher, alive (checked).
    let current = unsafe { dispatcher_object::object(user.slots.running) };
    let root = current.cspace_in_place(&user.slots)?;
    let (slot, cap) = find(&user, root, frame.registers[0])?;
    // Methods that only read run on the capability in place; the others get
    // copies, since they change the CSpace.
    match cap.kind {
        CapType::Kernel => return kernel(me, &user, method, [a[0], a[1]]),
        CapType::Frame | CapType::DevFrame if method == frame::IDENTIFY => {
            return Ok([cap.base, cap.size, 0])
        }
        _ => {}
    }
    let (target, root) = (Resolved { slot, cap: *cap }, *root);
    drop(user);
    match target.cap.kind {
        CapType::CNode => cnode(me, &root, &target, method, [a[0], a[1], a[2], a[3]]),
        CapType::Ram => ram(me, &root, &target, method, a),
        CapType::VNodeL0 | CapType::VNodeL1 | CapType::VNodeL2 | CapType::VNodeL3 => {
            vnode(me, &root, &target, method, [a[0], a[1], a[2]])
        }
        CapType::Dispatcher => dispatcher_method(me, &root, &target, method, frame),
        _ => Err(SysError::InvalidMethod),
    }
}

fn cnode(me: &CpuDriver, root: &Capability, cnode: &Resolved, method: u64, a: [u64; 4]) -> SysResult {
    let mut guard = me.user.borrow_mut();
    let user = &mut *guard;
    let place = SlotLocation::in_cnode(&cnode.cap, a[0])?;
    match method {
        cnode::COPY | cnode::MINT => {
            let source = lookup(user, root, a[1])?;
            if method == cnode::COPY {
                user.database.copy(&mut user.slots, source.slot, &place)?;
            } else {
                let rights = Rights::from_bits_truncate(a[2] as u8);
                user.database.mint(&mut user.slots, source.slot, &place, rights, a[3])?;
            }
        }
        cnode::DELETE => user.database.delete(&mut user.slots, place.addr()?)?,
        cnode::REVOKE => user.database.revoke(&mut user.slots, place.addr()?)?,
        _ => return Err(SysError::InvalidMethod),
    }
    Ok([0; 3])
}

/// RAM.retype(type, size bits, offset, dest CNode cptr, dest index, count).
fn ram(me: &CpuDriver, root: &Capability, ram: &Resolved, method: u64, a: [u64; 6]) -> SysResult {
    if method != ram::RETYPE {
        return Err(SysError::InvalidMethod);
    }
    let mut guard = me.user.borrow_mut();
    let user = &mut *guard;
    let kind = CapType::from_u8(a[0] as u8).filter(|_| a[0] <= 255).ok_or(SysError::InvalidArgument)?;
    let size_bits = u8::try_from(a[1]).map_err(|_| SysError::InvalidArgument)?;
    let dest_cnode = lookup(user, root, a[3])?;
    let dest = SlotLocation::in_cnode(&dest_cnode.cap, a[4])?;
    let request = RetypeRequest { kind, size_bits, offset: a[2], count: a[5] };
    let new_cnodes = if kind == CapType::CNode { request.count } else { 0 };
    if user.slots.live_cnodes.saturating_add(new_cnodes) > super::store::MAX_CNODES {
        return Err(SysError::LimitReached);
    }
    user.database.retype(&mut user.slots, ram.slot, &request, &dest)?;
    user.slots.live_cnodes += new_cnodes;
    for index in 0..request.count {
        let slot = dest.checked(index)?.addr()?;
        let cap = CapDatabase::capability(&user.slots, CapDatabase::handle(&user.slots, slot)?)?;
        if !matches!(cap.kind, CapType::Ram | CapType::CNode | CapType::DevFrame) {
            // SAFETY: a new object in this core's RAM that nothing uses yet.
            unsafe { core::ptr::write_bytes(phys_to_virt(cap.base) as *mut u8, 0, cap.size as usize) };
        }
    }
    Ok([0; 3])
}

/// VNode.map(child cptr, index, rights) / VNode.unmap(child cptr).
fn vnode(me: &CpuDriver, root: &Capability, table: &Resolved, method: u64, a: [u64; 3]) -> SysResult {
    let mut guard = me.user.borrow_mut();
    let user = &mut *guard;
    let level = table.cap.kind.vnode_level().ok_or(SysError::InvalidMethod)?;
    let child = lookup(user, root, a[0])?;
    match method {
        vnode::MAP => {
            if a[1] >= vspace::ENTRIES {
                return Err(SysError::InvalidArgument);
            }
            let rights = Rights::from_bits_truncate(a[2] as u8);
            let value = match (level, child.cap.kind) {
                (3, CapType::Frame) if child.cap.size == vspace::PAGE => {
                    if !child.cap.rights.contains(rights) || !rights.contains(Rights::READ) {
                        return Err(CapError::MissingRights.into());
                    }
                    vspace::page_entry(child.cap.base, rights)
                }
                (3, CapType::Frame) => return Err(SysError::InvalidArgument),
                (_, kind) if kind.vnode_level() == Some(level + 1) => vspace::table_entry(child.cap.base),
                (_, CapType::Frame) => return Err(SysError::WrongLevel),
                (_, kind) if kind.vnode_level().is_some() => return Err(SysError::WrongLevel),
                _ => return Err(CapError::WrongType.into()),
            };
            if child.cap.mapping != 0 && vspace::maps(child.cap.mapping, child.cap.base) {
                return Err(SysError::AlreadyMapped);
            }
            let entry = table.cap.base + a[1] * 8;
            if vspace::is_valid(vspace::read_entry(entry)) {
                return Err(SysError::AlreadyMapped);
            }
            vspace::write_entry(entry, value);
            CapDatabase::set_mapping(&mut user.slots, child.slot, entry)?;
        }
        vnode::UNMAP => {
            let entry = child.cap.mapping;
            if entry < table.cap.base || entry >= table.cap.base + vspace::PAGE {
                return Err(SysError::NotMapped);
            }
            if !vspace::maps(entry, child.cap.base) {
                // A record left from a table that has since been deleted.
                CapDatabase::set_mapping(&mut user.slots, child.slot, 0)?;
                return Err(SysError::NotMapped);
            }
            vspace::clear_entry(entry);
            CapDatabase::set_mapping(&mut user.slots, child.slot, 0)?;
        }
        _ => return Err(SysError::InvalidMethod),
    }
    Ok([0; 3])
}

/// Dispatcher.setup(cspace, vspace, pc, sp) / Dispatcher.run().
fn dispatcher_method(
    me: &CpuDriver,
    root: &Capability,
    target: &Resolved,
    method: u64,
    frame: &mut ExceptionFrame,
) -> SysResult {
    match method {
        dispatcher::SETUP => {
            let user = me.user.borrow();
            let cspace = lookup(&user, root, frame.registers[2])?;
            let vspace = lookup(&user, root, frame.registers[3])?;
            // SAFETY: a Dispatcher capability of this core names the object.
            let object = unsafe { dispatcher_object::object(target.cap.base) };
            if object.state == state::RUNNING {
                return Err(SysError::NotSetUp);
            }
            object.set_spaces(&user.slots, cspace.slot, vspace.slot)?;
            object.context = ExceptionFrame::user(frame.registers[4], frame.registers[5], &[]);
            // SAFETY: the running dispatcher, alive (`invoke` checked).
            let name = unsafe { dispatcher_object::object(user.slots.running) }.name;
            object.name = name;
            object.state = state::READY;
            Ok([0; 3])
        }
        dispatcher::RUN => {
            // SAFETY: as above.
            let object = unsafe { dispatcher_object::object(target.cap.base) };
            if object.state != state::READY {
                return Err(SysError::NotSetUp);
            }
            let parent = save(me, frame)?;
            object.parent = parent;
            // SAFETY: `parent` is the running dispatcher, now waiting.
            unsafe { dispatcher_object::object(parent) }.state = state::RUNNING;
            // The frame now holds the child (`lower_sync` sees the switch and
            // leaves it alone); the parent's results are written when the
            // child finishes.
            resume(me, frame, target.cap.base);
            Ok([0; 3])
        }
        _ => Err(SysError::InvalidMethod),
    }
}

/// Kernel.print / power_off / null / identify.
fn kernel(me: &CpuDriver, user: &UserCore, method: u64, a: [u64; 2]) -> SysResult {
    match method {
        kernel::PRINT => print(user, a[0], a[1]),
        kernel::POWER_OFF => crate::power::power_off_current(),
        kernel::NULL => Ok([0; 3]),
        kernel::IDENTIFY => Ok([me.index as u64, me.online_cores(), 0]),
        _ => Err(SysError::InvalidMethod),
    }
}

/// Prints user bytes `[address, address + length)` as one console line,
/// reading them through the page tables (never through the user's VA).
fn print(user: &UserCore, address: u64, length: u64) -> SysResult {
    if length > PRINT_LIMIT {
        return Err(SysError::InvalidArgument);
    }
    // SAFETY: the running dispatcher, alive (`invoke` checked).
    let root = unsafe { dispatcher_object::object(user.slots.running) }.vspace(&user.slots)?;
    let mut text = [0u8; PRINT_LIMIT as usize];
    for (offset, byte) in text.iter_mut().enumerate().take(length as usize) {
        let va = address.checked_add(offset as u64).ok_or(SysError::InvalidBuffer)?;
        let physical = vspace::translate(root, va).ok_or(SysError::InvalidBuffer)?;
        // SAFETY: `physical` is a page mapped EL0-readable in the caller's
        // address space, in RAM, linearly mapped.
        *byte = unsafe { (phys_to_virt(physical) as *const u8).read_volatile() };
    }
    let text = &text[..length as usize];
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    match core::str::from_utf8(text) {
        Ok(line) => crate::console::print_block(format_args!("{line}")),
        Err(_) => crate::console::print_block(format_args!("{}", text.escape_ascii())),
    }
    Ok([0; 3])
}
