//! QEMU `virt`: the console PL011 and PSCI power-off; everything else comes
//! from the device tree.
#![no_std]
#![no_main]

use kernel::arch::aarch64::psci;
use kernel::board::{Board, BoardOps, BoardSetup, ConsoleUart};
use kernel::bootinfo::Conduit;

/// The QEMU virt machine.
#[derive(Clone, Copy)]
struct QemuVirt {
    /// QEMU's PSCI uses `smc` when it emulates EL2 (`virtualization=on`).
    conduit: Conduit,
}

impl Board for QemuVirt {
    const NAME: &'static str = "qemu-virt";
    // QEMU ignores the baud rate, so the clock is left unset. The PL011's
    // interrupt is SPI 1 (INTID 33).
    const CONSOLE: ConsoleUart = ConsoleUart { base: 0x0900_0000, clock_hz: 0, intid: 33 };

    fn new(setup: &mut BoardSetup<'_>) -> Self {
        let conduit = if setup.entered_at_el2 { Conduit::Smc } else { Conduit::Hvc };
        QemuVirt { conduit }
    }
}

impl BoardOps for QemuVirt {
    /// Reached only when the device tree could not be used: QEMU virt always
    /// has PSCI, with the conduit implied by the entry level.
    fn power_off(&self) {
        psci::system_off(self.conduit);
    }
}

kernel::board_main!(QemuVirt);
