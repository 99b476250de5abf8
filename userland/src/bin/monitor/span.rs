//! Programs that span cores: one dispatcher per core in replicas of one
//! address space.
//!
//! Every CPU driver owns its translation tables, so each core a program
//! spans to gets a replica of its address space, built by that core's
//! monitor, mapping the same physical pages at the same addresses:
//!
//! 1. The program's monitor (A) records each page — the loader's segment
//!    pages, which it knows, and the heap frames the program names (checked
//!    to be frames of the program's own pool unit) — as a capability object
//!    (`CapCreate`, A owns it) and copies it to the target core (`CapCopy`):
//!    the target's monitor makes each copy real with `Kernel.create`
//!    (writable pages lie in A's pool; code and read-only data in A's other
//!    RAM, for which the kernel makes read/execute-only frames).
//! 2. A sends the target's monitor (B) the pages' addresses and rights
//!    (`SPAN_PAGE`) and the entry (`SPAN`); B waits until the copies are
//!    real on its core, builds the replica (`Spawner::span`) and starts the
//!    dispatcher, then answers `SPANNED`.
//! 3. When the program ends, A first has every B destroy its dispatcher and
//!    replica (`UNSPAN`), then revokes the pages (two-phase: every copy is
//!    gone before the revoke completes), and only then frees the program's
//!    RAM: no core can touch a page of it when it is reused.

extern crate alloc;

use alloc::vec::Vec;
use monitor::{CapDesc, CoreId, ObjId, Operation, Outcome};
use userland::cap::{CNode, Frame};
use userland::cptr::CPtr;
use userland::heap::HEAP_BASE;
use userland::object::PAGE_SIZE;
use userland::println;
use userland::rights::Rights;
use userland::session::Status;
use userland::spawn::Child;

use crate::node::{Control, Node, CHILD_PRIORITY};
use crate::programs::Program;

/// Control op: one page of a span request: `a` = the object, `b` = its
/// address, `c` = the mapping rights, `d` = the request id.
pub const SPAN_PAGE: u32 = 38;
/// Control op: start program `a`'s dispatcher at entry `b` once the `d`
/// pages of request `c` are real here.
pub const SPAN: u32 = 39;
/// Control op: the answer to [`SPAN`]: `a` = the request id, `b` = a
/// `Status` code.
pub const SPANNED: u32 = 40;
/// Control op: end program `a`'s dispatcher here; `c` = the request id.
pub const UNSPAN: u32 = 41;
/// Control op: the answer to [`UNSPAN`]: `a` = the request id.
pub const UNSPANNED: u32 = 42;
/// Control op: map object `a` at `b` into program `d`'s replica here;
/// `c` = the request id << 8 | the rights.
pub const SHARE: u32 = 43;
/// Control op: the answer to [`SHARE`]: `a` = the request id, `b` = a
/// `Status` code.
pub const SHARED: u32 = 44;
/// How long the other monitor may take.
const TIMEOUT_MS: u64 = 10_000;
/// Pages a program may share (its replica's CNode holds them).
const MAX_PAGES: usize = 100;

/// A program's dispatcher on another core, as its monitor (A) sees it.
pub struct Span {
    /// The core.
    pub core: usize,
    /// The shared pages' objects.
    pub objects: Vec<ObjId>,
}

/// A dispatcher of another core's program on this core (B's view).
pub struct Replica {
    /// The program's id.
    pub program: u64,
    /// Its dispatcher and replica.
    pub child: Child,
}

/// A span request waiting for its pages here.
#[derive(Clone, Copy)]
pub struct Pending {
    request: Control,
    deadline: u64,
}

fn rights_bits(rights: Rights) -> u64 {
    rights.bits() as u64
}

