//! A capability: typed reference to an object, with rights and generation.

use crate::cap_type::{CapType, ENDPOINT_SLOTS, ENDPOINT_SLOTS_OFFSET};
use crate::rights::Rights;
use crate::slot::{SLOT_BITS, SLOT_BYTES};

/// A capability as stored in a slot.
///
/// `base` and `size` locate the object: physical memory for memory objects,
/// the interrupt number (`size` 1) for IRQ and Notify, zero for Kernel.
/// `generation` names one incarnation of the object: copies share it, every
/// retype or boot-time insertion draws a fresh one, so an object made again
/// in the same memory never matches an old identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Capability {
    /// The object's type.
    pub kind: CapType,
    /// What the holder may do.
    pub rights: Rights,
    /// Physical base (or number) of the object.
    pub base: u64,
    /// Size in bytes (1 for numbered objects).
    pub size: u64,
    /// Endpoint/Notify badge, 0 when unbadged.
    pub badge: u64,
    /// Generation of the object incarnation (see [`crate::database`]).
    pub generation: u32,
    /// Kept by the kernel: where this capability's object is mapped (the
    /// physical address of the translation-table entry), 0 when it is not.
    /// One mapping per capability; copies start unmapped.
    pub mapping: u64,
}

/// The identity of one object incarnation, to check a stored reference
/// (a mapping, a message in flight) against the live capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// The object's type.
    pub kind: CapType,
    /// Physical base (or number) of the object.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
    /// Generation of the incarnation.
    pub generation: u32,
}

impl Capability {
    /// The identity of the object this capability refers to.
    pub const fn object(&self) -> ObjectId {
        ObjectId { kind: self.kind, base: self.base, size: self.size, generation: self.generation }
    }

    /// Whether both capabilities refer to the same object incarnation.
    pub fn same_object(&self, other: &Capability) -> bool {
        self.object() == other.object()
    }

    /// Exclusive end of the object's range.
    pub const fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether the object's range intersects `[base, end)`.
    pub const fn overlaps(&self, base: u64, end: u64) -> bool {
        self.base < end && base < self.end()
    }

    /// The radix (log2 of the slot count) of a CNode capability.
    pub fn cnode_radix(&self) -> Option<u8> {
        if self.kind != CapType::CNode || !self.size.is_power_of_two() {
            return None;
        }
        let bits = self.size.trailing_zeros() as u8;
        bits.checked_sub(SLOT_BITS).filter(|radix| *radix > 0)
    }

    /// The capability slots inside the object, as (address of the first,
    /// count): a CNode's slots, an endpoint's per-message slots. They are
    /// emptied (revoked and deleted) before the object is destroyed.
    pub fn held_slots(&self) -> Option<(u64, u64)> {
        match self.kind {
            CapType::CNode => self.cnode_radix().map(|radix| (self.base, 1 << radix)),
            CapType::Endpoint => Some((self.base + ENDPOINT_SLOTS_OFFSET, ENDPOINT_SLOTS)),
            _ => None,
        }
    }

    /// The address of held slot `index` (see [`held_slots`](Self::held_slots)).
    pub fn held_slot(&self, index: u64) -> Option<u64> {
        let (first, count) = self.held_slots()?;
        (index < count).then(|| first + index * SLOT_BYTES)
    }
}
