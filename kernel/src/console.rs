//! The kernel console: a PL011 shared by all cores under one lock, one whole
//! line at a time, each prefixed with the core number and uptime; after
//! `Kernel.console`, per-core rings to the user-space console driver
//! (`ring`), with the UART kept only for panics.

mod pl011;
pub mod ring;

use crate::arch::aarch64::cpu;
use crate::cpu_driver::{CpuDriver, SGI_USER};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};
use ring::NotSent;
use spin::{Mutex, MutexGuard};

/// How many times a panicking core tries the lock before printing anyway.
const PANIC_LOCK_TRIES: usize = 1 << 20;

/// The console: the UART's virtual address, the line lock, and who owns
/// the console (all on the allow-list of shared statics).
struct Console {
    uart: AtomicUsize,
    lock: Mutex<()>,
    /// 0 while the kernel writes the UART; the console core's number + 1
    /// once user space took the console (`Kernel.console`; never undone).
    owner: AtomicUsize,
}

static CONSOLE: Console =
    Console { uart: AtomicUsize::new(0), lock: Mutex::new(()), owner: AtomicUsize::new(0) };

/// Starts the console on the PL011 mapped at `uart`.
pub fn init(uart: usize, clock_hz: u32) {
    pl011::init(uart, clock_hz);
    CONSOLE.uart.store(uart, Ordering::Release);
}

/// The core whose user space owns the console, once it was handed over.
pub fn owner() -> Option<usize> {
    CONSOLE.owner.load(Ordering::Acquire).checked_sub(1)
}

/// Hands the console to user space on core `core`: from now on every
/// core's kernel sends its lines into its console ring. Only the first call
/// succeeds. A line being written to the UART is finished first (the lock).
pub fn hand_over(core: usize) -> bool {
    let interrupts = cpu::disable_interrupts();
    let guard = CONSOLE.lock.lock();
    let taken = CONSOLE.owner.compare_exchange(0, core + 1, Ordering::AcqRel, Ordering::Acquire).is_ok();
    drop(guard);
    cpu::restore_interrupts(interrupts);
    taken
}

/// Takes the console back from user space on `core` when its console
/// server ended (its interrupt's binding went): the kernels write the UART
/// again, so that what comes next (the reason it ended, a panic) is seen.
/// Lines still in the rings are not printed.
pub fn take_back(core: usize) -> bool {
    let interrupts = cpu::disable_interrupts();
    let guard = CONSOLE.lock.lock();
    let back = CONSOLE.owner.compare_exchange(core + 1, 0, Ordering::AcqRel, Ordering::Acquire).is_ok();
    drop(guard);
    cpu::restore_interrupts(interrupts);
    back
}

/// A line's `[c<i> <secs>.<micros>] ` prefix, read once.
pub struct Prefix {
    index: Option<usize>,
    ticks: u64,
}

impl Prefix {
    /// Longest prefix in bytes.
    pub const MAX: usize = 48;

    /// The prefix for a line the running core prints now.
    pub fn now() -> Self {
        Prefix { index: crate::cpu_driver::current_index(), ticks: cpu::counter() }
    }

    /// Its bytes and length.
    pub fn bytes(&self) -> ([u8; Self::MAX], usize) {
        let mut buffer = ByteBuffer { bytes: [0; Self::MAX], length: 0 };
        let _ = write!(buffer, "{self}");
        (buffer.bytes, buffer.length)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frequency = cpu::counter_frequency().max(1);
        let (seconds, micros) = (self.ticks / frequency, (self.ticks % frequency) * 1_000_000 / frequency);
        match self.index {
            Some(index) => write!(f, "[c{index} {seconds}.{micros:06}] "),
            None => write!(f, "[c? {seconds}.{micros:06}] "),
        }
    }
}

/// A fixed buffer that keeps what fits.
struct ByteBuffer {
    bytes: [u8; Prefix::MAX],
    length: usize,
}

impl Write for ByteBuffer {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let take = text.len().min(self.bytes.len() - self.length);
        self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
        self.length += take;
        Ok(())
    }
}

/// Writes to the UART, turning `\n` into `\r\n` and starting every line with
/// the prefix.
struct LineWriter {
    uart: usize,
    at_line_start: bool,
}

