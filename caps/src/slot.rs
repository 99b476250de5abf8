//! Capability slots and the store through which the kernel provides them.

use core::num::NonZeroU64;

use crate::capability::Capability;

/// log2 of the bytes one slot occupies inside a CNode object.
pub const SLOT_BITS: u8 = 7;
/// Bytes one slot occupies inside a CNode object: slot `i` of a CNode at
/// physical `base` has address `base + i * SLOT_BYTES`.
pub const SLOT_BYTES: u64 = 1 << SLOT_BITS;

const _: () = assert!(core::mem::size_of::<Slot>() as u64 <= SLOT_BYTES);

/// The address of a slot: the physical address of its place in a CNode (or in
/// kernel-owned memory for boot-time slots). Never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotAddr(NonZeroU64);

impl SlotAddr {
    /// The slot at `address`, or `None` for address 0.
    pub const fn new(address: u64) -> Option<Self> {
        match NonZeroU64::new(address) {
            Some(address) => Some(Self(address)),
            None => None,
        }
    }

    /// The numeric address.
    pub const fn get(self) -> u64 {
        self.0.get()
    }
}

/// One capability slot: the capability plus the derivation-list links.
///
/// The links make the derivation database intrusive: it needs no memory
/// beyond the slots themselves. Fields are private so that only the
/// database changes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub(crate) cap: Option<Capability>,
    pub(crate) prev: Option<SlotAddr>,
    pub(crate) next: Option<SlotAddr>,
    pub(crate) generation: u64,
    pub(crate) depth: u8,
}

impl Slot {
    /// An empty slot with generation 0: how the kernel initialises the slots
    /// of boot-time CNodes it owns.
    pub const EMPTY: Slot = Slot::empty(0);

    /// An empty slot whose generation starts at `generation`.
    pub const fn empty(generation: u64) -> Slot {
        Slot { cap: None, prev: None, next: None, generation, depth: 0 }
    }

    /// The capability held, if any.
    pub const fn capability(&self) -> Option<&Capability> {
        self.cap.as_ref()
    }

    /// The slot generation: bumped every time the slot is emptied.
    pub const fn generation(&self) -> u64 {
        self.generation
    }

    /// Depth of the capability in the derivation tree (0 for boot caps).
    pub const fn depth(&self) -> u8 {
        self.depth
    }
}

/// Where slots live: implemented by the kernel over the memory of CNode
/// objects (and its own boot-time slots), by [`ArraySlotStore`] for tests.
pub trait SlotStore {
    /// The slot at `addr`, or `None` if no slot lives there.
    fn slot(&self, addr: SlotAddr) -> Option<&Slot>;

    /// The slot at `addr`, mutably, or `None` if no slot lives there.
    fn slot_mut(&mut self, addr: SlotAddr) -> Option<&mut Slot>;

    /// Writes `slot` at `addr` without reading what was there (memory a new
    /// CNode takes over may hold anything); `false` if no slot lives there.
    fn init_slot(&mut self, addr: SlotAddr, slot: Slot) -> bool {
        match self.slot_mut(addr) {
            Some(place) => {
                *place = slot;
                true
            }
            None => false,
        }
    }

    /// Called for every capability removed (deleted or revoked), before its
    /// slot is emptied: the kernel undoes its mapping here.
    fn cap_removed(&mut self, _cap: &Capability) {}

    /// Called once when the last capability to an object disappears, after
    /// the library has finished with it (for a CNode: after emptying it).
    /// The kernel tears down the object here (unmaps, stops a dispatcher).
    fn object_destroyed(&mut self, _cap: &Capability) {}
}

/// A slot store over a fixed array covering `[base, base + N * SLOT_BYTES)`.
#[derive(Clone, Debug)]
pub struct ArraySlotStore<const N: usize> {
    base: u64,
    slots: [Slot; N],
}

impl<const N: usize> ArraySlotStore<N> {
    /// A store of `N` empty slots starting at physical address `base`.
    pub const fn new(base: u64) -> Self {
        Self { base, slots: [Slot::EMPTY; N] }
    }

    /// Address of the first slot.
    pub const fn base(&self) -> u64 {
        self.base
    }

    /// All slots with their addresses.
    pub fn iter(&self) -> impl Iterator<Item = (SlotAddr, &Slot)> {
        let base = self.base;
        self.slots.iter().enumerate().filter_map(move |(index, slot)| {
            SlotAddr::new(base + index as u64 * SLOT_BYTES).map(|addr| (addr, slot))
        })
    }

    fn index(&self, addr: SlotAddr) -> Option<usize> {
        let offset = addr.get().checked_sub(self.base)?;
        if offset % SLOT_BYTES != 0 {
            return None;
        }
        usize::try_from(offset / SLOT_BYTES).ok().filter(|index| *index < N)
    }
}

impl<const N: usize> SlotStore for ArraySlotStore<N> {
    fn slot(&self, addr: SlotAddr) -> Option<&Slot> {
        self.index(addr).map(|index| &self.slots[index])
    }

    fn slot_mut(&mut self, addr: SlotAddr) -> Option<&mut Slot> {
        self.index(addr).map(move |index| &mut self.slots[index])
    }
}
