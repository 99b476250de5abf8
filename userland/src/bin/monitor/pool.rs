//! The monitor's RAM units and capability copies made real.
//!
//! Each core's pool (the top of its initial RAM, `caps::abi::monitor`) is
//! cut into units at start-up: one RAM capability per unit, kept for good,
//! so this core's kernel never lets anything else be retyped over a unit
//! (not even after the unit moved to another core). A unit of another
//! core's pool that the protocol gives this core gets a RAM capability
//! made by `Kernel.create`; it is deleted when the unit leaves again.
//! Likewise a copy of a capability object that arrives (`Effect::CopyIn`)
//! becomes a Frame capability here, deleted when the copy is revoked or
//! deleted (`Effect::CopyOut`).

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use caps::abi::monitor::{UNITS, UNIT_BYTES};
use monitor::{CapDesc, Effect, Monitor, ObjId, RamRange};
use userland::allocator::allocate_slot;
use userland::cap::{CNode, Kernel, Ram};
use userland::cptr::{CPtr, ROOT_CNODE_SLOT};
use userland::error::{Error, Result};
use userland::object::ObjectType;
use userland::println;

/// log2 of [`UNIT_BYTES`].
pub const UNIT_BITS: u32 = UNIT_BYTES.trailing_zeros();

/// Units and copies of one core.
pub struct Pool {
    me: usize,
    /// Each core's pool base (physical).
    bases: Vec<usize>,
    /// The root slot of this core's RAM capability for each unit (own
    /// units: always; others' units: while this core owns them).
    units: Vec<Option<usize>>,
    /// Root slots of copies made real here, by object.
    copies: BTreeMap<ObjId, usize>,
    /// Root slots freed by deletions, for reuse.
    free: Vec<usize>,
    /// Kernel refusals while making effects real (a bug if not zero).
    pub failures: u64,
}

impl Pool {
    /// Cuts this core's pool into units and learns every core's pool base.
    pub fn new(kernel: Kernel, me: usize, listed: usize) -> Result<Pool> {
        let mut bases = Vec::with_capacity(listed);
        let mut units = alloc::vec![None; listed * UNITS as usize];
        for core in 0..listed {
            let (base, _bytes, offset) = kernel.pool(core)?;
            bases.push(base);
            if core == me {
                let slots: Vec<usize> = (0..UNITS).map(|_| allocate_slot()).collect::<Result<_>>()?;
                // The bump allocator hands out consecutive slots.
                if slots.windows(2).any(|w| w[1] != w[0] + 1) {
                    return Err(Error::InvalidIndex);
                }
                let root = CPtr::slot(ROOT_CNODE_SLOT);
                Ram::initial().retype(
                    ObjectType::Ram,
                    UNIT_BITS as usize,
                    offset,
                    root,
                    slots[0],
                    UNITS as usize,
                )?;
                for (i, slot) in slots.into_iter().enumerate() {
                    units[me * UNITS as usize + i] = Some(slot);
                }
            }
        }
        Ok(Pool { me, bases, units, copies: BTreeMap::new(), free: Vec::new(), failures: 0 })
    }

    /// Units per core.
    pub fn units_per_core(&self) -> u32 {
        UNITS as u32
    }

    /// The core whose pool unit `unit` is part of.
    fn home(&self, unit: u32) -> usize {
        unit as usize / UNITS as usize
    }

    /// Physical base of unit `unit`.
    pub fn phys(&self, unit: u32) -> usize {
        self.bases[self.home(unit)] + (unit as usize % UNITS as usize) * UNIT_BYTES as usize
    }

    /// This core's RAM capability for unit `unit`, if it has one.
    pub fn ram(&self, unit: u32) -> Option<Ram> {
        self.units.get(unit as usize).copied().flatten().map(Ram::at)
    }

    /// The root slot of this core's copy of `obj`, if it is real here.
    pub fn copy(&self, obj: ObjId) -> Option<usize> {
        self.copies.get(&obj).copied()
    }

    /// Records `slot` as this core's real copy of `obj` (the creator's).
    pub fn adopt(&mut self, obj: ObjId, slot: usize) {
        self.copies.insert(obj, slot);
    }

    fn slot(&mut self) -> Result<usize> {
        match self.free.pop() {
            Some(slot) => Ok(slot),
            None => allocate_slot(),
        }
    }

    fn delete(&mut self, slot: usize) {
        match CNode::root().delete(slot) {
            Ok(()) => self.free.push(slot),
            Err(error) => {
                self.failures += 1;
                println!("monitor: core {}: cannot delete slot {slot}: {error:?}", self.me);
            }
        }
    }

    /// Makes a protocol effect real.
    pub fn apply(&mut self, kernel: Kernel, effect: Effect, _monitor: &Monitor) {
        match effect {
            Effect::RamIn(range) => self.ram_in(kernel, range),
            Effect::RamOut(range) => self.ram_out(range),
            Effect::CopyIn { obj, desc } => self.copy_in(kernel, obj, desc),
            Effect::CopyOut { obj } => {
                if let Some(slot) = self.copies.remove(&obj) {
                    self.delete(slot);
                }
            }
        }
    }

    fn ram_in(&mut self, kernel: Kernel, range: RamRange) {
        for unit in range.units() {
            if self.home(unit) == self.me || self.units.get(unit as usize).is_none_or(Option::is_some) {
                continue;
            }
            let made = self.slot().and_then(|slot| {
                let root = CPtr::slot(ROOT_CNODE_SLOT);
                kernel
                    .create(ObjectType::Ram, self.phys(unit), UNIT_BYTES as usize, root, slot)
                    .map(|()| slot)
            });
            match made {
                Ok(slot) => self.units[unit as usize] = Some(slot),
                Err(error) => {
                    self.failures += 1;
                    println!("monitor: core {}: cannot take unit {unit}: {error:?}", self.me);
                }
            }
        }
    }

    fn ram_out(&mut self, range: RamRange) {
        for unit in range.units() {
            if self.home(unit) == self.me {
                continue; // kept for good (see the module docs)
            }
            if let Some(slot) = self.units.get_mut(unit as usize).and_then(Option::take) {
                self.delete(slot);
            }
        }
    }

    fn copy_in(&mut self, kernel: Kernel, obj: ObjId, desc: CapDesc) {
        let kind = match desc.kind {
            k if k == caps::CapType::Frame as u8 => ObjectType::Frame,
            k if k == caps::CapType::Ram as u8 => ObjectType::Ram,
            _ => return, // nothing to make real (a bookkeeping-only object)
        };
        let made = self.slot().and_then(|slot| {
            let root = CPtr::slot(ROOT_CNODE_SLOT);
            kernel.create(kind, desc.base as usize, desc.bytes as usize, root, slot).map(|()| slot)
        });
        match made {
            Ok(slot) => {
                self.copies.insert(obj, slot);
            }
            Err(error) => {
                self.failures += 1;
                println!("monitor: core {}: cannot make copy of {obj:?}: {error:?}", self.me);
            }
        }
    }
}
