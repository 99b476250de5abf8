//! RAM capabilities: retype untyped memory into objects.

use super::handle;
use crate::cptr::{CPtr, RAM_SLOT};
use crate::error::Result;
use crate::method::ram;
use crate::object::ObjectType;

handle!(
    /// Untyped memory that can be retyped into kernel objects and frames.
    Ram
);

impl Ram {
    /// The program's RAM (slot 4): the rest of this core's partition.
    pub const fn initial() -> Ram {
        Ram::at(RAM_SLOT)
    }

    /// Makes `count` objects of `kind` back to back from byte `offset` of this
    /// RAM into slots `dest_index..dest_index + count` of the CNode at
    /// `dest_cnode`.
    ///
    /// `size_bits` is log2 bytes for RAM and frames, the radix for a CNode and
    /// 0 for fixed-size objects (VNodes, Dispatcher, Endpoint); the physical
    /// base must be aligned to the object size.
    pub fn retype(
        self,
        kind: ObjectType,
        size_bits: usize,
        offset: usize,
        dest_cnode: CPtr,
        dest_index: usize,
        count: usize,
    ) -> Result<()> {
        let arguments = [kind as usize, size_bits, offset, dest_cnode.raw(), dest_index, count];
        self.invoke(ram::RETYPE, arguments).map(drop)
    }
}
