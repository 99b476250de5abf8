//! Console output: `println!` formats one line and prints it with `Kernel.print`.

extern crate alloc;

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

/// The receiving ends of the console rings (`caps::abi::console`), which
/// turn each core's fragments back into whole lines: for the program that
/// took the console.
pub struct RingReader {
    receivers: alloc::vec::Vec<urpc::Receiver<'static, { caps::abi::layout::CHANNEL_SLOTS }>>,
    partial: alloc::vec::Vec<alloc::vec::Vec<u8>>,
}

/// Bytes after which a line without its end is handed out anyway (a
/// misbehaving writer cannot grow it without bound).
pub const RING_LINE_MAX: usize = 512;

impl RingReader {
    /// The rings of `listed` cores, mapped at `layout::CONSOLE_RINGS`.
    ///
    /// # Safety
    /// Only in a first program (where the kernel maps the rings for good)
    /// after it took the console, once: it is then the only reader of
    /// each ring.
    pub unsafe fn new(listed: usize) -> RingReader {
        type Ring = urpc::Ring<{ caps::abi::layout::CHANNEL_SLOTS }>;
        let receivers = (0..listed)
            .map(|core| {
                let address = caps::abi::layout::CONSOLE_RINGS as usize + core * core::mem::size_of::<Ring>();
                // SAFETY: the caller's promise: the ring of every listed
                // core is mapped read/write here for good and this is its
                // only reader; it is used only through `urpc`'s atomics,
                // which tolerate a writer that misbehaves.
                let ring: &'static Ring = unsafe { &*(address as *const Ring) };
                ring.receiver()
            })
            .collect();
        RingReader { receivers, partial: (0..listed).map(|_| alloc::vec::Vec::new()).collect() }
    }

    /// Cores (rings).
    pub fn cores(&self) -> usize {
        self.receivers.len()
    }

    /// The next whole line (prefix included, no line end) from core
    /// `core`'s ring, if one is there.
    pub fn next_line(&mut self, core: usize) -> Option<alloc::vec::Vec<u8>> {
        use caps::abi::console::{END_OF_LINE, FRAGMENT_BYTES};
        while let Ok(message) = self.receivers.get_mut(core)?.try_recv() {
            let header = message.words[0];
            let count = (header & 0xff).min(FRAGMENT_BYTES as u64) as usize;
            let bytes = message.words[1..].iter().flat_map(|word| word.to_le_bytes());
            self.partial[core].extend(bytes.take(count));
            if header & END_OF_LINE != 0 || self.partial[core].len() > RING_LINE_MAX {
                return Some(core::mem::take(&mut self.partial[core]));
            }
        }
        None
    }
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
