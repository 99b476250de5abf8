//! Physical memory at boot: what RAM is free, and its split into one
//! partition per core (each core's kernel data, stack and monitor RAM).

use crate::bootinfo::{BootInfo, Region, RegionList, MAX_CPUS, MAX_REGIONS};

/// Partitions are cut in multiples of this (64 KiB).
pub const GRANULE: u64 = 1 << 16;
/// Most pieces one partition is made of.
pub const MAX_PIECES: usize = 4;

/// One core's RAM: up to `MAX_PIECES` ranges, in address order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Partition {
    pieces: [Region; MAX_PIECES],
    count: usize,
}

impl Partition {
    /// The ranges.
    pub fn pieces(&self) -> &[Region] {
        &self.pieces[..self.count]
    }

    /// Total bytes.
    pub fn size(&self) -> u64 {
        self.pieces().iter().map(|p| p.size).sum()
    }

    fn push(&mut self, region: Region) -> bool {
        if self.count == MAX_PIECES {
            return false;
        }
        self.pieces[self.count] = region;
        self.count += 1;
        true
    }
}

fn align_up(value: u64, align: u64) -> u64 {
    value.div_ceil(align) * align
}

/// RAM minus reserved regions, the blob, the initrd and `also_used`
/// (the kernel image), trimmed to whole granules.
pub fn free_ram(info: &BootInfo, also_used: &[Region]) -> RegionList {
    let mut used = RegionList::default();
    for region in info.reserved.as_slice().iter().chain(also_used).chain(info.initrd.iter()) {
        used.push(*region);
    }
    used.push(info.dtb);
    let mut free = RegionList::default();
    for ram in info.memory.as_slice() {
        subtract(*ram, used.as_slice(), &mut free);
    }
    free
}

/// Pushes the parts of `ram` not covered by `used` into `out`, trimmed to
/// whole granules.
fn subtract(ram: Region, used: &[Region], out: &mut RegionList) {
    let mut pieces = [Region::default(); MAX_REGIONS * 2];
    let mut count = 1;
    pieces[0] = ram;
    for hole in used {
        let mut next = [Region::default(); MAX_REGIONS * 2];
        let mut kept = 0;
        let mut keep = |region: Region| {
            if region.size > 0 && kept < next.len() {
                next[kept] = region;
                kept += 1;
            }
        };
        for piece in &pieces[..count] {
            if !piece.overlaps(hole) {
                keep(*piece);
                continue;
            }
            keep(Region { base: piece.base, size: hole.base.saturating_sub(piece.base) });
            keep(Region { base: hole.end(), size: piece.end().saturating_sub(hole.end()) });
        }
        pieces = next;
        count = kept;
    }
    for piece in &pieces[..count] {
        let base = align_up(piece.base, GRANULE);
        let end = piece.end() & !(GRANULE - 1);
        if end > base {
            out.push(Region { base, size: end - base });
        }
    }
}

/// Takes `size` bytes (rounded up to a granule) from the first region that
/// has them.
pub fn carve(free: &mut RegionList, size: u64) -> Option<Region> {
    let size = align_up(size, GRANULE);
    let mut rest = RegionList::default();
    let mut taken = None;
    for region in free.as_slice() {
        if taken.is_none() && region.size >= size {
            taken = Some(Region { base: region.base, size });
            rest.push(Region { base: region.base + size, size: region.size - size });
        } else {
            rest.push(*region);
        }
    }
    *free = rest;
    taken
}

/// Splits free RAM into `cores` partitions of equal size (in granules),
/// handing out regions in address order. Every partition's first piece is
/// at least `first_piece_min` bytes (it holds the core's stack and data);
/// returns `None` when RAM is too small for that.
pub fn partition(free: &RegionList, cores: usize, first_piece_min: u64) -> Option<[Partition; MAX_CPUS]> {
    let mut out = [Partition::default(); MAX_CPUS];
    let cores = cores.clamp(1, MAX_CPUS);
    let total: u64 = free.as_slice().iter().map(|r| r.size).sum();
    let share = (total / cores as u64) & !(GRANULE - 1);
    if share < first_piece_min {
        return None;
    }
    let mut regions = free.as_slice().iter().copied();
    let mut current = regions.next()?;
    for part in out.iter_mut().take(cores) {
        let mut need = share;
        while need > 0 {
            if current.size == 0 || (part.count == 0 && current.size < first_piece_min) {
                current = regions.next()?;
                continue;
            }
            let take = need.min(current.size);
            if !part.push(Region { base: current.base, size: take }) {
                break;
            }
            current = Region { base: current.base + take, size: current.size - take };
            need -= take;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
