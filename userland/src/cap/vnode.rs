//! VNode capabilities: translation tables, L0 to L3.

use super::handle;
use crate::cptr::{CPtr, ROOT_VNODE_SLOT};
use crate::error::Result;
use crate::method::vnode;
use crate::rights::Rights;

handle!(
    /// A translation table of 512 entries (level 0 to 3).
    VNode
);

impl VNode {
    /// The program's L0 table (slot 2); index 0 holds the kernel-built tables.
    pub const fn root() -> VNode {
        VNode::at(ROOT_VNODE_SLOT)
    }

    /// Maps `child` (a VNode of the next level, or a 4 KiB Frame in an L3)
    /// at `entry` with `rights` (at most the child capability's).
    pub fn map(self, child: CPtr, entry: usize, rights: Rights) -> Result<()> {
        self.invoke(vnode::MAP, [child.raw(), entry, rights.bits(), 0, 0, 0]).map(drop)
    }

    /// Removes the mapping of `child` (the capability that was mapped here).
    pub fn unmap(self, child: CPtr) -> Result<()> {
        self.invoke(vnode::UNMAP, [child.raw(), 0, 0, 0, 0, 0]).map(drop)
    }
}
