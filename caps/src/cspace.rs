//! CSpace addressing: resolving capability pointers through CNodes.

use crate::capability::Capability;
use crate::error::CapError;
use crate::mdb::slot;
use crate::rights::Rights;
use crate::slot::{SlotAddr, SlotStore, SLOT_BYTES};

/// Most CNodes a single lookup traverses (the root included).
pub const MAX_LOOKUP_LEVELS: u32 = 4;

/// A capability pointer: the low `depth` bits of `address`, most significant
/// first, index the root CNode (its radix bits), then each CNode found in
/// the slot reached, until exactly `depth` bits are consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CPtr {
    /// The index bits.
    pub address: u64,
    /// How many low bits of `address` are significant (1..=64).
    pub depth: u8,
}

/// A resolved slot: which CNode, which index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotLocation {
    /// Physical base of the CNode holding the slot.
    pub cnode_base: u64,
    /// Radix of that CNode.
    pub radix: u8,
    /// Index of the slot in the CNode.
    pub index: u64,
    /// Rights of the CNode capability the lookup went through.
    pub cnode_rights: Rights,
}

impl SlotLocation {
    /// The location of slot `index` in the CNode `cnode` refers to.
    pub fn in_cnode(cnode: &Capability, index: u64) -> Result<Self, CapError> {
        let radix = cnode.cnode_radix().ok_or(CapError::NotCNode)?;
        let location = SlotLocation { cnode_base: cnode.base, radix, index, cnode_rights: cnode.rights };
        location.checked(0)
    }

    /// Number of slots in the CNode.
    pub const fn slot_count(&self) -> u64 {
        1 << self.radix
    }

    /// The location `offset` slots further in the same CNode.
    pub fn checked(&self, offset: u64) -> Result<Self, CapError> {
        let index = self.index.checked_add(offset).ok_or(CapError::InvalidIndex)?;
        if index >= self.slot_count() {
            return Err(CapError::InvalidIndex);
        }
        Ok(SlotLocation { index, ..*self })
    }

    /// The slot's address.
    pub fn addr(&self) -> Result<SlotAddr, CapError> {
        self.index
            .checked_mul(SLOT_BYTES)
            .and_then(|offset| self.cnode_base.checked_add(offset))
            .and_then(SlotAddr::new)
            .ok_or(CapError::BadSlotAddress)
    }
}

/// Resolve `cptr` from the CNode capability `root` to a slot, which may be
/// empty.
///
/// Errors: [`CapError::InvalidCPtr`] for a malformed pointer,
/// [`CapError::NotCNode`] if `root` or an intermediate capability is not a
/// CNode, [`CapError::DepthMismatch`] if fewer bits remain than a CNode's
/// radix, [`CapError::DepthExceeded`] past [`MAX_LOOKUP_LEVELS`] CNodes,
/// [`CapError::SlotEmpty`] for an empty intermediate slot,
/// [`CapError::BadSlotAddress`] if the store lacks a slot.
pub fn resolve<S: SlotStore>(store: &S, root: &Capability, cptr: CPtr) -> Result<SlotLocation, CapError> {
    check_cptr(cptr)?;
    let mut cnode = *root;
    let mut remaining = cptr.depth;
    for _ in 0..MAX_LOOKUP_LEVELS {
        let location = step(&cnode, cptr.address, &mut remaining)?;
        if remaining == 0 {
            return Ok(location);
        }
        cnode = slot(store, location.addr()?)?.cap.ok_or(CapError::SlotEmpty)?;
    }
    Err(CapError::DepthExceeded)
}

/// Resolve `cptr` to a slot that must hold a capability; returns its address
/// and a copy of the capability. Errors as [`resolve`], plus
/// [`CapError::SlotEmpty`] for an empty final slot.
pub fn resolve_cap<S: SlotStore>(
    store: &S,
    root: &Capability,
    cptr: CPtr,
) -> Result<(SlotAddr, Capability), CapError> {
    let addr = resolve(store, root, cptr)?.addr()?;
    let cap = slot(store, addr)?.cap.ok_or(CapError::SlotEmpty)?;
    Ok((addr, cap))
}

fn check_cptr(cptr: CPtr) -> Result<(), CapError> {
    if cptr.depth == 0 || cptr.depth > 64 {
        return Err(CapError::InvalidCPtr);
    }
    if cptr.depth < 64 && cptr.address >> cptr.depth != 0 {
        return Err(CapError::InvalidCPtr);
    }
    Ok(())
}

/// Consume one CNode's radix worth of bits.
fn step(cnode: &Capability, address: u64, remaining: &mut u8) -> Result<SlotLocation, CapError> {
    let radix = cnode.cnode_radix().ok_or(CapError::NotCNode)?;
    *remaining = remaining.checked_sub(radix).ok_or(CapError::DepthMismatch)?;
    let index = (address >> *remaining) & ((1u64 << radix) - 1);
    SlotLocation::in_cnode(cnode, index)
}
