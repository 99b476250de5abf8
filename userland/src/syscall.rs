//! Raw system calls: `svc #0` with the call number in `x8`.
//!
//! On return `x0` is an error code and `x1`–`x3` are results; the kernel
//! preserves every other register, `sp` and the FP/SIMD registers. On the
//! host these functions panic: there is no kernel to call.

use crate::cptr::CPtr;
use crate::error::{Error, Result};

/// Call number of `NULL` (benchmark `null_syscall`).
pub const NULL: usize = caps::abi::call::NULL as usize;
/// Call number of `INVOKE` (capability invocation).
pub const INVOKE: usize = caps::abi::call::INVOKE as usize;
/// Call number of `YIELD`.
pub const YIELD: usize = caps::abi::call::YIELD as usize;
/// Call number of `EXIT`.
pub const EXIT: usize = caps::abi::call::EXIT as usize;

/// Method arguments of an invocation (`x2`–`x7`).
pub type Arguments = [usize; 6];

/// Method results of an invocation (`x1`–`x3`).
pub type Results = [usize; 3];

#[cfg(target_arch = "aarch64")]
mod arch {
    use super::{Arguments, Results, EXIT, INVOKE, NULL, YIELD};
    use core::arch::asm;

    /// `NULL`: returns the kernel's `x0`.
    pub fn null() -> usize {
        let error;
        // SAFETY: `svc #0` with x8 = NULL only enters and leaves the kernel,
        // which preserves every register but x0–x3 and the stack.
        unsafe {
            asm!("svc #0", in("x8") NULL, lateout("x0") error, lateout("x1") _,
                 lateout("x2") _, lateout("x3") _, options(nostack));
        }
        error
    }

    /// `INVOKE`: returns `x0` and the results.
    pub fn invoke(cptr: usize, method: usize, arguments: Arguments) -> (usize, Results) {
        let (error, first, second, third);
        // SAFETY: the kernel checks every argument (capability pointers,
        // buffer addresses) and preserves all registers but x0–x3 (x4–x7 are
        // marked clobbered anyway) and the stack. The asm is not `nomem`:
        // the kernel may read buffers we pass, and `Dispatcher.run` runs a
        // child that shares this address space.
        unsafe {
            asm!(
                "svc #0",
                inlateout("x0") cptr => error,
                inlateout("x1") method => first,
                inlateout("x2") arguments[0] => second,
                inlateout("x3") arguments[1] => third,
                inlateout("x4") arguments[2] => _,
                inlateout("x5") arguments[3] => _,
                inlateout("x6") arguments[4] => _,
                inlateout("x7") arguments[5] => _,
                in("x8") INVOKE,
                options(nostack),
            );
        }
        (error, [first, second, third])
    }

    /// `YIELD`.
    pub fn yield_now() {
        // SAFETY: as for `null`; the kernel may run something else first.
        unsafe {
            asm!("svc #0", in("x8") YIELD, lateout("x0") _, lateout("x1") _,
                 lateout("x2") _, lateout("x3") _, options(nostack));
        }
    }

    /// `EXIT`.
    pub fn exit(status: usize) -> ! {
        // SAFETY: `EXIT` never returns to this program.
        unsafe { asm!("svc #0", in("x0") status, in("x8") EXIT, options(noreturn, nostack)) }
    }
}

#[cfg(not(target_arch = "aarch64"))]
mod arch {
    use super::{Arguments, Results};

    const NO_KERNEL: &str = "system calls exist only on aarch64-unknown-none";

    pub fn null() -> usize {
        panic!("{NO_KERNEL}")
    }

    pub fn invoke(_cptr: usize, _method: usize, _arguments: Arguments) -> (usize, Results) {
        panic!("{NO_KERNEL}")
    }

    pub fn yield_now() {
        panic!("{NO_KERNEL}")
    }

    pub fn exit(_status: usize) -> ! {
        panic!("{NO_KERNEL}")
    }
}

/// `NULL`: the cheapest round trip into the kernel.
pub fn null() -> Result<()> {
    Error::check(arch::null())
}

/// `INVOKE`: calls `method` of the capability at `cptr` with `arguments`
/// (`x2`–`x7`); returns `x1`–`x3`.
pub fn invoke(cptr: CPtr, method: usize, arguments: Arguments) -> Result<Results> {
    let (error, results) = arch::invoke(cptr.raw(), method, arguments);
    Error::check(error).map(|()| results)
}

/// `YIELD`: lets something else run; with nothing else, the core sleeps in
/// `WFI` until its next interrupt.
pub fn yield_now() {
    arch::yield_now()
}

/// `EXIT`: ends the program (a child returns to its parent's
/// `Dispatcher.run` with `status`).
pub fn exit(status: usize) -> ! {
    arch::exit(status)
}
