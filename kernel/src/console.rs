//! The kernel console: a PL011 shared by all cores under one lock, one whole
//! line at a time, each prefixed with the core number and uptime.

mod pl011;

use crate::arch::aarch64::cpu;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::{Mutex, MutexGuard};

/// How many times a panicking core tries the lock before printing anyway.
const PANIC_LOCK_TRIES: usize = 1 << 20;

/// The console: the UART's virtual address and the line lock (both on the
/// allow-list of shared statics).
struct Console {
    uart: AtomicUsize,
    lock: Mutex<()>,
}

static CONSOLE: Console = Console { uart: AtomicUsize::new(0), lock: Mutex::new(()) };

/// Starts the console on the PL011 mapped at `uart`.
pub fn init(uart: usize, clock_hz: u32) {
    pl011::init(uart, clock_hz);
    CONSOLE.uart.store(uart, Ordering::Release);
}

/// Writes to the UART, turning `\n` into `\r\n` and starting every line with
/// the prefix.
struct LineWriter {
    uart: usize,
    at_line_start: bool,
}

impl LineWriter {
    fn prefix(&mut self) {
        let ticks = cpu::counter();
        let frequency = cpu::counter_frequency();
        let micros = (ticks % frequency) * 1_000_000 / frequency;
        let mut raw = RawWriter(self.uart);
        let _ = match crate::cpu_driver::current_index() {
            Some(index) => write!(raw, "[c{index} {}.{micros:06}] ", ticks / frequency),
            None => write!(raw, "[c? {}.{micros:06}] ", ticks / frequency),
        };
    }
}

impl Write for LineWriter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for byte in text.bytes() {
            if self.at_line_start {
                self.prefix();
                self.at_line_start = false;
            }
            if byte == b'\n' {
                pl011::put(self.uart, b'\r');
                self.at_line_start = true;
            }
            pl011::put(self.uart, byte);
        }
        Ok(())
    }
}

struct RawWriter(usize);

impl Write for RawWriter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        text.bytes().for_each(|b| pl011::put(self.0, b));
        Ok(())
    }
}

fn write_locked(guard: Option<MutexGuard<'_, ()>>, args: fmt::Arguments<'_>) {
    let uart = CONSOLE.uart.load(Ordering::Acquire);
    if uart != 0 {
        let mut writer = LineWriter { uart, at_line_start: true };
        let _ = writer.write_fmt(args);
        let _ = writer.write_str("\n");
    }
    drop(guard);
}

/// Prints one or more lines (IRQs masked while the lock is held, so an
/// interrupt handler on this core can print too).
pub fn print_block(args: fmt::Arguments<'_>) {
    let interrupts = cpu::disable_interrupts();
    write_locked(Some(CONSOLE.lock.lock()), args);
    cpu::restore_interrupts(interrupts);
}

/// Prints from a panicking core: waits for the lock only so long, so a core
/// that died holding it cannot silence this one.
pub fn print_panic(args: fmt::Arguments<'_>) {
    cpu::disable_interrupts();
    let guard = (0..PANIC_LOCK_TRIES).find_map(|_| CONSOLE.lock.try_lock());
    write_locked(guard, args);
}

/// Reads a byte if one is waiting.
pub fn try_read() -> Option<u8> {
    let uart = CONSOLE.uart.load(Ordering::Acquire);
    (uart != 0).then(|| pl011::get(uart)).flatten()
}

/// The `log` back end: plain lines for info, a level word otherwise.
struct Logger;

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        match record.level() {
            log::Level::Info => print_block(format_args!("{}", record.args())),
            log::Level::Warn => print_block(format_args!("warning: {}", record.args())),
            log::Level::Error => print_block(format_args!("error: {}", record.args())),
            _ => print_block(format_args!("{}: {}", record.target(), record.args())),
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Routes the `log` macros to the console.
pub fn install_logger() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}
