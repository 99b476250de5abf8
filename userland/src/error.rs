//! System-call error codes, fixed by `docs/syscalls.md`.

use core::fmt;

/// Result of a system call.
pub type Result<T> = core::result::Result<T, Error>;

/// Why the kernel refused a call: the code it returned in `x0`.
///
/// 1–18 are the `caps` crate's `CapError` codes, 32 and up the kernel's.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The capability pointer does not name a slot (e.g. index beyond the root CNode).
    InvalidCPtr = caps::CapError::InvalidCPtr as u32,
    /// The pointer's depth does not match the CNodes it walks through.
    DepthMismatch = caps::CapError::DepthMismatch as u32,
    /// The pointer's depth is larger than the CSpace allows.
    DepthExceeded = caps::CapError::DepthExceeded as u32,
    /// The slot holds no capability.
    SlotEmpty = caps::CapError::SlotEmpty as u32,
    /// The destination slot already holds a capability.
    SlotOccupied = caps::CapError::SlotOccupied as u32,
    /// A CNode was expected on the path or as destination.
    NotCNode = caps::CapError::NotCNode as u32,
    /// The capability has the wrong type for this operation.
    WrongType = caps::CapError::WrongType as u32,
    /// The capability lacks a right the operation needs.
    MissingRights = caps::CapError::MissingRights as u32,
    /// The memory was already retyped.
    RetypeConflict = caps::CapError::RetypeConflict as u32,
    /// The size (or count) is out of range or does not fit the source.
    InvalidSize = caps::CapError::InvalidSize as u32,
    /// The object base is not aligned to the object size.
    InvalidAlignment = caps::CapError::InvalidAlignment as u32,
    /// A slot index is out of range for its CNode.
    InvalidIndex = caps::CapError::InvalidIndex as u32,
    /// The capability refers to an object that no longer exists.
    Stale = caps::CapError::Stale as u32,
    /// The capability has descendants: revoke it first.
    HasDescendants = caps::CapError::HasDescendants as u32,
    /// The capability already carries a badge.
    AlreadyBadged = caps::CapError::AlreadyBadged as u32,
    /// The source cannot be retyped into the requested type.
    InvalidRetypeTarget = caps::CapError::InvalidRetypeTarget as u32,
    /// The derivation tree would become too deep.
    DerivationTooDeep = caps::CapError::DerivationTooDeep as u32,
    /// A slot address does not name a slot.
    BadSlotAddress = caps::CapError::BadSlotAddress as u32,
    /// The capability has no such method.
    InvalidMethod = caps::abi::KernelError::InvalidMethod as u32,
    /// An argument is out of range.
    InvalidArgument = caps::abi::KernelError::InvalidArgument as u32,
    /// A buffer is not mapped readable (or writable) at EL0.
    InvalidBuffer = caps::abi::KernelError::InvalidBuffer as u32,
    /// The capability or the table entry is already mapped.
    AlreadyMapped = caps::abi::KernelError::AlreadyMapped as u32,
    /// The table entry is not mapped.
    NotMapped = caps::abi::KernelError::NotMapped as u32,
    /// The child does not fit this table's level.
    WrongLevel = caps::abi::KernelError::WrongLevel as u32,
    /// The dispatcher has not been set up.
    NotSetUp = caps::abi::KernelError::NotSetUp as u32,
    /// A per-core limit was reached (e.g. live CNodes).
    LimitReached = caps::abi::KernelError::LimitReached as u32,
    /// The endpoint has no receiving dispatcher, or the caller is not it.
    NotBound = caps::abi::KernelError::NotBound as u32,
    /// The endpoint's queue is full; nothing was sent.
    EndpointFull = caps::abi::KernelError::EndpointFull as u32,
    /// No message is queued.
    EndpointEmpty = caps::abi::KernelError::EndpointEmpty as u32,
    /// The dispatcher cannot run now.
    NotRunnable = caps::abi::KernelError::NotRunnable as u32,
    /// The endpoint is already bound.
    AlreadyBound = caps::abi::KernelError::AlreadyBound as u32,
    /// The console ring is full (try again).
    Busy = caps::abi::KernelError::Busy as u32,
    /// The kernel returned a code this library does not know (not a kernel code).
    Unknown = u32::MAX,
}

impl Error {
    /// Every error the kernel can return, in code order.
    pub const ALL: [Error; 32] = [
        Error::InvalidCPtr,
        Error::DepthMismatch,
        Error::DepthExceeded,
        Error::SlotEmpty,
        Error::SlotOccupied,
        Error::NotCNode,
        Error::WrongType,
        Error::MissingRights,
        Error::RetypeConflict,
        Error::InvalidSize,
        Error::InvalidAlignment,
        Error::InvalidIndex,
        Error::Stale,
        Error::HasDescendants,
        Error::AlreadyBadged,
        Error::InvalidRetypeTarget,
        Error::DerivationTooDeep,
        Error::BadSlotAddress,
        Error::InvalidMethod,
        Error::InvalidArgument,
        Error::InvalidBuffer,
        Error::AlreadyMapped,
        Error::NotMapped,
        Error::WrongLevel,
        Error::NotSetUp,
        Error::LimitReached,
        Error::NotBound,
        Error::EndpointFull,
        Error::EndpointEmpty,
        Error::NotRunnable,
        Error::AlreadyBound,
        Error::Busy,
    ];

    /// The error for a nonzero `x0`; `None` for 0 (success) or an unknown code.
    pub fn from_code(code: usize) -> Option<Error> {
        Self::ALL.into_iter().find(|error| error.code() as usize == code)
    }

    /// The code the kernel uses for this error.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// Turns a raw `x0` into a result: 0 is success.
    pub fn check(code: usize) -> Result<()> {
        match code {
            0 => Ok(()),
            _ => Err(Self::from_code(code).unwrap_or(Error::Unknown)),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{self:?} ({})", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn codes_round_trip() {
        for error in Error::ALL {
            assert_eq!(Error::from_code(error.code() as usize), Some(error));
        }
        assert_eq!(Error::from_code(0), None);
        assert_eq!(Error::from_code(19), None);
        assert_eq!(Error::check(0), Ok(()));
        assert_eq!(Error::check(34), Err(Error::InvalidBuffer));
        assert_eq!(Error::check(99), Err(Error::Unknown));
    }

    #[test]
    fn fixed_codes() {
        assert_eq!(Error::SlotEmpty.code(), 4);
        assert_eq!(Error::BadSlotAddress.code(), 18);
        assert_eq!(Error::InvalidMethod.code(), 32);
        assert_eq!(Error::NotSetUp.code(), 38);
        assert_eq!(Error::AlreadyBound.code(), 44);
    }
}
