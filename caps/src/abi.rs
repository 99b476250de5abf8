//! The system-call ABI shared by the kernel and user space (declared once;
//! `docs/syscalls.md` explains it): call numbers, method numbers, the first
//! program's slots, and the kernel's error codes above the `CapError` ones.

/// Call numbers (`x8` of `svc #0`).
pub mod call {
    /// Enter and leave the kernel.
    pub const NULL: u64 = 0;
    /// Invoke a capability.
    pub const INVOKE: u64 = 1;
    /// Let others run (sleeps until an interrupt when nothing else can).
    pub const YIELD: u64 = 2;
    /// End the calling dispatcher.
    pub const EXIT: u64 = 3;
}

/// Method numbers (`x1` of `INVOKE`), per capability type.
pub mod method {
    /// CNode methods.
    pub mod cnode {
        /// Copy a capability into a slot of this CNode.
        pub const COPY: u64 = 1;
        /// Copy with fewer rights (and a badge).
        pub const MINT: u64 = 2;
        /// Delete the capability in a slot.
        pub const DELETE: u64 = 3;
        /// Delete every descendant of the capability in a slot.
        pub const REVOKE: u64 = 4;
    }

    /// RAM methods.
    pub mod ram {
        /// Make typed objects from part of the RAM.
        pub const RETYPE: u64 = 1;
    }

    /// VNode (translation table) methods.
    pub mod vnode {
        /// Map a child table or frame at an entry.
        pub const MAP: u64 = 1;
        /// Remove a child's mapping from this table.
        pub const UNMAP: u64 = 2;
    }

    /// Frame methods.
    pub mod frame {
        /// Physical base and size.
        pub const IDENTIFY: u64 = 1;
    }

    /// Dispatcher methods.
    pub mod dispatcher {
        /// Set CSpace, VSpace, entry point and stack.
        pub const SETUP: u64 = 1;
        /// Run it on this core until it exits or faults.
        pub const RUN: u64 = 2;
    }

    /// Kernel methods.
    pub mod kernel {
        /// Print one console line.
        pub const PRINT: u64 = 1;
        /// Power the machine off.
        pub const POWER_OFF: u64 = 2;
        /// Do nothing (benchmark `cap_invoke_null`).
        pub const NULL: u64 = 3;
        /// Core number and cores online.
        pub const IDENTIFY: u64 = 4;
    }
}

/// The first program's root CNode.
pub mod slot {
    /// The root CNode itself.
    pub const ROOT_CNODE: u64 = 1;
    /// The L0 translation table.
    pub const ROOT_VNODE: u64 = 2;
    /// The program's own dispatcher.
    pub const DISPATCHER: u64 = 3;
    /// The rest of the core's RAM.
    pub const RAM: u64 = 4;
    /// The Kernel capability.
    pub const KERNEL: u64 = 5;
    /// Reserved for the boot modules (empty for now).
    pub const BOOT_MODULES: u64 = 6;
    /// The first slot the program may use.
    pub const FIRST_FREE: u64 = 7;
    /// Radix of the root CNode (256 slots).
    pub const ROOT_RADIX: u64 = 8;
}

/// Errors the kernel adds to the `CapError` codes (which are 1–31).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelError {
    /// The capability has no such method.
    InvalidMethod = 32,
    /// An argument is out of range.
    InvalidArgument = 33,
    /// A buffer is not user memory mapped readable.
    InvalidBuffer = 34,
    /// The capability, or the table entry, is already mapped.
    AlreadyMapped = 35,
    /// Nothing is mapped there.
    NotMapped = 36,
    /// The child does not fit a table of this level.
    WrongLevel = 37,
    /// The dispatcher was not set up (or cannot run now).
    NotSetUp = 38,
    /// A per-core limit was reached (e.g. live CNodes).
    LimitReached = 39,
}

impl KernelError {
    /// Every kernel error, in code order.
    pub const ALL: [KernelError; 8] = [
        KernelError::InvalidMethod,
        KernelError::InvalidArgument,
        KernelError::InvalidBuffer,
        KernelError::AlreadyMapped,
        KernelError::NotMapped,
        KernelError::WrongLevel,
        KernelError::NotSetUp,
        KernelError::LimitReached,
    ];

    /// The code in `x0`.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The error with this code.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::KernelError;
    use crate::CapError;

    #[test]
    fn codes_do_not_overlap_and_round_trip() {
        for error in KernelError::ALL {
            assert_eq!(KernelError::from_code(error.code()), Some(error));
            assert!(CapError::from_code(error.code()).is_none());
        }
        assert!(CapError::ALL.iter().all(|e| e.code() < 32));
    }
}
