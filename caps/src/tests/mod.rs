//! Host tests: fixture shared by the unit tests and the model-based properties.

extern crate alloc;
extern crate std;

mod model;
mod properties;
mod unit;
mod unit_cspace;

use alloc::boxed::Box;

use crate::{
    resolve, resolve_cap, ArraySlotStore, CPtr, CapDatabase, CapError, CapType, Capability, RetypeRequest,
    SlotAddr, SlotLocation, SLOT_BYTES,
};

/// Physical address of the first slot the test store covers.
pub const BASE: u64 = 0x4000_0000;
/// Slots in the test store: 128 KiB of "physical memory".
pub const STORE_SLOTS: usize = 1024;
/// Radix of the root CNode, which sits at `BASE`.
pub const ROOT_RADIX: u8 = 4;
/// The RAM handed out at boot: the upper 64 KiB of the store.
pub const RAM_BASE: u64 = BASE + 0x1_0000;
/// Size of the boot RAM.
pub const RAM_SIZE: u64 = 0x1_0000;

/// The store used by all tests.
pub type TestStore = ArraySlotStore<STORE_SLOTS>;

/// A booted capability system: root CNode cap in root slot 0 (itself), RAM in
/// slot 1, an IRQ in slot 2, the Kernel cap in slot 3.
pub struct Fixture {
    pub store: Box<TestStore>,
    pub db: CapDatabase,
    pub root: Capability,
}

impl Fixture {
    pub fn boot() -> Self {
        let mut store = Box::new(TestStore::new(BASE));
        let mut db = CapDatabase::new();
        let root_size = SLOT_BYTES << ROOT_RADIX;
        let boot_caps = [
            (CapType::CNode, BASE, root_size),
            (CapType::Ram, RAM_BASE, RAM_SIZE),
            (CapType::Irq, 33, 1),
            (CapType::Kernel, 0, 0),
        ];
        for (index, (kind, base, size)) in boot_caps.into_iter().enumerate() {
            let addr = root_slot(index as u64);
            db.insert_root(&mut *store, addr, kind, base, size).unwrap();
        }
        let root = crate::mdb::cap_at(&*store, root_slot(0)).unwrap();
        Fixture { store, db, root }
    }

    /// Resolve `cptr` to a slot location.
    pub fn locate(&self, cptr: CPtr) -> Result<SlotLocation, CapError> {
        resolve(&*self.store, &self.root, cptr)
    }

    /// Resolve `cptr` to a non-empty slot.
    pub fn lookup(&self, cptr: CPtr) -> Result<(SlotAddr, Capability), CapError> {
        resolve_cap(&*self.store, &self.root, cptr)
    }

    pub fn copy(&mut self, source: CPtr, dest: CPtr) -> Result<Capability, CapError> {
        let (addr, _) = self.lookup(source)?;
        let dest = self.locate(dest)?;
        self.db.copy(&mut *self.store, addr, &dest)
    }

    pub fn mint(
        &mut self,
        source: CPtr,
        dest: CPtr,
        rights: crate::Rights,
        badge: u64,
    ) -> Result<Capability, CapError> {
        let (addr, _) = self.lookup(source)?;
        let dest = self.locate(dest)?;
        self.db.mint(&mut *self.store, addr, &dest, rights, badge)
    }

    pub fn retype(&mut self, source: CPtr, request: RetypeRequest, dest: CPtr) -> Result<(), CapError> {
        let (addr, _) = self.lookup(source)?;
        let dest = self.locate(dest)?;
        self.db.retype(&mut *self.store, addr, &request, &dest)
    }

    pub fn delete(&mut self, target: CPtr) -> Result<(), CapError> {
        let (addr, _) = self.lookup(target)?;
        self.db.delete(&mut *self.store, addr)
    }

    pub fn revoke(&mut self, target: CPtr) -> Result<(), CapError> {
        let (addr, _) = self.lookup(target)?;
        self.db.revoke(&mut *self.store, addr)
    }
}

/// Address of slot `index` of the root CNode.
pub fn root_slot(index: u64) -> SlotAddr {
    SlotAddr::new(BASE + index * SLOT_BYTES).unwrap()
}

/// A CPtr naming root slot `index`.
pub const fn at(index: u64) -> CPtr {
    CPtr { address: index, depth: ROOT_RADIX }
}

/// A CPtr naming slot `inner` of the radix-`radix` CNode in root slot `outer`.
pub const fn nested(outer: u64, radix: u8, inner: u64) -> CPtr {
    CPtr { address: outer << radix | inner, depth: ROOT_RADIX + radix }
}

/// A retype request for one object at `offset`.
pub const fn request(kind: CapType, size_bits: u8, offset: u64) -> RetypeRequest {
    RetypeRequest { kind, size_bits, offset, count: 1 }
}
