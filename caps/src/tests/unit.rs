//! Unit tests for retype, copy, mint, delete, revoke and their error paths.

use super::*;
use crate::{CapDatabase, CapType, Rights, Slot, SlotStore};

const FRAME: RetypeRequest = request(CapType::Frame, 12, 0);

#[test]
fn retype_creates_children_with_fresh_generations() {
    let mut fixture = Fixture::boot();
    let frames = RetypeRequest { count: 3, ..FRAME };
    fixture.retype(at(1), frames, at(4)).unwrap();
    let mut generations = std::vec::Vec::new();
    for index in 0..3 {
        let (addr, cap) = fixture.lookup(at(4 + index)).unwrap();
        assert_eq!(cap.base, RAM_BASE + index * 0x1000);
        assert_eq!(cap.size, 0x1000);
        let parent = CapDatabase::parent(&*fixture.store, addr).unwrap();
        assert_eq!(parent, Some(root_slot(1)));
        generations.push(cap.generation);
    }
    generations.dedup();
    assert_eq!(generations.len(), 3);
}

#[test]
fn retype_refuses_wrong_sources_and_targets() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), FRAME, at(4)).unwrap();
    assert_eq!(fixture.retype(at(4), FRAME, at(5)), Err(CapError::WrongType));
    let irq = request(CapType::Irq, 0, 0);
    assert_eq!(fixture.retype(at(1), irq, at(5)), Err(CapError::InvalidRetypeTarget));
    assert_eq!(fixture.retype(at(9), FRAME, at(5)), Err(CapError::SlotEmpty));
}

#[test]
fn devframes_only_split_into_devframes() {
    let mut fixture = Fixture::boot();
    let store = &mut *fixture.store;
    let device = 0x900_0000;
    fixture.db.insert_root(store, root_slot(6), CapType::DevFrame, device, 0x4000).unwrap();
    let piece = request(CapType::DevFrame, 12, 0x1000);
    fixture.retype(at(6), piece, at(7)).unwrap();
    assert_eq!(fixture.lookup(at(7)).unwrap().1.base, device + 0x1000);
    assert_eq!(
        fixture.retype(at(6), request(CapType::Frame, 12, 0x2000), at(8)),
        Err(CapError::InvalidRetypeTarget)
    );
}

#[test]
fn retype_needs_write_on_the_source() {
    let mut fixture = Fixture::boot();
    fixture.mint(at(1), at(4), Rights::READ, 0).unwrap();
    assert_eq!(fixture.retype(at(4), FRAME, at(5)), Err(CapError::MissingRights));
}

#[test]
fn retype_checks_sizes_and_alignment() {
    let mut fixture = Fixture::boot();
    let cases = [
        (request(CapType::Frame, 11, 0), CapError::InvalidSize),
        (request(CapType::Frame, 17, 0), CapError::InvalidSize),
        (request(CapType::CNode, 0, 0), CapError::InvalidSize),
        (request(CapType::Endpoint, 6, 0), CapError::InvalidSize),
        (RetypeRequest { count: 0, ..FRAME }, CapError::InvalidSize),
        (request(CapType::Frame, 12, RAM_SIZE), CapError::InvalidSize),
        (request(CapType::Frame, 12, u64::MAX), CapError::InvalidSize),
        (request(CapType::Frame, 13, 0x1000), CapError::InvalidAlignment),
        (request(CapType::Endpoint, 0, 0x20), CapError::InvalidAlignment),
    ];
    for (bad, error) in cases {
        assert_eq!(fixture.retype(at(1), bad, at(4)), Err(error), "{bad:?}");
    }
}

#[test]
fn retype_checks_destination_slots() {
    let mut fixture = Fixture::boot();
    let many = RetypeRequest { count: 2, ..FRAME };
    assert_eq!(fixture.retype(at(1), many, at(15)), Err(CapError::InvalidIndex));
    assert_eq!(fixture.retype(at(1), many, at(2)), Err(CapError::SlotOccupied));
    assert_eq!(fixture.lookup(at(15)), Err(CapError::SlotEmpty));
}

