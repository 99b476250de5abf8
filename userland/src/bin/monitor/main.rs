//! The per-core monitor (minimal): says it is up, then yields forever.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use userland::println;
use userland::syscall;

userland::entry!(main);

fn main(core: usize, cores: usize) -> i32 {
    println!("monitor: core {core} of {cores} up");
    loop {
        syscall::yield_now();
    }
}
