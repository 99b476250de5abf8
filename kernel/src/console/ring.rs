//! The console rings: once user space took the console (`Kernel.console`),
//! each core's kernel sends its console lines as `urpc` messages into its
//! own ring of the console ring area (layout and message format in
//! `caps::abi::console`), and rings the console core's user doorbell.

use super::Prefix;
use crate::boot::phys_to_virt;
use crate::bootinfo::Region;
use caps::abi::console::{END_OF_LINE, FRAGMENT_BYTES};
use core::fmt::{self, Write};
use urpc::{Ring, Sender, PAYLOAD_WORDS};

/// Slots in each console ring.
pub const SLOTS: usize = caps::abi::layout::CHANNEL_SLOTS;
/// One core's console ring.
pub type ConsoleRing = Ring<SLOTS>;

/// Bytes of the console ring area for `cores` cores.
pub const fn area_size(cores: usize) -> usize {
    cores * core::mem::size_of::<ConsoleRing>()
}

/// Empties every ring of the area `region` (for `cores` cores).
///
/// # Safety
/// `region` must be mapped RAM of at least `area_size(cores)` bytes, 64-byte
/// aligned, used for nothing else for the kernel's lifetime.
pub unsafe fn init_area(region: Region, cores: usize) {
    // SAFETY: the caller gives the area to us; zero is a valid value of
    // every atomic in it, and `init` then sets the empty state.
    unsafe { core::ptr::write_bytes(phys_to_virt(region.base) as *mut u8, 0, area_size(cores)) };
    (0..cores).for_each(|core| ring(region, core).init());
}

/// Core `core`'s ring in the area `region` (set up by `init_area`).
pub fn ring(region: Region, core: usize) -> &'static ConsoleRing {
    let offset = core * core::mem::size_of::<ConsoleRing>();
    assert!(offset + core::mem::size_of::<ConsoleRing>() <= region.size as usize, "no console ring {core}");
    // SAFETY: inside the area `init_area` set up (checked above), aligned
    // (the area is carved 64-byte aligned and so is the type), never freed.
    unsafe { &*(phys_to_virt(region.base + offset as u64) as *const ConsoleRing) }
}

/// One core's sending end of its console ring (kept in its `CpuDriver`:
/// only that core's kernel writes its ring).
pub struct RingWriter {
    sender: Sender<'static, SLOTS>,
    /// The kernel's own lines dropped since the last one that got through.
    lost: u64,
}

/// Why a block of lines was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotSent {
    /// The ring has no room for it now (or its credit is corrupt); nothing
    /// was written. Carries the number of lines.
    Full(u64),
    /// It has more fragments than the ring has slots: it never fits.
    TooLong(u64),
}

impl RingWriter {
    /// The sender at the start of `ring` (which nobody has sent on yet).
    pub fn new(ring: &'static ConsoleRing) -> Self {
        RingWriter { sender: ring.sender(), lost: 0 }
    }

    /// Sends `text` (one or more lines, each started with `prefix`): all
    /// or nothing; a `console: <n> lines lost` line goes first if lines
    /// were lost before.
    pub fn try_send(&mut self, prefix: &Prefix, text: fmt::Arguments<'_>) -> Result<(), NotSent> {
        let (fragments, lines) = count(prefix, text);
        let lost = self.lost;
        let notice = if lost > 0 { count(prefix, format_args!("console: {lost} lines lost")).0 } else { 0 };
        if fragments + notice > SLOTS {
            return Err(NotSent::TooLong(lines));
        }
        if !self.sender.has_room(fragments + notice).unwrap_or(false) {
            return Err(NotSent::Full(lines));
        }
        if lost > 0 {
            self.emit(prefix, format_args!("console: {lost} lines lost"));
            self.lost = 0;
        }
        self.emit(prefix, text);
        Ok(())
    }

    /// Counts `lines` the kernel dropped (reported with the next line sent).
    pub fn lose(&mut self, lines: u64) {
        self.lost = self.lost.saturating_add(lines);
    }

    /// Sends every fragment of `text` (room was checked).
    fn emit(&mut self, prefix: &Prefix, text: fmt::Arguments<'_>) {
        let sender = &mut self.sender;
        let mut fragments = Fragments::new(prefix, |words: &[u64; PAYLOAD_WORDS]| {
            let _ = sender.try_send_words(words);
        });
        fragments.block(text);
    }
}

/// Fragments and lines of `text` with `prefix`.
fn count(prefix: &Prefix, text: fmt::Arguments<'_>) -> (usize, u64) {
    let fragments = core::cell::Cell::new(0);
    let mut counter = Fragments::new(prefix, |_: &[u64; PAYLOAD_WORDS]| fragments.set(fragments.get() + 1));
    counter.block(text);
    (fragments.get(), counter.lines)
}

/// Cuts lines into ring messages: word 0 = text bytes (| `END_OF_LINE` on
/// a line's last fragment), words 1 to 6 = the bytes, little-endian.
struct Fragments<F: FnMut(&[u64; PAYLOAD_WORDS])> {
    prefix: [u8; Prefix::MAX],
    prefix_length: usize,
    buffer: [u8; FRAGMENT_BYTES],
    length: usize,
    at_line_start: bool,
    lines: u64,
    emit: F,
}

impl<F: FnMut(&[u64; PAYLOAD_WORDS])> Fragments<F> {
    fn new(prefix: &Prefix, emit: F) -> Self {
        let (bytes, length) = prefix.bytes();
        Fragments {
            prefix: bytes,
            prefix_length: length,
            buffer: [0; FRAGMENT_BYTES],
            length: 0,
            at_line_start: true,
            lines: 0,
            emit,
        }
    }

    /// The whole block: `text`, then the end of its last line.
    fn block(&mut self, text: fmt::Arguments<'_>) {
        let _ = self.write_fmt(text);
        self.byte(b'\n');
    }

    fn byte(&mut self, byte: u8) {
        if self.at_line_start {
            self.at_line_start = false;
            for index in 0..self.prefix_length {
                self.push(self.prefix[index]);
            }
        }
        match byte {
            b'\n' => {
                self.flush(END_OF_LINE);
                self.lines += 1;
                self.at_line_start = true;
            }
            b'\r' => {}
            _ => self.push(byte),
        }
    }

    fn push(&mut self, byte: u8) {
        if self.length == FRAGMENT_BYTES {
            self.flush(0);
        }
        self.buffer[self.length] = byte;
        self.length += 1;
    }

    fn flush(&mut self, flags: u64) {
        let mut words = [0u64; PAYLOAD_WORDS];
        words[0] = self.length as u64 | flags;
        for (word, chunk) in words[1..].iter_mut().zip(self.buffer[..self.length].chunks(8)) {
            let mut bytes = [0u8; 8];
            bytes[..chunk.len()].copy_from_slice(chunk);
            *word = u64::from_le_bytes(bytes);
        }
        (self.emit)(&words);
        self.length = 0;
    }
}

impl<F: FnMut(&[u64; PAYLOAD_WORDS])> Write for Fragments<F> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        text.bytes().for_each(|byte| self.byte(byte));
        Ok(())
    }
}

const _: () = assert!(FRAGMENT_BYTES == (PAYLOAD_WORDS - 1) * 8);