impl Node {
    /// Spans program `caller` to `core` (session request; runs protocol
    /// operations).
    pub fn span(&mut self, caller: u64, core: u32, entry: u64, heap: (u32, u32)) -> Result<(), Status> {
        let core = core as usize;
        if core == self.me || !self.online_core(core) {
            return Err(if core == self.me { Status::Exists } else { Status::CoreDown });
        }
        let program = self.children.iter().find(|p| p.id == caller).ok_or(Status::NotFound)?;
        if program.spans.iter().any(|s| s.core == core) {
            return Err(Status::Exists);
        }
        // The program's pool unit: its writable pages and heap lie there.
        let unit = program.unit;
        let mut pages: Vec<(usize, CPtr, Rights)> =
            program.child.pages.iter().map(|p| (p.va, program.child.slot(p.slot), p.rights)).collect();
        let (heap_slot, heap_pages) = (heap.0 as usize, heap.1 as usize);
        for i in 0..heap_pages {
            pages.push((HEAP_BASE + i * PAGE_SIZE, program.child.slot(heap_slot + i), Rights::READ_WRITE));
        }
        if pages.len() > MAX_PAGES {
            return Err(Status::NoMemory);
        }
        // What each page is; the heap's must be the program's own.
        let mut described = Vec::with_capacity(pages.len());
        for (i, &(va, frame, rights)) in pages.iter().enumerate() {
            let info = Frame::new(frame).identify().map_err(|_| Status::NotFound)?;
            let base = info.base as u64;
            let heap_page = i >= pages.len() - heap_pages;
            if info.size != PAGE_SIZE || (heap_page && !self.pool.unit_holds(unit, info.base)) {
                return Err(Status::NotFound);
            }
            let desc = CapDesc { kind: caps::CapType::Frame as u8, base, bytes: PAGE_SIZE as u64 };
            described.push((va, frame, rights, desc));
        }
        let mut span = Span { core, objects: Vec::new() };
        let result = self.share_pages(&described, &mut span);
        // Recorded even if it failed: whatever was shared is revoked when
        // the program ends.
        if let Some(program) = self.children.iter_mut().find(|p| p.id == caller) {
            program.spans.push(span);
        }
        let objects = result?;
        let request = self.request_id();
        for (&obj, &(va, _, rights, _)) in objects.iter().zip(&described) {
            let page = Control {
                op: SPAN_PAGE,
                a: obj.0,
                b: va as u64,
                c: rights_bits(rights),
                d: request,
                core: 0,
            };
            self.links.control(core, page);
        }
        let go = Control { op: SPAN, a: caller, b: entry, c: request, d: objects.len() as u64, core: 0 };
        self.links.control(core, go);
        match self.answer(&[SPANNED], request) {
            Some(answer) => Status::check(answer.b as u32),
            None => Err(Status::Timeout),
        }
    }

    /// Records `pages` as objects of this core and copies them to the span's
    /// core; the objects, in order.
    fn share_pages(
        &mut self,
        pages: &[(usize, CPtr, Rights, CapDesc)],
        span: &mut Span,
    ) -> Result<Vec<ObjId>, Status> {
        let to = CoreId(span.core as u8);
        for &(_, frame, _, desc) in pages {
            // This monitor's own copy of the program's frame: the creator's
            // copy, kept until the object is dead everywhere.
            let slot = self.pool.slot().map_err(|_| Status::NoMemory)?;
            CNode::root().copy(slot, frame).map_err(|_| Status::Failed)?;
            let Some(Outcome::Created(obj)) = self.run(Operation::CapCreate { desc }, TIMEOUT_MS) else {
                let _ = CNode::root().delete(slot);
                return Err(Status::Timeout);
            };
            self.pool.adopt(obj, slot);
            span.objects.push(obj);
            if self.run(Operation::CapCopy { obj, to }, TIMEOUT_MS) != Some(Outcome::Done) {
                return Err(Status::Timeout);
            }
        }
        Ok(span.objects.clone())
    }

    /// Takes span messages for this core out of the control queue (from
    /// `poll`): pages are kept until their request comes; `UNSPAN`s are
    /// served at once.
    pub fn span_messages(&mut self) -> bool {
        let mut progress = false;
        while let Some(i) =
            self.links.control.iter().position(|c| matches!(c.op, SPAN_PAGE | SPAN | UNSPAN | SHARE))
        {
            let Some(message) = self.links.control.remove(i) else { break };
            progress = true;
            match message.op {
                SPAN_PAGE => self.span_pages.push(message),
                SPAN | SHARE => {
                    let deadline =
                        userland::thread::counter() + TIMEOUT_MS * userland::thread::ticks_per_millisecond();
                    self.span_requests.push(Pending { request: message, deadline });
                }
                _ => self.unspan_for(message),
            }
        }
        if !self.span_requests.is_empty() {
            progress |= self.build_spans();
        }
        progress
    }

