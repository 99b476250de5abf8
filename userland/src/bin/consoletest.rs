//! On-target test of the console handoff (`test=console`, boot core only):
//! takes the console (`Kernel.console`), maps the UART's DevFrame, reads
//! the kernel's lines back from the console rings, fills its ring until
//! `Kernel.print` is `Busy`, and reads a line of input through the UART's
//! interrupt.
//!
//! Prints (on the UART itself, once it has it) `test console: <case>:
//! ok|FAILED (<detail>)` per case, what it read (`console input: <text>`),
//! every line drained from the rings, then `test console: <N> passed, <M>
//! failed`, and powers the machine off.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use caps::abi::layout::CHANNEL_SLOTS;
use core::fmt::Write;
use userland::allocator::allocate_slot;
use userland::cap::{CNode, Irq, Kernel};
use userland::console::RingReader;
use userland::dispatch::{own_frame, EVENT_CHILD};
use userland::heap::{self, HeapTables, L2_ENTRY_SIZE};
use userland::pl011::{self, Pl011};
use userland::rights::Rights;
use userland::sibling::Siblings;
use userland::{object, syscall, thread, Error};

userland::entry!(main);

/// The dispatcher event the UART's interrupt sets.
const IRQ_EVENT: usize = 5;
/// What the test harness types once it sees the waiting line.
const INPUT: &str = "hello console";
type Outcome = Result<(), String>;

macro_rules! detail {
    ($($argument:tt)*) => { alloc::format!($($argument)*) };
}

/// The test's state: where its lines go, the rings' receivers, the counts.
struct Test {
    core: usize,
    kernel: Kernel,
    /// The UART's registers once mapped.
    uart: Option<Pl011>,
    /// Lines made while the kernel no longer prints and the UART is not
    /// mapped yet.
    pending: Vec<String>,
    handed_over: bool,
    rings: RingReader,
    passed: usize,
    failed: usize,
}

impl Test {
    fn line(&mut self, text: &str) {
        match self.uart {
            Some(uart) => uart_line(uart, text),
            None if !self.handed_over => {
                let _ = self.kernel.print(text.as_bytes());
            }
            None => self.pending.push(String::from(text)),
        }
    }

    fn case(&mut self, name: &str, outcome: Outcome) {
        let mut line = String::new();
        match outcome {
            Ok(()) => {
                self.passed += 1;
                let _ = write!(line, "test console: {name}: ok");
            }
            Err(detail) => {
                self.failed += 1;
                let _ = write!(line, "test console: {name}: FAILED ({detail})");
            }
        }
        self.line(&line);
    }

    /// Takes every complete line waiting in core `core`'s ring.
    fn drain(&mut self, core: usize) -> Vec<String> {
        let mut lines = Vec::new();
        while let Some(text) = self.rings.next_line(core) {
            lines.push(String::from_utf8_lossy(&text).into_owned());
        }
        lines
    }

    /// Drains every ring and writes what came to the UART (the driver's
    /// job); returns this core's lines.
    fn echo_all(&mut self) -> Vec<String> {
        let mut own = Vec::new();
        for core in 0..self.rings.cores() {
            for text in self.drain(core) {
                self.line(&text);
                if core == self.core {
                    own.push(text);
                }
            }
        }
        own
    }
}

fn main(core: usize, _cores: usize) -> i32 {
    let kernel = Kernel::initial();
    let Ok(tables) = heap::init(64) else {
        userland::println!("test console: heap: FAILED");
        kernel.power_off()
    };
    let listed = kernel.system().map_or(1, |s| s.listed);
    // SAFETY: the first program of this core, which takes the console
    // before it reads (`run`), once.
    let rings = unsafe { RingReader::new(listed) };
    let mut test = Test {
        core,
        kernel,
        uart: None,
        pending: Vec::new(),
        handed_over: false,
        rings,
        passed: 0,
        failed: 0,
    };
    run(&mut test, &tables);
    let _ = test.echo_all();
    let summary = alloc::format!("test console: {} passed, {} failed", test.passed, test.failed);
    test.line(&summary);
    kernel.power_off()
}

