//! Object types for retype and helpers that make one object in a free slot.

use crate::allocator::{allocate_ram, allocate_slot};
use crate::cap::{Dispatcher, Endpoint, Frame, Ram, VNode};
use crate::cptr::CPtr;
use crate::cptr::ROOT_CNODE_SLOT;
use crate::error::{Error, Result};

/// log2 bytes of a page (a Frame mapped in an L3 table).
pub const PAGE_BITS: u32 = 12;
/// Bytes in a page.
pub const PAGE_SIZE: usize = 1 << PAGE_BITS;
/// log2 bytes of a translation table.
pub const TABLE_BITS: u32 = 12;
/// log2 bytes of a dispatcher object (its control block, then its frame).
pub const DISPATCHER_BITS: u32 = caps::cap_type::DISPATCHER_BITS as u32;
/// log2 bytes of an endpoint object.
pub const ENDPOINT_BITS: u32 = caps::cap_type::ENDPOINT_BITS as u32;
/// Entries in a translation table.
pub const TABLE_ENTRIES: usize = 512;

/// Capability types, numbered as in `docs/syscalls.md`.
#[repr(usize)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectType {
    /// Untyped memory.
    Ram = caps::CapType::Ram as usize,
    /// Mappable memory.
    Frame = caps::CapType::Frame as usize,
    /// Mappable device memory.
    DevFrame = caps::CapType::DevFrame as usize,
    /// A table of capability slots.
    CNode = caps::CapType::CNode as usize,
    /// Level-0 translation table.
    VNodeL0 = caps::CapType::VNodeL0 as usize,
    /// Level-1 translation table.
    VNodeL1 = caps::CapType::VNodeL1 as usize,
    /// Level-2 translation table.
    VNodeL2 = caps::CapType::VNodeL2 as usize,
    /// Level-3 translation table.
    VNodeL3 = caps::CapType::VNodeL3 as usize,
    /// A dispatcher.
    Dispatcher = caps::CapType::Dispatcher as usize,
    /// An IPC endpoint.
    Endpoint = caps::CapType::Endpoint as usize,
    /// An interrupt line.
    Irq = caps::CapType::Irq as usize,
    /// An inter-core notification (SGI).
    Notify = caps::CapType::Notify as usize,
    /// The kernel's own services.
    Kernel = caps::CapType::Kernel as usize,
}

impl ObjectType {
    /// The VNode type of translation-table `level` (0 to 3).
    pub const fn vnode(level: usize) -> Option<ObjectType> {
        match level {
            0 => Some(ObjectType::VNodeL0),
            1 => Some(ObjectType::VNodeL1),
            2 => Some(ObjectType::VNodeL2),
            3 => Some(ObjectType::VNodeL3),
            _ => None,
        }
    }
}

/// Retypes one object of `kind` from fresh memory of the initial RAM
/// (`1 << object_bits` bytes, aligned to that size) into a fresh root slot.
///
/// `size_bits` is the retype argument (0 for fixed-size objects); returns the
/// slot.
pub fn create(kind: ObjectType, size_bits: usize, object_bits: u32) -> Result<usize> {
    let offset = allocate_ram(object_bits)?;
    let slot = allocate_slot()?;
    Ram::initial().retype(kind, size_bits, offset, CPtr::slot(ROOT_CNODE_SLOT), slot, 1)?;
    Ok(slot)
}

/// A fresh 4 KiB Frame.
pub fn frame() -> Result<Frame> {
    create(ObjectType::Frame, PAGE_BITS as usize, PAGE_BITS).map(Frame::at)
}

/// A fresh RAM capability of `1 << size_bits` bytes carved from the initial RAM.
pub fn ram(size_bits: u32) -> Result<Ram> {
    create(ObjectType::Ram, size_bits as usize, size_bits).map(Ram::at)
}

/// A fresh translation table of `level` (1 to 3 for programs; 0 allowed).
pub fn vnode(level: usize) -> Result<VNode> {
    let kind = ObjectType::vnode(level).ok_or(Error::InvalidArgument)?;
    create(kind, 0, TABLE_BITS).map(VNode::at)
}

/// A fresh, not yet set up, Dispatcher.
pub fn dispatcher() -> Result<Dispatcher> {
    create(ObjectType::Dispatcher, 0, DISPATCHER_BITS).map(Dispatcher::at)
}

/// A fresh, unbound Endpoint.
pub fn endpoint() -> Result<Endpoint> {
    create(ObjectType::Endpoint, 0, ENDPOINT_BITS).map(Endpoint::at)
}

#[cfg(test)]
mod tests {
    use super::ObjectType;

    #[test]
    fn type_numbers() {
        assert_eq!(ObjectType::Frame as usize, 2);
        assert_eq!(ObjectType::vnode(0), Some(ObjectType::VNodeL0));
        assert_eq!(ObjectType::vnode(3).map(|kind| kind as usize), Some(8));
        assert_eq!(ObjectType::vnode(4), None);
        assert_eq!(ObjectType::Dispatcher as usize, 9);
        assert_eq!(ObjectType::Kernel as usize, 13);
    }
}
