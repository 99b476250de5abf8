//! Starting a program from the boot modules on this core, at EL0, by
//! capability invocations only (what a monitor does for "spawn on core i").
//!
//! The program gets its own address space (an L0 VNode and the tables its
//! segments, stack and dispatcher frame need), its own root CNode (radix 8,
//! laid out like the first program's: 1 itself, 2 its L0, 3 its dispatcher,
//! 4 its RAM (a copy of a RAM capability the caller gives: whatever the
//! child makes from it is the caller's to revoke), 5 the Kernel capability without the write right: it prints
//! and identifies, nothing else) and a dispatcher started at its ELF
//! entry with the first program's registers (core, cores, frame address).
//! Every object of the child lives in the child's CNode, so deleting that
//! CNode (`Child::destroy`) takes all of them with it. The loader copies the
//! segments through one scratch page of the caller's address space.

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use caps::abi::layout::{FRAME, MODULES, STACK_SIZE, STACK_TOP};
use elf::abi::{EM_AARCH64, ET_EXEC, PF_W, PF_X, PT_LOAD};
use elf::endian::LittleEndian;
use elf::ElfBytes;

use crate::allocator::{allocate_ram, allocate_slot};
use crate::cap::{CNode, Dispatcher, Endpoint, Kernel, Ram, VNode};
use crate::cptr::{CPtr, KERNEL_SLOT, ROOT_CNODE_SLOT};
use crate::error::Error;
use crate::heap::{HeapTables, L2_ENTRY_SIZE};
use crate::object::{self, ObjectType, PAGE_BITS, PAGE_SIZE, TABLE_BITS};
use crate::rights::Rights;

/// Radix of a child's root CNode.
const CHILD_RADIX: usize = 8;
/// The child's slots (as in `caps::abi::slot`).
const SELF: usize = 1;
const L0: usize = 2;
const DISPATCHER: usize = 3;
const RAM: usize = 4;
const KERNEL: usize = 5;
/// The session endpoints (as in `caps::abi::slot`).
const SESSION: usize = caps::abi::slot::SESSION as usize;
const SESSION_REPLY: usize = caps::abi::slot::SESSION_REPLY as usize;
const SESSION_EVENTS: usize = caps::abi::slot::SESSION_EVENTS as usize;
/// The first slot of the child's CNode for the loader's objects.
const FIRST_OBJECT: usize = caps::abi::slot::LOADER as usize;
/// Pages of the services window (`layout::SERVICES`): one L3 table.
pub const SERVICE_PAGES: usize = 512;
/// The child's own RAM (its slot 4): the first half of its pool unit; its
/// writable segments take pages of the second half, so that they can be
/// shared with the program's dispatchers on other cores.
const CHILD_RAM_BITS: usize = 15;
const DATA_OFFSET: usize = 1 << CHILD_RAM_BITS;
const DATA_PAGES: usize = DATA_OFFSET / PAGE_SIZE;
/// Pages of the stack of a dispatcher that spans a program to this core.
pub const SPAN_STACK_PAGES: usize = 16;

/// Why a program could not be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// No boot modules.
    NoModules,
    /// No program of that name.
    NotFound,
    /// Not a static AArch64 executable, or a segment out of place.
    BadElf,
    /// The child's CNode is full (the program is too large).
    TooLarge,
    /// A capability invocation failed.
    Kernel(Error),
}

impl From<Error> for SpawnError {
    fn from(error: Error) -> Self {
        SpawnError::Kernel(error)
    }
}

/// The boot modules (the initrd's CPIO archive), mapped read-only by the
/// kernel into every core's first program (only there: elsewhere this is
/// an error).
pub fn modules() -> Result<&'static [u8], SpawnError> {
    let [offset, length, _] = Kernel::initial().modules().map_err(SpawnError::Kernel)?;
    if length == 0 {
        return Err(SpawnError::NoModules);
    }
    let start = MODULES as usize + offset;
    // SAFETY: the kernel maps the pages holding the initrd's `length`
    // bytes read-only at `MODULES` (from the page of its first byte) in
    // every first program, for good; nothing writes them. Programs that are
    // not a first program (a spawned one) get a Kernel capability without
    // the write right, and `Kernel.modules` refuses them (`MissingRights`),
    // so they never get here.
    Ok(unsafe { core::slice::from_raw_parts(start as *const u8, length) })
}

