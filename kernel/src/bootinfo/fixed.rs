//! Fixed-capacity containers for boot information (no allocator at boot).

use super::{Region, MAX_REGIONS};

/// A string of at most `N` bytes, cut at a character boundary if longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedStr<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for FixedStr<N> {
    fn default() -> Self {
        Self { bytes: [0; N], len: 0 }
    }
}

impl<const N: usize> FixedStr<N> {
    /// Copies `text`, truncating at the last character boundary that fits.
    pub fn new(text: &str) -> Self {
        let mut len = text.len().min(N);
        while !text.is_char_boundary(len) {
            len -= 1;
        }
        let mut bytes = [0; N];
        bytes[..len].copy_from_slice(&text.as_bytes()[..len]);
        Self { bytes, len }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only whole characters of a `str` are ever copied in.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// Up to `MAX_REGIONS` regions; extra ones are counted in `dropped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegionList {
    items: [Region; MAX_REGIONS],
    len: usize,
    /// Regions that did not fit.
    pub dropped: usize,
}

impl RegionList {
    /// Appends a region (empty ones are ignored).
    pub fn push(&mut self, region: Region) {
        if region.size == 0 {
            return;
        }
        if self.len == MAX_REGIONS {
            self.dropped += 1;
            return;
        }
        self.items[self.len] = region;
        self.len += 1;
    }

    /// The regions kept.
    pub fn as_slice(&self) -> &[Region] {
        &self.items[..self.len]
    }

    /// Whether no region was kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
