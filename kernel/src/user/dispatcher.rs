//! Dispatcher objects (8 KiB, retyped from RAM). The first page is the
//! kernel's control block (`DispatcherObject`): scheduling state, queue
//! links, the CSpace and VSpace it runs in, its registers (exceptions from
//! EL0 save them there directly) and its FP/SIMD registers while another
//! dispatcher owns them. The second page is the dispatcher frame
//! (`caps::abi::DispatcherFrame`) that user space maps: the disabled flag,
//! the save areas, the upcall entry points and the pending events.

use super::error::SysError;
use super::store::KernelSlots;
use crate::arch::aarch64::exceptions::ExceptionFrame;
use crate::boot::phys_to_virt;
use caps::abi::{DispatcherFrame, SavedRegisters};
use caps::{CapDatabase, CapError, CapHandle, CapType, Capability, SlotAddr};

/// Dispatcher states.
pub mod state {
    /// Retyped, not set up.
    pub const EMPTY: u64 = 0;
    /// Set up, not started.
    pub const READY: u64 = 1;
    /// On a run queue.
    pub const RUNNABLE: u64 = 2;
    /// Running on this core.
    pub const RUNNING: u64 = 3;
    /// Waiting (see `blocked`).
    pub const BLOCKED: u64 = 4;
    /// Exited, faulted or destroyed while running.
    pub const DONE: u64 = 5;
}

/// How a stopped dispatcher is entered next.
pub mod resume {
    /// Where it stopped: from the frame's disabled save area.
    pub const DISABLED: u64 = 0;
    /// By a run (or message) upcall; its registers are in the enabled area.
    pub const UPCALL: u64 = 1;
}

/// What a blocked dispatcher waits for.
pub mod blocked {
    /// Nothing.
    pub const NONE: u64 = 0;
    /// Any event, or its deadline (`WAIT`).
    pub const EVENTS: u64 = 1;
    /// A message on the endpoint `blocked_on` (`RECV` with `BLOCK`, `CALL`).
    pub const ENDPOINT: u64 = 2;
    /// The end of the dispatcher `blocked_on` (`Dispatcher.run`).
    pub const CHILD: u64 = 3;
}

/// How a dispatcher ended (`outcome[0]`, and `Dispatcher.run`'s x1).
pub mod outcome {
    /// `EXIT` (value: the status).
    pub const EXITED: u64 = 0;
    /// An unhandled fault (value: ESR, then FAR).
    pub const FAULTED: u64 = 1;
    /// Its last capability was deleted while it ran.
    pub const DESTROYED: u64 = 2;
}

/// Which list a dispatcher's queue links are on.
pub mod queued {
    /// None.
    pub const NONE: u64 = 0;
    /// Its priority's run queue.
    pub const RUN: u64 = 1;
    /// The list of blocked dispatchers with a deadline.
    pub const TIMED: u64 = 2;
}

/// FP/SIMD registers (saved lazily: only when another dispatcher wants
/// them).
#[repr(C, align(16))]
#[derive(Clone, Copy)]
pub struct FpState {
    /// q0..q31.
    pub q: [u128; 32],
    /// `FPCR`.
    pub fpcr: u64,
    /// `FPSR`.
    pub fpsr: u64,
}

/// The control block (first page); all-zero bytes are a valid empty
/// dispatcher.
#[repr(C)]
pub struct DispatcherObject {
    /// One of `state::*`.
    pub state: u64,
    /// One of `resume::*`.
    pub resume: u64,
    /// Scheduling priority (higher runs first).
    pub priority: u64,
    /// Run-queue or timed-list links (physical addresses of dispatchers).
    pub queue_next: u64,
    /// See `queue_next`.
    pub queue_prev: u64,
    /// One of `queued::*`.
    pub queued: u64,
    /// Links of the core's list of set-up dispatchers.
    pub all_next: u64,
    /// See `all_next`.
    pub all_prev: u64,
    /// Whether it is on that list.
    pub linked: u64,
    /// One of `blocked::*`.
    pub blocked: u64,
    /// The endpoint or child it waits for.
    pub blocked_on: u64,
    /// Receive slot of a blocked receive: CNode pointer and index.
    pub receive_slot: [u64; 2],
    /// Counter value at which a `WAIT` ends (0: none).
    pub wake_at: u64,
    /// The dispatcher blocked in `Dispatcher.run` on this one (0: none).
    pub waiter: u64,
    /// The dispatcher that started it, told by an event when it ends.
    pub supervisor: u64,
    /// How it ended: `outcome::*`, value, fault address.
    pub outcome: [u64; 3],
    /// First endpoint bound to it (a list through the endpoints).
    pub bound: u64,
    /// Slot and generation of its root CNode capability.
    pub cspace: [u64; 2],
    /// Slot and generation of its L0 VNode capability.
    pub vspace: [u64; 2],
    /// The user address of its dispatcher frame (passed to upcalls).
    pub frame_va: u64,
    /// Program name (NUL-padded), for fault reports.
    pub name: [u8; 16],
    /// Its registers while it is stopped (and where an exception from EL0
    /// saves them while it runs).
    pub context: ExceptionFrame,
    /// Its `TPIDR_EL0` while it is stopped.
    pub thread_pointer: u64,
    /// Whether `fp` holds its FP/SIMD registers.
    pub fp_valid: u64,
    /// Its FP/SIMD registers while it does not own them.
    pub fp: FpState,
}

