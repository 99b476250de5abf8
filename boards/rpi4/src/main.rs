//! Raspberry Pi 4 (BCM2711): the PL011 on GPIO 14/15 and power-off through
//! the power-manager watchdog; cores, GIC-400, memory and PSCI (when TF-A is
//! the armstub) come from the device tree.
#![no_std]
#![no_main]

mod gpio;
mod power;

use kernel::board::{Board, BoardOps, BoardSetup, ConsoleUart};

/// GPIO block (pin functions and pulls).
const GPIO_BASE: u64 = 0xfe20_0000;
/// Power manager (reset status, reset control, watchdog).
const PM_BASE: u64 = 0xfe10_0000;
/// Register block size to map for each.
const BLOCK_SIZE: u64 = 0x1000;

/// The Pi 4, with the device registers it maps itself.
#[derive(Clone, Copy)]
struct RaspberryPi4 {
    /// The power manager's virtual address (0 when it could not be mapped).
    power_manager: usize,
}

impl Board for RaspberryPi4 {
    const NAME: &'static str = "rpi4";
    /// UART0, clocked at 48 MHz by the firmware (`init_uart_clock`); its
    /// interrupt is SPI 121 (INTID 153, the DT's `interrupts = <0 121 4>`).
    const CONSOLE: ConsoleUart = ConsoleUart { base: 0xfe20_1000, clock_hz: 48_000_000, intid: 153 };

    fn new(setup: &mut BoardSetup<'_>) -> Self {
        if let Some(gpio) = setup.map_device(GPIO_BASE, BLOCK_SIZE) {
            gpio::route_uart0(gpio);
        }
        RaspberryPi4 { power_manager: setup.map_device(PM_BASE, BLOCK_SIZE).unwrap_or(0) }
    }
}

impl BoardOps for RaspberryPi4 {
    fn power_off(&self) {
        if self.power_manager != 0 {
            power::halt_through_watchdog(self.power_manager);
        }
    }
}

kernel::board_main!(RaspberryPi4);
