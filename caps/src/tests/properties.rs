//! Property tests: random operation sequences against the reference model.

extern crate std;

use std::collections::BTreeMap;
use std::vec::Vec;

use proptest::prelude::*;

use super::model::Model;
use super::Fixture;
use crate::{CPtr, CapDatabase, CapError, CapHandle, CapType, Capability, Rights, SlotAddr};

/// A CPtr drawn from a small space: mostly the first eight root slots, some
/// through a nested CNode of radix 1 to 3, a few malformed.
#[derive(Clone, Copy, Debug)]
struct Pointer {
    root: u8,
    inner: u8,
    shape: u8,
}

impl Pointer {
    fn cptr(self) -> CPtr {
        let root = u64::from(self.root % 8);
        let inner = u64::from(self.inner);
        match self.shape % 16 {
            12 | 13 => {
                let radix = 1 + self.inner / 64 % 3;
                CPtr { address: (root << radix) | (inner % (1 << radix)), depth: 4 + radix }
            }
            14 => CPtr { address: root % 8, depth: 3 },
            15 => CPtr { address: 1 << 4 | root, depth: 4 },
            _ => CPtr { address: root, depth: 4 },
        }
    }
}

#[derive(Clone, Debug)]
enum Operation {
    Retype { source: Pointer, kind: u8, size: u8, offset: u8, count: u8, dest: Pointer },
    Mint { source: Pointer, dest: Pointer, rights: u8, badge: u8 },
    Delete(Pointer),
    Revoke(Pointer),
    Lookup(Pointer),
}

const KINDS: [CapType; 8] = [
    CapType::Ram,
    CapType::Frame,
    CapType::CNode,
    CapType::Endpoint,
    CapType::VNodeL3,
    CapType::Dispatcher,
    CapType::Irq,
    CapType::Frame,
];

fn retype_request(kind: u8, size: u8, offset: u8, count: u8) -> crate::RetypeRequest {
    let kind = KINDS[usize::from(kind % 8)];
    let size_bits = match (kind, size % 8) {
        (_, 7) => size,
        (CapType::Ram | CapType::Frame, choice) => 12 + choice % 3,
        (CapType::CNode, choice) => 1 + choice % 3,
        _ => 0,
    };
    let offset = match offset {
        0..=191 => u64::from(offset % 16) * 0x1000,
        _ => u64::from(offset % 128) * 512,
    };
    crate::RetypeRequest { kind, size_bits, offset, count: u64::from(count % 3 + 1) }
}

fn pointer() -> impl Strategy<Value = Pointer> {
    (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(root, inner, shape)| Pointer { root, inner, shape })
}

/// A pointer that never names root slot 0 (the root CNode's own capability,
/// whose deletion empties the whole CSpace).
fn target() -> impl Strategy<Value = Pointer> {
    pointer().prop_map(|pointer| Pointer { root: pointer.root % 7 + 1, ..pointer })
}

/// Retype sources: the boot RAM half the time.
fn source() -> impl Strategy<Value = Pointer> {
    prop_oneof![Just(Pointer { root: 1, inner: 0, shape: 0 }), pointer()]
}

fn rights() -> impl Strategy<Value = u8> {
    prop_oneof![Just(Rights::ALL.bits()), any::<u8>()]
}

fn operation() -> impl Strategy<Value = Operation> {
    let request = (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>());
    prop_oneof![
        4 => (source(), request, pointer()).prop_map(
            |(source, (kind, size, offset, count), dest)| {
                Operation::Retype { source, kind, size, offset, count, dest }
            }
        ),
        3 => (pointer(), pointer(), rights(), any::<u8>())
            .prop_map(|(source, dest, rights, badge)| Operation::Mint { source, dest, rights, badge }),
        1 => target().prop_map(Operation::Delete),
        1 => target().prop_map(Operation::Revoke),
        2 => pointer().prop_map(Operation::Lookup),
    ]
}

/// The system under test, the model, and what the checks remember.
struct Harness {
    fixture: Fixture,
    model: Model,
    handles: Vec<(u64, CapHandle)>,
    generations: BTreeMap<u64, u32>,
    objects: BTreeMap<u32, u64>,
}

impl Harness {
    fn new() -> Self {
        let fixture = Fixture::boot();
        let model = Model::boot(&fixture);
        let handles = Vec::new();
        let (generations, objects) = (BTreeMap::new(), BTreeMap::new());
        Harness { fixture, model, handles, generations, objects }
    }

    fn apply(&mut self, operation: &Operation) -> Result<(), CapError> {
        let (fixture, model) = (&mut self.fixture, &mut self.model);
        match *operation {
            Operation::Retype { source, kind, size, offset, count, dest } => {
                let request = retype_request(kind, size, offset, count);
                let expected = model.retype(source.cptr(), request, dest.cptr());
                let actual = fixture.retype(source.cptr(), request, dest.cptr());
                assert_eq!(actual, expected, "{request:?}");
            }
            Operation::Mint { source, dest, rights, badge } => {
                let rights = Rights::from_bits_truncate(rights);
                let badge = u64::from(badge % 4);
                let expected = model.mint(source.cptr(), dest.cptr(), rights, badge);
                let actual = fixture.mint(source.cptr(), dest.cptr(), rights, badge);
                assert_eq!(actual.map(|_| ()), expected);
            }
            Operation::Delete(target) => {
                assert_eq!(fixture.delete(target.cptr()), model.delete(target.cptr()));
            }
            Operation::Revoke(target) => {
                let expected = model.revoke(target.cptr());
                assert_eq!(fixture.revoke(target.cptr()), expected);
                if expected.is_ok() {
                    let (addr, _) = fixture.lookup(target.cptr()).unwrap();
                    assert_eq!(CapDatabase::has_descendants(&*fixture.store, addr), Ok(false));
                }
            }
            Operation::Lookup(target) => self.lookup(target.cptr()),
        }
        Ok(())
    }

