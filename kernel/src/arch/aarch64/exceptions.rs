//! Exception entry from the vector table: interrupts go to the CPU driver,
//! anything unexpected dumps the registers and syndrome, then panics.

use core::fmt;

core::arch::global_asm!(include_str!("vectors.S"), options(raw));

/// Registers saved by `vectors.S` (layout fixed there).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
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
    /// `SP_EL0`: the user stack pointer (restored on return).
    pub sp_el0: u64,
}

impl ExceptionFrame {
    /// A frame that starts EL0 at `pc` with stack `sp` and the given
    /// argument registers (interrupts unmasked, AArch64 EL0t).
    pub fn user(pc: u64, sp: u64, arguments: &[u64]) -> Self {
        let mut registers = [0; 31];
        registers[..arguments.len()].copy_from_slice(arguments);
        ExceptionFrame { registers, elr: pc, spsr: 0, esr: 0, far: 0, sp_el0: sp }
    }
}

extern "C" {
    /// Resumes `frame` at EL0 on an empty kernel stack (`vectors.S`).
    pub fn mk_enter_user(frame: *const ExceptionFrame, kernel_stack_top: u64) -> !;
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
const SYNC_LOWER_EL: u64 = 8;
const IRQ_LOWER_EL: u64 = 9;

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
        let kernel_sp = self as *const ExceptionFrame as u64 + core::mem::size_of::<ExceptionFrame>() as u64;
        writeln!(
            f,
            "esr={:#x} ({}) far={:#x} elr={:#x} spsr={:#x} sp={kernel_sp:#x} sp_el0={:#x}",
            self.esr,
            exception_class(self.esr),
            self.far,
            self.elr,
            self.spsr,
            self.sp_el0
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
    match kind {
        IRQ_CURRENT_EL => return crate::cpu_driver::handle_interrupt(),
        IRQ_LOWER_EL => {
            crate::cpu_driver::handle_interrupt();
            return crate::user::after_interrupt(frame);
        }
        SYNC_LOWER_EL => return crate::user::lower_sync(frame),
        10..=15 => return crate::user::lower_fault(frame, ENTRY_NAMES[kind as usize]),
        _ => {}
    }
    let name = ENTRY_NAMES.get(kind as usize).copied().unwrap_or("?");
    // The emergency path, like the panic that follows: straight to the UART
    // even after user space took the console.
    crate::console::print_panic(format_args!("unexpected exception: {name}\n{frame}"));
    panic!("unexpected exception {name} at {:#x} ({})", frame.elr, exception_class(frame.esr));
}
