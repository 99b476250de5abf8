//! Typed capability handles: a capability pointer plus the methods of its type.
//!
//! A handle does not prove the slot holds that type: the kernel checks, and
//! invoking the wrong type gets an error (the negative tests rely on this).

mod cnode;
mod dispatcher;
mod endpoint;
mod frame;
mod irq;
mod kernel;
mod ram;
mod vnode;

pub use cnode::CNode;
pub use dispatcher::{Dispatcher, RunOutcome, Status};
pub use endpoint::{would_block, Endpoint, Message, ReceiveSlot, Received};
pub use frame::{Frame, FrameInfo};
pub use irq::Irq;
pub use kernel::{ConsoleDevice, Kernel, System, PRINT_MAX};
pub use ram::Ram;
pub use vnode::VNode;

/// Declares a handle type with its constructors and pointer accessor.
macro_rules! handle {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name($crate::cptr::CPtr);

        impl $name {
            /// The handle for the capability at `cptr`.
            pub const fn new(cptr: $crate::cptr::CPtr) -> Self {
                Self(cptr)
            }

            /// The handle for slot `index` of the root CNode.
            pub const fn at(index: usize) -> Self {
                Self($crate::cptr::CPtr::slot(index))
            }

            /// The capability pointer.
            pub const fn cptr(self) -> $crate::cptr::CPtr {
                self.0
            }

            /// Invokes `method` with `arguments` on this capability.
            fn invoke(
                self,
                method: usize,
                arguments: $crate::syscall::Arguments,
            ) -> $crate::error::Result<$crate::syscall::Results> {
                $crate::syscall::invoke(self.0, method, arguments)
            }
        }
    };
}

use handle;
