//! The monitor's RAM units and capability copies made real.
//!
//! Each core's pool (the top of its initial RAM, `caps::abi::monitor`) is
//! cut into units at start-up: one RAM capability per unit, kept for good,
//! so this core's kernel never lets anything else be retyped over a unit
//! (not even after the unit moved to another core). A unit of another
//! core's pool that the protocol gives this core gets a RAM capability
//! made by `Kernel.create`; it is revoked and deleted when the unit leaves
//! again. Likewise a copy of a frame object that arrives
//! (`Effect::CopyIn`) becomes a Frame capability here, deleted when the
//! copy is revoked or deleted (`Effect::CopyOut`). The creator's own copy
//! is kept until the object is dead everywhere: until then another core may
//! still map it, and deleting it would let this core's kernel retype the
//! memory under that mapping.

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use caps::abi::monitor::{UNITS, UNIT_BYTES};
use monitor::{CapDesc, Effect, Monitor, ObjId, RamRange};
use userland::allocator::allocate_slot;
use userland::cap::{CNode, Frame, Kernel, Ram};
use userland::cptr::{CPtr, ROOT_CNODE_SLOT};
use userland::error::{Error, Result};
use userland::object::{ObjectType, PAGE_BITS, PAGE_SIZE};
use userland::println;

/// log2 of [`UNIT_BYTES`].
pub const UNIT_BITS: u32 = UNIT_BYTES.trailing_zeros();

/// Units and copies of one core.
pub struct Pool {
    me: usize,
    /// Each core's pool base (physical; 0 for a core without a pool).
    bases: Vec<usize>,
    /// The root slot of this core's RAM capability for each unit (own
    /// units: always; others' units: while this core owns them).
    units: Vec<Option<usize>>,
    /// Root slots of copies made real here, by object.
    copies: BTreeMap<ObjId, usize>,
    /// Objects this core created (its copy of each is in `copies`).
    created: Vec<ObjId>,
    /// The creator's copies given up, kept until their objects are dead.
    zombies: Vec<(ObjId, usize)>,
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
            // A core whose RAM holds no pool has no units to give: they are
            // never made real (a transfer of them fails when made real).
            let Ok((base, _bytes, offset)) = kernel.pool(core) else {
                bases.push(0);
                continue;
            };
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
        Ok(Pool {
            me,
            bases,
            units,
            copies: BTreeMap::new(),
            created: Vec::new(),
            zombies: Vec::new(),
            free: Vec::new(),
            failures: 0,
        })
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

    /// Whether physical address `address` lies in unit `unit`.
    pub fn unit_holds(&self, unit: u32, address: usize) -> bool {
        (self.phys(unit)..self.phys(unit) + UNIT_BYTES as usize).contains(&address)
    }

    /// This core's RAM capability for unit `unit`, if it has one.
    pub fn ram(&self, unit: u32) -> Option<Ram> {
        self.units.get(unit as usize).copied().flatten().map(Ram::at)
    }

    /// Makes `count` 4 KiB frames of the start of unit `unit` (which this
    /// core holds RAM for) in fresh root slots; their slots and what they
    /// are, in address order.
    pub fn frames(&mut self, unit: u32, count: usize) -> Result<Vec<(usize, CapDesc)>> {
        let ram = self.ram(unit).ok_or(Error::SlotEmpty)?;
        let mut frames = Vec::with_capacity(count);
        for i in 0..count {
            let slot = self.slot()?;
            ram.retype(
                ObjectType::Frame,
                PAGE_BITS as usize,
                i * PAGE_SIZE,
                CPtr::slot(ROOT_CNODE_SLOT),
                slot,
                1,
            )?;
            let info = Frame::at(slot).identify()?;
            let desc =
                CapDesc { kind: caps::CapType::Frame as u8, base: info.base as u64, bytes: info.size as u64 };
            frames.push((slot, desc));
        }
        Ok(frames)
    }

