//! Exception entry from the vector table: interrupts go to the CPU driver,
//! anything unexpected dumps the registers and syndrome, then panics.

use core::fmt;

core::arch::global_asm!(include_str!("vectors.S"), options(raw));

/// Registers saved by `vectors.S` (layout fixed there).
#[repr(C)]
pub struct ExceptionFrame {
    /// x0..x30.
    pub registers: [u64; 31],
    /// `ELR_EL1`: where the exception was taken.
    pub elr: u64,
    /// `SPSR_EL1`.
    pub spsr: u64,
    /// `ESR_EL1`: the syndrome.
    pub esr: u64,
    /// `FAR_EL1`: the faulting address, for aborts.
    pub far: u64,
    /// The stack pointer before the exception.
    pub sp: u64,
}

/// The vector table entries, in architectural order.
const ENTRY_NAMES: [&str; 16] = [
    "sync (EL1, SP0)",
    "irq (EL1, SP0)",
    "fiq (EL1, SP0)",
    "serror (EL1, SP0)",
    "sync (EL1)",
    "irq (EL1)",
    "fiq (EL1)",
    "serror (EL1)",
    "sync (EL0, 64-bit)",
    "irq (EL0, 64-bit)",
    "fiq (EL0, 64-bit)",
    "serror (EL0, 64-bit)",
    "sync (EL0, 32-bit)",
    "irq (EL0, 32-bit)",
    "fiq (EL0, 32-bit)",
    "serror (EL0, 32-bit)",
];

const IRQ_CURRENT_EL: u64 = 5;

/// The exception class of a syndrome, by name.
pub fn exception_class(esr: u64) -> &'static str {
    match (esr >> 26) & 0x3f {
        0x00 => "unknown",
        0x01 => "wfi/wfe",
        0x07 => "fp/simd access",
        0x0e => "illegal execution state",
        0x15 => "svc (aarch64)",
        0x16 => "hvc (aarch64)",
        0x17 => "smc (aarch64)",
        0x18 => "msr/mrs trap",
        0x20 => "instruction abort (lower el)",
        0x21 => "instruction abort (same el)",
        0x22 => "pc alignment",
        0x24 => "data abort (lower el)",
        0x25 => "data abort (same el)",
        0x26 => "sp alignment",
        0x2f => "serror",
        0x3c => "brk",
        _ => "other",
    }
}

impl fmt::Display for ExceptionFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "esr={:#x} ({}) far={:#x} elr={:#x} spsr={:#x} sp={:#x}",
            self.esr,
            exception_class(self.esr),
            self.far,
            self.elr,
            self.spsr,
            self.sp
        )?;
        for (i, pair) in self.registers.chunks(4).enumerate() {
            for (j, value) in pair.iter().enumerate() {
                let separator = if j == 0 { "" } else { " " };
                write!(f, "{separator}x{:<2}={:#018x}", i * 4 + j, value)?;
            }
            if i < 7 {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

/// Called by `vectors.S` for every exception.
#[no_mangle]
extern "C" fn mk_exception(frame: &mut ExceptionFrame, kind: u64) {
    if kind == IRQ_CURRENT_EL {
        crate::cpu_driver::handle_interrupt();
        return;
    }
    let name = ENTRY_NAMES.get(kind as usize).copied().unwrap_or("?");
    crate::console::print_block(format_args!("unexpected exception: {name}\n{frame}"));
    panic!("unexpected exception {name} at {:#x} ({})", frame.elr, exception_class(frame.esr));
}
