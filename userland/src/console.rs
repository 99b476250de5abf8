//! Console output: `println!` formats one line and prints it with `Kernel.print`.

use crate::cap::{Kernel, PRINT_MAX};
use crate::error::Result;
use core::fmt;

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

/// Formats `arguments` and prints them as one console line.
pub fn print_line(arguments: fmt::Arguments<'_>) -> Result<()> {
    Kernel::initial().print(LineBuffer::format(arguments).as_bytes())
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
