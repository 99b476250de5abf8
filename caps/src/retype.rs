//! Retype rules: size, alignment and "no memory is retyped twice".

use crate::cap_type::CapType;
use crate::capability::Capability;
use crate::cspace::SlotLocation;
use crate::error::CapError;
use crate::mdb::slot;
use crate::rights::Rights;
use crate::slot::{SlotAddr, SlotStore};

/// Most objects a single retype creates.
pub const MAX_RETYPE_COUNT: u64 = 256;

/// What to make from a RAM (or DevFrame) capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RetypeRequest {
    /// Type of the new objects.
    pub kind: CapType,
    /// Size parameter: log2 bytes for RAM/Frame/DevFrame, the radix for a
    /// CNode, 0 for fixed-size objects (see [`CapType::object_bits`]).
    pub size_bits: u8,
    /// Byte offset of the first object inside the source; the object base
    /// must be aligned to the object size.
    pub offset: u64,
    /// Number of objects, placed back to back and into consecutive slots.
    pub count: u64,
}

/// A checked retype: where the new objects go in physical memory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RetypePlan {
    pub(crate) base: u64,
    pub(crate) object_size: u64,
    pub(crate) count: u64,
}

impl RetypePlan {
    /// Exclusive end of the retyped range.
    pub(crate) const fn end(&self) -> u64 {
        self.base + self.object_size * self.count
    }
}

/// Check source type, rights, target type, size and alignment.
pub(crate) fn plan(source: &Capability, request: &RetypeRequest) -> Result<RetypePlan, CapError> {
    if !matches!(source.kind, CapType::Ram | CapType::DevFrame) {
        return Err(CapError::WrongType);
    }
    if !source.rights.contains(Rights::WRITE) {
        return Err(CapError::MissingRights);
    }
    if !source.kind.can_retype_into(request.kind) {
        return Err(CapError::InvalidRetypeTarget);
    }
    let bits = request.kind.object_bits(request.size_bits).ok_or(CapError::InvalidSize)?;
    let object_size = 1u64 << bits;
    if request.count == 0 || request.count > MAX_RETYPE_COUNT {
        return Err(CapError::InvalidSize);
    }
    let fits = object_size
        .checked_mul(request.count)
        .and_then(|total| request.offset.checked_add(total))
        .is_some_and(|end_offset| end_offset <= source.size);
    if !fits {
        return Err(CapError::InvalidSize);
    }
    let base = source.base + request.offset;
    if !base.is_multiple_of(object_size) {
        return Err(CapError::InvalidAlignment);
    }
    Ok(RetypePlan { base, object_size, count: request.count })
}

/// Check that `count` consecutive destination slots exist, are writable
/// through their CNode capability and are empty.
pub(crate) fn check_destination<S: SlotStore>(
    store: &S,
    dest: &SlotLocation,
    count: u64,
) -> Result<(), CapError> {
    if !dest.cnode_rights.contains(Rights::WRITE) {
        return Err(CapError::MissingRights);
    }
    for offset in 0..count {
        let addr = dest.checked(offset)?.addr()?;
        if slot(store, addr)?.cap.is_some() {
            return Err(CapError::SlotOccupied);
        }
    }
    Ok(())
}

/// Refuse if any memory capability in the derivation tree of `source`,
/// other than `source` and its ancestors, overlaps `[base, end)`.
///
/// Ancestors necessarily contain the range; everything else that overlaps
/// (earlier retypes, copies of the RAM) means the memory is already in use.
pub(crate) fn check_no_overlap<S: SlotStore>(
    store: &S,
    source: SlotAddr,
    base: u64,
    end: u64,
) -> Result<(), CapError> {
    let here = slot(store, source)?;
    let mut ancestor_depth = here.depth;
    let mut cursor = here.prev;
    while ancestor_depth > 0 {
        let Some(current) = cursor else { break };
        let current_slot = slot(store, current)?;
        if current_slot.depth < ancestor_depth {
            ancestor_depth = current_slot.depth;
        } else {
            check_disjoint(current_slot.cap, base, end)?;
        }
        cursor = current_slot.prev;
    }
    let mut cursor = here.next;
    while let Some(current) = cursor {
        let current_slot = slot(store, current)?;
        if current_slot.depth == 0 {
            break;
        }
        check_disjoint(current_slot.cap, base, end)?;
        cursor = current_slot.next;
    }
    Ok(())
}

fn check_disjoint(cap: Option<Capability>, base: u64, end: u64) -> Result<(), CapError> {
    match cap {
        Some(cap) if cap.kind.is_memory() && cap.overlaps(base, end) => Err(CapError::RetypeConflict),
        _ => Ok(()),
    }
}
