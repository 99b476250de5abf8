//! Method numbers (`x1` of `INVOKE`) per capability type, from `caps::abi`.

/// CNode methods.
pub mod cnode {
    /// Copy a capability into a slot of this CNode.
    pub const COPY: usize = caps::abi::method::cnode::COPY as usize;
    /// Copy a capability with fewer rights (and a badge).
    pub const MINT: usize = caps::abi::method::cnode::MINT as usize;
    /// Delete the capability in a slot.
    pub const DELETE: usize = caps::abi::method::cnode::DELETE as usize;
    /// Delete every descendant of the capability in a slot.
    pub const REVOKE: usize = caps::abi::method::cnode::REVOKE as usize;
}

/// RAM methods.
pub mod ram {
    /// Make typed objects from part of the RAM.
    pub const RETYPE: usize = caps::abi::method::ram::RETYPE as usize;
}

/// VNode (translation table) methods.
pub mod vnode {
    /// Map a child table or frame at an entry.
    pub const MAP: usize = caps::abi::method::vnode::MAP as usize;
    /// Clear an entry.
    pub const UNMAP: usize = caps::abi::method::vnode::UNMAP as usize;
}

/// Frame methods.
pub mod frame {
    /// Physical base and size of the frame.
    pub const IDENTIFY: usize = caps::abi::method::frame::IDENTIFY as usize;
}

/// Dispatcher methods.
pub mod dispatcher {
    /// Set CSpace, VSpace, entry point and stack.
    pub const SETUP: usize = caps::abi::method::dispatcher::SETUP as usize;
    /// Run the dispatcher on this core until it exits or faults.
    pub const RUN: usize = caps::abi::method::dispatcher::RUN as usize;
    /// Make it runnable.
    pub const START: usize = caps::abi::method::dispatcher::START as usize;
    /// State and outcome.
    pub const STATUS: usize = caps::abi::method::dispatcher::STATUS as usize;
    /// Set the priority.
    pub const SET_PRIORITY: usize = caps::abi::method::dispatcher::SET_PRIORITY as usize;
    /// Directed yield.
    pub const YIELD_TO: usize = caps::abi::method::dispatcher::YIELD_TO as usize;
    /// Name it for the console.
    pub const NAME: usize = caps::abi::method::dispatcher::NAME as usize;
}

/// Kernel methods.
pub mod kernel {
    /// Print one console line.
    pub const PRINT: usize = caps::abi::method::kernel::PRINT as usize;
    /// Power the machine off.
    pub const POWER_OFF: usize = caps::abi::method::kernel::POWER_OFF as usize;
    /// Do nothing (benchmark `cap_invoke_null`).
    pub const NULL: usize = caps::abi::method::kernel::NULL as usize;
    /// Core number and cores online.
    pub const IDENTIFY: usize = caps::abi::method::kernel::IDENTIFY as usize;
    /// Cores listed, online set, boot core.
    pub const SYSTEM: usize = caps::abi::method::kernel::SYSTEM as usize;
    /// A core's cluster.
    pub const CLUSTER: usize = caps::abi::method::kernel::CLUSTER as usize;
    /// A core's monitor pool.
    pub const POOL: usize = caps::abi::method::kernel::POOL as usize;
    /// Create a capability for memory another core's monitor gave up.
    pub const CREATE: usize = caps::abi::method::kernel::CREATE as usize;
    /// Ring a core's user doorbell.
    pub const NOTIFY: usize = caps::abi::method::kernel::NOTIFY as usize;
    /// Bind the caller to this core's user doorbell.
    pub const DOORBELL: usize = caps::abi::method::kernel::DOORBELL as usize;
    /// The boot arguments, 16 bytes at a time.
    pub const BOOTARGS: usize = caps::abi::method::kernel::BOOTARGS as usize;
    /// Where the boot modules are mapped.
    pub const MODULES: usize = caps::abi::method::kernel::MODULES as usize;
}

/// Endpoint methods.
pub mod endpoint {
    /// Bind to the receiving dispatcher.
    pub const BIND: usize = caps::abi::method::endpoint::BIND as usize;
    /// Messages queued.
    pub const PENDING: usize = caps::abi::method::endpoint::PENDING as usize;
}