/// The names of the programs in the boot modules.
pub fn programs() -> impl Iterator<Item = &'static str> {
    modules().into_iter().flat_map(|m| caps::initrd::files(m).map(|file| file.name))
}

/// The program `name` in the boot modules.
pub fn find(name: &str) -> Result<&'static [u8], SpawnError> {
    let modules = modules()?;
    caps::initrd::find(modules, name).ok_or(SpawnError::NotFound)
}

/// A page of a program's address space the loader made: its address, the
/// slot of its frame in the program's CNode, how it is mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// Virtual address.
    pub va: usize,
    /// Slot of the frame in the program's CNode.
    pub slot: usize,
    /// Mapping rights.
    pub rights: Rights,
}

/// A started program.
#[derive(Clone, Debug)]
pub struct Child {
    /// Its root CNode, in the caller's root CNode.
    pub cnode: CNode,
    /// Its dispatcher (in its own CNode).
    pub dispatcher: Dispatcher,
    /// The endpoint its session requests arrive on (bound to the caller
    /// with the event `spawn` was given).
    pub requests: Endpoint,
    /// The endpoint the caller's replies go to.
    pub replies: Endpoint,
    /// The endpoint the caller's wake-ups go to.
    pub wakeups: Endpoint,
    /// The L3 table of its services window, in its CNode.
    services: CPtr,
    /// The next free slot of its CNode (after the loader's objects).
    next_slot: usize,
    /// Pages of the services window used.
    service_pages: usize,
    /// Its segments' pages.
    pub pages: Vec<Page>,
    /// For a dispatcher of a program that spans cores: how to map more
    /// pages into its replica.
    replica: Option<alloc::boxed::Box<Builder>>,
    /// The root slot of the RAM block all its objects were made from.
    block: usize,
}

impl Child {
    /// A pointer to slot `index` of the child's CNode.
    pub fn slot(&self, index: usize) -> CPtr {
        child_slot(self.cnode.cptr().address(), index)
    }

    /// Maps a copy of `frame` (a capability of the caller's) at `va` of the
    /// replica of a dispatcher made by [`Spawner::span`] (its tables are
    /// made as needed); the copy dies with the replica, or when the caller
    /// revokes `frame`.
    pub fn map_into_replica(&mut self, va: usize, frame: CPtr, rights: Rights) -> Result<(), SpawnError> {
        self.replica.as_mut().ok_or(SpawnError::NotFound)?.map_copy(va, frame, rights)
    }

    /// Maps copies of the 4 KiB frames `frames` (capabilities of the
    /// caller's) read/write into the child's services window, one after
    /// the other; their address there. The copies die with the child, or
    /// when the caller revokes the frames.
    pub fn map_service(&mut self, frames: &[CPtr]) -> Result<usize, SpawnError> {
        if self.service_pages + frames.len() > SERVICE_PAGES
            || self.next_slot + frames.len() > 1 << CHILD_RADIX
        {
            return Err(SpawnError::TooLarge);
        }
        let address = caps::abi::layout::SERVICES as usize + self.service_pages * PAGE_SIZE;
        for &frame in frames {
            let slot = self.next_slot;
            self.cnode.copy(slot, frame)?;
            self.next_slot += 1;
            VNode::new(self.services).map(self.slot(slot), self.service_pages, Rights::READ_WRITE)?;
            self.service_pages += 1;
        }
        Ok(address)
    }
}

/// A pointer to slot `index` of the CNode in root slot `cnode`.
fn child_slot(cnode: usize, index: usize) -> CPtr {
    CPtr::new((cnode << CHILD_RADIX) | index, (2 * CHILD_RADIX) as u8)
}

/// Bytes of the RAM block each child's objects are made from (its CNode,
/// tables, frames and dispatcher): programs up to ~1.9 MiB.
const BLOCK_BITS: u32 = 21;

/// Loads programs, with one scratch page of the caller's address space.
/// Each child's objects come from one RAM block of the caller's, which
/// `destroy` revokes and keeps for the next child.
pub struct Spawner {
    scratch: VNode,
    scratch_va: usize,
    free_blocks: Vec<usize>,
    free_slots: Vec<usize>,
}