    /// The root slot of this core's copy of `obj`, if it is real here.
    pub fn copy(&self, obj: ObjId) -> Option<usize> {
        self.copies.get(&obj).copied()
    }

    /// Records `slot` as this core's real copy of `obj`, which it created.
    pub fn adopt(&mut self, obj: ObjId, slot: usize) {
        self.copies.insert(obj, slot);
        self.created.push(obj);
    }

    /// Whether some of the creator's copies wait to be deleted.
    pub fn zombies(&self) -> bool {
        !self.zombies.is_empty()
    }

    /// Deletes the creator's copies whose objects are dead everywhere.
    pub fn bury(&mut self, monitor: &Monitor) {
        let mut i = 0;
        while i < self.zombies.len() {
            let (obj, slot) = self.zombies[i];
            if monitor.replica().cap(obj).is_none_or(|record| record.copies.is_empty()) {
                self.zombies.swap_remove(i);
                self.delete_tree(slot);
            } else {
                i += 1;
            }
        }
    }

    /// A free root slot (one this pool freed, or a fresh one).
    pub fn slot(&mut self) -> Result<usize> {
        match self.free.pop() {
            Some(slot) => Ok(slot),
            None => allocate_slot(),
        }
    }

    /// Revokes and deletes the capability in root `slot` (whatever was made
    /// from it dies first).
    fn delete_tree(&mut self, slot: usize) {
        if let Err(error) = CNode::root().revoke(slot).and_then(|()| CNode::root().delete(slot)) {
            self.failures += 1;
            println!("monitor: core {}: cannot delete slot {slot}: {error:?}", self.me);
            return;
        }
        self.free.push(slot);
    }

    /// A root capability for memory of another core's pool in a fresh slot
    /// (given back if the kernel refuses).
    fn make(&mut self, kernel: Kernel, kind: ObjectType, base: usize, bytes: usize) -> Result<usize> {
        let slot = self.slot()?;
        match kernel.create(kind, base, bytes, CPtr::slot(ROOT_CNODE_SLOT), slot) {
            Ok(()) => Ok(slot),
            Err(error) => {
                self.free.push(slot);
                Err(error)
            }
        }
    }

    /// Makes a protocol effect real.
    pub fn apply(&mut self, kernel: Kernel, effect: Effect, monitor: &Monitor) {
        match effect {
            Effect::RamIn(range) => self.ram_in(kernel, range),
            Effect::RamOut(range) => self.ram_out(range),
            Effect::CopyIn { obj, desc } => self.copy_in(kernel, obj, desc),
            Effect::CopyOut { obj } => {
                let Some(slot) = self.copies.remove(&obj) else { return };
                match self.created.iter().position(|&o| o == obj) {
                    Some(i) => {
                        self.created.swap_remove(i);
                        self.zombies.push((obj, slot));
                        self.bury(monitor);
                    }
                    None => self.delete_tree(slot),
                }
            }
        }
    }

    fn ram_in(&mut self, kernel: Kernel, range: RamRange) {
        for unit in range.units() {
            let known = self.units.get(unit as usize).is_none_or(Option::is_some);
            if self.home(unit) == self.me || known || self.bases[self.home(unit)] == 0 {
                continue;
            }
            match self.make(kernel, ObjectType::Ram, self.phys(unit), UNIT_BYTES as usize) {
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
                self.delete_tree(slot);
            }
        }
    }

    fn copy_in(&mut self, kernel: Kernel, obj: ObjId, desc: CapDesc) {
        // Only frames are shared between cores (RAM could then be retyped
        // on two cores at once); other kinds are bookkeeping only.
        if desc.kind != caps::CapType::Frame as u8 {
            return;
        }
        if self.copies.contains_key(&obj) {
            self.failures += 1;
            println!("monitor: core {}: a second copy of {obj:?} arrived", self.me);
            return;
        }
        match self.make(kernel, ObjectType::Frame, desc.base as usize, desc.bytes as usize) {
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
