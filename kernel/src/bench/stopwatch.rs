//! A stopwatch for windows shorter than a tick of the virtual counter.

use crate::arch::aarch64::cpu;

/// Times short windows: with the cycle counter if there is a PMU (its
/// registers are put back by `stop`), with the virtual counter otherwise.
/// QEMU advances the cycle counter with virtual time (1 GHz), so under
/// `-icount shift=0` it counts instructions, one by one.
pub struct Stopwatch {
    /// Whether the cycle counter runs for us.
    cycles: bool,
    /// `PMCR_EL0`, `PMCNTENSET_EL0`, `PMCCFILTR_EL0` as found.
    saved: [u64; 3],
}

/// `PMCR_EL0.E`: counters enabled.
const PMCR_ENABLE: u64 = 1;
/// `PMCR_EL0.D`: count every 64th cycle.
const PMCR_DIVIDER: u64 = 1 << 3;
/// `PMCR_EL0.LC`: the cycle counter overflows at 64 bits.
const PMCR_LONG_CYCLES: u64 = 1 << 6;
/// The cycle counter's bit in `PMCNTENSET_EL0`/`PMCNTENCLR_EL0`.
const CYCLE_COUNTER: u64 = 1 << 31;

impl Stopwatch {
    /// Starts the cycle counter, if there is one.
    pub fn start() -> Stopwatch {
        use aarch64_cpu::registers::{Readable, ID_AA64DFR0_EL1};
        let version = ID_AA64DFR0_EL1.read(ID_AA64DFR0_EL1::PMUVer);
        if version == 0 || version == 0xf {
            return Stopwatch { cycles: false, saved: [0; 3] };
        }
        let (control, enabled, filter): (u64, u64, u64);
        // SAFETY: reads of PMU registers, which EL1 may access (the kernel
        // sets no EL2 trap; a PMU is present, checked above); no memory is
        // touched.
        unsafe {
            core::arch::asm!("mrs {}, pmcr_el0", "mrs {}, pmcntenset_el0", "mrs {}, pmccfiltr_el0",
                out(reg) control, out(reg) enabled, out(reg) filter, options(nomem, nostack, preserves_flags))
        };
        let run = (control | PMCR_ENABLE | PMCR_LONG_CYCLES) & !PMCR_DIVIDER;
        // SAFETY: counts cycles at EL0 and EL1 (a zero filter) and enables
        // the cycle counter: only the PMU's state changes, and `stop` puts
        // it back; nothing else in the kernel uses the PMU.
        unsafe {
            core::arch::asm!("msr pmccfiltr_el0, xzr", "msr pmcntenset_el0, {}", "msr pmcr_el0, {}", "isb",
                in(reg) CYCLE_COUNTER, in(reg) run, options(nomem, nostack, preserves_flags))
        };
        Stopwatch { cycles: true, saved: [control, enabled, filter] }
    }

    /// The current count, after every earlier instruction.
    pub fn read(&self) -> u64 {
        if !self.cycles {
            return cpu::counter();
        }
        let count: u64;
        // SAFETY: reads the cycle counter; no memory is touched.
        unsafe { core::arch::asm!("isb", "mrs {}, pmccntr_el0", out(reg) count, options(nomem, nostack)) };
        count
    }

    /// What an empty window measures: the least of 16 tries.
    pub fn overhead(&self) -> u64 {
        (0..16)
            .map(|_| {
                let start = self.read();
                self.read() - start
            })
            .min()
            .unwrap_or(0)
    }

    /// Puts the PMU back as `start` found it.
    pub fn stop(self) {
        if !self.cycles {
            return;
        }
        let [control, enabled, filter] = self.saved;
        let disable = CYCLE_COUNTER & !enabled;
        // SAFETY: restores the PMU registers read in `start`; no memory is
        // touched.
        unsafe {
            core::arch::asm!("msr pmcr_el0, {}", "msr pmcntenclr_el0, {}", "msr pmccfiltr_el0, {}", "isb",
                in(reg) control, in(reg) disable, in(reg) filter, options(nomem, nostack, preserves_flags))
        };
    }
}