/// The slots of one child's CNode, its translation tables, and the block
/// its objects come from.
#[derive(Clone, Debug)]
struct Builder {
    cnode: usize,
    next: usize,
    tables: BTreeMap<(usize, usize), usize>,
    block: Ram,
    used: usize,
    /// The segments' pages.
    pages: Vec<Page>,
    /// Writable pages taken from the pool unit so far.
    data_pages: usize,
}

impl Builder {
    /// A pointer to slot `index` of the child's CNode (through the
    /// caller's root CNode).
    fn slot(&self, index: usize) -> CPtr {
        child_slot(self.cnode, index)
    }

    /// Makes one object of `kind` from the caller's RAM into the child's
    /// next free slot.
    fn make(&mut self, kind: ObjectType, size_bits: usize, object_bits: u32) -> Result<usize, SpawnError> {
        self.make_at(None, kind, size_bits, object_bits)
    }

    fn make_at(
        &mut self,
        index: Option<usize>,
        kind: ObjectType,
        size_bits: usize,
        object_bits: u32,
    ) -> Result<usize, SpawnError> {
        let index = match index {
            Some(index) => index,
            None if self.next < 1 << CHILD_RADIX => {
                self.next += 1;
                self.next - 1
            }
            None => return Err(SpawnError::TooLarge),
        };
        // The next offset of the block aligned to the object's size.
        let size = 1usize << object_bits;
        let offset = self.used.next_multiple_of(size);
        if offset + size > 1 << BLOCK_BITS {
            return Err(SpawnError::TooLarge);
        }
        self.block.retype(kind, size_bits, offset, CPtr::slot(self.cnode), index, 1)?;
        self.used = offset + size;
        Ok(index)
    }

    /// The child built here: with its session endpoints (if `session`),
    /// its services window's table `services`.
    fn child(&self, session: bool, services: CPtr) -> Child {
        let endpoint = |index: usize| Endpoint::new(if session { self.slot(index) } else { CPtr::slot(0) });
        Child {
            cnode: CNode::at(self.cnode),
            dispatcher: Dispatcher::new(self.slot(DISPATCHER)),
            requests: endpoint(SESSION),
            replies: endpoint(SESSION_REPLY),
            wakeups: endpoint(SESSION_EVENTS),
            services,
            next_slot: self.next,
            service_pages: 0,
            pages: Vec::new(),
            replica: None,
            block: self.block.cptr().address(),
        }
    }

    /// Maps a copy of `frame` (a capability of the caller's) at `va` of a
    /// replica, which must not hide its stack or dispatcher frame.
    fn map_copy(&mut self, va: usize, frame: CPtr, rights: Rights) -> Result<(), SpawnError> {
        let top = caps::abi::layout::SPAN_STACK_TOP as usize;
        let stack = top - SPAN_STACK_PAGES * PAGE_SIZE..top;
        let clash = va == FRAME as usize || stack.contains(&va);
        if va == 0 || va >= 1 << 48 || clash || !va.is_multiple_of(PAGE_SIZE) || self.next >= 1 << CHILD_RADIX
        {
            return Err(SpawnError::BadElf);
        }
        let index = self.next;
        CNode::at(self.cnode).copy(index, frame)?;
        self.next += 1;
        self.map(index, va, rights)
    }

    /// A frame for a writable page, from the second half of the pool unit
    /// `unit`.
    fn data_frame(&mut self, unit: CPtr) -> Result<usize, SpawnError> {
        if self.data_pages == DATA_PAGES || self.next >= 1 << CHILD_RADIX {
            return Err(SpawnError::TooLarge);
        }
        let index = self.next;
        let offset = DATA_OFFSET + self.data_pages * PAGE_SIZE;
        Ram::new(unit).retype(
            ObjectType::Frame,
            PAGE_BITS as usize,
            offset,
            CPtr::slot(self.cnode),
            index,
            1,
        )?;
        self.next += 1;
        self.data_pages += 1;
        Ok(index)
    }

    /// The L3 table (slot) covering `va`, made (with its L1 and L2) if
    /// needed.
    fn table(&mut self, va: usize) -> Result<usize, SpawnError> {
        let mut parent = L0;
        for level in 1..=3 {
            let shift = 39 - 9 * (level - 1);
            let key = (level, va >> shift);
            parent = match self.tables.get(&key) {
                Some(&slot) => slot,
                None => {
                    let kind = ObjectType::vnode(level).ok_or(SpawnError::BadElf)?;
                    let slot = self.make(kind, 0, TABLE_BITS)?;
                    let entry = (va >> shift) & 511;
                    VNode::new(self.slot(parent)).map(self.slot(slot), entry, Rights::READ_WRITE)?;
                    self.tables.insert(key, slot);
                    slot
                }
            };
        }
        Ok(parent)
    }

