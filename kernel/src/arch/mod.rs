//! Architecture support (AArch64 only, built for the target).

pub mod aarch64;
