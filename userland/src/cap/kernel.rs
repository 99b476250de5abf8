//! The Kernel capability: console, power-off, core number.

use super::handle;
use crate::cptr::KERNEL_SLOT;
use crate::error::Result;
use crate::method::kernel;

handle!(
    /// Access to the CPU driver's own services.
    Kernel
);

/// Longest line `Kernel.print` accepts, in bytes.
pub const PRINT_MAX: usize = 256;

impl Kernel {
    /// The program's Kernel capability (slot 5).
    pub const fn initial() -> Kernel {
        Kernel::at(KERNEL_SLOT)
    }

    /// Prints `line` (at most 256 bytes, no newline) as one console line;
    /// the kernel adds the `[c<i> <time>] ` prefix and the line end.
    pub fn print(self, line: &[u8]) -> Result<()> {
        self.print_raw(line.as_ptr() as usize, line.len())
    }

    /// `print` with an arbitrary buffer address: the kernel checks that
    /// `[address, address + length)` is mapped readable at EL0.
    pub fn print_raw(self, address: usize, length: usize) -> Result<()> {
        self.invoke(kernel::PRINT, [address, length, 0, 0, 0, 0]).map(drop)
    }

    /// Powers the machine off.
    pub fn power_off(self) -> ! {
        let _ = self.invoke(kernel::POWER_OFF, [0; 6]);
        // Not reached unless the kernel refused; nothing else is left to do.
        crate::syscall::exit(1)
    }

    /// Does nothing (benchmark `cap_invoke_null`).
    pub fn null(self) -> Result<()> {
        self.invoke(kernel::NULL, [0; 6]).map(drop)
    }

    /// This core's number and the number of cores online.
    pub fn identify(self) -> Result<(usize, usize)> {
        let [core, cores, _] = self.invoke(kernel::IDENTIFY, [0; 6])?;
        Ok((core, cores))
    }
}
