//! Console output: `println!` formats one line and prints it with `Kernel.print`.

use crate::cap::{Kernel, PRINT_MAX};
use crate::error::{Error, Result};
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};

/// A line being formatted: at most 256 bytes, longer text is cut off (at a
/// character boundary).
pub struct LineBuffer {
    bytes: [u8; PRINT_MAX],
    length: usize,
}

impl LineBuffer {
    /// An empty line.
    pub const fn new() -> LineBuffer {
        LineBuffer { bytes: [0; PRINT_MAX], length: 0 }
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        // Only whole characters of `&str`s are ever copied in.
        core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("")
    }

    /// The text so far, as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }

    /// Formats `arguments` into a fresh line.
    pub fn format(arguments: fmt::Arguments<'_>) -> LineBuffer {
        let mut line = LineBuffer::new();
        let _ = fmt::write(&mut line, arguments);
        line
    }
}

impl Default for LineBuffer {
    fn default() -> Self {
        LineBuffer::new()
    }
}

impl fmt::Write for LineBuffer {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = PRINT_MAX - self.length;
        let mut take = text.len().min(room);
        while !text.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
        self.length += take;
        Ok(())
    }
}

impl fmt::Display for LineBuffer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl fmt::Debug for LineBuffer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), formatter)
    }
}

/// Where this program's lines go instead of `Kernel.print` (0: none).
static SINK: AtomicUsize = AtomicUsize::new(0);
/// `Kernel.print` attempts that find the console ring full before a line is
/// given up: the first [`BUSY_YIELDS`] after a yield, the rest after a
/// sleep of at least a millisecond (a kernel tick).
const BUSY_TRIES: usize = 1_000;
const BUSY_YIELDS: usize = 100;

/// Where this program's panic message goes instead (0: like its lines).
static PANIC_SINK: AtomicUsize = AtomicUsize::new(0);

/// Sends this program's lines to `sink` from now on (the console server's
/// own lines cannot go through the ring it reads itself), and its panic
/// message to `panic_sink` (which must not need the program's state: the
/// console server writes it to the UART itself).
pub fn set_sink(sink: fn(&[u8]), panic_sink: fn(&[u8])) {
    SINK.store(sink as usize, Ordering::Release);
    PANIC_SINK.store(panic_sink as usize, Ordering::Release);
}

/// Prints the panic message `arguments` (through the panic sink if there
/// is one).
pub fn print_panic(arguments: fmt::Arguments<'_>) {
    let sink = PANIC_SINK.load(Ordering::Acquire);
    if sink == 0 {
        let _ = print_line(arguments);
        return;
    }
    // SAFETY: only `set_sink` stores here, and it stores a `fn(&[u8])`.
    let sink: fn(&[u8]) = unsafe { core::mem::transmute::<usize, fn(&[u8])>(sink) };
    sink(LineBuffer::format(arguments).as_bytes());
}

/// Formats `arguments` and prints them as one console line. While the
/// console's ring is full (`Busy`: the console server has not caught up)
/// the program yields and tries again.
pub fn print_line(arguments: fmt::Arguments<'_>) -> Result<()> {
    let line = LineBuffer::format(arguments);
    let sink = SINK.load(Ordering::Acquire);
    if sink != 0 {
        // SAFETY: only `set_sink` stores here, and it stores a `fn(&[u8])`.
        let sink: fn(&[u8]) = unsafe { core::mem::transmute::<usize, fn(&[u8])>(sink) };
        sink(line.as_bytes());
        return Ok(());
    }
    let mut tries = 0;
    loop {
        match Kernel::initial().print(line.as_bytes()) {
            Err(Error::Busy) if tries < BUSY_TRIES => {
                tries += 1;
                if tries < BUSY_YIELDS {
                    crate::syscall::yield_now();
                } else {
                    crate::syscall::wait(crate::thread::counter() + crate::thread::ticks_per_millisecond());
                }
            }
            other => return other,
        }
    }
}

/// Prints one console line (the kernel adds its prefix and the line end);
/// text past 256 bytes is cut off and errors are ignored.
#[macro_export]
macro_rules! println {
    ($($argument:tt)*) => {{
        let _ = $crate::console::print_line(::core::format_args!($($argument)*));
    }};
}

#[cfg(test)]
mod tests {
    use super::LineBuffer;
    use core::fmt::Write;

    #[test]
    fn formats_and_truncates() {
        assert_eq!(LineBuffer::format(format_args!("core {} of {}", 1, 8)).as_str(), "core 1 of 8");
        let mut line = LineBuffer::new();
        for _ in 0..300 {
            line.write_str("x").unwrap();
        }
        assert_eq!(line.as_bytes().len(), 256);
    }

    #[test]
    fn truncates_at_character_boundary() {
        let mut line = LineBuffer::new();
        line.write_str(&"a".repeat(255)).unwrap();
        line.write_str("é").unwrap();
        assert_eq!(line.as_str().len(), 255);
    }
}