    /// Maps the capability in child slot `slot` (a 4 KiB frame or the
    /// dispatcher's frame) at `va`.
    fn map(&mut self, slot: usize, va: usize, rights: Rights) -> Result<(), SpawnError> {
        let table = self.table(va)?;
        VNode::new(self.slot(table)).map(self.slot(slot), (va >> 12) & 511, rights)?;
        Ok(())
    }
}

impl Spawner {
    /// A spawner whose scratch page is the first entry of a new L3 table at
    /// entry `l2_entry` of the heap's L2 table.
    pub fn new(heap: &HeapTables, l2_entry: usize) -> Result<Spawner, Error> {
        let scratch = object::vnode(3)?;
        heap.l2.map(scratch.cptr(), l2_entry, Rights::READ_WRITE)?;
        Ok(Spawner {
            scratch,
            scratch_va: heap.base + l2_entry * L2_ENTRY_SIZE,
            free_blocks: Vec::new(),
            free_slots: Vec::new(),
        })
    }

    /// Ends `child` and frees everything made for it: its block is revoked
    /// (the dispatcher, CNode, address space and RAM die) and kept, with
    /// its CNode's slot, for the next child.
    pub fn destroy(&mut self, child: Child) -> Result<(), Error> {
        CNode::root().revoke(child.block)?;
        self.free_blocks.push(child.block);
        self.free_slots.push(child.cnode.cptr().address());
        Ok(())
    }

    fn slot(&mut self) -> Result<usize, Error> {
        match self.free_slots.pop() {
            Some(slot) => Ok(slot),
            None => allocate_slot(),
        }
    }

    fn block(&mut self) -> Result<usize, Error> {
        if let Some(block) = self.free_blocks.pop() {
            return Ok(block);
        }
        let slot = allocate_slot()?;
        let offset = allocate_ram(BLOCK_BITS)?;
        Ram::initial().retype(
            ObjectType::Ram,
            BLOCK_BITS as usize,
            offset,
            CPtr::slot(ROOT_CNODE_SLOT),
            slot,
            1,
        )?;
        Ok(slot)
    }

    /// Starts program `name` with `ram` (a RAM capability of the caller's,
    /// copied into its slot 4) at `priority`, with a session whose requests
    /// raise the caller's event `event`.
    pub fn spawn(
        &mut self,
        name: &str,
        ram: CPtr,
        priority: usize,
        event: usize,
    ) -> Result<Child, SpawnError> {
        let image = find(name)?;
        let file = ElfBytes::<LittleEndian>::minimal_parse(image).map_err(|_| SpawnError::BadElf)?;
        if file.ehdr.e_machine != EM_AARCH64 || file.ehdr.e_type != ET_EXEC {
            return Err(SpawnError::BadElf);
        }
        let (mut child, made) = self.begin()?;
        let loaded = made.and_then(|()| self.load(&mut child, &file, image, ram));
        let services = loaded.and_then(|entry| {
            let services = child.table(caps::abi::layout::SERVICES as usize)?;
            session(&mut child, event)?;
            Ok((entry, services))
        });
        let started = services.and_then(|(entry, services)| {
            let dispatcher = Dispatcher::new(child.slot(DISPATCHER));
            dispatcher.setup_program(
                CPtr::slot(child.cnode),
                child.slot(L0),
                entry,
                STACK_TOP as usize,
                FRAME as usize,
            )?;
            // After `setup`, which gives it its creator's name and priority.
            dispatcher.set_priority(priority)?;
            dispatcher.set_name(name)?;
            dispatcher.start()?;
            Ok(services)
        });
        let session = started.is_ok();
        let services = started.as_ref().map_or(CPtr::slot(0), |&table| child.slot(table));
        let mut made = child.child(session, services);
        made.pages = core::mem::take(&mut child.pages);
        self.finish(made, started.map(drop))
    }

