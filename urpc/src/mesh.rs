//! The layout of a mesh: one doorbell per core, then one channel per
//! unordered pair of cores `(i, j)`, `i < j`, in order, core `i` on side A.
//! Pure arithmetic (offsets from the region's start), so the CPU drivers and
//! user programs that map the same region agree on it.

use crate::{Channel, Doorbell, Side};

/// Channels among `cores` cores.
pub const fn pairs(cores: usize) -> usize {
    cores * cores.saturating_sub(1) / 2
}

/// Bytes of a mesh of `cores` cores with rings of `N` slots.
pub const fn size<const N: usize>(cores: usize) -> usize {
    cores * core::mem::size_of::<Doorbell>() + pairs(cores) * core::mem::size_of::<Channel<N>>()
}

/// Offset of core `core`'s doorbell.
pub const fn doorbell_offset(core: usize) -> usize {
    core * core::mem::size_of::<Doorbell>()
}

/// Offset of the channel between `a` and `b`, and the side `a` is on;
/// `None` unless `a != b` and both are below `cores`.
pub fn channel_offset<const N: usize>(cores: usize, a: usize, b: usize) -> Option<(usize, Side)> {
    if a == b || a >= cores || b >= cores {
        return None;
    }
    let (low, high) = (a.min(b), a.max(b));
    let pair = low * cores - low * (low + 1) / 2 + (high - low - 1);
    let offset = cores * core::mem::size_of::<Doorbell>() + pair * core::mem::size_of::<Channel<N>>();
    Some((offset, if a == low { Side::A } else { Side::B }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_pair_has_its_own_channel_inside_the_region() {
        for cores in 1..=20 {
            let mut seen = BTreeSet::new();
            for a in 0..cores {
                for b in 0..cores {
                    let found = channel_offset::<64>(cores, a, b);
                    if a == b {
                        assert!(found.is_none());
                        continue;
                    }
                    let (offset, side) = found.unwrap();
                    let (back, other) = channel_offset::<64>(cores, b, a).unwrap();
                    assert_eq!(offset, back);
                    assert_ne!(side, other);
                    assert!(offset + core::mem::size_of::<Channel<64>>() <= size::<64>(cores));
                    assert!(offset >= doorbell_offset(cores));
                    seen.insert(offset);
                }
            }
            assert_eq!(seen.len(), pairs(cores));
        }
        assert_eq!(channel_offset::<64>(4, 4, 0), None);
    }
}
