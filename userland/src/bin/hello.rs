//! `hello`: prints `hello from core <i>` and exits 0 (the program the
//! monitors spawn on every core in `test=monitor`). A spawned program's
//! Kernel capability has no write right: if it could take the monitor's
//! doorbell, wake another core or power off, `hello` exits 3 instead.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use userland::cap::Kernel;
use userland::println;

userland::entry!(main);

fn main(core: usize, _cores: usize) -> i32 {
    let kernel = Kernel::initial();
    if kernel.bind_doorbell(1).is_ok() || kernel.notify(core).is_ok() {
        return 3;
    }
    println!("hello from core {core}");
    0
}
