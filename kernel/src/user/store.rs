//! The kernel's `caps::SlotStore`: capability slots live in this core's RAM
//! (CNode objects), reached through the linear map.

use super::vspace;
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

/// Slots anywhere in one core's partition.
pub struct KernelSlots {
    partition: Partition,
    /// CNode objects alive on this core.
    pub live_cnodes: u64,
}

impl KernelSlots {
    /// Slots in `partition` (this core's RAM).
    pub fn new(partition: Partition) -> Self {
        KernelSlots { partition, live_cnodes: 0 }
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
        if cap.kind.vnode_level().is_some() {
            // The table is already unlinked (its own mapping went with its
            // last capability); clearing it leaves the records of what was
            // mapped in it pointing at empty entries.
            // SAFETY: the VNode object is this core's RAM, linearly mapped,
            // and no capability refers to it any more.
            unsafe { core::ptr::write_bytes(phys_to_virt(cap.base) as *mut u8, 0, cap.size as usize) };
            vspace::flush_tlb();
        }
    }
}
