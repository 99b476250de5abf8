//! Small wrappers over AArch64 instructions and system registers.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{
    ReadWriteable, Readable, Writeable, CNTFRQ_EL0, CNTVCT_EL0, DAIF, MPIDR_EL1, TPIDR_EL1,
};

/// This CPU's MPIDR affinity (Aff3 in bits 39:32, Aff2..Aff0 in 23:0).
pub fn mpidr() -> u64 {
    MPIDR_EL1.get() & crate::bootinfo::MPIDR_AFFINITY_MASK
}

/// The virtual counter, ordered after earlier instructions.
pub fn counter() -> u64 {
    barrier::isb(barrier::SY);
    CNTVCT_EL0.get()
}

/// Counter ticks per second.
pub fn counter_frequency() -> u64 {
    CNTFRQ_EL0.get().max(1)
}

/// Masks IRQs and returns the previous mask state for `restore_interrupts`.
pub fn disable_interrupts() -> u64 {
    let previous = DAIF.get();
    DAIF.write(DAIF::I::Masked + DAIF::F::Masked);
    previous
}

/// Restores the mask state returned by `disable_interrupts`.
pub fn restore_interrupts(previous: u64) {
    DAIF.set(previous);
}

/// Unmasks IRQs.
pub fn enable_interrupts() {
    DAIF.modify(DAIF::I::Unmasked);
}

/// Sleeps until an interrupt is pending (taken when unmasked).
pub fn wait_for_interrupt() {
    aarch64_cpu::asm::wfi();
}

/// Wakes CPUs waiting in `wfe`.
pub fn send_event() {
    aarch64_cpu::asm::sev();
}

/// Orders earlier stores before a following SGI write (`DSB ISHST`).
pub fn store_barrier() {
    barrier::dsb(barrier::ISHST);
}

/// Full-system data barrier.
pub fn full_barrier() {
    barrier::dsb(barrier::SY);
}

/// Cleans `[start, start + len)` to the point of coherency, for a reader
/// whose MMU and caches are still off.
pub fn clean_to_point_of_coherency(start: usize, len: usize) {
    const LINE: usize = 64;
    let mut line = start & !(LINE - 1);
    while line < start + len {
        // SAFETY: `dc cvac` on a mapped address only writes back the cache
        // line; it changes no memory contents.
        unsafe { core::arch::asm!("dc cvac, {}", in(reg) line, options(nostack, preserves_flags)) };
        line += LINE;
    }
    barrier::dsb(barrier::SY);
}

/// The per-core data pointer (`TPIDR_EL1`); 0 until set.
pub fn per_core_pointer() -> usize {
    TPIDR_EL1.get() as usize
}

/// Sets the per-core data pointer.
pub fn set_per_core_pointer(value: usize) {
    TPIDR_EL1.set(value as u64);
}

/// Installs the exception vector table.
pub fn install_vectors() {
    extern "C" {
        static mk_vectors: u8;
    }
    aarch64_cpu::registers::VBAR_EL1.set(core::ptr::addr_of!(mk_vectors) as u64);
    barrier::isb(barrier::SY);
}

/// Stops translating through `TTBR0_EL1` (the boot identity map), so no
/// low address is reachable until user space installs its own tables.
pub fn disable_low_half() {
    use aarch64_cpu::registers::TCR_EL1;
    TCR_EL1.modify(TCR_EL1::EPD0::DisableTTBR0Walks);
    barrier::isb(barrier::SY);
    // SAFETY: TLB maintenance only; the kernel runs from TTBR1.
    unsafe { core::arch::asm!("tlbi vmalle1", "dsb nsh", "isb", options(nostack)) };
}

/// Spins politely: `yield` lets QEMU switch vCPUs under single-threaded TCG.
pub fn relax() {
    // SAFETY: `yield` is a hint with no architectural effect.
    unsafe { core::arch::asm!("yield", options(nomem, nostack, preserves_flags)) };
}

/// The user thread pointer (`TPIDR_EL0`).
pub fn user_thread_pointer() -> u64 {
    aarch64_cpu::registers::TPIDR_EL0.get()
}

/// Sets the user thread pointer (`TPIDR_EL0`).
pub fn set_user_thread_pointer(value: u64) {
    aarch64_cpu::registers::TPIDR_EL0.set(value);
}

/// Lets EL0 use the FP/SIMD registers (`true`) or makes its first use trap
/// (`false`; exception class 0x07). EL1 may always use them (it only does
/// to save and load them).
pub fn allow_user_fp(allow: bool) {
    use aarch64_cpu::registers::CPACR_EL1;
    let value = if allow { CPACR_EL1::FPEN::TrapNothing } else { CPACR_EL1::FPEN::TrapEl0 };
    CPACR_EL1.modify(value);
    barrier::isb(barrier::SY);
}

