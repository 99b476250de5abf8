//! The derivation database: retype, copy, mint, delete, revoke.
//!
//! # Derivation database
//!
//! seL4-style: the slots of all capabilities form one doubly-linked list in
//! preorder of the derivation tree, and each slot records its depth in the
//! tree. The descendants of a capability are the contiguous run of slots
//! after it that are deeper than it; its parent is the nearest earlier slot
//! that is shallower. The links live in the slots, so the database needs no
//! memory of its own beyond a list head and a generation counter.
//!
//! * Boot capabilities are tree roots (depth 0), pushed at the list front.
//! * Copy, mint and retype make a *child* of the source, inserted right after
//!   it. A copy refers to the same object; so revoking a capability removes
//!   every copy made from it, as well as everything retyped from it.
//! * Delete takes a capability that has no descendants
//!   ([`CapError::HasDescendants`] otherwise: revoke first). Thus every
//!   object always lies inside a live RAM ancestor.
//! * Retype of `[base, end)` from a RAM capability is refused with
//!   [`CapError::RetypeConflict`] if any other memory capability in the same
//!   tree, except the source's ancestors, overlaps the range. Copies of RAM
//!   count as overlapping: no memory is handed out twice.
//! * When the last capability to an object goes away the store is told
//!   ([`SlotStore::object_destroyed`]); for a CNode, each capability in it is
//!   first revoked and deleted (recursively, one level of recursion per
//!   nested CNode being destroyed).
//!
//! # Generations
//!
//! Two counters make stale references detectable:
//!
//! * Every slot has a 64-bit generation, bumped whenever the slot is emptied.
//!   A [`CapHandle`] (slot address + generation) therefore stops resolving,
//!   with [`CapError::Stale`], as soon as its capability is deleted or
//!   revoked, even if the slot is refilled. The slots of a fresh CNode start
//!   at `object generation << 32`, so slots of a CNode made again in reused
//!   memory do not repeat the generations of the old CNode's slots.
//! * Every object incarnation has a 32-bit generation drawn from
//!   [`CapDatabase`]'s counter at retype (or boot insertion) and shared by
//!   its copies. An [`ObjectId`] stored elsewhere (a mapping, a capability in
//!   flight in a message) is checked with [`CapDatabase::check_object`].
//!
//! The counters wrap after 2^32 objects and 2^32 reuses of one slot: a stale
//! reference would have to survive that long to be mistaken for a live one.

use crate::cap_type::CapType;
use crate::capability::{Capability, ObjectId};
use crate::cspace::SlotLocation;
use crate::error::CapError;
use crate::mdb::{self, cap_at, slot, slot_mut, DerivationList};
use crate::retype::{self, RetypePlan, RetypeRequest};
use crate::rights::Rights;
use crate::slot::{Slot, SlotAddr, SlotStore};

/// A reference to the capability in one slot that becomes [`CapError::Stale`]
/// once that capability is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CapHandle {
    /// The slot.
    pub slot: SlotAddr,
    /// The slot generation when the handle was taken.
    pub generation: u64,
}

/// The derivation database of one core: list head and object generations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapDatabase {
    list: DerivationList,
    next_generation: u32,
}

impl Default for CapDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl CapDatabase {
    /// An empty database.
    pub const fn new() -> Self {
        Self { list: DerivationList { head: None }, next_generation: 1 }
    }

    /// Create a boot capability (a tree root) in the empty slot `dest`.
    ///
    /// The kernel must give disjoint memory to different roots, and
    /// initialise the slots of a root CNode itself (e.g. to [`Slot::EMPTY`]).
    /// Errors: [`CapError::SlotOccupied`], [`CapError::BadSlotAddress`].
    pub fn insert_root<S: SlotStore>(
        &mut self,
        store: &mut S,
        dest: SlotAddr,
        kind: CapType,
        base: u64,
        size: u64,
    ) -> Result<Capability, CapError> {
        self.insert_root_with(store, dest, kind, base, size, Rights::ALL)
    }

    /// [`Self::insert_root`] with only `rights`.
    pub fn insert_root_with<S: SlotStore>(
        &mut self,
        store: &mut S,
        dest: SlotAddr,
        kind: CapType,
        base: u64,
        size: u64,
        rights: Rights,
    ) -> Result<Capability, CapError> {
        let cap =
            Capability { kind, rights, base, size, badge: 0, generation: self.peek_generation(), mapping: 0 };
        self.list.push_root(store, dest, cap)?;
        self.take_generation();
        Ok(cap)
    }

