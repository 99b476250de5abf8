//! On-target test of the system-call ABI (`test=user`): capabilities, the
//! self-built heap, and faults of child dispatchers.
//!
//! Prints `test user: <case>: ok|FAILED (<detail>)` per case, then
//! `test user: <N> passed, <M> failed`, then powers the machine off.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]
// Failure details are 256-byte stack lines (the heap is itself under test);
// their size in `Err` costs nothing that matters here.
#![allow(clippy::result_large_err)]

extern crate alloc;

mod check;
mod faults;
mod limits;
mod memory;
mod negative;
mod positive;

use check::Report;
use userland::cap::Kernel;

userland::entry!(main);

fn main(core: usize, cores: usize) -> i32 {
    let mut report = Report::new(core, cores);
    positive::run(&mut report);
    negative::run(&mut report);
    faults::run(&mut report);
    limits::run(&mut report);
    report.summary();
    Kernel::initial().power_off()
}
