//! `userbench`: system-call costs measured at EL0 with the virtual counter
//! (run by `scripts/bench` as `init=userbench` under `-icount`, where one
//! virtual nanosecond is one instruction); prints `BENCH` lines, powers off.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use userland::cap::Kernel;
use userland::println;

userland::entry!(main);

/// Timed samples, and calls per sample.
const SAMPLES: usize = 31;
const BATCH: u64 = 256;

fn counter() -> u64 {
    #[cfg(target_os = "none")]
    {
        let value: u64;
        // SAFETY: reads the virtual counter, which the kernel lets EL0 read.
        unsafe { core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack)) };
        value
    }
    #[cfg(not(target_os = "none"))]
    0
}

fn frequency() -> u64 {
    #[cfg(target_os = "none")]
    {
        let value: u64;
        // SAFETY: reads the counter frequency, readable at EL0.
        unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) value, options(nomem, nostack)) };
        value.max(1)
    }
    #[cfg(not(target_os = "none"))]
    1
}

/// Median and minimum per call, in thousandths of a virtual nanosecond.
fn measure(mut call: impl FnMut()) -> (u64, u64) {
    for _ in 0..BATCH {
        call();
    }
    let mut samples = [0u64; SAMPLES];
    for slot in samples.iter_mut() {
        let start = counter();
        for _ in 0..BATCH {
            call();
        }
        let ticks = counter() - start;
        *slot = (u128::from(ticks) * 1_000_000_000_000 / u128::from(frequency()) / u128::from(BATCH)) as u64;
    }
    samples.sort_unstable();
    (samples[SAMPLES / 2], samples[0])
}

fn report(name: &str, (median, min): (u64, u64)) {
    println!(
        "BENCH {name} n={SAMPLES} median={}.{} min={}.{} unit=insn",
        median / 1000,
        median % 1000 / 100,
        min / 1000,
        min % 1000 / 100
    );
}

fn main(_core: usize, _cores: usize) -> i32 {
    report(
        "null_syscall",
        measure(|| {
            let _ = userland::syscall::null();
        }),
    );
    let kernel = Kernel::initial();
    report(
        "cap_invoke_null",
        measure(|| {
            let _ = kernel.null();
        }),
    );
    kernel.power_off()
}