    /// Starts a dispatcher of a program that spans cores on this core: its
    /// own CNode (laid out like a spawned program's: itself, its L0, its
    /// dispatcher, no RAM, the Kernel capability without the write right)
    /// and its own address space, a replica holding `frames` (this core's
    /// copies of the program's frames: address, capability, rights) at the
    /// same addresses as on the program's core, a stack of
    /// [`SPAN_STACK_PAGES`] below `layout::SPAN_STACK_TOP` and its
    /// dispatcher frame at `layout::FRAME`. It starts at `entry` with x0 =
    /// its frame's address, x1 = this core, at `priority`.
    pub fn span(
        &mut self,
        name: &str,
        frames: &[(usize, CPtr, Rights)],
        entry: usize,
        priority: usize,
    ) -> Result<Child, SpawnError> {
        let (mut builder, made) = self.begin()?;
        let child = &mut builder;
        let started = made.and_then(|()| {
            for &(va, frame, rights) in frames {
                child.map_copy(va, frame, rights)?;
            }
            let top = caps::abi::layout::SPAN_STACK_TOP as usize;
            for page in 0..SPAN_STACK_PAGES {
                let frame = child.make(ObjectType::Frame, PAGE_BITS as usize, PAGE_BITS)?;
                child.map(frame, top - (page + 1) * PAGE_SIZE, Rights::READ_WRITE)?;
            }
            child.map(DISPATCHER, FRAME as usize, Rights::READ_WRITE)?;
            let dispatcher = Dispatcher::new(child.slot(DISPATCHER));
            dispatcher.setup_with_frame(
                CPtr::slot(child.cnode),
                child.slot(L0),
                entry,
                top,
                FRAME as usize,
            )?;
            dispatcher.set_priority(priority)?;
            dispatcher.set_name(name)?;
            dispatcher.start()?;
            Ok(())
        });
        let mut made = builder.child(false, CPtr::slot(0));
        if started.is_ok() {
            made.replica = Some(alloc::boxed::Box::new(builder));
        }
        self.finish(made, started)
    }

    /// A new child's block, CNode and first objects: its CNode in slot 1,
    /// its L0 table, its dispatcher and the Kernel capability without the
    /// write right (it prints and identifies, but cannot act as a monitor:
    /// create capabilities, take the doorbell, power off). The builder, and
    /// whether the objects were made (if not, `finish` frees the block).
    fn begin(&mut self) -> Result<(Builder, Result<(), SpawnError>), SpawnError> {
        let block = self.block()?;
        let cnode = match self.slot() {
            Ok(slot) => slot,
            Err(error) => {
                self.free_blocks.push(block);
                return Err(error.into());
            }
        };
        let mut child = Builder {
            cnode,
            next: FIRST_OBJECT,
            tables: BTreeMap::new(),
            block: Ram::at(block),
            used: 0,
            pages: Vec::new(),
            data_pages: 0,
        };
        let made =
            child.block.retype(ObjectType::CNode, CHILD_RADIX, 0, CPtr::slot(ROOT_CNODE_SLOT), cnode, 1);
        child.used = 1 << (CHILD_RADIX as u32 + caps::SLOT_BITS as u32);
        let made = made.map_err(SpawnError::from).and_then(|()| {
            cnode_copy(&child, SELF, CPtr::slot(child.cnode))?;
            CNode::at(child.cnode).mint(KERNEL, CPtr::slot(KERNEL_SLOT), Rights::READ, 0)?;
            child.make_at(Some(L0), ObjectType::VNodeL0, 0, TABLE_BITS)?;
            child.make_at(Some(DISPATCHER), ObjectType::Dispatcher, 0, object::DISPATCHER_BITS)?;
            Ok(())
        });
        Ok((child, made))
    }

    /// `child` if it was started, else everything made for it freed.
    fn finish(&mut self, child: Child, started: Result<(), SpawnError>) -> Result<Child, SpawnError> {
        match started {
            Ok(()) => Ok(child),
            Err(error) => {
                // Everything made so far came from the block.
                let _ = self.destroy(child);
                Err(error)
            }
        }
    }

