//! Capability types, CSpace addressing and the derivation database.
//!
//! Pure and allocation-free: every slot lives in memory the kernel owns and
//! reaches through the [`SlotStore`] trait. See [`database`] for the design of
//! the derivation database and of generation numbers.
#![no_std]
#![forbid(unsafe_code)]

pub mod abi;
pub mod cap_type;
pub mod capability;
pub mod cspace;
pub mod database;
pub mod error;
pub mod initrd;
mod mdb;
mod retype;
pub mod rights;
pub mod slot;

#[cfg(test)]
extern crate alloc;
#[cfg(test)]
mod tests;

pub use cap_type::CapType;
pub use capability::{Capability, ObjectId};
pub use cspace::{resolve, resolve_cap, CPtr, SlotLocation};
pub use database::{CapDatabase, CapHandle};
pub use error::CapError;
pub use retype::RetypeRequest;
pub use rights::Rights;
pub use slot::{ArraySlotStore, Slot, SlotAddr, SlotStore, SLOT_BITS, SLOT_BYTES};