fn run(test: &mut Test, tables: &HeapTables) {
    let root = CNode::root();
    let (frame_slot, irq_slot, read_only) = match (allocate_slot(), allocate_slot(), allocate_slot()) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        _ => return test.case("slots", Err(detail!("no free slots"))),
    };
    let outcome = root
        .mint(read_only, test.kernel.cptr(), Rights::READ, 0)
        .map_err(|e| detail!("mint: {e}"))
        .and_then(|()| {
            expect(Kernel::at(read_only).console(root.cptr(), frame_slot, irq_slot), Error::MissingRights)
        });
    test.case("console from a read-only kernel cap refused", outcome);

    let device = match test.kernel.console(root.cptr(), frame_slot, irq_slot) {
        Ok(device) => device,
        Err(error) => return test.case("console handed over", Err(detail!("{error}"))),
    };
    test.handed_over = true;
    let valid = device.offset < 4096 && device.intid >= 32;
    test.case("console handed over", ensure(valid, || detail!("{device:?}")));
    let again = test.kernel.console(root.cptr(), frame_slot + 100, irq_slot + 100);
    test.case("second console refused", expect(again, Error::AlreadyBound));

    let Some(uart) = map_uart(test, tables, frame_slot, device.offset) else { return };
    test.uart = Some(uart);
    for line in core::mem::take(&mut test.pending) {
        uart_line(uart, &line);
    }
    uart_line(uart, "console: written by consoletest through the DevFrame");

    let irq = Irq::at(irq_slot);
    test.case("irq ack before bind refused", expect(irq.ack(), Error::NotBound));
    test.case("irq bind with a bad event refused", expect(irq.bind(63), Error::InvalidArgument));
    test.case("irq bind", irq.bind(IRQ_EVENT).map_err(|e| detail!("{e}")));

    let _ = test.echo_all();
    let outcome = print_comes_back(test, "console ring check 42");
    test.case("print arrives in the ring", outcome);
    let long: String = (0..200).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let outcome = print_comes_back(test, &long);
    test.case("long print arrives whole", outcome);
    let mut siblings = Siblings::new(tables, 3);
    let outcome = kernel_line_comes_back(test, siblings.as_mut().ok());
    test.case("kernel line arrives in the ring", outcome);
    let outcome = fill_until_busy(test, siblings.as_mut().ok());
    test.case("full ring: print busy, kernel line lost and counted", outcome);
    let outcome = read_input(test, uart, irq);
    test.case("input through the interrupt", outcome);
}

/// Maps the DevFrame in a new L3 table (entry 1 of the heap's L2): not
/// executable, not at L2, then read/write; unmapped and mapped again.
fn map_uart(test: &mut Test, tables: &HeapTables, frame_slot: usize, offset: usize) -> Option<Pl011> {
    let frame = userland::cptr::CPtr::slot(frame_slot);
    let l3 =
        match object::vnode(3).and_then(|l3| tables.l2.map(l3.cptr(), 1, Rights::READ_WRITE).map(|()| l3)) {
            Ok(l3) => l3,
            Err(error) => {
                test.case("devframe mapped", Err(detail!("L3: {error}")));
                return None;
            }
        };
    let executable = l3.map(frame, 0, Rights::READ_WRITE | Rights::EXECUTE);
    test.case("devframe executable refused", expect(executable, Error::InvalidArgument));
    test.case(
        "devframe at L2 refused",
        expect(tables.l2.map(frame, 2, Rights::READ_WRITE), Error::WrongLevel),
    );
    let mapped = l3
        .map(frame, 0, Rights::READ_WRITE)
        .and_then(|()| l3.unmap(frame))
        .and_then(|()| l3.map(frame, 0, Rights::READ_WRITE));
    test.case("devframe mapped, unmapped, mapped", mapped.map_err(|e| detail!("{e}")));
    // SAFETY: the UART's page, mapped above as device memory for good.
    mapped.ok().map(|()| unsafe { Pl011::at(tables.base + L2_ENTRY_SIZE + offset) })
}

/// `Kernel.print(text)` then the same text, with this core's prefix, from
/// this core's ring.
fn print_comes_back(test: &mut Test, text: &str) -> Outcome {
    test.kernel.print(text.as_bytes()).map_err(|e| detail!("print: {e}"))?;
    let lines = test.echo_all();
    let [line] = lines.as_slice() else { return Err(detail!("{} lines came back", lines.len())) };
    check_prefixed(test.core, line, text)
}

/// Whether `line` is `[c<core> <secs>.<6 digits>] <text>`.
fn check_prefixed(core: usize, line: &str, text: &str) -> Outcome {
    let prefix = alloc::format!("[c{core} ");
    let rest = line.strip_prefix(prefix.as_str()).ok_or_else(|| detail!("prefix of {line:?}"))?;
    let (time, body) = rest.split_once("] ").ok_or_else(|| detail!("no ] in {line:?}"))?;
    let (seconds, micros) = time.split_once('.').ok_or_else(|| detail!("time {time:?}"))?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    ensure(digits(seconds) && micros.len() == 6 && digits(micros), || detail!("time {time:?}"))?;
    ensure(body == text, || detail!("text {body:?}"))
}

extern "C" fn exit_seven(_frame: usize, _core: usize) -> ! {
    syscall::exit(7)
}

