//! Dispatcher capabilities: set up and run a child on this core.

use super::handle;
use crate::cptr::{CPtr, DISPATCHER_SLOT};
use crate::error::Result;
use crate::method::dispatcher;

handle!(
    /// A dispatcher: the per-core face of a program.
    Dispatcher
);

/// How `Dispatcher.run` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// The child called `EXIT` with this status.
    Exited(usize),
    /// The child faulted.
    Faulted {
        /// The fault's syndrome (`ESR_EL1`).
        esr: usize,
        /// The faulting address (`FAR_EL1`), meaningful for aborts.
        far: usize,
    },
}

impl RunOutcome {
    /// The exception class (ESR bits 31:26) of a fault, `None` after an exit.
    pub const fn exception_class(self) -> Option<usize> {
        match self {
            RunOutcome::Exited(_) => None,
            RunOutcome::Faulted { esr, .. } => Some((esr >> 26) & 0x3f),
        }
    }
}

impl Dispatcher {
    /// The program's own dispatcher (slot 3).
    pub const fn own() -> Dispatcher {
        Dispatcher::at(DISPATCHER_SLOT)
    }

    /// Gives the dispatcher its CSpace root, its VSpace root (an L0 VNode),
    /// its entry point and its initial stack pointer.
    pub fn setup(self, cspace: CPtr, vspace: CPtr, entry: usize, stack_pointer: usize) -> Result<()> {
        self.invoke(dispatcher::SETUP, [cspace.raw(), vspace.raw(), entry, stack_pointer, 0, 0]).map(drop)
    }

    /// Runs the dispatcher on this core until it exits or faults.
    pub fn run(self) -> Result<RunOutcome> {
        let [kind, status_or_esr, far] = self.invoke(dispatcher::RUN, [0; 6])?;
        Ok(match kind {
            0 => RunOutcome::Exited(status_or_esr),
            _ => RunOutcome::Faulted { esr: status_or_esr, far },
        })
    }
}
