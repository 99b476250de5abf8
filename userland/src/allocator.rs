//! Bump allocators for root CNode slots and for offsets inside the RAM cap.
//!
//! Nothing is ever returned: programs here are short-lived and the kernel
//! checks every use anyway. Atomics keep the global allocators safe without a
//! lock (children sharing the address space do not allocate).

use crate::cptr::{FIRST_FREE_SLOT, ROOT_CNODE_SLOTS};
use crate::error::{Error, Result};
use core::sync::atomic::{AtomicUsize, Ordering};

/// Hands out aligned ranges of `[start, end)` in increasing order.
#[derive(Debug)]
pub struct BumpAllocator {
    next: AtomicUsize,
    end: usize,
}

impl BumpAllocator {
    /// An allocator for `[start, end)`.
    pub const fn new(start: usize, end: usize) -> BumpAllocator {
        BumpAllocator { next: AtomicUsize::new(start), end }
    }

    /// The start of a fresh range of `size` units aligned to `align` (a power
    /// of two), or `None` when the space is exhausted.
    pub fn allocate(&self, size: usize, align: usize) -> Option<usize> {
        debug_assert!(align.is_power_of_two());
        let mut current = self.next.load(Ordering::Relaxed);
        loop {
            let start = current.checked_add(align - 1)? & !(align - 1);
            let end = start.checked_add(size).filter(|end| *end <= self.end)?;
            match self.next.compare_exchange_weak(current, end, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Some(start),
                Err(actual) => current = actual,
            }
        }
    }

    /// The next unit that would be handed out (before alignment).
    pub fn peek(&self) -> usize {
        self.next.load(Ordering::Relaxed)
    }
}

/// Free slots of the root CNode: 7 to 255.
static SLOTS: BumpAllocator = BumpAllocator::new(FIRST_FREE_SLOT, ROOT_CNODE_SLOTS);

/// Byte offsets inside the initial RAM capability (slot 4); its size is not
/// known here, the kernel refuses a retype past the end (`InvalidSize`).
static RAM_OFFSETS: BumpAllocator = BumpAllocator::new(0, usize::MAX);

/// A free slot of the root CNode (`InvalidIndex` when all are used).
pub fn allocate_slot() -> Result<usize> {
    SLOTS.allocate(1, 1).ok_or(Error::InvalidIndex)
}

/// A fresh offset in the initial RAM for an object of `1 << size_bits`
/// bytes, aligned to its size (`InvalidSize` on overflow).
///
/// The alignment is relative to the RAM's base; the kernel checks the
/// physical base, which is a multiple of 2 MiB (`docs/syscalls.md`), so
/// objects up to 2 MiB come out aligned.
pub fn allocate_ram(size_bits: u32) -> Result<usize> {
    let size = 1usize.checked_shl(size_bits).ok_or(Error::InvalidSize)?;
    RAM_OFFSETS.allocate(size, size).ok_or(Error::InvalidSize)
}

#[cfg(test)]
mod tests {
    use super::BumpAllocator;

    #[test]
    fn slots_are_consecutive_until_full() {
        let slots = BumpAllocator::new(7, 10);
        assert_eq!(slots.allocate(1, 1), Some(7));
        assert_eq!(slots.allocate(1, 1), Some(8));
        assert_eq!(slots.allocate(1, 1), Some(9));
        assert_eq!(slots.allocate(1, 1), None);
    }

    #[test]
    fn ranges_are_aligned_to_their_size() {
        let ram = BumpAllocator::new(0, 1 << 20);
        assert_eq!(ram.allocate(4096, 4096), Some(0));
        assert_eq!(ram.allocate(64, 64), Some(4096));
        assert_eq!(ram.allocate(16384, 16384), Some(16384));
        assert_eq!(ram.peek(), 32768);
        assert_eq!(ram.allocate(1 << 20, 1 << 20), None);
    }

    #[test]
    fn overflow_is_refused() {
        let ram = BumpAllocator::new(usize::MAX - 10, usize::MAX);
        assert_eq!(ram.allocate(4096, 4096), None);
    }
}
