//! Atomics shim: `core` atomics, or loom's in the model check (`--cfg loom` tests).

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{fence, AtomicU64, Ordering};

#[cfg(not(all(test, loom)))]
pub(crate) use core::sync::atomic::{fence, AtomicU64, Ordering};