#[test]
fn no_memory_is_retyped_twice() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), request(CapType::Ram, 13, 0), at(4)).unwrap();
    let overlapping = request(CapType::Frame, 12, 0x1000);
    assert_eq!(fixture.retype(at(1), overlapping, at(5)), Err(CapError::RetypeConflict));
    // The RAM piece itself may be retyped, once.
    fixture.retype(at(4), FRAME, at(5)).unwrap();
    assert_eq!(fixture.retype(at(4), FRAME, at(6)), Err(CapError::RetypeConflict));
    fixture.retype(at(4), request(CapType::Frame, 12, 0x1000), at(6)).unwrap();
    // A copy of RAM counts as a use of the whole range.
    fixture.retype(at(1), request(CapType::Ram, 12, 0x2000), at(7)).unwrap();
    fixture.copy(at(7), at(8)).unwrap();
    let conflict = request(CapType::Endpoint, 0, 0);
    assert_eq!(fixture.retype(at(7), conflict, at(9)), Err(CapError::RetypeConflict));
    assert!(fixture.retype(at(8), conflict, at(9)).is_ok());
}

#[test]
fn new_cnodes_are_empty_and_usable() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), request(CapType::CNode, 2, 0x800), at(4)).unwrap();
    let cnode = fixture.lookup(at(4)).unwrap().1;
    assert_eq!(cnode.cnode_radix(), Some(2));
    assert_eq!(fixture.lookup(nested(4, 2, 3)), Err(CapError::SlotEmpty));
    fixture.copy(at(3), nested(4, 2, 3)).unwrap();
    assert_eq!(fixture.lookup(nested(4, 2, 3)).unwrap().1.kind, CapType::Kernel);
}

#[test]
fn copies_are_children_and_occupied_slots_refused() {
    let mut fixture = Fixture::boot();
    let copy = fixture.copy(at(2), at(4)).unwrap();
    assert_eq!(copy, fixture.lookup(at(2)).unwrap().1);
    assert_eq!(CapDatabase::parent(&*fixture.store, root_slot(4)), Ok(Some(root_slot(2))));
    assert_eq!(fixture.copy(at(2), at(3)), Err(CapError::SlotOccupied));
    assert_eq!(fixture.copy(at(9), at(10)), Err(CapError::SlotEmpty));
}

#[test]
fn badges_are_set_once_on_endpoints_only() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), request(CapType::Endpoint, 0, 0), at(4)).unwrap();
    let badged = fixture.mint(at(4), at(5), Rights::ALL, 7).unwrap();
    assert_eq!(badged.badge, 7);
    assert_eq!(fixture.copy(at(5), at(6)).unwrap().badge, 7);
    assert_eq!(fixture.mint(at(5), at(7), Rights::ALL, 8), Err(CapError::AlreadyBadged));
    assert_eq!(fixture.mint(at(1), at(7), Rights::ALL, 8), Err(CapError::WrongType));
}

#[test]
fn delete_refuses_capabilities_with_descendants() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), FRAME, at(4)).unwrap();
    assert_eq!(fixture.delete(at(1)), Err(CapError::HasDescendants));
    fixture.delete(at(4)).unwrap();
    assert_eq!(fixture.lookup(at(4)), Err(CapError::SlotEmpty));
    assert_eq!(fixture.delete(at(4)), Err(CapError::SlotEmpty));
    fixture.delete(at(1)).unwrap();
}

#[test]
fn revoke_removes_all_descendants_and_frees_memory() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), request(CapType::Ram, 13, 0), at(4)).unwrap();
    fixture.retype(at(4), FRAME, at(5)).unwrap();
    fixture.copy(at(5), at(6)).unwrap();
    fixture.copy(at(1), at(7)).unwrap();
    fixture.revoke(at(1)).unwrap();
    for index in 4..8 {
        assert_eq!(fixture.lookup(at(index)), Err(CapError::SlotEmpty));
    }
    let store = &*fixture.store;
    assert_eq!(CapDatabase::has_descendants(store, root_slot(1)), Ok(false));
    fixture.retype(at(1), FRAME, at(4)).unwrap();
    assert_eq!(fixture.revoke(at(9)), Err(CapError::SlotEmpty));
}

