//! The monitor: every core's first program. It holds this core's replica of
//! the system's global state (RAM ownership, capability locations, the name
//! registry, the online cores) and keeps it consistent with the other
//! monitors' through the protocol of the `monitor` crate, over one URPC
//! channel per pair of monitors (generated `MonitorLink` stubs), woken by
//! doorbells when idle.
//!
//! At boot the monitors shake hands over every channel; the boot core's
//! prints `monitors: <up>/<online> up channels=<n*(n-1)/2>`. Then they
//! serve, or, with the boot argument `test=monitor`, run the on-target test
//! (`selftest`), or with `monitor=bench` the agreement benchmarks (`bench`).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

mod bench;
mod bind;
mod console;
mod node;
mod pool;
mod programs;
mod selftest;
mod span;
mod window;

use node::Node;
use userland::cap::Kernel;
use userland::{heap, println};

userland::entry!(main);

/// Heap pages (the sequencer keeps the whole log).
const HEAP_PAGES: usize = 96;
/// The heap's L2 entry for the spawner's scratch page.
const SPAWN_L2_ENTRY: usize = 10;
/// The heap's L2 entry for the console's UART mapping.
const CONSOLE_L2_ENTRY: usize = 11;
/// The first program of a serving system (on the boot core).
const INIT: &str = "init";
/// How long the boot handshake may take.
const HANDSHAKE_MS: u64 = 5_000;

/// What the boot arguments ask the monitors to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Serve,
    Test,
    Bench,
}

/// Whether a boot argument is there.
fn bootarg(kernel: Kernel, wanted: &str) -> bool {
    let mut buffer = [0u8; 512];
    let length = kernel.bootargs(&mut buffer).unwrap_or(0).min(buffer.len());
    let line = core::str::from_utf8(&buffer[..length]).unwrap_or("");
    line.split_ascii_whitespace().any(|word| word == wanted)
}

impl Mode {
    fn read(kernel: Kernel) -> Mode {
        if bootarg(kernel, "test=monitor") {
            Mode::Test
        } else if bootarg(kernel, "monitor=bench") {
            Mode::Bench
        } else {
            Mode::Serve
        }
    }
}

fn main(core: usize, _cores: usize) -> i32 {
    let kernel = Kernel::initial();
    let mode = Mode::read(kernel);
    let heap = match heap::init(HEAP_PAGES) {
        Ok(heap) => heap,
        Err(error) => {
            println!("monitor: core {core}: no heap: {error:?}");
            return fail(kernel, core, mode);
        }
    };
    let mut node = match Node::start(core, kernel) {
        Ok(node) => node,
        Err(error) => {
            println!("monitor: core {core}: cannot start: {error:?}");
            return fail(kernel, core, mode);
        }
    };
    match userland::spawn::Spawner::new(&heap, SPAWN_L2_ENTRY) {
        Ok(spawner) => node.spawner = Some(spawner),
        Err(error) => println!("monitor: core {core}: cannot spawn programs: {error:?}"),
    }
    let up = node.handshake(HANDSHAKE_MS);
    if core == node.system.boot {
        let n = node.online();
        println!("monitors: {up}/{n} up channels={}", n * (n - 1) / 2);
        let live = monitor::CoreSet(node.system.online);
        let depth = node.topology.depth(monitor::SEQUENCER, live);
        let sizes: alloc::vec::Vec<alloc::string::String> =
            node.clusters.iter().map(|s| alloc::format!("{s}")).collect();
        println!("monitor: broadcast tree: clusters {}, depth {depth}", sizes.join("+"));
    }
    match mode {
        Mode::Serve => {
            if core == node.system.boot {
                start_console(&mut node, &heap);
            }
            node.serve()
        }
        Mode::Test => selftest::run(&mut node, &heap),
        Mode::Bench => bench::run(&mut node),
    }
}

/// On the boot core of a serving system: takes the console and starts
/// `init` (which starts the shell).
fn start_console(node: &mut Node, heap: &heap::HeapTables) {
    if bootarg(node.kernel, "console=kernel") {
        println!("monitor: console=kernel: the kernel keeps the console (no shell input)");
    } else {
        let taken = window::Window::new(heap, CONSOLE_L2_ENTRY)
            .and_then(|mut window| console::Console::take(node.kernel, &mut window, node.system.listed));
        match taken {
            Ok(console) => node.console = Some(console),
            Err(error) => println!("monitor: cannot take the console: {error:?}; the kernel keeps it"),
        }
    }
    if userland::spawn::find(INIT).is_err() {
        println!("monitor: no {INIT} program in the boot modules");
        return;
    }
    let (lo, hi) = node::pack_name(INIT);
    let request = node::Control { op: node::SPAWN, a: lo, b: hi, ..node::Control::default() };
    node.links.control(node.me, request);
}

/// A monitor that cannot start: in a test or benchmark run the boot core
/// reports the failure and powers off (nothing would finish otherwise).
fn fail(kernel: Kernel, core: usize, mode: Mode) -> i32 {
    let boot = kernel.system().map_or(0, |s| s.boot);
    if core == boot && mode != Mode::Serve {
        match mode {
            Mode::Test => println!("test monitor: 0 passed, 1 failed"),
            _ => println!("error: bench: monitors did not start"),
        }
        kernel.power_off();
    }
    1
}
