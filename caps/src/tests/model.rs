//! Reference model: a plain map of slots to tree nodes with parent links.
//!
//! It states the semantics directly (parents, "no other node shares the
//! object", "any overlapping node of the same tree") instead of through the
//! preorder list and depths the library uses.

extern crate std;

use std::collections::BTreeMap;
use std::vec::Vec;

use super::Fixture;
use crate::{CPtr, CapError, CapType, Capability, RetypeRequest, Rights, SLOT_BYTES};

/// One live capability of the model.
#[derive(Clone, Debug)]
pub struct Node {
    /// The capability, with generation 0 (generations are checked apart).
    pub cap: Capability,
    /// Slot of the parent capability.
    pub parent: Option<u64>,
    /// Model identity of the object, shared by copies.
    pub object: u64,
    /// Model identity of this capability instance.
    pub id: u64,
}

/// Where a CPtr leads: slot address, CNode radix, index, CNode rights.
struct Place {
    addr: u64,
    radix: u8,
    index: u64,
    rights: Rights,
}

/// The reference model.
pub struct Model {
    pub nodes: BTreeMap<u64, Node>,
    root: Capability,
    next_object: u64,
    next_id: u64,
}

type Outcome = Result<(), CapError>;

impl Model {
    /// The model of a freshly booted fixture.
    pub fn boot(fixture: &Fixture) -> Self {
        let mut model = Model { nodes: BTreeMap::new(), root: fixture.root, next_object: 0, next_id: 0 };
        for (addr, slot) in fixture.store.iter() {
            if let Some(cap) = slot.capability() {
                let object = model.fresh_object();
                model.insert(addr.get(), *cap, None, object);
            }
        }
        model
    }

    /// Resolve to a non-empty slot, as `Fixture::lookup`.
    pub fn lookup(&self, cptr: CPtr) -> Result<(u64, Node), CapError> {
        let place = self.resolve(cptr)?;
        let node = self.nodes.get(&place.addr).ok_or(CapError::SlotEmpty)?;
        Ok((place.addr, node.clone()))
    }

    fn resolve(&self, cptr: CPtr) -> Result<Place, CapError> {
        let malformed = cptr.depth < 64 && cptr.address >> cptr.depth != 0;
        if cptr.depth == 0 || cptr.depth > 64 || malformed {
            return Err(CapError::InvalidCPtr);
        }
        let mut cnode = self.root;
        let mut remaining = cptr.depth;
        for _level in 0..4 {
            let radix = cnode.cnode_radix().ok_or(CapError::NotCNode)?;
            if remaining < radix {
                return Err(CapError::DepthMismatch);
            }
            remaining -= radix;
            let index = (cptr.address >> remaining) % (1 << radix);
            let addr = cnode.base + index * SLOT_BYTES;
            if remaining == 0 {
                let rights = cnode.rights;
                return Ok(Place { addr, radix, index, rights });
            }
            cnode = self.nodes.get(&addr).ok_or(CapError::SlotEmpty)?.cap;
        }
        Err(CapError::DepthExceeded)
    }

    /// Copy or mint.
    pub fn mint(&mut self, source: CPtr, dest: CPtr, rights: Rights, badge: u64) -> Outcome {
        let (source_addr, node) = self.lookup(source)?;
        let place = self.resolve(dest)?;
        let mut cap = node.cap;
        cap.rights &= rights;
        if badge != 0 {
            if !matches!(cap.kind, CapType::Endpoint | CapType::Notify) {
                return Err(CapError::WrongType);
            }
            if cap.badge != 0 {
                return Err(CapError::AlreadyBadged);
            }
            cap.badge = badge;
        }
        if !place.rights.contains(Rights::WRITE) {
            return Err(CapError::MissingRights);
        }
        if self.nodes.contains_key(&place.addr) {
            return Err(CapError::SlotOccupied);
        }
        self.insert(place.addr, cap, Some(source_addr), node.object);
        Ok(())
    }