    fn lookup(&mut self, cptr: CPtr) {
        let expected = self.model.lookup(cptr);
        let actual = self.fixture.lookup(cptr);
        assert_eq!(
            actual.map(|(addr, cap)| (addr.get(), plain(cap))),
            expected.clone().map(|(addr, node)| (addr, node.cap))
        );
        if let Ok((addr, node)) = expected {
            let handle = CapDatabase::handle(&*self.fixture.store, SlotAddr::new(addr).unwrap()).unwrap();
            self.handles.push((node.id, handle));
        }
    }

    /// Compare the whole state with the model and check the invariants.
    fn check(&mut self) {
        self.check_same_state();
        self.check_handles();
        self.check_generations();
        self.check_derivation();
        self.check_no_double_use();
    }

    fn check_same_state(&self) {
        let store = &*self.fixture.store;
        let live: BTreeMap<u64, Capability> = store
            .iter()
            .filter_map(|(addr, slot)| slot.capability().map(|cap| (addr.get(), plain(*cap))))
            .collect();
        let expected: BTreeMap<u64, Capability> =
            self.model.nodes.iter().map(|(addr, node)| (*addr, node.cap)).collect();
        assert_eq!(live, expected);
        for (addr, node) in &self.model.nodes {
            let parent = CapDatabase::parent(store, SlotAddr::new(*addr).unwrap()).unwrap();
            assert_eq!(parent.map(SlotAddr::get), node.parent, "parent of {addr:#x}");
        }
    }

    /// A handle resolves exactly while its capability instance lives.
    fn check_handles(&self) {
        for (id, handle) in &self.handles {
            let alive = self.model.nodes.get(&handle.slot.get()).is_some_and(|node| node.id == *id);
            let resolved = CapDatabase::capability(&*self.fixture.store, *handle);
            if alive {
                assert!(resolved.is_ok());
            } else {
                assert_eq!(resolved, Err(CapError::Stale));
            }
        }
    }

    /// Copies share a generation; no generation ever names two objects.
    fn check_generations(&mut self) {
        for (addr, node) in &self.model.nodes {
            let cap = self.cap_at(*addr);
            let known = *self.generations.entry(node.object).or_insert(cap.generation);
            assert_eq!(known, cap.generation, "copies share the generation");
            let owner = *self.objects.entry(cap.generation).or_insert(node.object);
            assert_eq!(owner, node.object, "generation {} reused", cap.generation);
        }
    }

    /// Rights never grow; retyped objects lie inside their RAM parent.
    fn check_derivation(&self) {
        for (addr, node) in &self.model.nodes {
            let Some(parent) = node.parent else { continue };
            let (cap, parent_cap) = (self.cap_at(*addr), self.cap_at(parent));
            assert!(parent_cap.rights.contains(cap.rights), "rights grew");
            if !cap.same_object(&parent_cap) {
                assert!(matches!(parent_cap.kind, CapType::Ram | CapType::DevFrame));
                assert!(parent_cap.base <= cap.base && cap.end() <= parent_cap.end());
            }
        }
    }

    /// No two live non-RAM objects overlap; each has a live RAM ancestor.
    fn check_no_double_use(&self) {
        let objects: Vec<(u64, Capability)> = self
            .model
            .nodes
            .keys()
            .map(|addr| (*addr, self.cap_at(*addr)))
            .filter(|(_, cap)| cap.kind.is_memory() && cap.kind != CapType::Ram)
            .collect();
        for (index, (_, first)) in objects.iter().enumerate() {
            for (_, second) in &objects[index + 1..] {
                let overlap = first.overlaps(second.base, second.end());
                assert!(!overlap || first.same_object(second), "{first:?} overlaps {second:?}");
            }
        }
        for (addr, cap) in &objects {
            let ancestors = self.model.ancestors(*addr);
            let tree_root = ancestors.last().copied().unwrap_or(*addr);
            let boot_object = self.cap_at(tree_root).same_object(cap);
            let in_ram = ancestors.iter().any(|up| self.cap_at(*up).kind == CapType::Ram);
            assert!(boot_object || in_ram, "{cap:?} outside any RAM");
        }
    }

    fn cap_at(&self, addr: u64) -> Capability {
        let addr = SlotAddr::new(addr).unwrap();
        *self.fixture.store.iter().find(|(at, _)| *at == addr).unwrap().1.capability().unwrap()
    }
}

/// The capability without its generation, as the model records it.
fn plain(mut cap: Capability) -> Capability {
    cap.generation = 0;
    cap
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn operations_match_the_model(operations in proptest::collection::vec(operation(), 1..60)) {
        let mut harness = Harness::new();
        for operation in &operations {
            harness.apply(operation).unwrap();
            harness.check();
        }
    }
}
