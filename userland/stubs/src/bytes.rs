//! `Bytes<N>` and `Str<N>`: inline byte and UTF-8 strings of bounded length.

use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;

use crate::error::ValueError;

/// A byte string of at most `N` bytes, stored inline (no heap).
///
/// `N` is at most 65535 (the wire's length prefix is 16 bits; larger bounds
/// fail to compile when used in an interface).
#[derive(Clone, Copy)]
pub struct Bytes<const N: usize> {
    /// The used length, at most `N`.
    length: usize,
    /// The contents; bytes past `length` are zero.
    data: [u8; N],
}

impl<const N: usize> Bytes<N> {
    /// The capacity, `N`.
    pub const CAPACITY: usize = N;

    /// An empty byte string.
    pub const fn new() -> Self {
        Self { length: 0, data: [0; N] }
    }

    /// A copy of `bytes`, or [`ValueError::TooLong`] if longer than `N`.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ValueError> {
        let mut value = Self::new();
        value.extend_from_slice(bytes)?;
        Ok(value)
    }

    /// The contents.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        self.data.get(..self.length).unwrap_or_default()
    }

    /// The contents, to change in place (the length stays).
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.data.get_mut(..self.length).unwrap_or_default()
    }

    /// The length in bytes.
    #[inline]
    pub const fn len(&self) -> usize {
        self.length
    }

    /// Whether the byte string is empty.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Appends `bytes`, or reports [`ValueError::TooLong`] and leaves the
    /// contents alone.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<(), ValueError> {
        let end = self.length + bytes.len();
        let too_long = ValueError::TooLong { length: end, capacity: N };
        self.data.get_mut(self.length..end).ok_or(too_long)?.copy_from_slice(bytes);
        self.length = end;
        Ok(())
    }

    /// Appends one byte, or reports [`ValueError::TooLong`].
    pub fn push(&mut self, byte: u8) -> Result<(), ValueError> {
        self.extend_from_slice(&[byte])
    }

    /// Empties the byte string.
    pub fn clear(&mut self) {
        self.as_mut_slice().fill(0);
        self.length = 0;
    }

    /// The whole buffer and the length, for the decoder: it fills the first
    /// `length` bytes.
    pub(crate) fn from_parts(length: usize, data: [u8; N]) -> Self {
        Self { length: length.min(N), data }
    }
}

impl<const N: usize> Default for Bytes<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Deref for Bytes<N> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<const N: usize> AsRef<[u8]> for Bytes<N> {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<const N: usize> TryFrom<&[u8]> for Bytes<N> {
    type Error = ValueError;

    fn try_from(bytes: &[u8]) -> Result<Self, ValueError> {
        Self::from_slice(bytes)
    }
}

impl<const N: usize> PartialEq for Bytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> Eq for Bytes<N> {}

impl<const N: usize> Hash for Bytes<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<const N: usize> fmt::Debug for Bytes<N> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), formatter)
    }
}

/// A UTF-8 string of at most `N` bytes, stored inline (no heap).
///
/// `N` is at most 65535, as for [`Bytes`].
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Str<const N: usize> {
    /// The bytes; always UTF-8.
    bytes: Bytes<N>,
}

impl<const N: usize> Str<N> {
    /// The capacity in bytes, `N`.
    pub const CAPACITY: usize = N;

    /// An empty string.
    pub const fn new() -> Self {
        Self { bytes: Bytes::new() }
    }

    /// A copy of `text`, or [`ValueError::TooLong`] if longer than `N` bytes.
    pub fn from_text(text: &str) -> Result<Self, ValueError> {
        Ok(Self { bytes: Bytes::from_slice(text.as_bytes())? })
    }

    /// A copy of `bytes` if they are UTF-8 and fit.
    pub fn from_utf8(bytes: &[u8]) -> Result<Self, ValueError> {
        let text = core::str::from_utf8(bytes).map_err(|_| ValueError::InvalidUtf8)?;
        Self::from_text(text)
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        // The bytes are UTF-8 by construction; the fallback is never taken.
        core::str::from_utf8(self.bytes.as_slice()).unwrap_or_default()
    }

    /// The string's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    /// The length in bytes.
    #[inline]
    pub const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the string is empty.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Appends `text`, or reports [`ValueError::TooLong`] and leaves the
    /// contents alone.
    pub fn push_str(&mut self, text: &str) -> Result<(), ValueError> {
        self.bytes.extend_from_slice(text.as_bytes())
    }

    /// Empties the string.
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Wraps decoded bytes already checked to be UTF-8.
    pub(crate) fn from_checked(bytes: Bytes<N>) -> Self {
        Self { bytes }
    }
}

impl<const N: usize> Deref for Str<N> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> AsRef<str> for Str<N> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> TryFrom<&str> for Str<N> {
    type Error = ValueError;

    fn try_from(text: &str) -> Result<Self, ValueError> {
        Self::from_text(text)
    }
}

impl<const N: usize> core::str::FromStr for Str<N> {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        Self::from_text(text)
    }
}

impl<const N: usize> fmt::Debug for Str<N> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), formatter)
    }
}

impl<const N: usize> fmt::Display for Str<N> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}
