//! The console server: the monitor of the core that takes the console
//! (`Kernel.console`) drives the PL011 from EL0 through a DevFrame mapping
//! and the UART's Irq capability.
//!
//! * Output: every core's kernel sends its console lines (its own and its
//!   programs' `Kernel.print`) through its console ring; this server writes
//!   them out whole, and the terminal text programs write (`Session.write`)
//!   as it is. A line that arrives while the terminal's last line is
//!   unfinished (a prompt and what was typed after it) goes above it: the
//!   unfinished line is drawn again below.
//! * Input: the UART's receive interrupt wakes the monitor; bytes are
//!   echoed and edited (backspace) into a line, which ends at CR, LF or
//!   CRLF. Whole lines wait for the program that reads them
//!   (`Session.read_line`), which is woken by a message on its events
//!   endpoint.

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use spin::Mutex;
use userland::cap::{Endpoint, Irq, Kernel, Message};
use userland::console::RingReader;
use userland::cptr::CPtr;
use userland::error::Result;
use userland::pl011::{self, Pl011};
use userland::{allocator, dispatch, thread};

use crate::node::EVENT_CONSOLE;
use crate::window::Window;

/// Longest input line (longer input is dropped, with a bell).
const LINE_MAX: usize = 255;
/// Whole input lines kept for a reader.
const LINES_MAX: usize = 16;
/// Bytes of the unfinished output line kept to draw it again.
const SHOWN_MAX: usize = 512;

/// Lines this program printed itself while it owns the console (they
/// cannot go through its own core's ring: it is their reader).
static OWN_LINES: Mutex<VecDeque<Vec<u8>>> = Mutex::new(VecDeque::new());

/// The print sink of the console's own program: its lines, prefixed like
/// the kernel's, queued for the console.
fn own_print(line: &[u8]) {
    let ticks = thread::counter();
    let frequency = thread::frequency();
    let micros = (ticks % frequency) * 1_000_000 / frequency;
    let core = Kernel::initial().identify().map_or(0, |(core, _)| core);
    let mut text = alloc::format!("[c{core} {}.{micros:06}] ", ticks / frequency).into_bytes();
    text.extend_from_slice(line);
    OWN_LINES.lock().push_back(text);
}

/// Progress through an input escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    None,
    /// ESC seen.
    Started,
    /// ESC `[` (or `O`) seen: parameters until a final byte.
    Sequence,
}

/// The UART's registers, for [`panic_print`].
static UART: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// This program's panic message: straight to the UART (the console's state
/// may be what broke; nothing would drain a queue any more).
fn panic_print(line: &[u8]) {
    let address = UART.load(core::sync::atomic::Ordering::Acquire);
    // SAFETY: the UART's register page, mapped as device memory for good
    // by `Console::take` before this sink was set.
    let uart = unsafe { Pl011::at(address) };
    line.iter().chain(b"\r\n").for_each(|&byte| uart.put(byte));
}

/// The console server's state.
pub struct Console {
    uart: Pl011,
    irq: Irq,
    rings: RingReader,
    /// Each ring's line so far.
    /// The input line being typed, and how much of it is echoed.
    typing: Vec<u8>,
    echoed: usize,
    /// The last input byte was a CR (a LF right after it is the same line end).
    after_cr: bool,
    /// Where in an escape sequence the input is.
    escape: Escape,
    /// Whole input lines not yet read, and whether each was echoed.
    lines: VecDeque<(String, bool)>,
    /// The program waiting for a line.
    reader: Option<Endpoint>,
    /// The terminal's unfinished last line.
    shown: Vec<u8>,
    /// Lines lost because an input line was too long or too many waited.
    pub dropped: u64,
}

