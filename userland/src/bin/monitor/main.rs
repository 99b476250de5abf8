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
mod node;
mod pool;
mod selftest;
mod window;

use node::Node;
use userland::cap::Kernel;
use userland::{heap, println};

userland::entry!(main);

/// Heap pages (the sequencer keeps the whole log).
const HEAP_PAGES: usize = 96;
/// The heap's L2 entry for the spawner's scratch page.
const SPAWN_L2_ENTRY: usize = 10;
/// How long the boot handshake may take.
const HANDSHAKE_MS: u64 = 5_000;

/// What the boot arguments ask the monitors to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Serve,
    Test,
    Bench,
}

impl Mode {
    fn read(kernel: Kernel) -> Mode {
        let mut buffer = [0u8; 512];
        let length = kernel.bootargs(&mut buffer).unwrap_or(0).min(buffer.len());
        let line = core::str::from_utf8(&buffer[..length]).unwrap_or("");
        let mut mode = Mode::Serve;
        for word in line.split_ascii_whitespace() {
            match word {
                "test=monitor" => mode = Mode::Test,
                "monitor=bench" => mode = Mode::Bench,
                _ => {}
            }
        }
        mode
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
        Mode::Serve => node.serve(),
        Mode::Test => selftest::run(&mut node, &heap),
        Mode::Bench => bench::run(&mut node),
    }
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
