//! BCM2711 GPIO: route UART0 (PL011) to pins 14 (TXD) and 15 (RXD).

use tock_registers::interfaces::ReadWriteable;
use tock_registers::registers::ReadWrite;
use tock_registers::{register_bitfields, register_structs};

register_bitfields! {
    u32,
    /// Function select for pins 10..19.
    GPFSEL1 [
        FSEL15 OFFSET(15) NUMBITS(3) [Input = 0b000, Alt0 = 0b100],
        FSEL14 OFFSET(12) NUMBITS(3) [Input = 0b000, Alt0 = 0b100]
    ],
    /// Pull-up/down for pins 0..15 (BCM2711 only).
    PUP_PDN_CNTRL0 [
        PIN15 OFFSET(30) NUMBITS(2) [None = 0b00, PullUp = 0b01],
        PIN14 OFFSET(28) NUMBITS(2) [None = 0b00, PullUp = 0b01]
    ]
}

register_structs! {
    Registers {
        (0x00 => _fsel0),
        (0x04 => gpfsel1: ReadWrite<u32, GPFSEL1::Register>),
        (0x08 => _reserved),
        (0xe4 => pup_pdn_cntrl0: ReadWrite<u32, PUP_PDN_CNTRL0::Register>),
        (0xe8 => @END),
    }
}

/// Pins 14/15 to ALT0 (UART0), no pulls.
pub fn route_uart0(base: usize) {
    // SAFETY: `base` is the kernel's device mapping of the GPIO block, made
    // for this board and never unmapped; accesses are volatile cells.
    let gpio = unsafe { &*(base as *const Registers) };
    gpio.pup_pdn_cntrl0.modify(PUP_PDN_CNTRL0::PIN14::None + PUP_PDN_CNTRL0::PIN15::None);
    gpio.gpfsel1.modify(GPFSEL1::FSEL14::Alt0 + GPFSEL1::FSEL15::Alt0);
}
