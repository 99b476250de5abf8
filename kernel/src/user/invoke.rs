//! Capability invocations (`INVOKE`): look the capability up in the caller's
//! CSpace, check, then act. Methods and codes: `docs/syscalls.md`.

use super::dispatcher::{self as dispatcher_object, blocked, resume, state};
use super::error::{SysError, SysResult};
use super::lmp;
use super::syscall::{enter, save_running, schedule};
use super::vspace;
use super::UserCore;
use crate::arch::aarch64::exceptions::ExceptionFrame;
use crate::boot::phys_to_virt;
use crate::console::UserPrintError;
use crate::cpu_driver::CpuDriver;
use caps::abi::method::{cnode, dispatcher, endpoint, frame, kernel, ram, vnode};
use caps::SlotStore;
use caps::{
    resolve_cap, CPtr, CapDatabase, CapError, CapType, Capability, RetypeRequest, Rights, SlotAddr,
    SlotLocation,
};

/// Longest `Kernel.print` text.
const PRINT_LIMIT: u64 = 256;

/// A resolved capability: its slot and a copy.
#[derive(Clone, Copy)]
pub struct Resolved {
    /// Where it is.
    pub slot: SlotAddr,
    /// The capability.
    pub cap: Capability,
}

/// The slot `raw` names and its capability, read in place. `raw` is a
/// capability pointer: depth in bits 63:56 (0 = the root radix), address
/// in bits 55:0.
pub fn find<'a>(
    user: &'a UserCore,
    root: &Capability,
    raw: u64,
) -> Result<(SlotAddr, &'a Capability), SysError> {
    let radix = root.cnode_radix().ok_or(CapError::NotCNode)?;
    let depth = (raw >> 56) as u8;
    let address = raw & ((1 << 56) - 1);
    let (slot, held) = if depth == 0 || depth == radix {
        // A slot of the root CNode, the common case: the same checks as
        // `resolve_cap`, without walking.
        if address >> radix != 0 {
            return Err(CapError::InvalidCPtr.into());
        }
        let slot = SlotAddr::new(root.base + address * caps::SLOT_BYTES).ok_or(CapError::BadSlotAddress)?;
        (slot, user.slots.cnode_slot(slot))
    } else {
        let slot = resolve_cap(&user.slots, root, CPtr { address, depth })?.0;
        (slot, user.slots.slot(slot).ok_or(CapError::BadSlotAddress)?)
    };
    Ok((slot, held.capability().ok_or(CapError::SlotEmpty)?))
}

/// The capability `raw` names in the CSpace under `root`.
pub fn lookup(user: &UserCore, root: &Capability, raw: u64) -> Result<Resolved, SysError> {
    let (slot, cap) = find(user, root, raw)?;
    Ok(Resolved { slot, cap: *cap })
}