#[test]
fn deleting_the_last_cnode_cap_empties_the_cnode() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), request(CapType::CNode, 2, 0), at(4)).unwrap();
    fixture.retype(at(1), request(CapType::Frame, 12, 0x1000), nested(4, 2, 0)).unwrap();
    fixture.copy(nested(4, 2, 0), at(5)).unwrap();
    fixture.copy(at(4), nested(4, 2, 1)).unwrap();
    // The copy inside keeps the CNode alive only until the outer cap goes.
    assert_eq!(fixture.delete(at(4)), Err(CapError::HasDescendants));
    fixture.delete(nested(4, 2, 1)).unwrap();
    fixture.delete(at(4)).unwrap();
    assert_eq!(fixture.lookup(at(5)), Err(CapError::SlotEmpty));
    let store = &*fixture.store;
    assert!(store.iter().skip(16).all(|(_, slot)| slot.capability().is_none()));
    assert_eq!(CapDatabase::has_descendants(store, root_slot(1)), Ok(false));
}

#[test]
fn handles_go_stale() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), FRAME, at(4)).unwrap();
    let store = &*fixture.store;
    let handle = CapDatabase::handle(store, root_slot(4)).unwrap();
    let frame = CapDatabase::capability(store, handle).unwrap();
    fixture.revoke(at(1)).unwrap();
    fixture.retype(at(1), FRAME, at(4)).unwrap();
    let store = &*fixture.store;
    assert_eq!(CapDatabase::capability(store, handle), Err(CapError::Stale));
    assert_eq!(CapDatabase::check_object(store, root_slot(4), frame.object()), Err(CapError::Stale));
    let current = CapDatabase::handle(store, root_slot(4)).unwrap();
    assert!(CapDatabase::capability(store, current).is_ok());
    assert_eq!(CapDatabase::handle(store, root_slot(9)), Err(CapError::SlotEmpty));
}

#[test]
fn derivation_depth_is_bounded() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), request(CapType::CNode, 8, 0), at(4)).unwrap();
    fixture.retype(at(1), request(CapType::Endpoint, 0, 0x8000), at(5)).unwrap();
    fixture.copy(at(5), nested(4, 8, 0)).unwrap();
    for index in 0..253 {
        fixture.copy(nested(4, 8, index), nested(4, 8, index + 1)).unwrap();
    }
    assert_eq!(fixture.copy(nested(4, 8, 253), nested(4, 8, 254)), Err(CapError::DerivationTooDeep));
    fixture.revoke(at(5)).unwrap();
    assert_eq!(fixture.lookup(nested(4, 8, 0)), Err(CapError::SlotEmpty));
}

#[test]
fn unknown_slot_addresses_are_reported() {
    let mut fixture = Fixture::boot();
    let store = &mut *fixture.store;
    let far = BASE + 0x10_0000;
    let outside = fixture.db.insert_root(store, root_slot(6), CapType::CNode, far, 0x200);
    let outside = outside.unwrap();
    let dest = SlotLocation::in_cnode(&outside, 0).unwrap();
    let copied = fixture.db.copy(store, root_slot(2), &dest);
    assert_eq!(copied, Err(CapError::BadSlotAddress));
    let nowhere = SlotAddr::new(far).unwrap();
    assert_eq!(fixture.db.delete(store, nowhere), Err(CapError::BadSlotAddress));
    assert_eq!(store.slot(nowhere), None::<&Slot>);
}

/// The kernel's mapping record: kept on the capability, cleared on copies,
/// and the store hears of every removal.
#[test]
fn mapping_is_per_capability_and_removal_is_reported() {
    use crate::{CapDatabase, CapType, SlotAddr};
    let mut store = RecordingStore { inner: crate::ArraySlotStore::<8>::new(0x1000), removed: 0 };
    let mut db = CapDatabase::new();
    let first = SlotAddr::new(0x1000).unwrap();
    db.insert_root(&mut store, first, CapType::Frame, 0x10_0000, 0x1000).unwrap();
    CapDatabase::set_mapping(&mut store, first, 0xabc0).unwrap();
    let root = store.inner.slot(first).unwrap().capability().unwrap();
    assert_eq!(root.mapping, 0xabc0);
    let cnode = crate::Capability {
        kind: CapType::CNode,
        rights: crate::Rights::ALL,
        base: 0x1000,
        size: 8 * crate::SLOT_BYTES,
        badge: 0,
        generation: 1,
        mapping: 0,
    };
    let dest = crate::SlotLocation::in_cnode(&cnode, 1).unwrap();
    let copy = db.copy(&mut store, first, &dest).unwrap();
    assert_eq!(copy.mapping, 0);
    db.revoke(&mut store, first).unwrap();
    db.delete(&mut store, first).unwrap();
    assert_eq!(store.removed, 2);
}

