//! `hello`: prints `hello from core <i>` and exits (the program the
//! monitors spawn on every core in `test=monitor`).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use userland::println;

userland::entry!(main);

fn main(core: usize, _cores: usize) -> i32 {
    println!("hello from core {core}");
    0
}