impl LineWriter {
    fn prefix(&mut self) {
        let _ = write!(RawWriter(self.uart), "{}", Prefix::now());
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
/// interrupt handler on this core can print too). After the handoff they
/// go to this core's console ring; when it stays full for about 10 ms they
/// are dropped and counted.
pub fn print_block(args: fmt::Arguments<'_>) {
    let interrupts = cpu::disable_interrupts();
    let guard = CONSOLE.lock.lock();
    match owner() {
        None => write_locked(Some(guard), args),
        Some(owner) => {
            drop(guard);
            send_own(owner, args);
        }
    }
    cpu::restore_interrupts(interrupts);
}

/// Why `print_user` printed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserPrintError {
    /// The console ring is full: the caller retries after the console
    /// drained it.
    Busy,
    /// The text has more lines than the ring holds at once.
    TooLong,
}

/// Prints a user program's text (`Kernel.print`), UTF-8 or escaped, as one
/// line (each `\n` inside starts another). After the handoff it goes to
/// this core's console ring whole or not at all.
pub fn print_user(text: &[u8]) -> Result<(), UserPrintError> {
    let Some(owner) = owner() else {
        print_block(format_args!("{}", UserText(text)));
        return Ok(());
    };
    let interrupts = cpu::disable_interrupts();
    let result = match crate::cpu_driver::current() {
        Some(me) => match me.console.try_borrow_mut() {
            Ok(mut writer) => writer.try_send(&Prefix::now(), format_args!("{}", UserText(text))),
            Err(_) => Err(NotSent::Full(1)),
        },
        None => Err(NotSent::Full(1)),
    };
    // Rung also when full, so that a sleeping console driver drains.
    if let Some(me) = crate::cpu_driver::current() {
        ring_doorbell(me, owner);
    }
    cpu::restore_interrupts(interrupts);
    match result {
        Ok(()) => Ok(()),
        Err(NotSent::Full(_)) => Err(UserPrintError::Busy),
        Err(NotSent::TooLong(_)) => Err(UserPrintError::TooLong),
    }
}

/// User bytes: as text if they are UTF-8, else escaped.
struct UserText<'a>(&'a [u8]);

impl fmt::Display for UserText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.0) {
            Ok(text) => f.write_str(text),
            Err(_) => write!(f, "{}", self.0.escape_ascii()),
        }
    }
}

/// Sends the kernel's own lines into this core's ring (interrupts masked),
/// retrying for about 10 ms while it is full, then dropping them (counted,
/// and reported before the next line that gets through).
fn send_own(owner: usize, args: fmt::Arguments<'_>) {
    let Some(me) = crate::cpu_driver::current() else { return };
    let Ok(mut writer) = me.console.try_borrow_mut() else { return };
    let prefix = Prefix::now();
    let deadline = cpu::counter() + cpu::counter_frequency() / 100;
    let mut rung = false;
    loop {
        match writer.try_send(&prefix, args) {
            Ok(()) => break,
            Err(NotSent::Full(_)) if cpu::counter() <= deadline => {
                if !rung {
                    ring_doorbell(me, owner);
                    rung = true;
                }
                cpu::relax();
            }
            Err(NotSent::Full(lines) | NotSent::TooLong(lines)) => {
                writer.lose(lines);
                return;
            }
        }
    }
    drop(writer);
    ring_doorbell(me, owner);
}

/// Rings the console core's user doorbell; wakes it if it sleeps.
fn ring_doorbell(me: &CpuDriver, owner: usize) {
    if me.shared.user_mesh.doorbell(owner).ring() == urpc::Wake::Needed {
        me.send_sgi(SGI_USER, owner);
    }
}

/// Prints from a panicking core: waits for the lock only so long, so a core
/// that died holding it cannot silence this one.
pub fn print_panic(args: fmt::Arguments<'_>) {
    cpu::disable_interrupts();
    let guard = (0..PANIC_LOCK_TRIES).find_map(|_| CONSOLE.lock.try_lock());
    write_locked(guard, args);
}

/// Reads a byte if one is waiting (never once user space owns the console:
/// its input is the console driver's).
pub fn try_read() -> Option<u8> {
    let uart = CONSOLE.uart.load(Ordering::Acquire);
    (uart != 0 && owner().is_none()).then(|| pl011::get(uart)).flatten()
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
