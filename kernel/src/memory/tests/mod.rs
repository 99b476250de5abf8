//! Host tests of free-RAM computation and per-core partitioning.

extern crate std;
use super::*;
use proptest::prelude::*;

const SMP8: &[u8] = include_bytes!("../../../tests/dtb/virt-gicv3-smp8.dtb");
const SOC: &[u8] = include_bytes!("../../../tests/dtb/soc-ranges.dtb");

fn r(base: u64, size: u64) -> Region {
    Region { base, size }
}

#[test]
fn virt_free_ram_excludes_image_and_blob() {
    let info = crate::bootinfo::parse(SMP8, 0x4000_0000).unwrap();
    let free = free_ram(&info, &[r(0x4020_0000, 0x5_0000)]);
    assert_eq!(free.as_slice(), &[r(0x4001_0000, 0x1f_0000), r(0x4025_0000, 0x3fdb_0000)]);
}

#[test]
fn pi_like_free_ram_skips_reserved() {
    let info = crate::bootinfo::parse(SOC, 0x0800_0000).unwrap();
    let free = free_ram(&info, &[r(0x20_0000, 0x8_0000)]);
    assert!(!free.is_empty());
    for region in free.as_slice() {
        assert!(!region.overlaps(&r(0x3000_0000, 0x400_0000)));
        assert!(!region.overlaps(&r(0, 0x1000)));
        assert!(!region.overlaps(&r(0x0270_0000, 0x1_0000)));
        assert!(!region.overlaps(&r(0x20_0000, 0x8_0000)));
    }
}

#[test]
fn carve_takes_first_fit() {
    let mut free = RegionList::default();
    free.push(r(0, 0x1_0000));
    free.push(r(0x10_0000, 0x10_0000));
    assert_eq!(carve(&mut free, 0x2_0000), Some(r(0x10_0000, 0x2_0000)));
    assert_eq!(free.as_slice(), &[r(0, 0x1_0000), r(0x12_0000, 0xe_0000)]);
    assert_eq!(carve(&mut free, 0x100_0000), None);
}

#[test]
fn too_little_ram_is_refused() {
    let mut free = RegionList::default();
    free.push(r(0, 0x4_0000));
    assert!(partition(&free, 8, 0x1_0000).is_none());
}

proptest! {
    /// Partitions are disjoint, inside free RAM, equal in size, and each
    /// first piece holds `first_piece_min`.
    #[test]
    fn partitions_are_disjoint_and_equal(
        sizes in proptest::collection::vec(1u64..64, 1..5),
        cores in 1usize..20,
    ) {
        let mut free = RegionList::default();
        let mut base = 0;
        for s in sizes {
            free.push(r(base, s * GRANULE * 4));
            base += s * GRANULE * 4 + GRANULE * 3;
        }
        if let Some(parts) = partition(&free, cores, GRANULE) {
            let share = parts[0].size();
            let mut all = std::vec::Vec::new();
            for p in &parts[..cores] {
                prop_assert_eq!(p.size(), share);
                prop_assert!(p.pieces()[0].size >= GRANULE);
                for piece in p.pieces() {
                    prop_assert!(free.as_slice().iter().any(|f| f.base <= piece.base && piece.end() <= f.end()));
                    all.push(*piece);
                }
            }
            for (i, a) in all.iter().enumerate() {
                for b in &all[i + 1..] {
                    prop_assert!(!a.overlaps(b));
                }
            }
        }
    }
}
