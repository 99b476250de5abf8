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