/// Handles `INVOKE`: x0 = cptr, x1 = method, x2.. = arguments.
pub fn invoke(me: &CpuDriver, frame: &mut ExceptionFrame) -> SysResult {
    let method = frame.registers[1];
    let a: [u64; 6] = core::array::from_fn(|i| frame.registers[2 + i]);
    let user = me.user.borrow();
    if user.slots.sched.running_gone {
        return Err(CapError::Stale.into());
    }
    // SAFETY: `running` is this core's running dispatcher, alive (checked).
    let current = unsafe { dispatcher_object::object(user.slots.sched.running) };
    let root = current.cspace_in_place(&user.slots)?;
    let (slot, cap) = find(&user, root, frame.registers[0])?;
    // Methods that only read run on the capability in place; the others get
    // copies, since they change the CSpace.
    match cap.kind {
        // The monitors' methods and power-off need the write right (checked
        // in `kernel` and here); a Kernel capability without it (what
        // spawned programs get) prints and identifies only.
        CapType::Kernel if !matches!(method, kernel::CREATE | kernel::DOORBELL | kernel::CONSOLE) => {
            return kernel(me, &user, method, [a[0], a[1]], cap.rights)
        }
        CapType::Kernel if !cap.rights.contains(Rights::WRITE) => return Err(CapError::MissingRights.into()),
        CapType::Kernel => {
            let (root, running) = (*root, user.slots.sched.running);
            drop(user);
            return match method {
                kernel::CREATE => create(me, &root, a),
                kernel::CONSOLE => take_console(me, &root, a),
                _ => bind_doorbell(me, running, a[0]),
            };
        }
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
        CapType::Endpoint => endpoint_method(me, &root, &target, method, [a[0], a[1]]),
        CapType::Irq => {
            let running = me.user.borrow().slots.sched.running;
            super::irq::method(me, running, &target, method, a[0])
        }
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
    let new_holders = if matches!(kind, CapType::CNode | CapType::Endpoint) { request.count } else { 0 };
    if user.slots.live_holders.saturating_add(new_holders) > super::store::MAX_HOLDERS {
        return Err(SysError::LimitReached);
    }
    user.database.retype(&mut user.slots, ram.slot, &request, &dest)?;
    user.slots.live_holders += new_holders;
    for index in 0..request.count {
        let slot = dest.checked(index)?.addr()?;
        let cap = CapDatabase::capability(&user.slots, CapDatabase::handle(&user.slots, slot)?)?;
        if !matches!(cap.kind, CapType::Ram | CapType::CNode | CapType::DevFrame | CapType::Endpoint) {
            // SAFETY: a new object in this core's RAM that nothing uses yet.
            unsafe { core::ptr::write_bytes(phys_to_virt(cap.base) as *mut u8, 0, cap.size as usize) };
        }
        if cap.kind == CapType::Endpoint {
            // The queue below the slots (which `caps` initialised).
            let queue = caps::cap_type::ENDPOINT_SLOTS_OFFSET as usize;
            // SAFETY: as above; the slots above `queue` are left alone.
            unsafe { core::ptr::write_bytes(phys_to_virt(cap.base) as *mut u8, 0, queue) };
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
                (3, CapType::DevFrame) if child.cap.size == vspace::PAGE => {
                    // Device registers: never executable.
                    if !child.cap.rights.contains(rights) || !rights.contains(Rights::READ) {
                        return Err(CapError::MissingRights.into());
                    }
                    if rights.contains(Rights::EXECUTE) {
                        return Err(SysError::InvalidArgument);
                    }
                    vspace::device_page_entry(child.cap.base, rights)
                }
                (3, CapType::DevFrame) => return Err(SysError::InvalidArgument),
                (3, CapType::Dispatcher) => {
                    // Its dispatcher frame, never executable.
                    if !child.cap.rights.contains(rights) || !rights.contains(Rights::READ) {
                        return Err(CapError::MissingRights.into());
                    }
                    if rights.contains(Rights::EXECUTE) {
                        return Err(SysError::InvalidArgument);
                    }
                    vspace::page_entry(vspace::mapped_page(&child.cap), rights)
                }
                (_, kind) if kind.vnode_level() == Some(level + 1) => vspace::table_entry(child.cap.base),
                (_, CapType::Frame | CapType::DevFrame) => return Err(SysError::WrongLevel),
                (_, kind) if kind.vnode_level().is_some() => return Err(SysError::WrongLevel),
                _ => return Err(CapError::WrongType.into()),
            };
            if child.cap.mapping != 0 && vspace::maps(child.cap.mapping, vspace::mapped_page(&child.cap)) {
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
            if !vspace::maps(entry, vspace::mapped_page(&child.cap)) {
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

/// Dispatcher methods (`docs/syscalls.md`).
fn dispatcher_method(
    me: &CpuDriver,
    root: &Capability,
    target: &Resolved,
    method: u64,
    frame: &mut ExceptionFrame,
) -> SysResult {
    let base = target.cap.base;
    let caller = me.user.borrow().slots.sched.running;
    // SAFETY: a Dispatcher capability of this core names the object.
    let object = unsafe { dispatcher_object::object(base) };
    match method {
        dispatcher::SETUP => {
            let user = me.user.borrow();
            let cspace = lookup(&user, root, frame.registers[2])?;
            let vspace = lookup(&user, root, frame.registers[3])?;
            if !matches!(object.state, state::EMPTY | state::READY | state::DONE) {
                return Err(SysError::NotSetUp);
            }
            object.set_spaces(&user.slots, cspace.slot, vspace.slot)?;
            let frame_va = frame.registers[6];
            // Flag 1: a program's entry (`_start`: core, cores online, frame
            // address); else a sibling's (frame address, core).
            if frame.registers[7] > dispatcher::PROGRAM_ENTRY {
                return Err(SysError::InvalidArgument);
            }
            let arguments = if frame.registers[7] == dispatcher::PROGRAM_ENTRY {
                [me.index as u64, me.online_cores(), frame_va]
            } else {
                [frame_va, me.index as u64, 0]
            };
            object.context = ExceptionFrame::user(frame.registers[4], frame.registers[5], &arguments);
            object.thread_pointer = 0;
            object.resume = resume::DISABLED;
            object.frame_va = frame_va;
            if object.state == state::EMPTY {
                object.priority = caps::abi::priority::DEFAULT;
            }
            // SAFETY: the running dispatcher, alive (`invoke` checked).
            object.name = unsafe { dispatcher_object::object(caller) }.name;
            object.outcome = [0; 3];
            object.waiter = 0;
            object.supervisor = 0;
            object.state = state::READY;
            drop(user);
            me.user.borrow_mut().slots.sched.link(base);
            Ok([0; 3])
        }
        dispatcher::START => {
            if object.state != state::READY {
                return Err(SysError::NotSetUp);
            }
            object.supervisor = caller;
            me.user.borrow_mut().slots.sched.make_runnable(base);
            Ok([0; 3])
        }
        dispatcher::RUN => {
            if base == caller {
                return Err(SysError::InvalidArgument);
            }
            match object.state {
                state::READY => object.supervisor = caller,
                state::RUNNABLE | state::BLOCKED => {}
                // Ended already (started earlier): its outcome at once.
                state::DONE => return Ok(object.outcome),
                _ => return Err(SysError::NotSetUp),
            }
            if object.waiter != 0 {
                return Err(SysError::NotRunnable);
            }
            object.waiter = caller;
            if save_running(me, frame, true).is_none() {
                object.waiter = 0;
                return Err(CapError::Stale.into());
            }
            let mut guard = me.user.borrow_mut();
            guard.slots.sched.block(caller, blocked::CHILD, base, 0);
            // The child runs now (its end makes the caller run again, with
            // the outcome in x1–x3).
            guard.slots.sched.unqueue(base);
            drop(guard);
            if object.state == state::BLOCKED {
                schedule(me);
            } else {
                enter(me, base);
            }
            Ok([0; 3])
        }
        dispatcher::STATUS => Ok([object.state, object.outcome[0], object.outcome[1]]),
        dispatcher::SET_PRIORITY => {
            let priority = frame.registers[2];
            if priority >= caps::abi::priority::LEVELS {
                return Err(SysError::InvalidArgument);
            }
            let mut guard = me.user.borrow_mut();
            let requeue = object.state == state::RUNNABLE;
            guard.slots.sched.unqueue(base);
            object.priority = priority;
            if requeue {
                guard.slots.sched.make_runnable(base);
            }
            Ok([0; 3])
        }
        dispatcher::YIELD_TO => {
            if object.state != state::RUNNABLE || base == caller {
                return Err(SysError::NotRunnable);
            }
            frame.registers[0] = 0;
            frame.registers[1..4].fill(0);
            if let Some(current) = save_running(me, frame, false) {
                let mut guard = me.user.borrow_mut();
                guard.slots.sched.make_runnable(current);
                guard.slots.sched.unqueue(base);
                drop(guard);
                enter(me, base);
            }
            Ok([0; 3])
        }
        dispatcher::NAME => {
            // 16 bytes, zero-padded; shown in `exit:`/`fault:` lines.
            let mut name = [0u8; 16];
            name[..8].copy_from_slice(&frame.registers[2].to_le_bytes());
            name[8..].copy_from_slice(&frame.registers[3].to_le_bytes());
            object.name = name;
            Ok([0; 3])
        }
        _ => Err(SysError::InvalidMethod),
    }
}

/// Endpoint.bind(dispatcher, event index) / Endpoint.pending().
fn endpoint_method(
    me: &CpuDriver,
    root: &Capability,
    target: &Resolved,
    method: u64,
    a: [u64; 2],
) -> SysResult {
    match method {
        endpoint::BIND => {
            if !target.cap.rights.contains(Rights::READ) {
                return Err(CapError::MissingRights.into());
            }
            let user = me.user.borrow();
            let receiver = lookup(&user, root, a[0])?;
            if receiver.cap.kind != CapType::Dispatcher {
                return Err(CapError::WrongType.into());
            }
            if a[1] > caps::abi::lmp::MAX_EVENT {
                return Err(SysError::InvalidArgument);
            }
            lmp::bind(target.cap.base, receiver.cap.base, a[1])?;
            Ok([0; 3])
        }
        // SAFETY: the capability names a live endpoint of this core.
        endpoint::PENDING => Ok([unsafe { lmp::object(target.cap.base) }.count, 0, 0]),
        _ => Err(SysError::InvalidMethod),
    }
}

/// Kernel.print / power_off / null / identify.
#[inline(always)]
fn kernel(me: &CpuDriver, user: &UserCore, method: u64, a: [u64; 2], rights: Rights) -> SysResult {
    let privileged = || if rights.contains(Rights::WRITE) { Ok(()) } else { Err(CapError::MissingRights) };
    match method {
        kernel::PRINT => print(user, a[0], a[1]),
        kernel::POWER_OFF => {
            privileged()?;
            crate::power::power_off_current()
        }
        kernel::NULL => Ok([0; 3]),
        kernel::IDENTIFY => Ok([me.index as u64, me.online_cores(), 0]),
        kernel::SYSTEM => Ok([me.shared.info.cpu_count as u64, me.online_set(), me.shared.boot_index as u64]),
        kernel::CLUSTER => {
            let cpu = me.shared.info.cpus().get(a[0] as usize).ok_or(SysError::InvalidArgument)?;
            Ok([u64::from(cpu.cluster), 0, 0])
        }
        kernel::POOL => {
            let (base, bytes, offset) = super::pool(me, a[0] as usize).ok_or(SysError::InvalidArgument)?;
            Ok([base, bytes, offset])
        }
        kernel::NOTIFY => {
            privileged()?;
            if a[0] as usize >= me.shared.info.cpu_count || me.online_set() & (1 << a[0]) == 0 {
                return Err(SysError::InvalidArgument);
            }
            me.send_sgi(crate::cpu_driver::SGI_USER, a[0] as usize);
            Ok([0; 3])
        }
        kernel::MODULES => {
            privileged()?;
            Ok(me.shared.info.initrd.map_or([0; 3], |r| [r.base & (vspace::PAGE - 1), r.size, 0]))
        }
        kernel::BOOTARGS => {
            let args = me.shared.info.bootargs.as_str().as_bytes();
            let word = |at: u64| {
                let mut bytes = [0u8; 8];
                for (i, byte) in bytes.iter_mut().enumerate() {
                    let index = at.saturating_add(i as u64);
                    *byte = usize::try_from(index).ok().and_then(|i| args.get(i)).copied().unwrap_or(0);
                }
                u64::from_le_bytes(bytes)
            };
            Ok([args.len() as u64, word(a[0]), word(a[0].saturating_add(8))])
        }
        _ => Err(SysError::InvalidMethod),
    }
}

/// Kernel.doorbell(event): binds `running` (the caller: `invoke` checked it
/// is not gone; it is unbound when it dies) to this core's user doorbell.
fn bind_doorbell(me: &CpuDriver, running: u64, event: u64) -> SysResult {
    if event > caps::abi::lmp::MAX_EVENT {
        return Err(SysError::InvalidArgument);
    }
    me.user.borrow_mut().slots.sched.doorbell = (running, event);
    Ok([0; 3])
}

/// Kernel.console(dest CNode cptr, DevFrame index, Irq index): hands the
/// console to user space on this core. A DevFrame capability for the
/// UART's page and an Irq capability for its interrupt go into the two
/// slots; returns the registers' offset in that page and the interrupt ID.
/// Once per boot (`AlreadyBound` after).
fn take_console(me: &CpuDriver, root: &Capability, a: [u64; 6]) -> SysResult {
    let uart = me.shared.console_uart;
    let page = uart.base & !(vspace::PAGE - 1);
    let intid = u64::from(uart.intid);
    let spi =
        u64::from(crate::arch::aarch64::gic::FIRST_SPI)..=u64::from(crate::arch::aarch64::gic::LAST_SPI);
    if a[1] == a[2] || !spi.contains(&intid) {
        return Err(SysError::InvalidArgument);
    }
    let mut guard = me.user.borrow_mut();
    let user = &mut *guard;
    let dest_cnode = lookup(user, root, a[0])?;
    let mut slots = [a[1], a[2]].map(|index| SlotLocation::in_cnode(&dest_cnode.cap, index));
    for slot in &mut slots {
        let location = slot.as_ref().map_err(|e| *e)?;
        if !location.cnode_rights.contains(Rights::WRITE) {
            return Err(CapError::MissingRights.into());
        }
        let held = user.slots.slot(location.addr()?).ok_or(CapError::BadSlotAddress)?;
        if held.capability().is_some() {
            return Err(CapError::SlotOccupied.into());
        }
    }
    if !crate::console::hand_over(me.index) {
        return Err(SysError::AlreadyBound);
    }
    let [frame_slot, irq_slot] = slots.map(|slot| slot.and_then(|location| location.addr()));
    user.database.insert_root(&mut user.slots, frame_slot?, CapType::DevFrame, page, vspace::PAGE)?;
    user.database.insert_root(&mut user.slots, irq_slot?, CapType::Irq, intid, 1)?;
    Ok([uart.base - page, intid, 0])
}

/// Kernel.create(type, base, bytes, dest CNode cptr, dest index): a root
/// RAM or Frame capability for a range of another core's monitor pool,
/// which that core's monitor gave up through the monitors' protocol (the
/// kernel trusts the holder of the Kernel capability for that).
fn create(me: &CpuDriver, root: &Capability, a: [u64; 6]) -> SysResult {
    let kind = CapType::from_u8(a[0] as u8).filter(|_| a[0] <= 255).ok_or(SysError::InvalidArgument)?;
    if !matches!(kind, CapType::Ram | CapType::Frame) {
        return Err(SysError::InvalidArgument);
    }
    let (base, bytes) = (a[1], a[2]);
    let end = base.checked_add(bytes).ok_or(SysError::InvalidArgument)?;
    let page = vspace::PAGE;
    if bytes == 0 || !base.is_multiple_of(page) || !bytes.is_multiple_of(page) {
        return Err(SysError::InvalidArgument);
    }
    let others = || (0..me.shared.info.cpu_count).filter(|&core| core != me.index);
    let in_pool =
        |core: usize| super::pool(me, core).is_some_and(|(pool, size, _)| base >= pool && end <= pool + size);
    let in_ram =
        |core: usize| super::user_ram(me, core).is_some_and(|(ram, size)| base >= ram && end <= ram + size);
    // Another core's pool: what the monitors hand around, with every right.
    // The rest of another core's user RAM (a spanning program's code):
    // a Frame that can be read and executed, never written, so no core
    // can write memory another core's kernel manages.
    let rights = if others().any(in_pool) {
        Rights::ALL
    } else if kind == CapType::Frame && others().any(in_ram) {
        Rights::READ | Rights::EXECUTE
    } else {
        return Err(SysError::InvalidArgument);
    };
    let mut guard = me.user.borrow_mut();
    let user = &mut *guard;
    let dest_cnode = lookup(user, root, a[3])?;
    let dest = SlotLocation::in_cnode(&dest_cnode.cap, a[4])?;
    if !dest.cnode_rights.contains(Rights::WRITE) {
        return Err(CapError::MissingRights.into());
    }
    // Different roots must cover disjoint memory (`caps`): no two created
    // ones may overlap (the pool is not this core's, so nothing else here
    // covers it).
    if user.slots.created.overlaps(base, end) {
        return Err(CapError::RetypeConflict.into());
    }
    if !user.slots.created.has_room() {
        return Err(SysError::LimitReached);
    }
    // Not zeroed: a Frame may be shared with the core that made it (a
    // channel); RAM is zeroed when it is retyped.
    let cap = user.database.insert_root_with(&mut user.slots, dest.addr()?, kind, base, bytes, rights)?;
    user.slots.created.insert(&cap);
    Ok([0; 3])
}

/// Prints user bytes `[address, address + length)` as one console line,
/// reading them through the page tables (never through the user's VA).
fn print(user: &UserCore, address: u64, length: u64) -> SysResult {
    if length > PRINT_LIMIT {
        return Err(SysError::InvalidArgument);
    }
    // SAFETY: the running dispatcher, alive (`invoke` checked).
    let root = unsafe { dispatcher_object::object(user.slots.sched.running) }.vspace(&user.slots)?;
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
    match crate::console::print_user(text) {
        Ok(()) => Ok([0; 3]),
        Err(UserPrintError::Busy) => Err(SysError::Busy),
        Err(UserPrintError::TooLong) => Err(SysError::InvalidArgument),
    }
}
