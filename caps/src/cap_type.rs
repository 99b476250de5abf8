//! Capability types with their stable ABI numbering and object size rules.

use crate::slot::SLOT_BITS;

/// The type of the object a capability refers to.
///
/// The discriminants are the stable numbering used by the system-call ABI;
/// new types take new numbers, existing numbers never change.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CapType {
    /// Untyped physical memory that can be retyped into other objects.
    Ram = 1,
    /// A frame of normal memory that can be mapped.
    Frame = 2,
    /// A frame of device memory (MMIO) that can be mapped.
    DevFrame = 3,
    /// A CNode: an array of `2^radix` capability slots.
    CNode = 4,
    /// An AArch64 level-0 translation table.
    VNodeL0 = 5,
    /// An AArch64 level-1 translation table.
    VNodeL1 = 6,
    /// An AArch64 level-2 translation table.
    VNodeL2 = 7,
    /// An AArch64 level-3 translation table.
    VNodeL3 = 8,
    /// A dispatcher control block (the per-core face of a process).
    Dispatcher = 9,
    /// A kernel-mediated IPC endpoint.
    Endpoint = 10,
    /// The right to handle one hardware interrupt (`base` is its number).
    Irq = 11,
    /// The right to raise one software-generated interrupt (`base` is the SGI).
    Notify = 12,
    /// The kernel capability, held by the monitor.
    Kernel = 13,
}

/// Smallest RAM, Frame or DevFrame object: one 4 KiB page.
pub const MIN_MEMORY_BITS: u8 = 12;
/// Largest RAM, Frame or DevFrame object: the 48-bit physical address space.
pub const MAX_MEMORY_BITS: u8 = 48;
/// Largest CNode radix (2^20 slots).
pub const MAX_CNODE_RADIX: u8 = 20;
/// Size of a translation table: 4 KiB.
pub const TABLE_BITS: u8 = 12;
/// Size of a dispatcher object: 8 KiB (the kernel's control block, then the
/// dispatcher frame that user space may map).
pub const DISPATCHER_BITS: u8 = 13;
/// Size of an endpoint object: 4 KiB (a message queue and the capability
/// slots of the messages in it).
pub const ENDPOINT_BITS: u8 = 12;
/// Messages an endpoint holds.
pub const ENDPOINT_SLOTS: u64 = 16;
/// Offset of an endpoint's capability slots (one per queued message) in the
/// object; the queue itself lies below.
pub const ENDPOINT_SLOTS_OFFSET: u64 = 2048;

impl CapType {
    /// All types, in ABI order.
    pub const ALL: [CapType; 13] = [
        Self::Ram,
        Self::Frame,
        Self::DevFrame,
        Self::CNode,
        Self::VNodeL0,
        Self::VNodeL1,
        Self::VNodeL2,
        Self::VNodeL3,
        Self::Dispatcher,
        Self::Endpoint,
        Self::Irq,
        Self::Notify,
        Self::Kernel,
    ];

    /// The type with the given ABI number, if any.
    pub fn from_u8(number: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| *kind as u8 == number)
    }

    /// Whether the object is a range of physical memory (everything except
    /// the numbered IRQ and Notify objects and the Kernel object).
    pub const fn is_memory(self) -> bool {
        !matches!(self, Self::Irq | Self::Notify | Self::Kernel)
    }

    /// The translation-table level of a VNode type.
    pub const fn vnode_level(self) -> Option<u8> {
        match self {
            Self::VNodeL0 => Some(0),
            Self::VNodeL1 => Some(1),
            Self::VNodeL2 => Some(2),
            Self::VNodeL3 => Some(3),
            _ => None,
        }
    }

    /// Whether capabilities of this type can be retyped into `target`.
    pub const fn can_retype_into(self, target: CapType) -> bool {
        match self {
            Self::Ram => matches!(
                target,
                Self::Ram
                    | Self::Frame
                    | Self::CNode
                    | Self::VNodeL0
                    | Self::VNodeL1
                    | Self::VNodeL2
                    | Self::VNodeL3
                    | Self::Dispatcher
                    | Self::Endpoint
            ),
            Self::DevFrame => matches!(target, Self::DevFrame),
            _ => false,
        }
    }

    /// Size in bytes, as a power of two, of one object of this type made by
    /// retype with the caller's `size_bits` parameter.
    ///
    /// For RAM and frames `size_bits` is the size itself; for a CNode it is
    /// the radix; for fixed-size objects it must be 0. `None` if the value is
    /// out of range or the type is not made by retype.
    pub const fn object_bits(self, size_bits: u8) -> Option<u8> {
        match self {
            Self::Ram | Self::Frame | Self::DevFrame => {
                if size_bits >= MIN_MEMORY_BITS && size_bits <= MAX_MEMORY_BITS {
                    Some(size_bits)
                } else {
                    None
                }
            }
            Self::CNode => {
                if size_bits >= 1 && size_bits <= MAX_CNODE_RADIX {
                    Some(SLOT_BITS + size_bits)
                } else {
                    None
                }
            }
            _ => match (self.fixed_bits(), size_bits) {
                (Some(bits), 0) => Some(bits),
                _ => None,
            },
        }
    }

    const fn fixed_bits(self) -> Option<u8> {
        match self {
            Self::VNodeL0 | Self::VNodeL1 | Self::VNodeL2 | Self::VNodeL3 => Some(TABLE_BITS),
            Self::Dispatcher => Some(DISPATCHER_BITS),
            Self::Endpoint => Some(ENDPOINT_BITS),
            _ => None,
        }
    }
}
