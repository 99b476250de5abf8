//! The kernel's `caps::SlotStore`: capability slots live in this core's RAM
//! (CNode objects), reached through the linear map.

use super::sched::Scheduler;
use super::{lmp, vspace};
use crate::boot::phys_to_virt;
use crate::memory::Partition;
use caps::{CapType, Capability, Slot, SlotAddr, SlotStore, SLOT_BYTES};

/// Most CNodes and endpoints alive on one core. Both hold capabilities,
/// and destroying one that holds the last capability to another recurses
/// (in the `caps` crate) once per nesting level; bounding their number
/// bounds the nesting, so no program can exhaust the 64 KiB kernel stack.
/// Measured with `usertest`'s chain (each CNode holding the only capability
/// to the next): 400 levels fit, ~2,000 overflowed the stack; 128 leaves a
/// wide margin. (An iterative destroy in `caps` would lift the limit.)
pub const MAX_HOLDERS: u64 = 128;

/// Slots anywhere in one core's partition, and what the kernel must know
/// when objects die: the live CNode and endpoint count and the scheduler
/// (whose lists link dispatchers).
pub struct KernelSlots {
    partition: Partition,
    /// CNode and endpoint objects alive on this core.
    pub live_holders: u64,
    /// Run queues and the running dispatcher.
    pub sched: Scheduler,
    /// Roots `Kernel.create` made for other cores' memory, alive.
    pub created: CreatedRoots,
}

/// The roots `Kernel.create` made on this core (memory of other cores'
/// pools): `caps` requires disjoint memory for different roots, so a new one
/// must not overlap any of these; an entry goes when its object dies.
pub struct CreatedRoots {
    /// Kind, base, end and generation of each live one.
    entries: [Option<(CapType, u64, u64, u32)>; MAX_CREATED],
}

/// Most roots `Kernel.create` keeps alive on one core.
pub const MAX_CREATED: usize = 128;

impl CreatedRoots {
    const fn new() -> Self {
        CreatedRoots { entries: [None; MAX_CREATED] }
    }

    /// Whether `[base, end)` overlaps a live created root.
    pub fn overlaps(&self, base: u64, end: u64) -> bool {
        self.entries.iter().flatten().any(|&(_, b, e, _)| base < e && b < end)
    }

    /// Records `cap` (just created); `false` if the table is full.
    pub fn insert(&mut self, cap: &Capability) -> bool {
        match self.entries.iter_mut().find(|e| e.is_none()) {
            Some(free) => {
                *free = Some((cap.kind, cap.base, cap.end(), cap.generation));
                true
            }
            None => false,
        }
    }

    /// Whether the table has room for one more.
    pub fn has_room(&self) -> bool {
        self.entries.iter().any(Option::is_none)
    }

    /// `cap`'s object died: forget it if it was a created root.
    fn destroyed(&mut self, cap: &Capability) {
        let key = Some((cap.kind, cap.base, cap.end(), cap.generation));
        if let Some(entry) = self.entries.iter_mut().find(|e| **e == key) {
            *entry = None;
        }
    }
}

impl KernelSlots {
    /// Slots in `partition` (this core's RAM).
    pub fn new(partition: Partition) -> Self {
        KernelSlots { partition, live_holders: 0, sched: Scheduler::new(), created: CreatedRoots::new() }
    }

    /// A slot of a live CNode, without the partition check `slot` makes:
    /// `addr` must come from a live CNode capability of this core (its base
    /// plus an index below its size) or from a handle on such a slot, which
    /// the kernel clears when the CNode dies (`Scheduler::forget_slots`).
    pub fn cnode_slot(&self, addr: SlotAddr) -> &Slot {
        // SAFETY: per the contract, `addr` is a slot inside a CNode object,
        // which retype (or the boot code) placed in this core's partition,
        // linearly mapped; only this core touches it.
        unsafe { &*(phys_to_virt(addr.get()) as *const Slot) }
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
            vspace::clear_entry_if_maps(cap.mapping, vspace::mapped_page(cap));
        }
    }

    fn object_destroyed(&mut self, cap: &Capability) {
        if matches!(cap.kind, CapType::Ram | CapType::Frame) {
            self.created.destroyed(cap);
        }
        if cap.held_slots().is_some() {
            self.live_holders = self.live_holders.saturating_sub(1);
        }
        if cap.kind == caps::CapType::CNode {
            // Dispatchers that name their CSpace or VSpace root by a slot in
            // it lose that root: the memory may become anything.
            self.sched.forget_slots(cap.base, cap.end());
        }
        if cap.kind == caps::CapType::Dispatcher {
            lmp::unbind_all(cap.base);
            self.sched.dispatcher_destroyed(cap.base);
        }
        if cap.kind == caps::CapType::Endpoint {
            lmp::endpoint_destroyed(&mut self.sched, cap.base);
        }
        if cap.kind == caps::CapType::Irq && self.sched.irqs.unbind(cap.base as u32) {
            // Its last capability went: nobody may be signalled any more.
            super::irq::mask(cap.base as u32);
        }
        if cap.kind.vnode_level().is_some() {
            // The table is already unlinked (its own mapping went with its
            // last capability); clearing it leaves the records of what was
            // mapped in it pointing at empty entries.
            // SAFETY: the VNode object is this core's RAM, linearly mapped,
            // and no capability refers to it any more.
            unsafe { core::ptr::write_bytes(phys_to_virt(cap.base) as *mut u8, 0, cap.size as usize) };
            if cap.kind == caps::CapType::VNodeL0 && self.sched.active_root == cap.base {
                // The running address space itself: no translation at all
                // until another one is installed.
                crate::arch::aarch64::cpu::disable_low_half();
                self.sched.active_root = 0;
            }
            vspace::flush_tlb();
        }
    }
}
