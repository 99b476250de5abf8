//! Program start-up (`_start`, `entry!`), exit and the panic handler.
//!
//! The kernel enters `_start` with `sp` at the top of a 64 KiB stack,
//! `x0` = core number, `x1` = number of cores and `x2` = the address of the
//! program's dispatcher frame. `_start` clears `.bss` (the kernel should
//! already have), records the frame address ([`crate::dispatch::own_frame`])
//! and calls `__userland_main`, which [`entry!`] defines around the
//! program's `main`.

/// Exit status after a panic.
pub const PANIC_STATUS: i32 = 101;

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
core::arch::global_asm!(
    ".section .text.start, \"ax\"",
    ".global _start",
    ".type _start, %function",
    "_start:",
    "    mov x19, x0",
    "    mov x20, x1",
    "    mov x21, x2",
    "    adrp x2, __bss_start",
    "    add x2, x2, :lo12:__bss_start",
    "    adrp x3, __bss_end",
    "    add x3, x3, :lo12:__bss_end",
    "1:  cmp x2, x3",
    "    b.hs 2f",
    "    str xzr, [x2], #8",
    "    b 1b",
    "2:  adrp x2, {frame}",
    "    str x21, [x2, :lo12:{frame}]",
    "    mov x0, x19",
    "    mov x1, x20",
    "    mov x29, xzr",
    "    mov x30, xzr",
    "    bl __userland_main",
    "    udf #0",
    ".size _start, . - _start",
    frame = sym crate::dispatch::OWN_FRAME,
);

// The kernel's memcpy (one file for both): compiler_builtins' copies the
// odd-sized, unaligned pieces the compiler makes of packed enums byte by
// byte, which made up a third of a monitor's work per agreement round.
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
core::arch::global_asm!(include_str!("../../kernel/src/arch/aarch64/memcpy.S"), options(raw));

/// Ends the program with `main`'s return value (negative values are passed
/// sign-extended).
pub fn finish(status: i32) -> ! {
    crate::syscall::exit(status as isize as usize)
}

/// Names the program's `fn main(core: usize, cores: usize) -> i32`.
///
/// The binary must be `#![no_main]` (and `#![no_std]` on the target); on the
/// host the macro supplies a C `main` that only says the program needs the
/// target.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// Called by `_start` with the kernel's `x0` and `x1`.
        #[cfg(target_os = "none")]
        #[unsafe(no_mangle)]
        extern "C" fn __userland_main(core: usize, cores: usize) -> ! {
            let main: fn(usize, usize) -> i32 = $main;
            $crate::runtime::finish(main(core, cores))
        }

        /// Host stub: the program runs only on the target.
        #[cfg(not(target_os = "none"))]
        #[unsafe(export_name = "main")]
        extern "C" fn __userland_host_main() -> i32 {
            let _: fn(usize, usize) -> i32 = $main;
            1
        }
    };
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::console::print_panic(format_args!("panic: {}", info.message()));
    crate::syscall::exit(PANIC_STATUS as usize)
}
