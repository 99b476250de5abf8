//! The payload encoding: fields in order, little-endian, naturally aligned.
//!
//! Each integer or `bool` sits at a multiple of its size; a fixed array puts
//! its elements one after the other at the element's alignment; a byte or
//! UTF-8 string is a `u16` length followed by the bytes from the next
//! multiple of 8. Padding is written as zero and ignored when read. The
//! payload's length is the end of its last field.

use crate::bytes::{Bytes, Str};
use crate::error::{ErrorCode, RpcError};

/// `position` rounded up to a multiple of `align` (a power of two; 0 counts
/// as 1).
#[inline(always)]
pub const fn align_up(position: usize, align: usize) -> usize {
    let mask = if align == 0 { 0 } else { align - 1 };
    (position + mask) & !mask
}

/// The low `size` bytes of `bits`.
#[inline(always)]
const fn low_bytes(bits: u64, size: usize) -> u64 {
    if size >= 8 {
        bits
    } else {
        bits & ((1 << (size * 8)) - 1)
    }
}

/// The largest end of a field of type `T` that starts at `position` or
/// before. Used to compute a message's maximum size at compile time.
#[inline(always)]
pub const fn max_end(position: usize, align: usize, max_size: usize) -> usize {
    align_up(position, align) + max_size
}

/// Reports [`RpcError::TooLong`] if `length` is above `bound`.
#[inline(always)]
pub const fn check_bound(length: usize, bound: usize) -> Result<(), RpcError> {
    if length > bound {
        return Err(RpcError::TooLong { length, bound });
    }
    Ok(())
}

/// Writes fields into zeroed payload words.
pub struct Writer<'a> {
    /// The payload words, zero where nothing was written yet.
    words: &'a mut [u64],
    /// The byte position of the next field.
    position: usize,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `words`, which must be zero. Writes past the
    /// end are dropped: size the words with [`Encode::end`] first.
    #[inline(always)]
    pub fn new(words: &'a mut [u64]) -> Self {
        Self { words, position: 0 }
    }

    /// The byte position of the next field.
    #[inline(always)]
    pub fn position(&self) -> usize {
        self.position
    }

    /// Writes the low `size` bytes of `bits` at the next multiple of `size`
    /// (1, 2, 4 or 8).
    #[inline(always)]
    pub fn scalar(&mut self, size: usize, bits: u64) {
        let start = align_up(self.position, size);
        if let Some(word) = self.words.get_mut(start / 8) {
            *word |= low_bytes(bits, size) << ((start % 8) * 8);
        }
        self.position = start + size;
    }

    /// Writes the fixed-size `value` at byte `position`, a multiple of its
    /// alignment (from [`fixed_positions`]): no alignment is computed, and
    /// with `position` known at compile time each word is written in one
    /// store. For generated code, with every field of fixed size.
    #[doc(hidden)]
    #[inline(always)]
    pub fn put<F: Fixed>(&mut self, value: &F, position: usize) {
        value.write(self.words, position);
        self.position = position + F::ALIGN * F::COUNT;
    }

    /// Writes a `u16` length and then `bytes` from the next multiple of 8
    /// (at most 65535 bytes: the interface bounds make sure).
    #[inline]
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.scalar(2, bytes.len() as u64);
        let start = align_up(self.position, 8);
        let words = self.words.get_mut(start / 8..).unwrap_or_default();
        for (word, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
            let mut little_endian = [0; 8];
            for (to, from) in little_endian.iter_mut().zip(chunk) {
                *to = *from;
            }
            *word = u64::from_le_bytes(little_endian);
        }
        self.position = start + bytes.len();
    }
}

/// Reads fields from a received payload, checking each.
pub struct Reader<'a> {
    /// The payload words.
    words: &'a [u64],
    /// The byte position of the next field.
    position: usize,
    /// The payload length in bytes.
    length: usize,
}

impl<'a> Reader<'a> {
    /// A reader of the first `length` bytes of `words`.
    #[inline(always)]
    pub fn new(words: &'a [u64], length: usize) -> Self {
        Self { words, position: 0, length }
    }

