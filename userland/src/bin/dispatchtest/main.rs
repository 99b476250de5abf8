//! `test=dispatch`: dispatchers, upcalls, the core-local scheduler, user
//! threads and LMP on one core. Prints `test dispatch: <case>: ok|FAILED
//! (<detail>)` per case and `test dispatch: N passed, M failed`, then
//! powers off.
//!
//! The other dispatchers it makes share this program's address space (its
//! code, statics and heap), each with a CSpace of its own
//! (`userland::sibling`).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]
// Failure details are 256-byte stack lines; their size in `Err` costs
// nothing that matters here.
#![allow(clippy::result_large_err)]

extern crate alloc;

mod children;
mod fp;
mod lmp;
mod sched;
mod threads;

use userland::cap::Kernel;
use userland::console::LineBuffer;
use userland::dispatch;
use userland::heap;
use userland::sibling::{Sibling, Siblings};
use userland::{println, Result};

userland::entry!(main);

/// What a case returns: `Err` carries the failure detail.
pub type Outcome = core::result::Result<(), LineBuffer>;

/// Builds a failure detail with `format!` syntax.
macro_rules! detail {
    ($($argument:tt)*) => {
        userland::console::LineBuffer::format(format_args!($($argument)*))
    };
}
pub(crate) use detail;

/// A failure detail from a system-call error.
pub fn step<T>(what: &str, result: Result<T>) -> core::result::Result<T, LineBuffer> {
    result.map_err(|error| detail!("{what}: {error}"))
}

/// Success if `condition` holds.
pub fn ensure(condition: bool, what: impl FnOnce() -> LineBuffer) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}

/// What the cases share: the maker of sibling dispatchers.
pub struct Setup {
    /// Makes dispatchers that share this address space.
    pub siblings: Siblings,
}

/// The slots of a child's CSpace.
pub use userland::sibling::slot as child_slot;

/// A dispatcher made by the test.
pub type Child = Sibling;

/// Makes a dispatcher sharing this address space with its own CSpace, its
/// own stack and its frame mapped, set up to start at `entry(frame, core)`.
pub fn child(setup: &mut Setup, entry: extern "C" fn(usize, usize) -> !) -> Result<Child> {
    setup.siblings.make(entry)
}

/// The report.
pub struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    /// Runs `case` and prints its line.
    pub fn case(&mut self, setup: &mut Setup, name: &str, case: impl FnOnce(&mut Setup) -> Outcome) {
        match case(setup) {
            Ok(()) => {
                self.passed += 1;
                println!("test dispatch: {name}: ok");
            }
            Err(detail) => {
                self.failed += 1;
                println!("test dispatch: {name}: FAILED ({detail})");
            }
        }
    }
}

fn prepare() -> Result<Setup> {
    let heap = heap::init(160)?;
    let siblings = Siblings::new(&heap, 2)?;
    let own = dispatch::own_frame().ok_or(userland::Error::NotSetUp)?;
    userland::thread::init(own)?;
    Ok(Setup { siblings })
}

fn main(_core: usize, _cores: usize) -> i32 {
    let mut report = Report { passed: 0, failed: 0 };
    match prepare() {
        Ok(mut setup) => {
            lmp::run(&mut report, &mut setup);
            threads::run(&mut report, &mut setup);
            sched::run(&mut report, &mut setup);
            children::run(&mut report, &mut setup);
        }
        Err(error) => {
            report.failed += 1;
            println!("test dispatch: setup: FAILED ({error})");
        }
    }
    println!("test dispatch: {} passed, {} failed", report.passed, report.failed);
    Kernel::initial().power_off()
}
