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

/// Call number of `SEND`.
pub const SEND: usize = caps::abi::call::SEND as usize;
/// Call number of `RECV`.
pub const RECV: usize = caps::abi::call::RECV as usize;
/// Call number of `CALL`.
pub const CALL: usize = caps::abi::call::CALL as usize;
/// Call number of `WAIT`.
pub const WAIT: usize = caps::abi::call::WAIT as usize;
/// Call number of `RESUME`.
pub const RESUME: usize = caps::abi::call::RESUME as usize;

/// An LMP message: eight words.
pub type Words = [usize; caps::abi::lmp::WORDS];

/// The control registers of an LMP call (`x9`–`x13`); their meaning
/// depends on the call (`docs/syscalls.md`).
pub type Control = [usize; 5];

/// Method arguments of an invocation (`x2`–`x7`).
pub type Arguments = [usize; 6];

/// Method results of an invocation (`x1`–`x3`).
pub type Results = [usize; 3];

#[cfg(target_arch = "aarch64")]
mod arch {
    use super::{Arguments, Control, Results, Words, EXIT, INVOKE, NULL, RESUME, WAIT, YIELD};
    use core::arch::asm;

    /// An LMP call (`SEND`, `RECV`, `CALL`): words in x0–x7, control in
    /// x9–x13; returns the words and x9–x11.
    #[inline(always)]
    pub fn lmp(number: usize, words: &mut Words, control: Control) -> [usize; 3] {
        let (error, badge, info);
        // SAFETY: the kernel checks every capability pointer; it writes only
        // x0–x7 and x9–x11 (all declared) and may run other dispatchers of
        // this address space before returning, so the asm is not `nomem`.
        unsafe {
            asm!(
                "svc #0",
                inlateout("x0") words[0] => words[0],
                inlateout("x1") words[1] => words[1],
                inlateout("x2") words[2] => words[2],
                inlateout("x3") words[3] => words[3],
                inlateout("x4") words[4] => words[4],
                inlateout("x5") words[5] => words[5],
                inlateout("x6") words[6] => words[6],
                inlateout("x7") words[7] => words[7],
                in("x8") number,
                inlateout("x9") control[0] => error,
                inlateout("x10") control[1] => badge,
                inlateout("x11") control[2] => info,
                in("x12") control[3],
                in("x13") control[4],
                options(nostack),
            );
        }
        [error, badge, info]
    }

    /// `WAIT` until `deadline` (0: none).
    pub fn wait(deadline: u64) {
        // SAFETY: as for `null`; other dispatchers may run meanwhile.
        unsafe {
            asm!("svc #0", inlateout("x0") deadline => _, in("x8") WAIT, lateout("x1") _,
                 lateout("x2") _, lateout("x3") _, options(nostack));
        }
    }

    /// `RESUME`: never returns here (the enabled area is resumed).
    pub fn resume() -> ! {
        // SAFETY: the kernel replaces every register with the enabled save
        // area of this dispatcher's frame.
        unsafe { asm!("svc #0", in("x8") RESUME, options(noreturn, nostack)) }
    }

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
    use super::{Arguments, Control, Results, Words};

    const NO_KERNEL: &str = "system calls exist only on aarch64-unknown-none";

    pub fn lmp(_number: usize, _words: &mut Words, _control: Control) -> [usize; 3] {
        panic!("{NO_KERNEL}")
    }

    pub fn wait(_deadline: u64) {
        panic!("{NO_KERNEL}")
    }

    pub fn resume() -> ! {
        panic!("{NO_KERNEL}")
    }

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

/// An LMP call with the raw registers: returns `Err` for a non-zero `x9`,
/// else the badge (`x10`) and info bits (`x11`); `words` is updated.
#[inline(always)]
pub fn lmp(number: usize, words: &mut Words, control: Control) -> Result<(usize, usize)> {
    let [error, badge, info] = arch::lmp(number, words, control);
    Error::check(error).map(|()| (badge, info))
}

/// `WAIT`: block this dispatcher until an event is pending or the counter
/// passes `deadline` (0: no deadline).
pub fn wait(deadline: u64) {
    arch::wait(deadline)
}

/// `RESUME`: leave an upcall for the enabled save area.
pub fn resume() -> ! {
    arch::resume()
}
