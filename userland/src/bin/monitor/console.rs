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
use caps::abi::console::{END_OF_LINE, FRAGMENT_BYTES};
use caps::abi::layout::{CHANNEL_SLOTS, CONSOLE_RINGS};
use spin::Mutex;
use userland::cap::{Endpoint, Irq, Kernel, Message};
use userland::cptr::CPtr;
use userland::error::Result;
use userland::{allocator, dispatch, thread};

use crate::node::EVENT_CONSOLE;
use crate::window::Window;

/// PL011 registers (byte offsets) and bits.
const DR: usize = 0x00;
const FR: usize = 0x18;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const IMSC: usize = 0x38;
const ICR: usize = 0x44;
const RXIM: u32 = 1 << 4;
const RTIM: u32 = 1 << 6;
/// Longest input line (longer input is dropped, with a bell).
const LINE_MAX: usize = 255;
/// Whole input lines kept for a reader.
const LINES_MAX: usize = 16;
/// Bytes of the unfinished output line kept to draw it again.
const SHOWN_MAX: usize = 512;

type Ring = urpc::Ring<CHANNEL_SLOTS>;

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
    let uart = UART.load(core::sync::atomic::Ordering::Acquire);
    for &byte in line.iter().chain(b"\r\n") {
        // SAFETY: `uart` is the UART's register page, mapped as device
        // memory for good by `Console::take` before this sink was set.
        unsafe {
            while ((uart + FR) as *const u32).read_volatile() & FR_TXFF != 0 {
                core::hint::spin_loop();
            }
            ((uart + DR) as *mut u32).write_volatile(u32::from(byte));
        }
    }
}

/// The console server's state.
pub struct Console {
    uart: usize,
    irq: Irq,
    rings: Vec<urpc::Receiver<'static, CHANNEL_SLOTS>>,
    /// Each ring's line so far.
    partial: Vec<Vec<u8>>,
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
        let uart = window.map(&[frame_slot])? + device.offset;
        UART.store(uart, core::sync::atomic::Ordering::Release);
        userland::console::set_sink(own_print, panic_print);
        let irq = Irq::at(irq_slot);
        irq.bind(EVENT_CONSOLE as _)?;
        let rings = (0..listed)
            .map(|core| {
                let address = CONSOLE_RINGS as usize + core * core::mem::size_of::<Ring>();
                // SAFETY: the kernel maps the console rings of every listed
                // core read/write at `CONSOLE_RINGS` in every first program
                // for good; this monitor is the only reader of each (it took
                // the console), and the ring is used only through `urpc`'s
                // atomics, which tolerate a writer that misbehaves.
                let ring: &'static Ring = unsafe { &*(address as *const Ring) };
                ring.receiver()
            })
            .collect();
        let console = Console {
            uart,
            irq,
            rings,
            partial: (0..listed).map(|_| Vec::new()).collect(),
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
        console.set(IMSC, RXIM | RTIM);
        console.irq.ack()?;
        Ok(console)
    }

    fn get(&self, register: usize) -> u32 {
        // SAFETY: `uart` is the UART's register page, mapped as device
        // memory by `take` for good; the register is inside the page.
        unsafe { ((self.uart + register) as *const u32).read_volatile() }
    }

    fn set(&self, register: usize, value: u32) {
        // SAFETY: as in `get`.
        unsafe { ((self.uart + register) as *mut u32).write_volatile(value) }
    }

    fn put(&self, byte: u8) {
        while self.get(FR) & FR_TXFF != 0 {
            core::hint::spin_loop();
        }
        self.set(DR, u32::from(byte));
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
        if fired || self.get(FR) & FR_RXFE == 0 {
            // Cleared before the FIFO is read, so a byte that arrives while
            // it is read raises the interrupt again.
            self.set(ICR, RXIM | RTIM);
            while self.get(FR) & FR_RXFE == 0 {
                let byte = self.get(DR) as u8;
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
        for core in 0..self.rings.len() {
            while let Ok(message) = self.rings[core].try_recv() {
                progress = true;
                let header = message.words[0];
                let count = (header & 0xff).min(FRAGMENT_BYTES as u64) as usize;
                let mut bytes = [0u8; FRAGMENT_BYTES];
                for (i, word) in message.words[1..].iter().enumerate() {
                    bytes[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
                }
                self.partial[core].extend_from_slice(&bytes[..count]);
                if header & END_OF_LINE != 0 || self.partial[core].len() > SHOWN_MAX {
                    let text = core::mem::take(&mut self.partial[core]);
                    self.line(&text);
                }
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