core::arch::global_asm!(
    ".arch_extension fp",
    ".arch_extension simd",
    ".global mk_fp_save",
    "mk_fp_save:",
    "    stp q0, q1, [x0, #0]",
    "    stp q2, q3, [x0, #32]",
    "    stp q4, q5, [x0, #64]",
    "    stp q6, q7, [x0, #96]",
    "    stp q8, q9, [x0, #128]",
    "    stp q10, q11, [x0, #160]",
    "    stp q12, q13, [x0, #192]",
    "    stp q14, q15, [x0, #224]",
    "    stp q16, q17, [x0, #256]",
    "    stp q18, q19, [x0, #288]",
    "    stp q20, q21, [x0, #320]",
    "    stp q22, q23, [x0, #352]",
    "    stp q24, q25, [x0, #384]",
    "    stp q26, q27, [x0, #416]",
    "    stp q28, q29, [x0, #448]",
    "    stp q30, q31, [x0, #480]",
    "    mrs x1, fpcr",
    "    mrs x2, fpsr",
    "    add x0, x0, #512",
    "    stp x1, x2, [x0]",
    "    ret",
    ".global mk_fp_load",
    "mk_fp_load:",
    "    ldp q0, q1, [x0, #0]",
    "    ldp q2, q3, [x0, #32]",
    "    ldp q4, q5, [x0, #64]",
    "    ldp q6, q7, [x0, #96]",
    "    ldp q8, q9, [x0, #128]",
    "    ldp q10, q11, [x0, #160]",
    "    ldp q12, q13, [x0, #192]",
    "    ldp q14, q15, [x0, #224]",
    "    ldp q16, q17, [x0, #256]",
    "    ldp q18, q19, [x0, #288]",
    "    ldp q20, q21, [x0, #320]",
    "    ldp q22, q23, [x0, #352]",
    "    ldp q24, q25, [x0, #384]",
    "    ldp q26, q27, [x0, #416]",
    "    ldp q28, q29, [x0, #448]",
    "    ldp q30, q31, [x0, #480]",
    "    add x0, x0, #512",
    "    ldp x1, x2, [x0]",
    "    msr fpcr, x1",
    "    msr fpsr, x2",
    "    ret",
);

extern "C" {
    fn mk_fp_save(area: *mut u8);
    fn mk_fp_load(area: *const u8);
}

/// Saves q0–q31, FPCR and FPSR into `area` (528 bytes, 16-byte aligned).
pub fn save_fp(area: &mut crate::user::dispatcher::FpState) {
    // SAFETY: `area` is a 16-byte aligned `FpState` (q0..q31 then FPCR and
    // FPSR at byte 512), exactly what `mk_fp_save` writes; it clobbers only
    // x1 and x2, which the C ABI lets it.
    unsafe { mk_fp_save(area as *mut _ as *mut u8) }
}

/// Loads q0–q31, FPCR and FPSR from `area`.
pub fn load_fp(area: &crate::user::dispatcher::FpState) {
    // SAFETY: as in `save_fp`; the kernel itself keeps nothing in FP
    // registers (it is built soft-float).
    unsafe { mk_fp_load(area as *const _ as *const u8) }
}

/// Copies 31 registers' worth of words (a register save area) with
/// straight-line `ldp`/`stp`: the compiler would call `memcpy` for it.
#[inline(always)]
pub fn copy_registers(destination: &mut [u64; 31], source: &[u64; 31]) {
    // SAFETY: reads exactly the 248 bytes of `source` and writes exactly the
    // 248 bytes of `destination` (distinct borrows, so no overlap); the
    // scratch registers are declared clobbered.
    unsafe {
        core::arch::asm!(
            "ldp {a}, {b}, [{s}, #0]", "ldp {c}, {d}, [{s}, #16]",
            "stp {a}, {b}, [{t}, #0]", "stp {c}, {d}, [{t}, #16]",
            "ldp {a}, {b}, [{s}, #32]", "ldp {c}, {d}, [{s}, #48]",
            "stp {a}, {b}, [{t}, #32]", "stp {c}, {d}, [{t}, #48]",
            "ldp {a}, {b}, [{s}, #64]", "ldp {c}, {d}, [{s}, #80]",
            "stp {a}, {b}, [{t}, #64]", "stp {c}, {d}, [{t}, #80]",
            "ldp {a}, {b}, [{s}, #96]", "ldp {c}, {d}, [{s}, #112]",
            "stp {a}, {b}, [{t}, #96]", "stp {c}, {d}, [{t}, #112]",
            "ldp {a}, {b}, [{s}, #128]", "ldp {c}, {d}, [{s}, #144]",
            "stp {a}, {b}, [{t}, #128]", "stp {c}, {d}, [{t}, #144]",
            "ldp {a}, {b}, [{s}, #160]", "ldp {c}, {d}, [{s}, #176]",
            "stp {a}, {b}, [{t}, #160]", "stp {c}, {d}, [{t}, #176]",
            "ldp {a}, {b}, [{s}, #192]", "ldp {c}, {d}, [{s}, #208]",
            "stp {a}, {b}, [{t}, #192]", "stp {c}, {d}, [{t}, #208]",
            "ldp {a}, {b}, [{s}, #224]", "ldr {c}, [{s}, #240]",
            "stp {a}, {b}, [{t}, #224]", "str {c}, [{t}, #240]",
            s = in(reg) source.as_ptr(),
            t = in(reg) destination.as_mut_ptr(),
            a = out(reg) _, b = out(reg) _, c = out(reg) _, d = out(reg) _,
            options(nostack, preserves_flags),
        );
    }
}
