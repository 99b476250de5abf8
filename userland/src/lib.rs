//! The user-space library for EL0 programs: system calls, capabilities, heap.
//!
//! Programs are `#![no_std]` binaries built for `aarch64-unknown-none` and
//! linked with `linker/user.ld`; they name their `main` with [`entry!`]. On the
//! host the library compiles (its pure parts are unit-tested) but every system
//! call panics.
#![cfg_attr(not(test), no_std)]

pub mod allocator;
pub mod cap;
pub mod channel;
pub mod console;
pub mod cptr;
pub mod dispatch;
pub mod error;
pub mod heap;
pub mod interfaces;
pub mod method;
pub mod object;
pub mod pl011;
pub mod rights;
pub mod runtime;
pub mod session;
pub mod shell;
pub mod sibling;
pub mod span;
pub mod spawn;
pub mod syscall;
pub mod thread;

pub use error::{Error, Result};
