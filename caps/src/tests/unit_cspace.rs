//! Unit tests for CPtr resolution, error codes and type numbering.

use super::*;
use crate::{CapType, Rights};

#[test]
fn resolves_root_slots() {
    let fixture = Fixture::boot();
    let (addr, cap) = fixture.lookup(at(1)).unwrap();
    assert_eq!(addr, root_slot(1));
    assert_eq!(cap.kind, CapType::Ram);
    assert_eq!(fixture.lookup(at(0)).unwrap().1, fixture.root);
}

#[test]
fn malformed_cptrs_are_invalid() {
    let fixture = Fixture::boot();
    for cptr in
        [CPtr { address: 0, depth: 0 }, CPtr { address: 0, depth: 65 }, CPtr { address: 1 << 4, depth: 4 }]
    {
        assert_eq!(fixture.locate(cptr), Err(CapError::InvalidCPtr));
    }
}

#[test]
fn short_depth_is_a_mismatch() {
    let fixture = Fixture::boot();
    let cptr = CPtr { address: 1, depth: 3 };
    assert_eq!(fixture.locate(cptr), Err(CapError::DepthMismatch));
}

#[test]
fn empty_slots_are_reported() {
    let fixture = Fixture::boot();
    assert_eq!(fixture.lookup(at(9)), Err(CapError::SlotEmpty));
    assert!(fixture.locate(at(9)).is_ok());
    assert_eq!(fixture.locate(nested(9, 2, 1)), Err(CapError::SlotEmpty));
}

#[test]
fn non_cnodes_stop_the_lookup() {
    let fixture = Fixture::boot();
    assert_eq!(fixture.locate(nested(1, 2, 0)), Err(CapError::NotCNode));
    let ram = fixture.lookup(at(1)).unwrap().1;
    assert_eq!(resolve(&*fixture.store, &ram, at(0)), Err(CapError::NotCNode));
}

#[test]
fn nested_cnodes_resolve_and_loops_are_bounded() {
    let mut fixture = Fixture::boot();
    let cnode = request(CapType::CNode, 1, 0);
    fixture.retype(at(1), cnode, at(4)).unwrap();
    fixture.copy(at(4), nested(4, 1, 0)).unwrap();
    let (addr, cap) = fixture.lookup(nested(4, 1, 0)).unwrap();
    assert_eq!(addr.get(), RAM_BASE);
    assert_eq!(cap.kind, CapType::CNode);
    // root, then the radix-1 CNode that holds itself, four times: too deep.
    let looping = CPtr { address: 4 << 4, depth: 8 };
    assert_eq!(fixture.locate(looping), Err(CapError::DepthExceeded));
    let three_levels = CPtr { address: 4 << 3, depth: 7 };
    assert!(fixture.locate(three_levels).is_ok());
}

#[test]
fn cnode_rights_guard_insertion() {
    let mut fixture = Fixture::boot();
    let read_only = Rights::READ;
    fixture.retype(at(1), request(CapType::CNode, 2, 0), at(4)).unwrap();
    fixture.mint(at(4), at(5), read_only, 0).unwrap();
    assert_eq!(fixture.copy(at(2), nested(5, 2, 1)), Err(CapError::MissingRights));
    assert!(fixture.copy(at(2), nested(4, 2, 1)).is_ok());
}

#[test]
fn error_codes_are_stable_and_round_trip() {
    for (index, error) in CapError::ALL.into_iter().enumerate() {
        assert_eq!(error.code(), index as u32 + 1);
        assert_eq!(CapError::from_code(error.code()), Some(error));
    }
    assert_eq!(CapError::from_code(0), None);
    assert_eq!(CapError::Stale.code(), 13);
}

#[test]
fn type_numbers_round_trip() {
    for kind in CapType::ALL {
        assert_eq!(CapType::from_u8(kind as u8), Some(kind));
    }
    assert_eq!(CapType::from_u8(0), None);
    assert_eq!(CapType::Ram as u8, 1);
    assert_eq!(CapType::Kernel as u8, 13);
    assert_eq!(CapType::VNodeL2.vnode_level(), Some(2));
}

#[test]
fn mint_never_grows_rights() {
    let mut fixture = Fixture::boot();
    let reduced = fixture.mint(at(1), at(4), Rights::READ, 0).unwrap();
    assert_eq!(reduced.rights, Rights::READ);
    let again = fixture.mint(at(4), at(5), Rights::ALL, 0).unwrap();
    assert_eq!(again.rights, Rights::READ);
}
