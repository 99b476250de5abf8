//! The capability error enum, with fixed codes for the system-call ABI.

/// Every way a capability operation can fail.
///
/// The discriminants are stable system-call error codes (EL1 → EL0); `0` is
/// reserved for success and never used here. New variants take new numbers.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CapError {
    /// The CPtr is malformed: depth is 0 or above 64, or bits are set above
    /// its depth.
    InvalidCPtr = 1,
    /// The CPtr's remaining depth does not match the radix of a CNode on the
    /// lookup path.
    DepthMismatch = 2,
    /// The lookup would traverse more than [`crate::cspace::MAX_LOOKUP_LEVELS`]
    /// CNodes.
    DepthExceeded = 3,
    /// The addressed slot (final or intermediate) holds no capability.
    SlotEmpty = 4,
    /// The destination slot already holds a capability.
    SlotOccupied = 5,
    /// An intermediate slot or the lookup root holds a capability that is not
    /// a CNode.
    NotCNode = 6,
    /// The capability has the wrong type for the operation (e.g. retype of a
    /// Frame, or a badge on a non-endpoint).
    WrongType = 7,
    /// The capability lacks a right the operation needs.
    MissingRights = 8,
    /// The retype range overlaps a capability already derived from the same
    /// memory: no RAM is retyped twice.
    RetypeConflict = 9,
    /// The object size, count or range is not allowed or does not fit.
    InvalidSize = 10,
    /// The object base address is not aligned to the object size.
    InvalidAlignment = 11,
    /// A destination slot index lies outside its CNode.
    InvalidIndex = 12,
    /// The handle or object identity refers to a capability that has since
    /// been deleted or revoked.
    Stale = 13,
    /// The capability has descendants; revoke it first.
    HasDescendants = 14,
    /// The capability already carries a badge; badges are set once.
    AlreadyBadged = 15,
    /// The requested type cannot be created by retyping this source type.
    InvalidRetypeTarget = 16,
    /// The derivation tree is too deep to derive a further capability.
    DerivationTooDeep = 17,
    /// The slot store could not resolve a slot address (kernel bug or a
    /// corrupted CNode capability).
    BadSlotAddress = 18,
}

impl CapError {
    /// All variants, in code order.
    pub const ALL: [CapError; 18] = [
        Self::InvalidCPtr,
        Self::DepthMismatch,
        Self::DepthExceeded,
        Self::SlotEmpty,
        Self::SlotOccupied,
        Self::NotCNode,
        Self::WrongType,
        Self::MissingRights,
        Self::RetypeConflict,
        Self::InvalidSize,
        Self::InvalidAlignment,
        Self::InvalidIndex,
        Self::Stale,
        Self::HasDescendants,
        Self::AlreadyBadged,
        Self::InvalidRetypeTarget,
        Self::DerivationTooDeep,
        Self::BadSlotAddress,
    ];

    /// The system-call error code of this error.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The error with the given code, if any.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.code() == code)
    }
}

impl core::fmt::Display for CapError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(formatter, "{self:?} (capability error {})", self.code())
    }
}