/// Starts a sibling that exits 7 with nobody waiting in `Dispatcher.run`,
/// so that the kernel prints its `exit:` line; waits until it ended.
fn child_exits(siblings: Option<&mut Siblings>) -> Outcome {
    let siblings = siblings.ok_or_else(|| detail!("no siblings"))?;
    let sibling = siblings.make(exit_seven).map_err(|e| detail!("make: {e}"))?;
    let frame = own_frame().ok_or_else(|| detail!("no frame"))?;
    sibling.dispatcher.start().map_err(|e| detail!("start: {e}"))?;
    let deadline = thread::counter() + 5 * thread::frequency();
    while frame.events() & EVENT_CHILD == 0 && thread::counter() < deadline {
        syscall::wait(deadline);
    }
    frame.clear_events(EVENT_CHILD);
    Ok(())
}

/// A kernel `exit:` line comes back through this core's ring.
fn kernel_line_comes_back(test: &mut Test, siblings: Option<&mut Siblings>) -> Outcome {
    child_exits(siblings)?;
    let lines = test.echo_all();
    let expected = alloc::format!("exit: core={} program=consoletest status=7", test.core);
    let [line] = lines.as_slice() else { return Err(detail!("{} lines came back", lines.len())) };
    check_prefixed(test.core, line, &expected)
}

/// Prints 100-byte lines until `Busy` (nothing of the refused line may be
/// in the ring); a kernel line made then is lost and counted; after the
/// drain, the next print comes after `console: 1 lines lost`.
fn fill_until_busy(test: &mut Test, siblings: Option<&mut Siblings>) -> Outcome {
    let text: String = (0..100).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
    let mut printed = 0;
    let busy = loop {
        match test.kernel.print(text.as_bytes()) {
            Ok(()) if printed < CHANNEL_SLOTS => printed += 1,
            Ok(()) => break None,
            Err(error) => break Some(error),
        }
    };
    ensure(busy == Some(Error::Busy), || detail!("after {printed} prints: {busy:?}"))?;
    child_exits(siblings)?;
    let own = test.echo_all();
    ensure(own.len() == printed, || detail!("{printed} printed, {} came back", own.len()))?;
    for line in &own {
        check_prefixed(test.core, line, &text)?;
    }
    test.kernel.print(b"after the flood").map_err(|e| detail!("print after drain: {e}"))?;
    let own = test.echo_all();
    let [lost, line] = own.as_slice() else { return Err(detail!("{} lines after the drain", own.len())) };
    check_prefixed(test.core, lost, "console: 1 lines lost")?;
    check_prefixed(test.core, line, "after the flood")
}

/// Enables the UART's receive interrupts, asks the harness for a line,
/// and reads it: wait for the event, read the FIFO, clear, ack.
fn read_input(test: &mut Test, uart: Pl011, irq: Irq) -> Outcome {
    let frame = own_frame().ok_or_else(|| detail!("no frame"))?;
    while uart.get().is_some() {}
    uart.write(pl011::ICR, pl011::ALL_INTERRUPTS);
    uart.write(pl011::IMSC, pl011::RX_INTERRUPTS);
    test.line("test console: waiting for input");
    let deadline = thread::counter() + 30 * thread::frequency();
    let bit = 1u64 << IRQ_EVENT;
    let mut input = Vec::new();
    let mut interrupts = 0;
    while !input.contains(&b'\r') && !input.contains(&b'\n') && thread::counter() < deadline {
        if frame.events() & bit == 0 {
            syscall::wait(deadline);
            continue;
        }
        frame.clear_events(bit);
        interrupts += 1;
        while let Some(byte) = uart.get() {
            input.push(byte);
        }
        uart.write(pl011::ICR, pl011::ALL_INTERRUPTS);
        irq.ack().map_err(|e| detail!("ack: {e}"))?;
    }
    uart.write(pl011::IMSC, 0);
    let text = String::from_utf8_lossy(&input);
    let text = text.trim_end_matches(['\r', '\n']);
    test.line(&alloc::format!("console input: {text}"));
    ensure(interrupts > 0, || detail!("no interrupt"))?;
    ensure(text == INPUT, || detail!("read {text:?} after {interrupts} interrupts"))
}

/// Writes `text` and a line end to the UART.
fn uart_line(uart: Pl011, text: &str) {
    text.bytes().chain(*b"\r\n").for_each(|byte| uart.put(byte));
}

fn expect<T: core::fmt::Debug>(result: userland::Result<T>, expected: Error) -> Outcome {
    match result {
        Err(error) if error == expected => Ok(()),
        Err(error) => Err(detail!("got {error}, expected {expected}")),
        Ok(value) => Err(detail!("succeeded ({value:?}), expected {expected}")),
    }
}

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}
