//! `true`: exits 0 at once (the program `test=monitor` spawns many times
//! in a row, to check that a monitor frees what it made for each).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

userland::entry!(main);

fn main(_core: usize, _cores: usize) -> i32 {
    0
}
