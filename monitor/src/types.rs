//! Small identifier and set types shared by the protocol.

use core::fmt;

/// The largest number of cores (and monitors) the protocol supports.
pub const MAX_CORES: usize = 64;

/// A core, and the monitor running on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CoreId(pub u8);

impl CoreId {
    /// The core number as an index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A set of cores, as a 64-bit mask (bit `i` is core `i`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CoreSet(pub u64);

impl CoreSet {
    /// The empty set.
    pub const EMPTY: CoreSet = CoreSet(0);

    /// Cores `0..n`.
    pub const fn first_n(n: usize) -> CoreSet {
        if n >= 64 {
            CoreSet(u64::MAX)
        } else {
            CoreSet((1u64 << n) - 1)
        }
    }

    /// The set holding only `core`.
    pub const fn single(core: CoreId) -> CoreSet {
        CoreSet(1 << core.0)
    }

    /// Whether `core` is in the set.
    pub const fn contains(self, core: CoreId) -> bool {
        self.0 & (1 << core.0) != 0
    }

    /// Adds `core`.
    pub fn insert(&mut self, core: CoreId) {
        self.0 |= 1 << core.0;
    }

    /// Removes `core`.
    pub fn remove(&mut self, core: CoreId) {
        self.0 &= !(1 << core.0);
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of cores in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The lowest-numbered core in the set.
    pub fn first(self) -> Option<CoreId> {
        if self.0 == 0 {
            None
        } else {
            Some(CoreId(self.0.trailing_zeros() as u8))
        }
    }

    /// The cores in the set, in increasing order (one step per member).
    pub fn iter(self) -> impl Iterator<Item = CoreId> {
        let mut rest = self.0;
        core::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let core = rest.trailing_zeros() as u8;
            rest &= rest - 1;
            Some(CoreId(core))
        })
    }
}

/// The identity of a capability object, unique system-wide: the creating
/// core in the upper 32 bits and a per-core counter in the lower 32 bits, so
/// no coordination is needed to allocate one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjId(pub u64);

/// The identity of an operation: the core that started it and a per-core
/// counter. Completions are reported under this id on the starting core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId {
    /// The core whose monitor started the operation.
    pub core: CoreId,
    /// Per-core sequence number.
    pub n: u32,
}

/// A contiguous range of RAM units (a unit is a fixed-size block of physical
/// memory; unit `u` covers `[u * UNIT, (u + 1) * UNIT)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RamRange {
    /// First unit.
    pub base: u32,
    /// Number of units.
    pub count: u32,
}

impl RamRange {
    /// The units in the range.
    pub fn units(self) -> core::ops::Range<u32> {
        self.base..self.base.saturating_add(self.count)
    }
}

/// A service name in the registry: up to 16 bytes, zero-padded.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(pub [u8; 16]);

impl Name {
    /// A name from a string; bytes past the 16th are dropped.
    pub fn new(s: &str) -> Name {
        let mut bytes = [0u8; 16];
        for (dst, src) in bytes.iter_mut().zip(s.bytes()) {
            *dst = src;
        }
        Name(bytes)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(16);
        match core::str::from_utf8(&self.0[..len]) {
            Ok(s) => write!(f, "Name({s:?})"),
            Err(_) => write!(f, "Name({:?})", self.0),
        }
    }
}

/// Where a registered service is reached: a core and an endpoint number on
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    /// The core the service runs on.
    pub core: CoreId,
    /// The service's endpoint on that core.
    pub port: u32,
}

/// What a capability object *is*, recorded in the replicated state so that
/// any core's monitor can materialise its own copy: a `kind` (the caller's
/// numbering of capability types, e.g. a Frame) and the physical memory it
/// covers, `bytes` bytes from `base`. The protocol never interprets it; it is
/// part of the [`Replica::digest`](crate::Replica::digest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CapDesc {
    /// The kind of object (meaning chosen by the user of the crate).
    pub kind: u8,
    /// Physical base address.
    pub base: u64,
    /// Size in bytes.
    pub bytes: u64,
}

/// A 64-bit hash of a replica's state; equal on every monitor that applied
/// the same prefix of the update log. Displays as 16 lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(pub u64);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}
