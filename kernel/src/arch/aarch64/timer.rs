//! The EL1 virtual generic timer: a periodic tick per core.

use aarch64_cpu::registers::{Writeable, CNTV_CTL_EL0, CNTV_TVAL_EL0};

/// Ticks per second of the per-core timer.
pub const TICK_HZ: u64 = 100;

/// Arms the next tick, `1/TICK_HZ` s from now.
pub fn arm_next_tick() {
    let interval = super::cpu::counter_frequency() / TICK_HZ;
    CNTV_TVAL_EL0.set(interval);
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
}

/// Stops the timer.
pub fn stop() {
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::CLEAR);
}