    /// Builds the replicas whose pages are all real here.
    fn build_spans(&mut self) -> bool {
        let mut progress = false;
        let mut i = 0;
        while i < self.span_requests.len() {
            let Pending { request, deadline } = self.span_requests[i];
            if request.op == SHARE {
                if self.map_shared(request, deadline) {
                    self.span_requests.swap_remove(i);
                    progress = true;
                } else {
                    i += 1;
                }
                continue;
            }
            let (from, id) = (request.core, request.c);
            let pages: Vec<Control> =
                self.span_pages.iter().filter(|p| p.core == from && p.d == id).copied().collect();
            let copies: Option<Vec<(usize, CPtr, Rights)>> = pages
                .iter()
                .map(|p| {
                    let rights = Rights::from_bits_truncate(p.c as usize);
                    self.pool.copy(ObjId(p.a)).map(|slot| (p.b as usize, CPtr::slot(slot), rights))
                })
                .collect();
            let ready = pages.len() as u64 == request.d && copies.is_some();
            let late = userland::thread::counter() > deadline;
            if !ready && !late {
                i += 1;
                continue;
            }
            self.span_requests.swap_remove(i);
            self.span_pages.retain(|p| !(p.core == from && p.d == id));
            progress = true;
            let status = match copies.filter(|_| ready) {
                None => Status::Timeout,
                Some(frames) => match self.spawner.as_mut() {
                    None => Status::Failed,
                    Some(spawner) => {
                        match spawner.span("span", &frames, request.b as usize, CHILD_PRIORITY) {
                            Ok(child) => {
                                self.share_core();
                                self.replicas.push(Replica { program: request.a, child });
                                Status::Ok
                            }
                            Err(error) => {
                                println!("monitor: core {}: cannot span program: {error:?}", self.me);
                                Status::BadProgram
                            }
                        }
                    }
                },
            };
            let answer = Control { op: SPANNED, a: id, b: status as u64, ..Control::default() };
            self.links.control(from as usize, answer);
        }
        progress
    }

    /// Maps a shared page into a replica here once its copy is real (or
    /// answers a failure); whether the request is done.
    fn map_shared(&mut self, request: Control, deadline: u64) -> bool {
        let (obj, va, id) = (ObjId(request.a), request.b as usize, request.c >> 8);
        let rights = Rights::from_bits_truncate((request.c & 0xff) as usize);
        let copy = self.pool.copy(obj);
        if copy.is_none() && userland::thread::counter() <= deadline {
            return false;
        }
        let replica = self.replicas.iter_mut().find(|r| r.program == request.d);
        let status = match (copy, replica) {
            (None, _) => Status::Timeout,
            (_, None) => Status::NotFound,
            (Some(slot), Some(replica)) => match replica.child.map_into_replica(va, CPtr::slot(slot), rights)
            {
                Ok(()) => Status::Ok,
                Err(_) => Status::Failed,
            },
        };
        let answer = Control { op: SHARED, a: id, b: status as u64, ..Control::default() };
        self.links.control(request.core as usize, answer);
        true
    }

