//! The kernel's `caps::SlotStore`: capability slots live in this core's RAM
//! (CNode objects), reached through the linear map.

use super::{dispatcher, vspace};
use crate::boot::phys_to_virt;
use crate::memory::Partition;
use caps::{Capability, Slot, SlotAddr, SlotStore, SLOT_BYTES};

/// Most CNodes alive on one core. Destroying a CNode that holds the last
/// capability to another recurses (in the `caps` crate) once per nesting
/// level; bounding the number of CNodes bounds the nesting, so no program
/// can exhaust the 64 KiB kernel stack. Measured with `usertest`'s chain
/// (each CNode holding the only capability to the next): 400 levels fit,
/// ~2,000 overflowed the stack; 128 leaves a wide margin. (An iterative
/// destroy in `caps` would lift the limit.)
pub const MAX_CNODES: u64 = 128;

/// Slots anywhere in one core's partition, and what the kernel must know
/// when objects die: the live CNode count and the running dispatcher.
pub struct KernelSlots {
    partition: Partition,
    /// CNode objects alive on this core.
    pub live_cnodes: u64,
    /// Physical address of the running dispatcher (0: none).
    pub running: u64,
    /// The running dispatcher's object was destroyed (its last capability
    /// deleted while it runs): its memory may be reused, so the kernel no
    /// longer reads or writes it.
    pub running_gone: bool,
    /// The parent the destroyed running dispatcher would return to.
    pub gone_parent: u64,
}

impl KernelSlots {
    /// Slots in `partition` (this core's RAM).
    pub fn new(partition: Partition) -> Self {
        KernelSlots { partition, live_cnodes: 0, running: 0, running_gone: false, gone_parent: 0 }
    }

    /// Makes the dispatcher at `base` (0: none) the running one.
    pub fn set_running(&mut self, base: u64) {
        self.running = base;
        self.running_gone = false;
        self.gone_parent = 0;
    }

    /// A dispatcher object dies: if it is running, remember that (and where it
    /// would return); any dispatcher waiting to return to it is orphaned.
    fn dispatcher_destroyed(&mut self, base: u64) {
        if base == self.running && !self.running_gone {
            self.running_gone = true;
            // SAFETY: the object is still intact (it dies after this hook
            // returns, and only this core could reuse its memory).
            self.gone_parent = unsafe { dispatcher::object(base) }.parent;
        }
        if self.gone_parent == base {
            self.gone_parent = 0;
        }
        // Walk the chain of dispatchers waiting in `Dispatcher.run` above the
        // running one (every link is alive and the chain has no cycles: only
        // a ready dispatcher can be run).
        let mut link = if self.running_gone { self.gone_parent } else { self.running };
        while link != 0 {
            // SAFETY: `link` is a live dispatcher of this core (see above).
            let object = unsafe { dispatcher::object(link) };
            if object.parent == base {
                object.parent = 0;
            }
            link = object.parent;
        }
    }

    fn place(&self, addr: SlotAddr) -> Option<*mut Slot> {
        let address = addr.get();
        let inside =
            self.partition.pieces().iter().any(|p| p.base <= address && address + SLOT_BYTES <= p.end());
        (inside && address.is_multiple_of(SLOT_BYTES)).then(|| phys_to_virt(address) as *mut Slot)
    }
}

impl SlotStore for KernelSlots {
    fn slot(&self, addr: SlotAddr) -> Option<&Slot> {
        // SAFETY: the address is in this core's RAM, aligned, and only ever
        // reached through CNode capabilities whose slots were initialised
        // with `init_slot` (only this core touches its partition).
        self.place(addr).map(|slot| unsafe { &*slot })
    }

    fn slot_mut(&mut self, addr: SlotAddr) -> Option<&mut Slot> {
        // SAFETY: as in `slot`; `&mut self` makes the access exclusive.
        self.place(addr).map(|slot| unsafe { &mut *slot })
    }

    fn init_slot(&mut self, addr: SlotAddr, slot: Slot) -> bool {
        match self.place(addr) {
            Some(place) => {
                // SAFETY: as in `slot`; written without reading the old bytes.
                unsafe { place.write(slot) };
                true
            }
            None => false,
        }
    }

    fn cap_removed(&mut self, cap: &Capability) {
        if cap.mapping != 0 {
            vspace::clear_entry_if_maps(cap.mapping, cap.base);
        }
    }

    fn object_destroyed(&mut self, cap: &Capability) {
        if cap.kind == caps::CapType::CNode {
            self.live_cnodes = self.live_cnodes.saturating_sub(1);
        }
        if cap.kind == caps::CapType::Dispatcher {
            self.dispatcher_destroyed(cap.base);
        }
        if cap.kind.vnode_level().is_some() {
            // The table is already unlinked (its own mapping went with its
            // last capability); clearing it leaves the records of what was
            // mapped in it pointing at empty entries.
            // SAFETY: the VNode object is this core's RAM, linearly mapped,
            // and no capability refers to it any more.
            unsafe { core::ptr::write_bytes(phys_to_virt(cap.base) as *mut u8, 0, cap.size as usize) };
            if cap.kind == caps::CapType::VNodeL0 && vspace::active_root() == cap.base {
                // The running address space itself: no translation at all
                // until another one is installed.
                crate::arch::aarch64::cpu::disable_low_half();
            }
            vspace::flush_tlb();
        }
    }
}
