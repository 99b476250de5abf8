//! User space on one core: the first program, system calls, faults.
//!
//! Everything here runs on the core that owns the objects: its capability
//! database, its CNodes, VNodes and dispatchers all live in its own RAM
//! partition, and only exception handlers (interrupts masked) touch them.

pub mod dispatcher;
pub mod error;
mod invoke;
mod ipc;
pub mod irq;
pub mod lmp;
pub mod load;
pub mod sched;
mod start;
pub mod store;
mod syscall;
pub mod vspace;

pub use start::{pool, start, user_ram};
pub use syscall::{after_interrupt, doorbell, lower_fault, lower_sync, tick};

use caps::CapDatabase;
use store::KernelSlots;

/// One core's user-space state (inside its `CpuDriver`).
pub struct UserCore {
    /// The capability derivation database.
    pub database: CapDatabase,
    /// Where slots live, and the scheduler (`slots.sched`).
    pub slots: KernelSlots,
}
