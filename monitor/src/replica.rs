//! The replicated state and its deterministic transition function.
//!
//! Every monitor holds one [`Replica`]. It changes only through
//! [`Replica::apply`] on entries of the totally ordered log, and `apply`
//! depends on nothing but the replica and the entry, so two monitors that
//! applied the same prefix hold equal replicas and equal [`Replica::digest`]s.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::message::Update;
use crate::types::{CapDesc, CoreId, CoreSet, Digest, Endpoint, Name, ObjId};

/// Lifecycle of a capability object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapState {
    /// Usable; copies may be made.
    Live,
    /// Revoke phase 1 ran: copies are marked, no new copies are made.
    Revoking,
    /// Revoke committed: no copy exists anywhere (tombstone).
    Revoked,
    /// The last copy was deleted (tombstone).
    Deleted,
}

/// Where a capability object lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapRecord {
    /// What the object is (from its [`Update::CapCreate`]).
    pub desc: CapDesc,
    /// The owning core (the creator; passes to the lowest holder when the
    /// owner deletes its copy).
    pub owner: CoreId,
    /// Cores holding a copy.
    pub copies: CoreSet,
    /// Lifecycle state.
    pub state: CapState,
}

/// A registry entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The service.
    pub endpoint: Endpoint,
    /// The core that registered it (the only one that may unregister it).
    pub registrant: CoreId,
}

/// What applying an entry did, for the monitor's local effects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The entry took effect.
    Valid,
    /// The entry failed validation and changed nothing.
    Invalid,
    /// A revoke mark started phase 1; `holders` must ack.
    Marked {
        /// Cores holding a copy at the mark.
        holders: CoreSet,
    },
    /// A revoke mark found a revoke already running; it joins it.
    JoinedRevoke,
    /// A revoke mark found the object already dead.
    AlreadyDead,
}

/// The replicated global state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replica {
    ram_owner: Vec<CoreId>,
    caps: BTreeMap<ObjId, CapRecord>,
    registry: BTreeMap<Name, Registration>,
    online: CoreSet,
}

impl Replica {
    /// The initial state: `cores` cores online, core `c` owning RAM units
    /// `c * units_per_core .. (c + 1) * units_per_core`.
    pub fn new(cores: usize, units_per_core: u32) -> Replica {
        let mut ram_owner = Vec::new();
        for c in 0..cores {
            for _ in 0..units_per_core {
                ram_owner.push(CoreId(c as u8));
            }
        }
        Replica {
            ram_owner,
            caps: BTreeMap::new(),
            registry: BTreeMap::new(),
            online: CoreSet::first_n(cores),
        }
    }

    /// Number of RAM units in the system.
    pub fn ram_units(&self) -> u32 {
        self.ram_owner.len() as u32
    }

    /// The owner of RAM unit `unit`.
    pub fn ram_owner(&self, unit: u32) -> Option<CoreId> {
        self.ram_owner.get(unit as usize).copied()
    }

    /// Number of RAM units `core` owns.
    pub fn ram_owned_by(&self, core: CoreId) -> u32 {
        self.ram_owner.iter().filter(|&&o| o == core).count() as u32
    }

    /// The record of a capability object.
    pub fn cap(&self, obj: ObjId) -> Option<&CapRecord> {
        self.caps.get(&obj)
    }

    /// All capability records, by object.
    pub fn caps(&self) -> impl Iterator<Item = (&ObjId, &CapRecord)> {
        self.caps.iter()
    }

    /// The registry entry for `name` (a local read).
    pub fn lookup(&self, name: Name) -> Option<&Registration> {
        self.registry.get(&name)
    }

    /// The whole registry, by name.
    pub fn registry(&self) -> &BTreeMap<Name, Registration> {
        &self.registry
    }

    /// The online cores.
    pub fn online(&self) -> CoreSet {
        self.online
    }

