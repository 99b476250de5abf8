//! Dispatcher objects (4 KiB, retyped from RAM): a saved user context, the
//! CSpace and VSpace it runs in, and the parent it returns to. Kernel
//! memory: user space holds a capability to it, never a mapping.

use super::error::SysError;
use super::store::KernelSlots;
use crate::arch::aarch64::exceptions::ExceptionFrame;
use crate::boot::phys_to_virt;
use caps::{CapDatabase, CapError, CapHandle, CapType, Capability, SlotAddr, SlotStore};

/// Dispatcher states.
pub mod state {
    /// Retyped, not set up.
    pub const EMPTY: u64 = 0;
    /// Set up; may be run.
    pub const READY: u64 = 1;
    /// Running (or waiting for a child it runs).
    pub const RUNNING: u64 = 2;
    /// Exited or faulted.
    pub const DONE: u64 = 3;
}

/// The object's layout; all-zero bytes are a valid empty dispatcher.
#[repr(C)]
pub struct DispatcherObject {
    /// Saved user registers while not running.
    pub context: ExceptionFrame,
    /// Saved `TPIDR_EL0`.
    pub thread_pointer: u64,
    /// One of `state::*`.
    pub state: u64,
    /// Physical address of the dispatcher to return to, or 0.
    pub parent: u64,
    /// Slot and generation of its root CNode capability.
    pub cspace: [u64; 2],
    /// Slot and generation of its L0 VNode capability.
    pub vspace: [u64; 2],
    /// Program name (NUL-padded), for fault reports.
    pub name: [u8; 16],
}

const _: () = assert!(core::mem::size_of::<DispatcherObject>() <= 4096);

/// The dispatcher object at physical `base`.
///
/// # Safety
/// `base` must be a Dispatcher object of this core (from a Dispatcher
/// capability or the core's own), and no other reference to it may be live.
pub unsafe fn object<'a>(base: u64) -> &'a mut DispatcherObject {
    // SAFETY: per the contract; the object is linearly mapped RAM that all
    // zero bytes make valid.
    unsafe { &mut *(phys_to_virt(base) as *mut DispatcherObject) }
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
        let slot = slots.slot(handle.slot).ok_or(CapError::Stale)?;
        match slot.capability() {
            Some(cap) if slot.generation() == handle.generation => Ok(cap),
            _ => Err(CapError::Stale),
        }
    }

    /// Its L0 table's physical address, if the capability is still there.
    pub fn vspace(&self, slots: &KernelSlots) -> Result<u64, CapError> {
        Ok(CapDatabase::capability(slots, unpack(self.vspace)?)?.base)
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