    /// Copy the capability at `source` into the empty slot `dest`, as a child
    /// of the source with the same rights.
    ///
    /// Errors: [`CapError::SlotEmpty`], [`CapError::MissingRights`] (no
    /// WRITE on the destination CNode), [`CapError::InvalidIndex`],
    /// [`CapError::SlotOccupied`], [`CapError::DerivationTooDeep`].
    pub fn copy<S: SlotStore>(
        &mut self,
        store: &mut S,
        source: SlotAddr,
        dest: &SlotLocation,
    ) -> Result<Capability, CapError> {
        self.mint(store, source, dest, Rights::ALL, 0)
    }

    /// Like [`copy`](Self::copy), with rights reduced to `rights` (they never
    /// grow) and, if `badge` is non-zero, that badge set on an unbadged
    /// Endpoint or Notify capability.
    ///
    /// Errors: those of `copy`, plus [`CapError::WrongType`] for a badge on
    /// another type and [`CapError::AlreadyBadged`].
    pub fn mint<S: SlotStore>(
        &mut self,
        store: &mut S,
        source: SlotAddr,
        dest: &SlotLocation,
        rights: Rights,
        badge: u64,
    ) -> Result<Capability, CapError> {
        let original = cap_at(store, source)?;
        let derived = derive(&original, rights, badge)?;
        retype::check_destination(store, dest, 1)?;
        self.list.insert_child(store, source, dest.addr()?, derived)?;
        Ok(derived)
    }

    /// Copy the capability at `source` into the empty kernel-owned slot
    /// `dest` (an endpoint's message slot, not addressed through a CNode), as
    /// a child of the source: revoking the source removes it too.
    ///
    /// Errors: [`CapError::SlotEmpty`], [`CapError::SlotOccupied`],
    /// [`CapError::DerivationTooDeep`], [`CapError::BadSlotAddress`].
    pub fn copy_to_slot<S: SlotStore>(
        &mut self,
        store: &mut S,
        source: SlotAddr,
        dest: SlotAddr,
    ) -> Result<Capability, CapError> {
        let derived = derive(&cap_at(store, source)?, Rights::ALL, 0)?;
        self.list.insert_child(store, source, dest, derived)?;
        Ok(derived)
    }

    /// Move the capability at `from` into the empty slot `dest`: same place
    /// in the derivation tree, same mapping record; `from` is emptied (its
    /// generation bumped, so handles on it go stale).
    ///
    /// Errors: [`CapError::SlotEmpty`], then those of the destination
    /// ([`CapError::MissingRights`], [`CapError::InvalidIndex`],
    /// [`CapError::SlotOccupied`]), [`CapError::BadSlotAddress`].
    pub fn move_cap<S: SlotStore>(
        &mut self,
        store: &mut S,
        from: SlotAddr,
        dest: &SlotLocation,
    ) -> Result<Capability, CapError> {
        let cap = cap_at(store, from)?;
        retype::check_destination(store, dest, 1)?;
        let to = dest.addr()?;
        if to == from {
            return Ok(cap);
        }
        self.list.relocate(store, from, to)?;
        Ok(cap)
    }

    /// Retype part of the RAM (or DevFrame) capability at `source` into
    /// `request.count` new objects, placed in consecutive empty slots from
    /// `dest` on. The new capabilities are children of the source and inherit
    /// its rights; a new CNode's slots are emptied.
    ///
    /// Errors, in the order checked: [`CapError::SlotEmpty`],
    /// [`CapError::WrongType`], [`CapError::MissingRights`] (source lacks
    /// WRITE), [`CapError::InvalidRetypeTarget`], [`CapError::InvalidSize`],
    /// [`CapError::InvalidAlignment`], then for the destination
    /// [`CapError::MissingRights`], [`CapError::InvalidIndex`],
    /// [`CapError::SlotOccupied`], then [`CapError::RetypeConflict`],
    /// [`CapError::DerivationTooDeep`], [`CapError::BadSlotAddress`].
    pub fn retype<S: SlotStore>(
        &mut self,
        store: &mut S,
        source: SlotAddr,
        request: &RetypeRequest,
        dest: &SlotLocation,
    ) -> Result<(), CapError> {
        let original = cap_at(store, source)?;
        let plan = retype::plan(&original, request)?;
        retype::check_destination(store, dest, plan.count)?;
        retype::check_no_overlap(store, source, plan.base, plan.end())?;
        if slot(store, source)?.depth == u8::MAX {
            return Err(CapError::DerivationTooDeep);
        }
        self.check_cnode_memory(store, request.kind, &plan, &original)?;
        for index in 0..plan.count {
            let cap = self.new_object(store, request.kind, &plan, index, &original)?;
            let addr = dest.checked(index)?.addr()?;
            self.list.insert_child(store, source, addr, cap)?;
        }
        Ok(())
    }