    /// Applies one log entry.
    pub fn apply(&mut self, update: &Update) -> Applied {
        let ok = |b: bool| if b { Applied::Valid } else { Applied::Invalid };
        match *update {
            Update::RamTransfer { from, to, range, .. } => {
                let end = range.base as u64 + range.count as u64;
                // Not to a core that went down meanwhile: its RAM was given
                // away already, so the units would be lost.
                let valid = range.count > 0
                    && end <= self.ram_owner.len() as u64
                    && self.online.contains(to)
                    && range.units().all(|u| self.ram_owner[u as usize] == from);
                if valid {
                    for u in range.units() {
                        self.ram_owner[u as usize] = to;
                    }
                }
                ok(valid)
            }
            Update::CapCreate { obj, op, desc } => {
                let valid = !self.caps.contains_key(&obj) && self.online.contains(op.core);
                if valid {
                    let copies = CoreSet::single(op.core);
                    let record = CapRecord { desc, owner: op.core, copies, state: CapState::Live };
                    self.caps.insert(obj, record);
                }
                ok(valid)
            }
            Update::CapCopy { obj, to, op } => {
                let online = self.online;
                match self.caps.get_mut(&obj) {
                    Some(rec)
                        if rec.state == CapState::Live
                            && rec.copies.contains(op.core)
                            && !rec.copies.contains(to)
                            && online.contains(to) =>
                    {
                        rec.copies.insert(to);
                        Applied::Valid
                    }
                    _ => Applied::Invalid,
                }
            }
            Update::CapDelete { obj, op } => match self.caps.get_mut(&obj) {
                Some(rec) if rec.copies.contains(op.core) => {
                    Self::drop_copy(rec, op.core);
                    Applied::Valid
                }
                _ => Applied::Invalid,
            },
            Update::RevokeMark { obj, .. } => match self.caps.get_mut(&obj) {
                Some(rec) if rec.state == CapState::Live => {
                    rec.state = CapState::Revoking;
                    Applied::Marked { holders: rec.copies }
                }
                Some(rec) if rec.state == CapState::Revoking => Applied::JoinedRevoke,
                _ => Applied::AlreadyDead,
            },
            Update::RevokeCommit { obj } => match self.caps.get_mut(&obj) {
                Some(rec) if rec.state == CapState::Revoking => {
                    rec.state = CapState::Revoked;
                    rec.copies = CoreSet::EMPTY;
                    Applied::Valid
                }
                _ => Applied::Invalid,
            },
            Update::Register { name, endpoint, op } => {
                let valid = !self.registry.contains_key(&name) && self.online.contains(op.core);
                if valid {
                    self.registry.insert(name, Registration { endpoint, registrant: op.core });
                }
                ok(valid)
            }
            Update::Unregister { name, op } => {
                let valid = self.registry.get(&name).is_some_and(|r| r.registrant == op.core);
                if valid {
                    self.registry.remove(&name);
                }
                ok(valid)
            }
            Update::CoreDown { core } => {
                let valid = self.online.contains(core);
                if valid {
                    self.online.remove(core);
                    // Its RAM goes to the lowest core still online.
                    if let Some(heir) = self.online.first() {
                        for owner in self.ram_owner.iter_mut().filter(|o| **o == core) {
                            *owner = heir;
                        }
                    }
                    self.registry.retain(|_, r| r.registrant != core);
                    for rec in self.caps.values_mut() {
                        if rec.copies.contains(core) {
                            Self::drop_copy(rec, core);
                        }
                    }
                }
                ok(valid)
            }
        }
    }

    fn drop_copy(rec: &mut CapRecord, core: CoreId) {
        rec.copies.remove(core);
        if rec.owner == core {
            if let Some(next) = rec.copies.first() {
                rec.owner = next;
            }
        }
        if rec.copies.is_empty() && rec.state == CapState::Live {
            rec.state = CapState::Deleted;
        }
    }

    /// A 64-bit FNV-1a hash over a canonical encoding of the whole state
    /// (RAM owners in unit order, capability records and registry in key
    /// order, each record with its [`CapDesc`], the online set).
    pub fn digest(&self) -> Digest {
        let mut h = Fnv::new();
        h.u64(self.ram_owner.len() as u64);
        for o in &self.ram_owner {
            h.byte(o.0);
        }
        h.u64(self.caps.len() as u64);
        for (obj, rec) in &self.caps {
            h.u64(obj.0);
            h.byte(rec.desc.kind);
            h.u64(rec.desc.base);
            h.u64(rec.desc.bytes);
            h.byte(rec.owner.0);
            h.u64(rec.copies.0);
            h.byte(rec.state as u8);
        }
        h.u64(self.registry.len() as u64);
        for (name, reg) in &self.registry {
            for &b in &name.0 {
                h.byte(b);
            }
            h.byte(reg.endpoint.core.0);
            h.u64(reg.endpoint.port as u64);
            h.byte(reg.registrant.0);
        }
        h.u64(self.online.0);
        Digest(h.0)
    }
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn byte(&mut self, b: u8) {
        self.0 ^= b as u64;
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn u64(&mut self, v: u64) {
        for b in v.to_le_bytes() {
            self.byte(b);
        }
    }
}