impl Console {
    /// Takes the console: the UART mapped through `window`, its interrupt
    /// bound to this dispatcher, the console rings of `listed` cores.
    pub fn take(kernel: Kernel, window: &mut Window, listed: usize) -> Result<Console> {
        let frame_slot = allocator::allocate_slot()?;
        let irq_slot = allocator::allocate_slot()?;
        let device = kernel.console(CPtr::slot(userland::cptr::ROOT_CNODE_SLOT), frame_slot, irq_slot)?;
        let address = window.map(&[frame_slot])? + device.offset;
        // SAFETY: the UART's page, just mapped (the kernel makes DevFrame
        // mappings device memory) for good.
        let uart = unsafe { Pl011::at(address) };
        UART.store(address, core::sync::atomic::Ordering::Release);
        userland::console::set_sink(own_print, panic_print);
        let irq = Irq::at(irq_slot);
        irq.bind(EVENT_CONSOLE as _)?;
        // SAFETY: this is the first program that just took the console,
        // and takes it once.
        let rings = unsafe { RingReader::new(listed) };
        let console = Console {
            uart,
            irq,
            rings,
            typing: Vec::new(),
            echoed: 0,
            escape: Escape::None,
            after_cr: false,
            lines: VecDeque::new(),
            reader: None,
            shown: Vec::new(),
            dropped: 0,
        };
        // Interrupts on received bytes and on a receive timeout.
        console.uart.write(pl011::IMSC, pl011::RX_INTERRUPTS);
        console.irq.ack()?;
        Ok(console)
    }

    fn put(&self, byte: u8) {
        self.uart.put(byte);
    }

    /// Writes `bytes`, `\n` as CR LF.
    fn put_all(&self, bytes: &[u8]) {
        for &byte in bytes {
            if byte == b'\n' {
                self.put(b'\r');
            }
            self.put(byte);
        }
    }

    /// Writes terminal text as it is, keeping track of the unfinished line.
    pub fn write(&mut self, text: &str) {
        self.put_all(text.as_bytes());
        self.remember(text.as_bytes());
    }

    fn remember(&mut self, bytes: &[u8]) {
        match bytes.iter().rposition(|&b| b == b'\n') {
            Some(end) => {
                self.shown.clear();
                self.shown.extend_from_slice(&bytes[end + 1..]);
            }
            None => self.shown.extend_from_slice(bytes),
        }
        if self.shown.len() > SHOWN_MAX {
            let cut = self.shown.len() - SHOWN_MAX;
            self.shown.drain(..cut);
        }
    }

    /// Writes one whole line above the unfinished one.
    fn line(&mut self, text: &[u8]) {
        if self.shown.is_empty() {
            self.put_all(text);
            self.put_all(b"\n");
        } else {
            self.put_all(b"\r\x1b[K");
            self.put_all(text);
            self.put_all(b"\n");
            let shown = core::mem::take(&mut self.shown);
            self.put_all(&shown);
            self.shown = shown;
        }
    }

    /// A whole typed line for the program whose wake-ups go to `wakeups`,
    /// or `None` (and it is woken when one is typed).
    ///
    /// Input is echoed only while a program reads: what was typed ahead
    /// is echoed when it is read (after the reader's prompt, where it
    /// belongs). While one program waits for a line, another's request
    /// gets none.
    pub fn take_line(&mut self, wakeups: Endpoint) -> Option<String> {
        // One reader at a time: while one waits, another gets nothing (and
        // is not woken); the reader keeps the terminal until it has a line
        // or ends.
        if self.reader.is_some_and(|r| r != wakeups) {
            return None;
        }
        match self.lines.pop_front() {
            Some((line, echoed)) => {
                if !echoed {
                    self.write(&line);
                    self.write("\n");
                }
                Some(line)
            }
            None => {
                self.reader = Some(wakeups);
                self.echo_typing();
                None
            }
        }
    }

    /// Echoes what was typed and not echoed yet.
    fn echo_typing(&mut self) {
        let text = String::from_utf8_lossy(&self.typing[self.echoed..]).into_owned();
        self.write(&text);
        self.echoed = self.typing.len();
    }

    /// The events endpoint of the program waiting for a line.
    pub fn reader(&self) -> Option<Endpoint> {
        self.reader
    }