    /// Records where the capability at `addr` is mapped (0: unmapped).
    ///
    /// Errors: [`CapError::SlotEmpty`], [`CapError::BadSlotAddress`].
    pub fn set_mapping<S: SlotStore>(store: &mut S, addr: SlotAddr, mapping: u64) -> Result<(), CapError> {
        let slot = slot_mut(store, addr)?;
        let cap = slot.cap.as_mut().ok_or(CapError::SlotEmpty)?;
        cap.mapping = mapping;
        Ok(())
    }

    /// Delete the capability at `addr`. If it was the last capability to its
    /// object, the object is destroyed (see the module documentation).
    ///
    /// Errors: [`CapError::SlotEmpty`], [`CapError::HasDescendants`].
    pub fn delete<S: SlotStore>(&mut self, store: &mut S, addr: SlotAddr) -> Result<(), CapError> {
        cap_at(store, addr)?;
        if mdb::has_descendants(store, addr)? {
            return Err(CapError::HasDescendants);
        }
        self.remove_leaf(store, addr)
    }

    /// Delete every descendant of the capability at `addr` (copies made from
    /// it and objects retyped from it), leaves first. The capability itself
    /// stays.
    ///
    /// Errors: [`CapError::SlotEmpty`].
    pub fn revoke<S: SlotStore>(&mut self, store: &mut S, addr: SlotAddr) -> Result<(), CapError> {
        cap_at(store, addr)?;
        let target_generation = slot(store, addr)?.generation;
        let mut next_leaf = mdb::last_descendant(store, addr)?;
        while let Some(leaf) = next_leaf {
            let previous = slot(store, leaf)?.prev.map(|prev| handle_of(store, prev));
            self.remove_leaf(store, leaf)?;
            if slot(store, addr)?.generation != target_generation {
                return Ok(());
            }
            next_leaf = match previous {
                Some(Ok(prev)) if prev.slot != addr && Self::is_live(store, prev) => Some(prev.slot),
                _ => mdb::last_descendant(store, addr)?,
            };
        }
        Ok(())
    }

    /// A handle on the capability at `addr`. Errors: [`CapError::SlotEmpty`].
    pub fn handle<S: SlotStore>(store: &S, addr: SlotAddr) -> Result<CapHandle, CapError> {
        cap_at(store, addr)?;
        handle_of(store, addr)
    }

    /// The capability a handle refers to, or [`CapError::Stale`] if it has
    /// been removed since the handle was taken.
    pub fn capability<S: SlotStore>(store: &S, handle: CapHandle) -> Result<Capability, CapError> {
        let target = slot(store, handle.slot)?;
        match target.cap {
            Some(cap) if target.generation == handle.generation => Ok(cap),
            _ => Err(CapError::Stale),
        }
    }

    /// The capability at `addr`, checked to still refer to `object`.
    ///
    /// Errors: [`CapError::SlotEmpty`], [`CapError::Stale`] if the slot now
    /// holds a capability to another object or incarnation.
    pub fn check_object<S: SlotStore>(
        store: &S,
        addr: SlotAddr,
        object: ObjectId,
    ) -> Result<Capability, CapError> {
        let cap = cap_at(store, addr)?;
        if cap.object() != object {
            return Err(CapError::Stale);
        }
        Ok(cap)
    }

    /// The slot of the parent of the capability at `addr` (`None` for roots).
    pub fn parent<S: SlotStore>(store: &S, addr: SlotAddr) -> Result<Option<SlotAddr>, CapError> {
        cap_at(store, addr)?;
        mdb::parent(store, addr)
    }

    /// Whether the capability at `addr` has descendants.
    pub fn has_descendants<S: SlotStore>(store: &S, addr: SlotAddr) -> Result<bool, CapError> {
        cap_at(store, addr)?;
        mdb::has_descendants(store, addr)
    }

