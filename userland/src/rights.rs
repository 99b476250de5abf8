//! Capability rights bits, as in `docs/syscalls.md`.

use core::ops::BitOr;

/// A set of rights: what a capability (or a mapping) allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rights(usize);

impl Rights {
    /// No rights.
    pub const NONE: Rights = Rights(0);
    /// Read the object; map it readable.
    pub const READ: Rights = Rights(1);
    /// Write the object; map it writable, retype RAM, fill a CNode.
    pub const WRITE: Rights = Rights(2);
    /// Map the object executable.
    pub const EXECUTE: Rights = Rights(4);
    /// Transfer capabilities through the object.
    pub const GRANT: Rights = Rights(8);
    /// Read and write: what data mappings use.
    pub const READ_WRITE: Rights = Rights(1 | 2);
    /// Every right.
    pub const ALL: Rights = Rights(1 | 2 | 4 | 8);

    /// The rights among `bits` (others are dropped).
    pub const fn from_bits_truncate(bits: usize) -> Rights {
        Rights(bits & Self::ALL.0)
    }

    /// The register value.
    pub const fn bits(self) -> usize {
        self.0
    }

    /// Whether every right in `other` is in `self`.
    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Rights {
    type Output = Rights;

    fn bitor(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Rights;

    #[test]
    fn bits() {
        assert_eq!((Rights::READ | Rights::WRITE).bits(), 3);
        assert_eq!(Rights::READ_WRITE, Rights::READ | Rights::WRITE);
        assert!(Rights::READ_WRITE.contains(Rights::READ));
        assert!(!Rights::READ.contains(Rights::WRITE));
        assert_eq!(Rights::GRANT.bits() | Rights::EXECUTE.bits(), 12);
    }
}
