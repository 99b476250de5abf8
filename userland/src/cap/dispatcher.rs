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
    /// Its last capability was deleted while it ran.
    Destroyed,
}

/// `Dispatcher.status`: its state and, once ended, how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// 0 empty, 1 set up, 2 runnable, 3 running, 4 blocked, 5 ended.
    pub state: usize,
    /// Once ended: 0 exited, 1 faulted, 2 destroyed.
    pub outcome: usize,
    /// The exit status or fault syndrome.
    pub value: usize,
}

impl Status {
    /// Whether it has ended.
    pub const fn ended(self) -> bool {
        self.state == 5
    }
}

impl RunOutcome {
    /// The exception class (ESR bits 31:26) of a fault, `None` after an exit.
    pub const fn exception_class(self) -> Option<usize> {
        match self {
            RunOutcome::Exited(_) | RunOutcome::Destroyed => None,
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
    /// its entry point and its initial stack pointer. It starts with `x0` =
    /// 0 (no dispatcher frame address) and `x1` = the core number.
    pub fn setup(self, cspace: CPtr, vspace: CPtr, entry: usize, stack_pointer: usize) -> Result<()> {
        self.setup_with_frame(cspace, vspace, entry, stack_pointer, 0)
    }

    /// Like [`setup`](Self::setup), telling the kernel where the dispatcher
    /// frame is mapped in its address space (`frame_va`, passed in `x0` at
    /// start and in every upcall).
    pub fn setup_with_frame(
        self,
        cspace: CPtr,
        vspace: CPtr,
        entry: usize,
        stack_pointer: usize,
        frame_va: usize,
    ) -> Result<()> {
        self.setup_flagged(cspace, vspace, entry, stack_pointer, frame_va, 0)
    }

    /// Like `setup_with_frame`, for a program started at its ELF entry:
    /// it gets the first program's registers (x0 = core, x1 = cores online,
    /// x2 = `frame_va`) instead of a sibling's.
    pub fn setup_program(
        self,
        cspace: CPtr,
        vspace: CPtr,
        entry: usize,
        stack_pointer: usize,
        frame_va: usize,
    ) -> Result<()> {
        let flag = caps::abi::method::dispatcher::PROGRAM_ENTRY as usize;
        self.setup_flagged(cspace, vspace, entry, stack_pointer, frame_va, flag)
    }

    fn setup_flagged(
        self,
        cspace: CPtr,
        vspace: CPtr,
        entry: usize,
        stack_pointer: usize,
        frame_va: usize,
        flag: usize,
    ) -> Result<()> {
        let arguments = [cspace.raw(), vspace.raw(), entry, stack_pointer, frame_va, flag];
        self.invoke(dispatcher::SETUP, arguments).map(drop)
    }

    /// Starts it if it is only set up, and waits until it ends (exits,
    /// faults without a handler, or is destroyed).
    pub fn run(self) -> Result<RunOutcome> {
        let [kind, status_or_esr, far] = self.invoke(dispatcher::RUN, [0; 6])?;
        Ok(match kind {
            0 => RunOutcome::Exited(status_or_esr),
            1 => RunOutcome::Faulted { esr: status_or_esr, far },
            _ => RunOutcome::Destroyed,
        })
    }

    /// Makes it runnable; the caller goes on. When it ends, the caller gets
    /// the child event (bit 63 of its `events`).
    pub fn start(self) -> Result<()> {
        self.invoke(dispatcher::START, [0; 6]).map(drop)
    }

    /// Its state and outcome.
    pub fn status(self) -> Result<Status> {
        let [state, outcome, value] = self.invoke(dispatcher::STATUS, [0; 6])?;
        Ok(Status { state, outcome, value })
    }

    /// Names it (up to 16 bytes) in the kernel's `exit:`/`fault:` lines
    /// (`setup` gives it its creator's name: name it after `setup`).
    pub fn set_name(self, name: &str) -> Result<()> {
        let mut bytes = [0u8; 16];
        for (dst, src) in bytes.iter_mut().zip(name.bytes()) {
            *dst = src;
        }
        let (lo, hi) = bytes.split_at(8);
        let word = |b: &[u8]| usize::from_le_bytes(b.try_into().unwrap_or_default());
        self.invoke(dispatcher::NAME, [word(lo), word(hi), 0, 0, 0, 0]).map(drop)
    }

    /// Sets its priority (0 to 31; higher runs first; 16 by default).
    pub fn set_priority(self, priority: usize) -> Result<()> {
        self.invoke(dispatcher::SET_PRIORITY, [priority, 0, 0, 0, 0, 0]).map(drop)
    }

    /// Directed yield: it runs now, the caller stays runnable.
    pub fn yield_to(self) -> Result<()> {
        self.invoke(dispatcher::YIELD_TO, [0; 6]).map(drop)
    }
}