    fn is_live<S: SlotStore>(store: &S, handle: CapHandle) -> bool {
        Self::capability(store, handle).is_ok()
    }

    /// Remove a capability without descendants; destroy its object if it was
    /// the last reference (its parent is not a copy of it).
    fn remove_leaf<S: SlotStore>(&mut self, store: &mut S, addr: SlotAddr) -> Result<(), CapError> {
        let cap = cap_at(store, addr)?;
        let last = match mdb::parent(store, addr)? {
            Some(parent) => !cap_at(store, parent)?.same_object(&cap),
            None => true,
        };
        store.cap_removed(&cap);
        self.list.remove(store, addr)?;
        if last {
            if cap.held_slots().is_some() {
                self.clear_held(store, &cap)?;
            }
            store.object_destroyed(&cap);
        }
        Ok(())
    }

    /// Revoke and delete every capability held in a dying CNode or endpoint.
    fn clear_held<S: SlotStore>(&mut self, store: &mut S, holder: &Capability) -> Result<(), CapError> {
        let (_, count) = holder.held_slots().ok_or(CapError::NotCNode)?;
        for index in 0..count {
            let addr = holder.held_slot(index).and_then(SlotAddr::new).ok_or(CapError::BadSlotAddress)?;
            if slot(store, addr)?.cap.is_some() {
                self.revoke(store, addr)?;
            }
            if slot(store, addr)?.cap.is_some() {
                self.remove_leaf(store, addr)?;
            }
        }
        Ok(())
    }

    /// Check that the store holds every slot of the CNodes to be created.
    fn check_cnode_memory<S: SlotStore>(
        &self,
        store: &S,
        kind: CapType,
        plan: &RetypePlan,
        original: &Capability,
    ) -> Result<(), CapError> {
        for index in 0..plan.count {
            let holder = object_cap(kind, plan, index, original, 0);
            let Some((_, count)) = holder.held_slots() else {
                if kind == CapType::CNode {
                    return Err(CapError::InvalidSize);
                }
                return Ok(());
            };
            for slot_index in 0..count {
                let addr = holder.held_slot(slot_index).and_then(SlotAddr::new);
                slot(store, addr.ok_or(CapError::BadSlotAddress)?)?;
            }
        }
        Ok(())
    }

    /// Make the capability for object `index` of a retype, with a fresh
    /// generation; a CNode gets its slots emptied.
    fn new_object<S: SlotStore>(
        &mut self,
        store: &mut S,
        kind: CapType,
        plan: &RetypePlan,
        index: u64,
        original: &Capability,
    ) -> Result<Capability, CapError> {
        let cap = object_cap(kind, plan, index, original, self.take_generation());
        if let Some((_, count)) = cap.held_slots() {
            let first = u64::from(cap.generation) << 32;
            for slot_index in 0..count {
                let addr =
                    cap.held_slot(slot_index).and_then(SlotAddr::new).ok_or(CapError::BadSlotAddress)?;
                if !store.init_slot(addr, Slot::empty(first)) {
                    return Err(CapError::BadSlotAddress);
                }
            }
        }
        Ok(cap)
    }

    const fn peek_generation(&self) -> u32 {
        self.next_generation
    }

    fn take_generation(&mut self) -> u32 {
        let generation = self.next_generation;
        self.next_generation = generation.wrapping_add(1).max(1);
        generation
    }
}

fn handle_of<S: SlotStore>(store: &S, addr: SlotAddr) -> Result<CapHandle, CapError> {
    Ok(CapHandle { slot: addr, generation: slot(store, addr)?.generation })
}

/// The capability a mint derives: reduced rights, badge set at most once.
fn derive(original: &Capability, rights: Rights, badge: u64) -> Result<Capability, CapError> {
    let mut derived = *original;
    derived.rights = original.rights.reduce(rights);
    derived.mapping = 0;
    if badge != 0 {
        if !matches!(original.kind, CapType::Endpoint | CapType::Notify) {
            return Err(CapError::WrongType);
        }
        if original.badge != 0 {
            return Err(CapError::AlreadyBadged);
        }
        derived.badge = badge;
    }
    Ok(derived)
}

fn object_cap(
    kind: CapType,
    plan: &RetypePlan,
    index: u64,
    original: &Capability,
    generation: u32,
) -> Capability {
    Capability {
        kind,
        rights: original.rights,
        base: plan.base + index * plan.object_size,
        size: plan.object_size,
        badge: 0,
        generation,
        mapping: 0,
    }
}