    /// Reads `size` bytes (1, 2, 4 or 8) at the next multiple of `size`.
    #[inline(always)]
    pub fn scalar(&mut self, size: usize) -> Result<u64, ErrorCode> {
        let start = align_up(self.position, size);
        let end = start + size;
        if end > self.length {
            return Err(ErrorCode::WrongLength);
        }
        let word = self.words.get(start / 8).ok_or(ErrorCode::WrongLength)?;
        self.position = end;
        Ok(low_bytes(word >> ((start % 8) * 8), size))
    }

    /// Reads a `u16` length, at most `N`, and that many bytes.
    #[inline]
    pub fn bytes<const N: usize>(&mut self) -> Result<Bytes<N>, ErrorCode> {
        let length = self.scalar(2)? as usize;
        if length > N {
            return Err(ErrorCode::OverBound);
        }
        let start = align_up(self.position, 8);
        let end = start + length;
        let words = self.words.get(start / 8..).unwrap_or_default();
        if end > self.length || end > start + words.len() * 8 {
            return Err(ErrorCode::WrongLength);
        }
        let mut data = [0; N];
        let used = data.get_mut(..length).unwrap_or_default();
        for (chunk, word) in used.chunks_mut(8).zip(words) {
            for (to, from) in chunk.iter_mut().zip(word.to_le_bytes()) {
                *to = from;
            }
        }
        self.position = end;
        Ok(Bytes::from_parts(length, data))
    }

    /// Checks that every byte of the payload was read.
    #[inline(always)]
    pub fn finish(self) -> Result<(), ErrorCode> {
        if self.position != self.length {
            return Err(ErrorCode::WrongLength);
        }
        Ok(())
    }
}

/// A field type that can be sent.
pub trait Encode {
    /// The byte position after this value if encoded at `position`.
    fn end(&self, position: usize) -> usize;
    /// Writes this value.
    fn encode(&self, writer: &mut Writer<'_>);
}

/// A field type that can be received.
pub trait Decode: Sized {
    /// Reads and checks one value.
    fn decode(reader: &mut Reader<'_>) -> Result<Self, ErrorCode>;
}

/// A field type's size bound, for computing message sizes at compile time.
pub trait Bounded {
    /// The alignment of the field's start, in bytes.
    const ALIGN: usize;
    /// An upper bound on the field's size (after its alignment), in bytes.
    const MAX_SIZE: usize;
}

/// An integer or `bool`: one naturally aligned little-endian value.
pub trait Scalar: Copy + Default {
    /// The size in bytes: 1, 2, 4 or 8.
    const SIZE: usize;
    /// The value's bytes, zero-extended.
    fn to_wire(self) -> u64;
    /// The value from its bytes (zero-extended), or why they are invalid.
    fn from_wire(bits: u64) -> Result<Self, ErrorCode>;
}

macro_rules! scalar {
    ($($type:ty => $unsigned:ty),* $(,)?) => {$(
        impl Scalar for $type {
            const SIZE: usize = core::mem::size_of::<$type>();

            #[inline(always)]
            fn to_wire(self) -> u64 {
                self as $unsigned as u64
            }

            #[inline(always)]
            fn from_wire(bits: u64) -> Result<Self, ErrorCode> {
                Ok(bits as $unsigned as $type)
            }
        }

        scalar_field!($type);
    )*};
}

macro_rules! scalar_field {
    ($type:ty) => {
        impl Encode for $type {
            #[inline(always)]
            fn end(&self, position: usize) -> usize {
                align_up(position, <$type as Scalar>::SIZE) + <$type as Scalar>::SIZE
            }

            #[inline(always)]
            fn encode(&self, writer: &mut Writer<'_>) {
                writer.scalar(<$type as Scalar>::SIZE, Scalar::to_wire(*self));
            }
        }

        impl Decode for $type {
            #[inline(always)]
            fn decode(reader: &mut Reader<'_>) -> Result<Self, ErrorCode> {
                Scalar::from_wire(reader.scalar(<$type as Scalar>::SIZE)?)
            }
        }

        impl Bounded for $type {
            const ALIGN: usize = <$type as Scalar>::SIZE;
            const MAX_SIZE: usize = <$type as Scalar>::SIZE;
        }
    };
}

scalar!(u8 => u8, u16 => u16, u32 => u32, u64 => u64, i8 => u8, i16 => u16, i32 => u32, i64 => u64);

impl Scalar for bool {
    const SIZE: usize = 1;

