//! The PL011 UART as a user-space console driver sees it (through the
//! DevFrame `Kernel.console` gives): its registers and polled I/O.

/// Data register.
pub const DR: usize = 0x00;
/// Flag register.
pub const FR: usize = 0x18;
/// Interrupt mask set/clear register.
pub const IMSC: usize = 0x38;
/// Interrupt clear register.
pub const ICR: usize = 0x44;
/// `FR`: the receive FIFO is empty.
pub const FR_RXFE: u32 = 1 << 4;
/// `FR`: the transmit FIFO is full.
pub const FR_TXFF: u32 = 1 << 5;
/// `IMSC`/`ICR`: the receive and receive-timeout interrupts.
pub const RX_INTERRUPTS: u32 = 1 << 4 | 1 << 6;
/// `ICR`: every interrupt.
pub const ALL_INTERRUPTS: u32 = 0x7ff;

/// A mapped PL011.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pl011(usize);

impl Pl011 {
    /// The UART whose registers are mapped at `base`.
    ///
    /// # Safety
    /// `base` must be the UART's registers, mapped as device memory
    /// (read/write), for as long as the value is used.
    pub const unsafe fn at(base: usize) -> Pl011 {
        Pl011(base)
    }

    /// Reads a register.
    pub fn read(self, register: usize) -> u32 {
        // SAFETY: `at`'s contract: the registers are mapped; `register` is
        // one of the 32-bit registers above (inside the page).
        unsafe { ((self.0 + register) as *const u32).read_volatile() }
    }

    /// Writes a register.
    pub fn write(self, register: usize, value: u32) {
        // SAFETY: as in `read`.
        unsafe { ((self.0 + register) as *mut u32).write_volatile(value) }
    }

    /// Sends a byte, waiting while the transmit FIFO is full.
    pub fn put(self, byte: u8) {
        while self.read(FR) & FR_TXFF != 0 {
            core::hint::spin_loop();
        }
        self.write(DR, u32::from(byte));
    }

    /// A received byte, if one is waiting.
    pub fn get(self) -> Option<u8> {
        (self.read(FR) & FR_RXFE == 0).then(|| self.read(DR) as u8)
    }
}