    /// Shares program `caller`'s frame in its slot `slot` at `va` with its
    /// dispatchers on other cores.
    pub fn share(&mut self, caller: u64, va: u64, slot: usize) -> Result<(), Status> {
        let program = self.children.iter().find(|p| p.id == caller).ok_or(Status::NotFound)?;
        if !va.is_multiple_of(PAGE_SIZE as u64) || program.shared.iter().any(|&(v, _)| v == va) {
            return Err(Status::Exists);
        }
        let frame = program.child.slot(slot);
        let info = Frame::new(frame).identify().map_err(|_| Status::NotFound)?;
        if info.size != PAGE_SIZE || !self.pool.unit_holds(program.unit, info.base) {
            return Err(Status::NotFound);
        }
        let cores: Vec<usize> = program.spans.iter().map(|s| s.core).collect();
        let copy = self.pool.slot().map_err(|_| Status::NoMemory)?;
        CNode::root().copy(copy, frame).map_err(|_| Status::Failed)?;
        let desc =
            CapDesc { kind: caps::CapType::Frame as u8, base: info.base as u64, bytes: PAGE_SIZE as u64 };
        let Some(Outcome::Created(obj)) = self.run(Operation::CapCreate { desc }, TIMEOUT_MS) else {
            let _ = CNode::root().delete(copy);
            return Err(Status::Timeout);
        };
        self.pool.adopt(obj, copy);
        if let Some(program) = self.children.iter_mut().find(|p| p.id == caller) {
            program.shared.push((va, obj));
        }
        for core in cores {
            if self.run(Operation::CapCopy { obj, to: CoreId(core as u8) }, TIMEOUT_MS) != Some(Outcome::Done)
            {
                return Err(Status::Timeout);
            }
            let request = self.request_id();
            let rights = Rights::READ_WRITE.bits() as u64;
            let share = Control { op: SHARE, a: obj.0, b: va, c: request << 8 | rights, d: caller, core: 0 };
            self.links.control(core, share);
            match self.answer(&[SHARED], request) {
                Some(answer) => Status::check(answer.b as u32)?,
                None => return Err(Status::Timeout),
            }
        }
        Ok(())
    }

    /// Unshares program `caller`'s page at `va`: revoked everywhere (every
    /// other core deletes its copy, which unmaps it, before the revoke
    /// completes), and this monitor's own copy deleted, so the program can
    /// reuse the RAM.
    pub fn unshare(&mut self, caller: u64, va: u64) -> Result<(), Status> {
        let program = self.children.iter_mut().find(|p| p.id == caller).ok_or(Status::NotFound)?;
        let at = program.shared.iter().position(|&(v, _)| v == va).ok_or(Status::NotFound)?;
        let (_, obj) = program.shared.swap_remove(at);
        if self.run(Operation::CapRevoke { obj }, TIMEOUT_MS) != Some(Outcome::Done) {
            return Err(Status::Timeout);
        }
        self.pool.bury(&self.monitor);
        Ok(())
    }

    /// Ends a program's dispatcher here (its pages stay until revoked).
    fn unspan_for(&mut self, message: Control) {
        while let Some(i) = self.replicas.iter().position(|r| r.program == message.a) {
            let replica = self.replicas.swap_remove(i);
            if let Some(spawner) = self.spawner.as_mut() {
                if let Err(error) = spawner.destroy(replica.child) {
                    println!("monitor: core {}: cannot free a span: {error:?}", self.me);
                }
            }
        }
        let answer = Control { op: UNSPANNED, a: message.c, ..Control::default() };
        self.links.control(message.core as usize, answer);
    }

    /// A program that spans cores ended: its other dispatchers go, then
    /// its shared pages are revoked everywhere; only then are its objects
    /// and RAM freed (`Node::destroy_program`).
    pub fn end_spans(&mut self, program: &mut Program) {
        let shared: Vec<ObjId> = program.shared.drain(..).map(|(_, obj)| obj).collect();
        let revoked_any = !shared.is_empty() || !program.spans.is_empty();
        for span in core::mem::take(&mut program.spans) {
            if self.online_core(span.core) {
                let request = self.request_id();
                let unspan = Control { op: UNSPAN, a: program.id, c: request, ..Control::default() };
                self.links.control(span.core, unspan);
                if self.answer(&[UNSPANNED], request).is_none() {
                    println!("monitor: core {}: core {} did not end a span", self.me, span.core);
                }
            }
            revoke_all(self, &span.objects);
        }
        revoke_all(self, &shared);
        // This core's own copies go once the objects are dead everywhere.
        if revoked_any {
            self.wait_until(TIMEOUT_MS, |node| !node.pool.zombies());
        }
    }
}

/// Revokes `objects` (pages a program shared).
fn revoke_all(node: &mut Node, objects: &[ObjId]) {
    for &obj in objects {
        let outcome = node.run(Operation::CapRevoke { obj }, TIMEOUT_MS);
        if outcome != Some(Outcome::Done) {
            println!("monitor: core {}: revoke of a shared page: {outcome:?}", node.me);
        }
    }
}
