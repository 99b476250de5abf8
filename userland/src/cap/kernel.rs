//! The Kernel capability: console, power-off, core number, and the
//! monitors' services (machine, pools, capability creation, doorbells,
//! boot arguments).

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

    /// The machine: cores listed in the device tree, the online set (bit
    /// `i` = core `i`) and the boot core.
    pub fn system(self) -> Result<System> {
        let [listed, online, boot] = self.invoke(kernel::SYSTEM, [0; 6])?;
        Ok(System { listed, online: online as u64, boot })
    }

    /// The cluster of core `core` (from the device tree's `cpu-map`).
    pub fn cluster(self, core: usize) -> Result<usize> {
        Ok(self.invoke(kernel::CLUSTER, [core, 0, 0, 0, 0, 0])?[0])
    }

    /// Core `core`'s monitor pool: physical base, bytes, and offset inside
    /// that core's initial RAM capability.
    pub fn pool(self, core: usize) -> Result<(usize, usize, usize)> {
        let [base, bytes, offset] = self.invoke(kernel::POOL, [core, 0, 0, 0, 0, 0])?;
        Ok((base, bytes, offset))
    }

    /// Creates a root capability of `kind` (RAM or Frame) for the `bytes`
    /// at physical `base`, part of another core's monitor pool, in slot
    /// `dest_index` of the CNode at `dest_cnode` (monitors only: the range
    /// must have been handed over by the protocol).
    pub fn create(
        self,
        kind: crate::object::ObjectType,
        base: usize,
        bytes: usize,
        dest_cnode: crate::cptr::CPtr,
        dest_index: usize,
    ) -> Result<()> {
        let arguments = [kind as usize, base, bytes, dest_cnode.raw(), dest_index, 0];
        self.invoke(kernel::CREATE, arguments).map(drop)
    }

    /// Rings core `core`'s user doorbell.
    pub fn notify(self, core: usize) -> Result<()> {
        self.invoke(kernel::NOTIFY, [core, 0, 0, 0, 0, 0]).map(drop)
    }

    /// Binds the calling dispatcher to this core's user doorbell: a ring
    /// sets event `event` and ends its `WAIT`.
    pub fn bind_doorbell(self, event: u32) -> Result<()> {
        self.invoke(kernel::DOORBELL, [event as usize, 0, 0, 0, 0, 0]).map(drop)
    }

    /// Takes the console for this core's user space: a DevFrame capability
    /// for the UART's page goes into slot `frame_slot` and an Irq capability
    /// for its interrupt into `irq_slot` of the CNode at `cnode`. From then
    /// on every kernel sends its console lines (and `print`'s, which may
    /// answer `Busy`) to the console rings at `caps::abi::layout::CONSOLE_RINGS`.
    /// Once per boot (`AlreadyBound` after).
    pub fn console(
        self,
        cnode: crate::cptr::CPtr,
        frame_slot: usize,
        irq_slot: usize,
    ) -> Result<ConsoleDevice> {
        let [offset, intid, _] = self.invoke(
            caps::abi::method::kernel::CONSOLE as usize,
            [cnode.raw(), frame_slot, irq_slot, 0, 0, 0],
        )?;
        Ok(ConsoleDevice { offset, intid })
    }

    /// The boot modules at `caps::abi::layout::MODULES`: the offset of
    /// their first byte there, their length (0 without an initrd).
    pub fn modules(self) -> Result<[usize; 3]> {
        self.invoke(kernel::MODULES, [0; 6])
    }

    /// Copies the boot arguments into `buffer`; returns their length (which
    /// may exceed the buffer's).
    pub fn bootargs(self, buffer: &mut [u8]) -> Result<usize> {
        let mut length = usize::MAX;
        let mut offset = 0;
        while offset < buffer.len().min(length) {
            let [total, low, high] = self.invoke(kernel::BOOTARGS, [offset, 0, 0, 0, 0, 0])?;
            length = total;
            let bytes = (low as u64).to_le_bytes().into_iter().chain((high as u64).to_le_bytes());
            for (dst, src) in buffer[offset..].iter_mut().zip(bytes) {
                *dst = src;
            }
            offset += 16;
        }
        if length == usize::MAX {
            length = self.invoke(kernel::BOOTARGS, [0; 6])?[0];
        }
        Ok(length)
    }
}

/// What `Kernel.system` says about the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct System {
    /// Cores listed in the device tree (core numbers are below this).
    pub listed: usize,
    /// The cores online: bit `i` is core `i`.
    pub online: u64,
    /// The boot core.
    pub boot: usize,
}

/// What `Kernel.console` reports about the UART.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleDevice {
    /// Offset of the UART's registers in the DevFrame's page.
    pub offset: usize,
    /// The interrupt's ID at the GIC.
    pub intid: usize,
}
