//! Capability pointers and the slots of the first program's root CNode.

/// Slot of the root CNode itself (read/write/grant).
pub const ROOT_CNODE_SLOT: usize = caps::abi::slot::ROOT_CNODE as usize;
/// Slot of the L0 VNode (translation table root) of the program's address space.
pub const ROOT_VNODE_SLOT: usize = caps::abi::slot::ROOT_VNODE as usize;
/// Slot of the program's own Dispatcher.
pub const DISPATCHER_SLOT: usize = caps::abi::slot::DISPATCHER as usize;
/// Slot of the RAM capability: the rest of this core's RAM partition.
pub const RAM_SLOT: usize = caps::abi::slot::RAM as usize;
/// Slot of the Kernel capability (print, power-off, core number).
pub const KERNEL_SLOT: usize = caps::abi::slot::KERNEL as usize;
/// Slot of a spawned program's session endpoint (requests to its monitor).
pub const SESSION_SLOT: usize = caps::abi::slot::SESSION as usize;
/// Slot of a spawned program's endpoint for its monitor's replies.
pub const SESSION_REPLY_SLOT: usize = caps::abi::slot::SESSION_REPLY as usize;
/// Slot of a spawned program's endpoint for its monitor's wake-ups.
pub const SESSION_EVENTS_SLOT: usize = caps::abi::slot::SESSION_EVENTS as usize;
/// First slot the program may fill.
pub const FIRST_FREE_SLOT: usize = caps::abi::slot::FIRST_FREE as usize;
/// Number of slots in the root CNode (radix 8).
pub const ROOT_CNODE_SLOTS: usize = 1 << caps::abi::slot::ROOT_RADIX;

/// Bits 55:0 of a capability pointer: the address.
const ADDRESS_MASK: usize = (1 << 56) - 1;
/// Position of the depth field (bits 63:56).
const DEPTH_SHIFT: u32 = 56;

/// A capability pointer in the caller's CSpace, as passed in registers.
///
/// Depth 0 means "a slot index in the root CNode", the common case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CPtr(usize);

impl CPtr {
    /// A pointer to `address` resolved with `depth` significant bits
    /// (the address is truncated to 56 bits).
    pub const fn new(address: usize, depth: u8) -> CPtr {
        CPtr((address & ADDRESS_MASK) | ((depth as usize) << DEPTH_SHIFT))
    }

    /// A depth-0 pointer: slot `index` of the root CNode.
    pub const fn slot(index: usize) -> CPtr {
        CPtr::new(index, 0)
    }

    /// The register value.
    pub const fn raw(self) -> usize {
        self.0
    }

    /// The address field (bits 55:0).
    pub const fn address(self) -> usize {
        self.0 & ADDRESS_MASK
    }

    /// The depth field (bits 63:56).
    pub const fn depth(self) -> u8 {
        (self.0 >> DEPTH_SHIFT) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::CPtr;

    #[test]
    fn encoding() {
        assert_eq!(CPtr::slot(300).raw(), 300);
        let pointer = CPtr::new(0x1234, 12);
        assert_eq!(pointer.raw(), 0x0c00_0000_0000_1234);
        assert_eq!((pointer.address(), pointer.depth()), (0x1234, 12));
        assert_eq!(CPtr::new(usize::MAX, 0).address(), (1 << 56) - 1);
    }
}
