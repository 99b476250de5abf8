//! Method numbers (`x1` of `INVOKE`) per capability type.

/// CNode methods.
pub mod cnode {
    /// Copy a capability into a slot of this CNode.
    pub const COPY: usize = 1;
    /// Copy a capability with fewer rights (and a badge).
    pub const MINT: usize = 2;
    /// Delete the capability in a slot.
    pub const DELETE: usize = 3;
    /// Delete every descendant of the capability in a slot.
    pub const REVOKE: usize = 4;
}

/// RAM methods.
pub mod ram {
    /// Make typed objects from part of the RAM.
    pub const RETYPE: usize = 1;
}

/// VNode (translation table) methods.
pub mod vnode {
    /// Map a child table or frame at an entry.
    pub const MAP: usize = 1;
    /// Clear an entry.
    pub const UNMAP: usize = 2;
}

/// Frame methods.
pub mod frame {
    /// Physical base and size of the frame.
    pub const IDENTIFY: usize = 1;
}

/// Dispatcher methods.
pub mod dispatcher {
    /// Set CSpace, VSpace, entry point and stack.
    pub const SETUP: usize = 1;
    /// Run the dispatcher on this core until it exits or faults.
    pub const RUN: usize = 2;
}

/// Kernel methods.
pub mod kernel {
    /// Print one console line.
    pub const PRINT: usize = 1;
    /// Power the machine off.
    pub const POWER_OFF: usize = 2;
    /// Do nothing (benchmark `cap_invoke_null`).
    pub const NULL: usize = 3;
    /// Core number and cores online.
    pub const IDENTIFY: usize = 4;
}
