//! Power-off without PSCI: the BCM2835 power-manager watchdog. Naming boot
//! partition 63 in the reset status makes the firmware halt instead of boot
//! (QEMU's raspi machines power off), then the watchdog resets at once.

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

register_structs! {
    Registers {
        (0x00 => _reserved),
        (0x1c => rstc: ReadWrite<u32>),
        (0x20 => rsts: ReadWrite<u32>),
        (0x24 => wdog: ReadWrite<u32>),
        (0x28 => @END),
    }
}

/// Every write to these registers must carry this in bits 31:24.
const PASSWORD: u32 = 0x5a << 24;
/// Partition 63, spread over the even bits 0..10 of the reset status.
const PARTITION_63: u32 = 0x555;
/// Reset-configuration field of RSTC, and its "full reset" value.
const RSTC_WRCFG_MASK: u32 = 0x30;
const RSTC_WRCFG_FULL_RESET: u32 = 0x20;
/// Watchdog ticks before the reset (about 150 µs).
const WATCHDOG_TICKS: u32 = 10;

/// Asks for a halt and triggers the watchdog; returns if nothing happens.
pub fn halt_through_watchdog(base: usize) {
    // SAFETY: `base` is the kernel's device mapping of the power manager,
    // made for this board and never unmapped.
    let pm = unsafe { &*(base as *const Registers) };
    pm.rsts.set(PASSWORD | (pm.rsts.get() & !PASSWORD_MASK) | PARTITION_63);
    pm.wdog.set(PASSWORD | WATCHDOG_TICKS);
    pm.rstc.set(PASSWORD | (pm.rstc.get() & !(PASSWORD_MASK | RSTC_WRCFG_MASK)) | RSTC_WRCFG_FULL_RESET);
}

const PASSWORD_MASK: u32 = 0xff << 24;