const _: () = assert!(core::mem::size_of::<DispatcherObject>() <= 4096);
const _: () = assert!(caps::abi::FRAME_USED <= 4096);

/// Bytes of the control block: the frame follows.
pub const FRAME_OFFSET: u64 = 4096;

/// The dispatcher object at physical `base`.
///
/// # Safety
/// `base` must be a Dispatcher object of this core (from a Dispatcher
/// capability, the core's own, or a reference the kernel keeps and clears
/// when the object dies), and no other reference to it may be live.
pub unsafe fn object<'a>(base: u64) -> &'a mut DispatcherObject {
    // SAFETY: per the contract; the object is linearly mapped RAM that all
    // zero bytes make valid.
    unsafe { &mut *(phys_to_virt(base) as *mut DispatcherObject) }
}

/// The dispatcher frame of the object at `base`.
///
/// # Safety
/// As for [`object`]. User space may change the frame at any time it runs,
/// so the kernel never trusts what it reads there.
pub unsafe fn frame<'a>(base: u64) -> &'a mut DispatcherFrame {
    // SAFETY: per the contract; the frame is the object's second page, and
    // every bit pattern is a valid `DispatcherFrame`.
    unsafe { &mut *(phys_to_virt(base + FRAME_OFFSET) as *mut DispatcherFrame) }
}

/// SPSR's N, Z, C, V bits: the only state EL0 may choose.
pub const SPSR_FLAGS: u64 = 0xf << 28;

/// Saves `frame` (and `TPIDR_EL0`) into `area`.
pub fn save_registers(area: &mut SavedRegisters, frame: &ExceptionFrame) {
    crate::arch::aarch64::cpu::copy_registers(&mut area.x, &frame.registers);
    area.sp = frame.sp_el0;
    area.pc = frame.elr;
    area.pstate = frame.spsr & SPSR_FLAGS;
    area.tpidr = crate::arch::aarch64::cpu::user_thread_pointer();
}

/// Loads `area` into `frame` (and `TPIDR_EL0`): the `eret` goes to EL0 with
/// interrupts unmasked whatever the area says.
pub fn load_registers(frame: &mut ExceptionFrame, area: &SavedRegisters) {
    crate::arch::aarch64::cpu::copy_registers(&mut frame.registers, &area.x);
    frame.sp_el0 = area.sp;
    frame.elr = area.pc;
    frame.spsr = area.pstate & SPSR_FLAGS;
    crate::arch::aarch64::cpu::set_user_thread_pointer(area.tpidr);
}

fn pack(handle: CapHandle) -> [u64; 2] {
    [handle.slot.get(), handle.generation]
}

fn unpack(raw: [u64; 2]) -> Result<CapHandle, CapError> {
    Ok(CapHandle { slot: SlotAddr::new(raw[0]).ok_or(CapError::Stale)?, generation: raw[1] })
}

impl DispatcherObject {
    /// Records the CSpace root and VSpace root (capabilities in `slots`).
    pub fn set_spaces(
        &mut self,
        slots: &KernelSlots,
        cspace: SlotAddr,
        vspace: SlotAddr,
    ) -> Result<(), SysError> {
        let cnode = CapDatabase::handle(slots, cspace)?;
        let root = CapDatabase::handle(slots, vspace)?;
        if CapDatabase::capability(slots, cnode)?.kind != CapType::CNode {
            return Err(CapError::NotCNode.into());
        }
        if CapDatabase::capability(slots, root)?.kind != CapType::VNodeL0 {
            return Err(CapError::WrongType.into());
        }
        self.cspace = pack(cnode);
        self.vspace = pack(root);
        Ok(())
    }

    /// Its root CNode capability, if still there, read in place (this is on
    /// every invocation's path).
    pub fn cspace_in_place<'a>(&self, slots: &'a KernelSlots) -> Result<&'a Capability, CapError> {
        let handle = unpack(self.cspace)?;
        // The handle is cleared when the CNode holding its slot dies.
        let slot = slots.cnode_slot(handle.slot);
        match slot.capability() {
            Some(cap) if slot.generation() == handle.generation => Ok(cap),
            _ => Err(CapError::Stale),
        }
    }

    /// Its L0 table's physical address, if the capability is still there.
    pub fn vspace(&self, slots: &KernelSlots) -> Result<u64, CapError> {
        let handle = unpack(self.vspace)?;
        // As in `cspace_in_place`.
        let slot = slots.cnode_slot(handle.slot);
        match slot.capability() {
            Some(cap) if slot.generation() == handle.generation => Ok(cap.base),
            _ => Err(CapError::Stale),
        }
    }

    /// The program name.
    pub fn name(&self) -> &str {
        let len = self.name.iter().position(|&b| b == 0).unwrap_or(self.name.len());
        core::str::from_utf8(&self.name[..len]).unwrap_or("?")
    }

    /// Sets the program name (truncated to 16 bytes).
    pub fn set_name(&mut self, name: &str) {
        self.name = [0; 16];
        let len = name.len().min(16);
        self.name[..len].copy_from_slice(&name.as_bytes()[..len]);
    }
}