    /// Builds the child's objects and address space; returns its entry.
    fn load(
        &mut self,
        child: &mut Builder,
        file: &ElfBytes<'_, LittleEndian>,
        image: &[u8],
        ram: CPtr,
    ) -> Result<usize, SpawnError> {
        // Its own RAM: the first half of the unit.
        Ram::new(ram).retype(ObjectType::Ram, CHILD_RAM_BITS, 0, CPtr::slot(child.cnode), RAM, 1)?;
        let segments = file.segments().ok_or(SpawnError::BadElf)?;
        for segment in segments.iter().filter(|s| s.p_type == PT_LOAD) {
            let (vaddr, memsz, filesz) =
                (segment.p_vaddr as usize, segment.p_memsz as usize, segment.p_filesz as usize);
            let start = vaddr & !(PAGE_SIZE - 1);
            let end = vaddr.checked_add(memsz).ok_or(SpawnError::BadElf)?;
            if start == 0 || end > FRAME as usize || filesz > memsz {
                return Err(SpawnError::BadElf);
            }
            let offset = segment.p_offset as usize;
            let data = image
                .get(offset..offset.checked_add(filesz).ok_or(SpawnError::BadElf)?)
                .ok_or(SpawnError::BadElf)?;
            let mut rights = Rights::READ;
            if segment.p_flags & PF_W != 0 {
                rights = rights | Rights::WRITE;
            }
            if segment.p_flags & PF_X != 0 {
                rights = rights | Rights::EXECUTE;
            }
            let mut page = start;
            while page < end {
                let frame = if rights.contains(Rights::WRITE) {
                    child.data_frame(ram)?
                } else {
                    child.make(ObjectType::Frame, PAGE_BITS as usize, PAGE_BITS)?
                };
                self.fill(child.slot(frame), page, vaddr, data)?;
                child.map(frame, page, rights)?;
                child.pages.push(Page { va: page, slot: frame, rights });
                page += PAGE_SIZE;
            }
        }
        let mut page = (STACK_TOP - STACK_SIZE) as usize;
        while page < STACK_TOP as usize {
            let frame = child.make(ObjectType::Frame, PAGE_BITS as usize, PAGE_BITS)?;
            child.map(frame, page, Rights::READ_WRITE)?;
            page += PAGE_SIZE;
        }
        child.map(DISPATCHER, FRAME as usize, Rights::READ_WRITE)?;
        Ok(file.ehdr.e_entry as usize)
    }

    /// Copies the part of `data` (a segment's file bytes, starting at
    /// `segment_start`) that falls into the page at `page` into the fresh
    /// (zeroed) frame at `frame`, through the scratch page.
    fn fill(
        &mut self,
        frame: CPtr,
        page: usize,
        segment_start: usize,
        data: &[u8],
    ) -> Result<(), SpawnError> {
        let from = page.max(segment_start);
        let to = (page + PAGE_SIZE).min(segment_start + data.len());
        if from >= to {
            return Ok(());
        }
        self.scratch.map(frame, 0, Rights::READ_WRITE)?;
        let source = &data[from - segment_start..to - segment_start];
        // SAFETY: the scratch page was just mapped read-write to `frame`, a
        // page nothing else uses; the copy stays inside it.
        unsafe {
            let target = (self.scratch_va + (from - page)) as *mut u8;
            core::ptr::copy_nonoverlapping(source.as_ptr(), target, source.len());
        }
        self.scratch.unmap(frame)?;
        Ok(())
    }
}

/// The child's session endpoints: requests (bound to the caller with
/// `event`), replies and wake-ups (bound to the child, events 0 and 1).
fn session(child: &mut Builder, event: usize) -> Result<(), SpawnError> {
    let bits = object::ENDPOINT_BITS;
    for index in [SESSION, SESSION_REPLY, SESSION_EVENTS] {
        child.make_at(Some(index), ObjectType::Endpoint, 0, bits)?;
    }
    let dispatcher = Dispatcher::new(child.slot(DISPATCHER));
    Endpoint::new(child.slot(SESSION)).bind(Dispatcher::own(), event)?;
    Endpoint::new(child.slot(SESSION_REPLY)).bind(dispatcher, crate::session::EVENT_REPLY as usize)?;
    Endpoint::new(child.slot(SESSION_EVENTS)).bind(dispatcher, crate::session::EVENT_WAKE as usize)?;
    Ok(())
}

/// Copies the capability at `source` into slot `index` of the child's CNode.
fn cnode_copy(child: &Builder, index: usize, source: CPtr) -> Result<(), SpawnError> {
    CNode::at(child.cnode).copy(index, source)?;
    Ok(())
}