struct RecordingStore {
    inner: crate::ArraySlotStore<8>,
    removed: usize,
}

impl crate::SlotStore for RecordingStore {
    fn slot(&self, addr: crate::SlotAddr) -> Option<&crate::Slot> {
        self.inner.slot(addr)
    }
    fn slot_mut(&mut self, addr: crate::SlotAddr) -> Option<&mut crate::Slot> {
        self.inner.slot_mut(addr)
    }
    fn cap_removed(&mut self, _cap: &crate::Capability) {
        self.removed += 1;
    }
}

#[test]
fn endpoint_slots_hold_caps_in_flight_and_die_with_the_endpoint() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), request(CapType::Endpoint, 0, 0), at(4)).unwrap();
    fixture.retype(at(1), request(CapType::Frame, 12, 0x1000), at(5)).unwrap();
    let endpoint = fixture.lookup(at(4)).unwrap().1;
    let held = SlotAddr::new(endpoint.held_slot(3).unwrap()).unwrap();
    let frame_slot = fixture.lookup(at(5)).unwrap().0;
    let store = &mut *fixture.store;
    let copy = fixture.db.copy_to_slot(store, frame_slot, held).unwrap();
    assert_eq!(CapDatabase::parent(store, held), Ok(Some(frame_slot)));
    assert_eq!(fixture.db.copy_to_slot(store, frame_slot, held), Err(CapError::SlotOccupied));
    // Deleting the endpoint deletes what it holds.
    fixture.delete(at(4)).unwrap();
    assert!(fixture.store.slot(held).unwrap().capability().is_none());
    assert_eq!(CapDatabase::has_descendants(&*fixture.store, frame_slot), Ok(false));
    assert_eq!(copy.kind, CapType::Frame);
}

#[test]
fn revoking_the_source_catches_the_copy_in_an_endpoint() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), request(CapType::Endpoint, 0, 0), at(4)).unwrap();
    fixture.retype(at(1), request(CapType::Frame, 12, 0x1000), at(5)).unwrap();
    let held = SlotAddr::new(fixture.lookup(at(4)).unwrap().1.held_slot(0).unwrap()).unwrap();
    let frame_slot = fixture.lookup(at(5)).unwrap().0;
    fixture.db.copy_to_slot(&mut *fixture.store, frame_slot, held).unwrap();
    fixture.revoke(at(5)).unwrap();
    assert!(fixture.store.slot(held).unwrap().capability().is_none());
}

#[test]
fn move_keeps_the_derivation_and_empties_the_source() {
    let mut fixture = Fixture::boot();
    fixture.retype(at(1), request(CapType::Endpoint, 0, 0), at(4)).unwrap();
    fixture.retype(at(1), request(CapType::Frame, 12, 0x1000), at(5)).unwrap();
    let held = SlotAddr::new(fixture.lookup(at(4)).unwrap().1.held_slot(1).unwrap()).unwrap();
    let frame_slot = fixture.lookup(at(5)).unwrap().0;
    fixture.db.copy_to_slot(&mut *fixture.store, frame_slot, held).unwrap();
    let before = CapDatabase::handle(&*fixture.store, held).unwrap();
    let occupied = fixture.locate(at(5)).unwrap();
    assert_eq!(fixture.db.move_cap(&mut *fixture.store, held, &occupied), Err(CapError::SlotOccupied));
    let dest = fixture.locate(at(6)).unwrap();
    fixture.db.move_cap(&mut *fixture.store, held, &dest).unwrap();
    let store = &*fixture.store;
    assert_eq!(CapDatabase::capability(store, before), Err(CapError::Stale));
    assert_eq!(CapDatabase::parent(store, root_slot(6)), Ok(Some(frame_slot)));
    // The moved copy is still a descendant: revoking the source removes it.
    fixture.revoke(at(5)).unwrap();
    assert_eq!(fixture.lookup(at(6)), Err(CapError::SlotEmpty));
    assert_eq!(fixture.db.move_cap(&mut *fixture.store, held, &dest), Err(CapError::SlotEmpty));
}
