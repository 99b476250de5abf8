//! What a board crate provides: the only hardware facts the device tree
//! cannot give (the console UART, pin set-up, power-off without PSCI).

/// The console UART (a PL011).
#[derive(Clone, Copy, Debug)]
pub struct ConsoleUart {
    /// Physical address of its registers.
    pub base: u64,
    /// Its reference clock in Hz; 0 leaves the baud rate as firmware set it.
    pub clock_hz: u32,
    /// Its interrupt's ID at the GIC (an SPI: 32 and up), for the console
    /// driver `Kernel.console` hands to user space.
    pub intid: u32,
}

/// A board: implemented by exactly one binary crate under `boards/`.
pub trait Board: BoardOps + Sized + Copy + 'static {
    /// The name in the boot line (`board=<name>`).
    const NAME: &'static str;
    /// The console.
    const CONSOLE: ConsoleUart;

    /// Creates the board once the kernel can map devices: set up pins or
    /// clocks the console needs, and map what `power_off` will use. Nothing
    /// may be printed here (the console is not up yet).
    fn new(setup: &mut BoardSetup<'_>) -> Self;
}

/// The board operations the kernel calls after boot.
pub trait BoardOps: Sync {
    /// Powers off when PSCI is not available; returns if it cannot.
    fn power_off(&self) {}
}

/// What the kernel offers a board while it is created.
pub struct BoardSetup<'a> {
    /// Whether the kernel was entered at EL2 (then dropped to EL1).
    pub entered_at_el2: bool,
    map: &'a mut dyn FnMut(u64, u64) -> Option<usize>,
}

impl<'a> BoardSetup<'a> {
    /// Wraps a device-mapping function (physical base, size → virtual).
    pub fn new(entered_at_el2: bool, map: &'a mut dyn FnMut(u64, u64) -> Option<usize>) -> Self {
        BoardSetup { entered_at_el2, map }
    }

    /// Maps device registers; `None` if they cannot be mapped.
    pub fn map_device(&mut self, physical: u64, size: u64) -> Option<usize> {
        (self.map)(physical, size)
    }
}