    /// A program that ended no longer reads.
    pub fn forget_reader(&mut self, wakeups: Endpoint) {
        if self.reader == Some(wakeups) {
            self.reader = None;
        }
    }

    /// Everything the rings hold, written out (before a power-off).
    pub fn flush(&mut self) {
        while self.drain_rings() {}
    }

    /// Serves the UART and the rings; whether anything happened.
    pub fn poll(&mut self) -> bool {
        let mut progress = self.drain_rings();
        let frame = dispatch::own_frame();
        // The kernel masked the interrupt when it set the event, so it
        // cannot fire again before the `ack` below: reading and clearing
        // the bit here loses nothing.
        let fired = frame.is_some_and(|f| f.events() & (1 << EVENT_CONSOLE) != 0);
        if fired {
            if let Some(frame) = frame {
                frame.clear_events(1 << EVENT_CONSOLE);
            }
        }
        if fired || self.uart.read(pl011::FR) & pl011::FR_RXFE == 0 {
            // Cleared before the FIFO is read, so a byte that arrives while
            // it is read raises the interrupt again.
            self.uart.write(pl011::ICR, pl011::RX_INTERRUPTS);
            while let Some(byte) = self.uart.get() {
                self.typed(byte);
            }
            progress = true;
        }
        if fired {
            let _ = self.irq.ack();
        }
        progress
    }

    /// Lines from the rings (and this program's own); whether any came.
    fn drain_rings(&mut self) -> bool {
        let mut progress = false;
        let own: Vec<Vec<u8>> = OWN_LINES.lock().drain(..).collect();
        for text in own {
            self.line(&text);
            progress = true;
        }
        for core in 0..self.rings.cores() {
            while let Some(text) = self.rings.next_line(core) {
                self.line(&text);
                progress = true;
            }
        }
        progress
    }

    /// Backspace: the last typed byte goes (from the screen too if it was
    /// echoed).
    fn erase(&mut self) {
        if self.typing.pop().is_none() || self.echoed <= self.typing.len() {
            return;
        }
        self.echoed = self.typing.len();
        self.put_all(b"\x08 \x08");
        self.shown.pop();
    }

    /// One byte typed.
    fn typed(&mut self, byte: u8) {
        // Escape sequences (cursor keys and the like: ESC, then `[` or `O`
        // and parameters, up to a final byte) are dropped whole.
        match (self.escape, byte) {
            (Escape::None, 0x1b) => return self.escape = Escape::Started,
            (Escape::Started, b'[' | b'O') => return self.escape = Escape::Sequence,
            (Escape::Started, _) => return self.escape = Escape::None,
            (Escape::Sequence, 0x40..=0x7e) => return self.escape = Escape::None,
            (Escape::Sequence, _) => return,
            (Escape::None, _) => {}
        }
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match byte {
            b'\n' if after_cr => {}
            b'\r' | b'\n' => {
                let reading = self.reader.is_some();
                if reading {
                    self.echo_typing();
                    self.write("\n");
                }
                let line = String::from_utf8_lossy(&self.typing).into_owned();
                self.typing.clear();
                self.echoed = 0;
                if self.lines.len() < LINES_MAX {
                    self.lines.push_back((line, reading));
                } else {
                    // Nobody read the lines before: this one is dropped,
                    // with the bell.
                    self.dropped += 1;
                    self.put(0x07);
                }
                if let Some(reader) = self.reader.take() {
                    wake(reader);
                }
            }
            0x08 | 0x7f => self.erase(),
            0x20..=0x7e if self.typing.len() < LINE_MAX => {
                self.typing.push(byte);
                if self.reader.is_some() {
                    self.echo_typing();
                }
            }
            0x20..=0x7e => self.put(0x07),
            _ => {}
        }
    }
}

/// Wakes the reader whose events endpoint is `reader` (a full endpoint
/// means it has wake-ups waiting already).
fn wake(reader: Endpoint) {
    let _ = reader.send(&Message { words: [1, 0, 0, 0, 0, 0, 0, 0], cap: None }, false);
}
