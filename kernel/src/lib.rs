//! The CPU driver: one single-threaded EL1 kernel per core, generic over a `Board`.
#![cfg_attr(not(test), no_std)]

pub mod bootargs;
pub mod bootinfo;
