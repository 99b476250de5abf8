//! CNode capabilities: copy, mint, delete, revoke slots.

use super::handle;
use crate::cptr::{CPtr, ROOT_CNODE_SLOT};
use crate::error::Result;
use crate::method::cnode;
use crate::rights::Rights;

handle!(
    /// A CNode: a table of capability slots.
    CNode
);

impl CNode {
    /// The program's root CNode (slot 1).
    pub const fn root() -> CNode {
        CNode::at(ROOT_CNODE_SLOT)
    }

    /// Copies the capability at `source` into slot `dest` of this CNode.
    pub fn copy(self, dest: usize, source: CPtr) -> Result<()> {
        self.invoke(cnode::COPY, [dest, source.raw(), 0, 0, 0, 0]).map(drop)
    }

    /// Copies `source` into slot `dest` with at most `rights` and `badge`.
    pub fn mint(self, dest: usize, source: CPtr, rights: Rights, badge: usize) -> Result<()> {
        self.invoke(cnode::MINT, [dest, source.raw(), rights.bits(), badge, 0, 0]).map(drop)
    }

    /// Deletes the capability in slot `index` (`HasDescendants`: revoke first).
    pub fn delete(self, index: usize) -> Result<()> {
        self.invoke(cnode::DELETE, [index, 0, 0, 0, 0, 0]).map(drop)
    }

    /// Deletes every descendant of the capability in slot `index`.
    pub fn revoke(self, index: usize) -> Result<()> {
        self.invoke(cnode::REVOKE, [index, 0, 0, 0, 0, 0]).map(drop)
    }
}
