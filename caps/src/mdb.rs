//! Intrusive derivation list: preorder links and depths kept in the slots.

use crate::capability::Capability;
use crate::error::CapError;
use crate::slot::{Slot, SlotAddr, SlotStore};

/// The slot at `addr`.
pub(crate) fn slot<S: SlotStore>(store: &S, addr: SlotAddr) -> Result<&Slot, CapError> {
    store.slot(addr).ok_or(CapError::BadSlotAddress)
}

/// The slot at `addr`, mutably.
pub(crate) fn slot_mut<S: SlotStore>(store: &mut S, addr: SlotAddr) -> Result<&mut Slot, CapError> {
    store.slot_mut(addr).ok_or(CapError::BadSlotAddress)
}

/// The capability at `addr`, or [`CapError::SlotEmpty`].
pub(crate) fn cap_at<S: SlotStore>(store: &S, addr: SlotAddr) -> Result<Capability, CapError> {
    slot(store, addr)?.cap.ok_or(CapError::SlotEmpty)
}

/// The list head, with the depth-sorted links of the derivation tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DerivationList {
    pub(crate) head: Option<SlotAddr>,
}

impl DerivationList {
    /// Put `cap` into the empty slot `new` as a new tree root, at the front.
    pub(crate) fn push_root<S: SlotStore>(
        &mut self,
        store: &mut S,
        new: SlotAddr,
        cap: Capability,
    ) -> Result<(), CapError> {
        let old_head = self.head;
        fill(store, new, cap, None, old_head, 0)?;
        if let Some(old_head) = old_head {
            slot_mut(store, old_head)?.prev = Some(new);
        }
        self.head = Some(new);
        Ok(())
    }

    /// Put `cap` into the empty slot `new` as a child of `parent`: right after
    /// it in preorder, one level deeper.
    pub(crate) fn insert_child<S: SlotStore>(
        &mut self,
        store: &mut S,
        parent: SlotAddr,
        new: SlotAddr,
        cap: Capability,
    ) -> Result<(), CapError> {
        let parent_slot = slot(store, parent)?;
        let depth = parent_slot.depth.checked_add(1).ok_or(CapError::DerivationTooDeep)?;
        let old_next = parent_slot.next;
        fill(store, new, cap, Some(parent), old_next, depth)?;
        slot_mut(store, parent)?.next = Some(new);
        if let Some(old_next) = old_next {
            slot_mut(store, old_next)?.prev = Some(new);
        }
        Ok(())
    }

    /// Move the capability at `from` (links, depth and all) into the empty
    /// slot `to`, then empty `from` and bump its generation.
    pub(crate) fn relocate<S: SlotStore>(
        &mut self,
        store: &mut S,
        from: SlotAddr,
        to: SlotAddr,
    ) -> Result<(), CapError> {
        let moving = *slot(store, from)?;
        let cap = moving.cap.ok_or(CapError::SlotEmpty)?;
        fill(store, to, cap, moving.prev, moving.next, moving.depth)?;
        match moving.prev {
            Some(prev) => slot_mut(store, prev)?.next = Some(to),
            None => self.head = Some(to),
        }
        if let Some(next) = moving.next {
            slot_mut(store, next)?.prev = Some(to);
        }
        *slot_mut(store, from)? = Slot::empty(moving.generation.wrapping_add(1));
        Ok(())
    }

    /// Unlink the slot at `addr`, empty it and bump its generation; returns
    /// the capability it held.
    pub(crate) fn remove<S: SlotStore>(
        &mut self,
        store: &mut S,
        addr: SlotAddr,
    ) -> Result<Capability, CapError> {
        let removed = *slot(store, addr)?;
        let cap = removed.cap.ok_or(CapError::SlotEmpty)?;
        match removed.prev {
            Some(prev) => slot_mut(store, prev)?.next = removed.next,
            None => self.head = removed.next,
        }
        if let Some(next) = removed.next {
            slot_mut(store, next)?.prev = removed.prev;
        }
        *slot_mut(store, addr)? = Slot::empty(removed.generation.wrapping_add(1));
        Ok(cap)
    }
}

fn fill<S: SlotStore>(
    store: &mut S,
    addr: SlotAddr,
    cap: Capability,
    prev: Option<SlotAddr>,
    next: Option<SlotAddr>,
    depth: u8,
) -> Result<(), CapError> {
    let target = slot_mut(store, addr)?;
    if target.cap.is_some() {
        return Err(CapError::SlotOccupied);
    }
    *target = Slot { cap: Some(cap), prev, next, generation: target.generation, depth };
    Ok(())
}

/// The parent of the capability at `addr`: the nearest preceding slot with a
/// smaller depth.
pub(crate) fn parent<S: SlotStore>(store: &S, addr: SlotAddr) -> Result<Option<SlotAddr>, CapError> {
    let depth = slot(store, addr)?.depth;
    let mut cursor = slot(store, addr)?.prev;
    while let Some(current) = cursor {
        let current_slot = slot(store, current)?;
        if current_slot.depth < depth {
            return Ok(Some(current));
        }
        cursor = current_slot.prev;
    }
    Ok(None)
}

/// Whether the capability at `addr` has descendants: the next slot in
/// preorder is deeper.
pub(crate) fn has_descendants<S: SlotStore>(store: &S, addr: SlotAddr) -> Result<bool, CapError> {
    let here = slot(store, addr)?;
    match here.next {
        Some(next) => Ok(slot(store, next)?.depth > here.depth),
        None => Ok(false),
    }
}

/// The last descendant of `addr` in preorder (a leaf), if any.
pub(crate) fn last_descendant<S: SlotStore>(store: &S, addr: SlotAddr) -> Result<Option<SlotAddr>, CapError> {
    let depth = slot(store, addr)?.depth;
    let mut last = None;
    let mut cursor = slot(store, addr)?.next;
    while let Some(current) = cursor {
        let current_slot = slot(store, current)?;
        if current_slot.depth <= depth {
            break;
        }
        last = Some(current);
        cursor = current_slot.next;
    }
    Ok(last)
}
