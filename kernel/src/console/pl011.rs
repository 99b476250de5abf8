//! ARM PL011 UART registers (transmit, receive, line set-up).

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields! {
    u32,
    FR [
        TXFF OFFSET(5) NUMBITS(1) [],
        RXFE OFFSET(4) NUMBITS(1) [],
        BUSY OFFSET(3) NUMBITS(1) []
    ],
    LCR_H [
        WLEN OFFSET(5) NUMBITS(2) [EightBit = 0b11],
        FEN OFFSET(4) NUMBITS(1) []
    ],
    CR [
        RXE OFFSET(9) NUMBITS(1) [],
        TXE OFFSET(8) NUMBITS(1) [],
        UARTEN OFFSET(0) NUMBITS(1) []
    ]
}

register_structs! {
    Registers {
        (0x00 => dr: ReadWrite<u32>),
        (0x04 => _reserved0),
        (0x18 => fr: ReadOnly<u32, FR::Register>),
        (0x1c => _reserved1),
        (0x24 => ibrd: WriteOnly<u32>),
        (0x28 => fbrd: WriteOnly<u32>),
        (0x2c => lcr_h: WriteOnly<u32, LCR_H::Register>),
        (0x30 => cr: WriteOnly<u32, CR::Register>),
        (0x34 => _reserved2),
        (0x44 => icr: WriteOnly<u32>),
        (0x48 => @END),
    }
}

const BAUD: u32 = 115_200;
const CLEAR_ALL_INTERRUPTS: u32 = 0x7ff;

fn registers(base: usize) -> &'static Registers {
    // SAFETY: `base` is the device mapping of a PL011 made at boot and never
    // unmapped; the registers are only accessed through volatile cells.
    unsafe { &*(base as *const Registers) }
}

/// 8N1 with FIFOs; sets 115200 baud when the clock is known.
pub fn init(base: usize, clock_hz: u32) {
    let uart = registers(base);
    while uart.fr.is_set(FR::BUSY) {}
    uart.cr.set(0);
    uart.icr.set(CLEAR_ALL_INTERRUPTS);
    if clock_hz != 0 {
        // Divisor in 1/64ths: clock / (16 * baud) * 64.
        let divisor = (u64::from(clock_hz) * 4 / u64::from(BAUD)) as u32;
        uart.ibrd.set(divisor >> 6);
        uart.fbrd.set(divisor & 0x3f);
    }
    uart.lcr_h.write(LCR_H::WLEN::EightBit + LCR_H::FEN::SET);
    uart.cr.write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
}

/// Sends one byte, waiting for room in the FIFO.
pub fn put(base: usize, byte: u8) {
    let uart = registers(base);
    while uart.fr.is_set(FR::TXFF) {}
    uart.dr.set(u32::from(byte));
}

/// Receives one byte if the FIFO holds one.
pub fn get(base: usize) -> Option<u8> {
    let uart = registers(base);
    (!uart.fr.is_set(FR::RXFE)).then(|| uart.dr.get() as u8)
}