    #[inline(always)]
    fn to_wire(self) -> u64 {
        self as u64
    }

    #[inline(always)]
    fn from_wire(bits: u64) -> Result<Self, ErrorCode> {
        match bits {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(ErrorCode::InvalidBool),
        }
    }
}

scalar_field!(bool);

impl<T: Scalar, const N: usize> Encode for [T; N] {
    #[inline]
    fn end(&self, position: usize) -> usize {
        if N == 0 {
            return position;
        }
        align_up(position, T::SIZE) + N * T::SIZE
    }

    #[inline]
    fn encode(&self, writer: &mut Writer<'_>) {
        for element in self {
            writer.scalar(T::SIZE, element.to_wire());
        }
    }
}

impl<T: Scalar, const N: usize> Decode for [T; N] {
    #[inline]
    fn decode(reader: &mut Reader<'_>) -> Result<Self, ErrorCode> {
        let mut array = [T::default(); N];
        for element in &mut array {
            *element = T::from_wire(reader.scalar(T::SIZE)?)?;
        }
        Ok(array)
    }
}

impl<T: Scalar, const N: usize> Bounded for [T; N] {
    const ALIGN: usize = T::SIZE;
    const MAX_SIZE: usize = N * T::SIZE;
}

/// The bits of the `size`-byte value at byte `position` of `words` (zero
/// past their end).
#[inline(always)]
fn bits_at(words: &[u64], position: usize, size: usize) -> u64 {
    let word = match words.get(position / 8) {
        Some(word) => *word,
        None => 0,
    };
    low_bytes(word >> ((position % 8) * 8), size)
}

/// Stores the low `size` bytes of `bits` at byte `position` of `words`,
/// which are zero there (dropped past their end).
#[inline(always)]
fn store_at(words: &mut [u64], position: usize, size: usize, bits: u64) {
    if let Some(word) = words.get_mut(position / 8) {
        match size >= 8 {
            // The whole word: a plain store.
            true => *word = bits,
            false => *word |= low_bytes(bits, size) << ((position % 8) * 8),
        }
    }
}

/// A field of a fixed size (an integer, a `bool`, or an array of them),
/// read and written at a byte position known at compile time, straight in
/// a fragment's payload words: what generated code uses for messages whose
/// fields all have a fixed size. The encoding is that of [`Encode`] and
/// [`Decode`]; the positions come from [`fixed_positions`].
pub trait Fixed: Sized {
    /// The size of one element, which is also the alignment: 1, 2, 4 or 8.
    const ALIGN: usize;
    /// The number of elements: 1 for a scalar, `N` for `[T; N]`.
    const COUNT: usize;

    /// Reads and checks the value at byte `position` (a multiple of
    /// [`ALIGN`](Self::ALIGN)) of `words`, which must hold it whole (words
    /// past their end read as zero). Only `bool`s can be invalid.
    fn read(words: &[u64], position: usize) -> Result<Self, ErrorCode>;

    /// Writes the value at byte `position` (a multiple of
    /// [`ALIGN`](Self::ALIGN)) of `words`, which are zero there (what does
    /// not fit is dropped).
    fn write(&self, words: &mut [u64], position: usize);
}

impl<T: Scalar> Fixed for T {
    const ALIGN: usize = T::SIZE;
    const COUNT: usize = 1;

    #[inline(always)]
    fn read(words: &[u64], position: usize) -> Result<Self, ErrorCode> {
        T::from_wire(bits_at(words, position, T::SIZE))
    }

    #[inline(always)]
    fn write(&self, words: &mut [u64], position: usize) {
        store_at(words, position, T::SIZE, self.to_wire());
    }
}

impl<T: Scalar, const N: usize> Fixed for [T; N] {
    const ALIGN: usize = T::SIZE;
    const COUNT: usize = N;

    #[inline(always)]
    fn read(words: &[u64], position: usize) -> Result<Self, ErrorCode> {
        let mut array = [T::default(); N];
        let mut offset = position;
        for element in &mut array {
            *element = T::from_wire(bits_at(words, offset, T::SIZE))?;
            offset += T::SIZE;
        }
        Ok(array)
    }