    /// Retype.
    pub fn retype(&mut self, source: CPtr, request: RetypeRequest, dest: CPtr) -> Outcome {
        let (source_addr, node) = self.lookup(source)?;
        let place = self.resolve(dest)?;
        let (base, size) = Self::check_request(&node.cap, &request)?;
        if !place.rights.contains(Rights::WRITE) {
            return Err(CapError::MissingRights);
        }
        for offset in 0..request.count {
            if place.index + offset >= 1 << place.radix {
                return Err(CapError::InvalidIndex);
            }
            if self.nodes.contains_key(&(place.addr + offset * SLOT_BYTES)) {
                return Err(CapError::SlotOccupied);
            }
        }
        self.check_unused(source_addr, base, base + size * request.count)?;
        for offset in 0..request.count {
            let cap = Capability {
                kind: request.kind,
                rights: node.cap.rights,
                base: base + offset * size,
                size,
                badge: 0,
                generation: 0,
                mapping: 0,
            };
            let clash = self.nodes.keys().any(|slot| (cap.base..cap.end()).contains(slot));
            assert!(cap.kind != CapType::CNode || !clash, "new CNode over live slots");
            let object = self.fresh_object();
            self.insert(place.addr + offset * SLOT_BYTES, cap, Some(source_addr), object);
        }
        Ok(())
    }

    fn check_request(source: &Capability, request: &RetypeRequest) -> Result<(u64, u64), CapError> {
        if !matches!(source.kind, CapType::Ram | CapType::DevFrame) {
            return Err(CapError::WrongType);
        }
        if !source.rights.contains(Rights::WRITE) {
            return Err(CapError::MissingRights);
        }
        if !source.kind.can_retype_into(request.kind) {
            return Err(CapError::InvalidRetypeTarget);
        }
        let bits = request.kind.object_bits(request.size_bits);
        let size = 1u64 << bits.ok_or(CapError::InvalidSize)?;
        let total = u128::from(size) * u128::from(request.count);
        let end = u128::from(request.offset) + total;
        if request.count == 0 || request.count > 256 || end > u128::from(source.size) {
            return Err(CapError::InvalidSize);
        }
        let base = source.base + request.offset;
        if !base.is_multiple_of(size) {
            return Err(CapError::InvalidAlignment);
        }
        Ok((base, size))
    }

    fn check_unused(&self, source: u64, base: u64, end: u64) -> Outcome {
        let tree = self.tree_root(source);
        let ancestors = self.ancestors(source);
        let conflict = self.nodes.iter().any(|(addr, node)| {
            *addr != source
                && !ancestors.contains(addr)
                && self.tree_root(*addr) == tree
                && node.cap.kind.is_memory()
                && node.cap.overlaps(base, end)
        });
        if conflict {
            return Err(CapError::RetypeConflict);
        }
        Ok(())
    }

    /// Delete.
    pub fn delete(&mut self, target: CPtr) -> Outcome {
        let (addr, _) = self.lookup(target)?;
        if self.nodes.values().any(|node| node.parent == Some(addr)) {
            return Err(CapError::HasDescendants);
        }
        self.remove_leaf(addr);
        Ok(())
    }

    /// Revoke.
    pub fn revoke(&mut self, target: CPtr) -> Outcome {
        let (addr, _) = self.lookup(target)?;
        self.revoke_at(addr);
        Ok(())
    }

    fn revoke_at(&mut self, addr: u64) {
        while self.nodes.contains_key(&addr) {
            let leaf = self.nodes.keys().copied().find(|candidate| {
                self.ancestors(*candidate).contains(&addr)
                    && !self.nodes.values().any(|node| node.parent == Some(*candidate))
            });
            match leaf {
                Some(leaf) => self.remove_leaf(leaf),
                None => return,
            }
        }
    }

    fn remove_leaf(&mut self, addr: u64) {
        let Some(node) = self.nodes.remove(&addr) else {
            return;
        };
        let last = !self.nodes.values().any(|other| other.object == node.object);
        if let (true, Some(radix)) = (last, node.cap.cnode_radix()) {
            for index in 0..1u64 << radix {
                let inner = node.cap.base + index * SLOT_BYTES;
                self.revoke_at(inner);
                self.remove_leaf(inner);
            }
        }
    }

    /// Slots of the ancestors of `addr`, nearest first.
    pub fn ancestors(&self, addr: u64) -> Vec<u64> {
        let mut chain = Vec::new();
        let mut cursor = self.nodes.get(&addr).and_then(|node| node.parent);
        while let Some(parent) = cursor {
            chain.push(parent);
            cursor = self.nodes.get(&parent).and_then(|node| node.parent);
        }
        chain
    }

    fn tree_root(&self, addr: u64) -> u64 {
        self.ancestors(addr).last().copied().unwrap_or(addr)
    }

    fn insert(&mut self, addr: u64, mut cap: Capability, parent: Option<u64>, object: u64) {
        cap.generation = 0;
        let id = self.next_id;
        self.next_id += 1;
        self.nodes.insert(addr, Node { cap, parent, object, id });
    }

    fn fresh_object(&mut self) -> u64 {
        self.next_object += 1;
        self.next_object
    }
}
