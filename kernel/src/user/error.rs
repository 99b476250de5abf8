//! System-call error codes (`docs/syscalls.md`): the `caps` crate's codes,
//! then the kernel's own from 32.

use caps::abi::KernelError;
use caps::CapError;

/// Why a system call failed; `code()` is what user space sees in x0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SysError {
    /// A capability operation failed (codes 1–31).
    Cap(CapError),
    /// The capability has no such method.
    InvalidMethod,
    /// An argument is out of range.
    InvalidArgument,
    /// A buffer is not user memory mapped readable.
    InvalidBuffer,
    /// The capability, or the table entry, is already mapped.
    AlreadyMapped,
    /// Nothing is mapped there.
    NotMapped,
    /// The child does not fit a table of this level.
    WrongLevel,
    /// The dispatcher was not set up (or cannot run now).
    NotSetUp,
    /// A per-core limit was reached.
    LimitReached,
    /// The endpoint has no receiver, or the caller is not it.
    NotBound,
    /// The endpoint's queue is full.
    EndpointFull,
    /// No message is queued.
    EndpointEmpty,
    /// The dispatcher cannot run now.
    NotRunnable,
    /// The endpoint (or interrupt, or console) is already bound.
    AlreadyBound,
    /// The console ring is full (`Kernel.print` after the handoff).
    Busy,
}

impl SysError {
    /// The code in x0.
    pub fn code(self) -> u64 {
        match self {
            SysError::Cap(error) => u64::from(error.code()),
            SysError::InvalidMethod => u64::from(KernelError::InvalidMethod.code()),
            SysError::InvalidArgument => u64::from(KernelError::InvalidArgument.code()),
            SysError::InvalidBuffer => u64::from(KernelError::InvalidBuffer.code()),
            SysError::AlreadyMapped => u64::from(KernelError::AlreadyMapped.code()),
            SysError::NotMapped => u64::from(KernelError::NotMapped.code()),
            SysError::WrongLevel => u64::from(KernelError::WrongLevel.code()),
            SysError::NotSetUp => u64::from(KernelError::NotSetUp.code()),
            SysError::LimitReached => u64::from(KernelError::LimitReached.code()),
            SysError::NotBound => u64::from(KernelError::NotBound.code()),
            SysError::EndpointFull => u64::from(KernelError::EndpointFull.code()),
            SysError::EndpointEmpty => u64::from(KernelError::EndpointEmpty.code()),
            SysError::NotRunnable => u64::from(KernelError::NotRunnable.code()),
            SysError::AlreadyBound => u64::from(KernelError::AlreadyBound.code()),
            SysError::Busy => u64::from(KernelError::Busy.code()),
        }
    }
}

impl From<CapError> for SysError {
    fn from(error: CapError) -> Self {
        SysError::Cap(error)
    }
}

/// A system call's outcome: up to three result words.
pub type SysResult = Result<[u64; 3], SysError>;