    #[inline(always)]
    fn write(&self, words: &mut [u64], position: usize) {
        let mut offset = position;
        for element in self {
            store_at(words, offset, T::SIZE, element.to_wire());
            offset += T::SIZE;
        }
    }
}

/// The byte position of each field and the end of the last, for fields of
/// a fixed size given as `(ALIGN, COUNT)` of [`Fixed`] in declaration order.
const fn layout<const K: usize>(fields: [(usize, usize); K]) -> ([usize; K], usize) {
    let mut positions = [0; K];
    let mut end = 0;
    let mut index = 0;
    while index < K {
        let (align, count) = fields[index];
        // Where `Encode` puts it: an empty array takes no room, unaligned.
        let start = if count == 0 { end } else { align_up(end, align) };
        positions[index] = start;
        end = start + align * count;
        index += 1;
    }
    (positions, end)
}

/// The byte position of each field of a message whose fields all have a
/// fixed size, given as `(ALIGN, COUNT)` of [`Fixed`] in declaration order:
/// each at the next multiple of its alignment, as [`Encode`] places it.
pub const fn fixed_positions<const K: usize>(fields: [(usize, usize); K]) -> [usize; K] {
    layout(fields).0
}

/// The payload length in bytes of a message whose fields all have a fixed
/// size, given as for [`fixed_positions`]: the end of its last field, what
/// [`Encode::end`] gives field after field.
pub const fn fixed_length<const K: usize>(fields: [(usize, usize); K]) -> usize {
    layout(fields).1
}

/// The end of a byte string of `length` bytes encoded at `position`.
#[inline(always)]
const fn bytes_end(position: usize, length: usize) -> usize {
    align_up(align_up(position, 2) + 2, 8) + length
}

impl Encode for [u8] {
    #[inline]
    fn end(&self, position: usize) -> usize {
        bytes_end(position, self.len())
    }

    #[inline]
    fn encode(&self, writer: &mut Writer<'_>) {
        writer.bytes(self);
    }
}

impl Encode for str {
    #[inline]
    fn end(&self, position: usize) -> usize {
        bytes_end(position, self.len())
    }

    #[inline]
    fn encode(&self, writer: &mut Writer<'_>) {
        writer.bytes(self.as_bytes());
    }
}

impl<const N: usize> Encode for Bytes<N> {
    #[inline]
    fn end(&self, position: usize) -> usize {
        bytes_end(position, self.len())
    }

    #[inline]
    fn encode(&self, writer: &mut Writer<'_>) {
        writer.bytes(self.as_slice());
    }
}

impl<const N: usize> Encode for Str<N> {
    #[inline]
    fn end(&self, position: usize) -> usize {
        bytes_end(position, self.len())
    }

    #[inline]
    fn encode(&self, writer: &mut Writer<'_>) {
        writer.bytes(self.as_bytes());
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    #[inline(always)]
    fn end(&self, position: usize) -> usize {
        (**self).end(position)
    }

    #[inline(always)]
    fn encode(&self, writer: &mut Writer<'_>) {
        (**self).encode(writer);
    }
}

impl<const N: usize> Decode for Bytes<N> {
    #[inline]
    fn decode(reader: &mut Reader<'_>) -> Result<Self, ErrorCode> {
        reader.bytes()
    }
}

impl<const N: usize> Decode for Str<N> {
    #[inline]
    fn decode(reader: &mut Reader<'_>) -> Result<Self, ErrorCode> {
        let bytes = reader.bytes::<N>()?;
        if core::str::from_utf8(bytes.as_slice()).is_err() {
            return Err(ErrorCode::InvalidUtf8);
        }
        Ok(Str::from_checked(bytes))
    }
}

impl<const N: usize> Bounded for Bytes<N> {
    const ALIGN: usize = 2;
    /// The length, up to 6 bytes of padding and `N` bytes.
    const MAX_SIZE: usize = {
        assert!(N <= u16::MAX as usize, "Bytes<N> and Str<N> need N <= 65535");
        8 + N
    };
}

impl<const N: usize> Bounded for Str<N> {
    const ALIGN: usize = 2;
    const MAX_SIZE: usize = <Bytes<N> as Bounded>::MAX_SIZE;
}
