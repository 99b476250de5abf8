//! The test report: one line per case, the totals, and result helpers.

use core::fmt::Debug;
use userland::cap::{Frame, VNode};
use userland::console::LineBuffer;
use userland::heap::HeapTables;
use userland::{println, Error, Result};

/// What a case returns: `Err` carries the failure detail.
pub type Outcome = core::result::Result<(), LineBuffer>;

/// A step's value, or the detail of the failure.
pub type Step<T> = core::result::Result<T, LineBuffer>;

/// Builds a failure detail with `format!` syntax.
macro_rules! detail {
    ($($argument:tt)*) => {
        userland::console::LineBuffer::format(format_args!($($argument)*))
    };
}
pub(crate) use detail;

/// State shared by the cases, and the counts.
pub struct Report {
    /// Core number from `x0`.
    pub core: usize,
    /// Core count from `x1`.
    pub cores: usize,
    /// The heap's tables, once the heap case succeeded.
    pub heap: Option<HeapTables>,
    /// An L3 table of the test's own at L2 entry 1 with `frame` at entry 0.
    pub mapped: Option<(VNode, Frame)>,
    passed: usize,
    failed: usize,
}

impl Report {
    /// A report with no cases yet.
    pub fn new(core: usize, cores: usize) -> Report {
        Report { core, cores, heap: None, mapped: None, passed: 0, failed: 0 }
    }

    /// Runs `case` and prints its line.
    pub fn case(&mut self, name: &str, case: impl FnOnce(&mut Report) -> Outcome) {
        match case(self) {
            Ok(()) => {
                self.passed += 1;
                println!("test user: {name}: ok");
            }
            Err(detail) => {
                self.failed += 1;
                println!("test user: {name}: FAILED ({detail})");
            }
        }
    }

    /// Prints the verdict line.
    pub fn summary(&self) {
        println!("test user: {} passed, {} failed", self.passed, self.failed);
    }

    /// The heap's tables, or a failure if the heap case failed.
    pub fn heap(&self) -> Step<HeapTables> {
        self.heap.ok_or_else(|| detail!("needs the heap"))
    }

    /// The test's L3 table and its mapped frame, or a failure.
    pub fn mapped(&self) -> Step<(VNode, Frame)> {
        self.mapped.ok_or_else(|| detail!("needs the mapped frame"))
    }
}

/// `result`'s value, or a failure naming `what`.
pub fn step<T>(what: &str, result: Result<T>) -> Step<T> {
    result.map_err(|error| detail!("{what}: {error}"))
}

/// Success if `result` is exactly the error `expected`.
pub fn expect_error<T: Debug>(what: &str, result: Result<T>, expected: Error) -> Outcome {
    match result {
        Err(error) if error == expected => Ok(()),
        Err(error) => Err(detail!("{what}: got {error}, expected {expected}")),
        Ok(value) => Err(detail!("{what}: succeeded ({value:?}), expected {expected}")),
    }
}

/// Success if `condition` holds, else a failure with `what`.
pub fn ensure(condition: bool, what: impl FnOnce() -> LineBuffer) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}
