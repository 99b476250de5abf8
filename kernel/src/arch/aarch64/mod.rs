//! AArch64: boot, MMU, exceptions, GIC, timer and PSCI.

pub mod cpu;
pub mod early;
pub mod exceptions;
pub mod gic;
pub mod handoff;
pub mod mmu;
pub mod psci;
pub mod timer;

core::arch::global_asm!(include_str!("boot.S"), options(raw));
core::arch::global_asm!(include_str!("memcpy.S"), options(raw));
