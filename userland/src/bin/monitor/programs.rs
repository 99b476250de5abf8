//! Programs a monitor started, their sessions with it (the `Session`
//! interface over LMP), and the services they register and bind.
//!
//! Session requests are served from the top of the serving loop only
//! (`Node::serve`), never from inside `Node::poll`: a request may run
//! protocol operations, which wait in the event loop, and that loop must
//! not serve another session meanwhile.

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use monitor::{CoreId, Endpoint as Port, Name, ObjId, Operation, Outcome};
use stubs::Str;
use userland::cap::CNode;
use userland::channel::{Lmp, UrpcChannel};
use userland::cptr::CPtr;
use userland::interfaces::{SessionDispatcher, SessionServer};
use userland::object::PAGE_SIZE;
use userland::session::{split_id, Status, THIS_CORE};
use userland::spawn::Child;
use userland::{dispatch, println};

use crate::node::{
    pack_name, Control, Node, EVENT_SESSION, KILL, KILLED, PS, PS_END, PS_ENTRY, SPAWN, SPAWN_BAD_PROGRAM,
    SPAWN_KILLED, SPAWN_NOT_FOUND, SPAWN_OK, SPAWN_TELL_START, STARTED,
};

/// How long a request to other monitors may take.
const TIMEOUT_MS: u64 = 10_000;
/// Pages of a service's channel.
const CHANNEL_PAGES: usize = core::mem::size_of::<UrpcChannel>().div_ceil(PAGE_SIZE);
/// Marks the registry entry that claims a service for its one client.
const CLAIM: u8 = b'*';

/// A program this monitor started.
pub struct Program {
    /// The core that asked for it, and its request id.
    pub requester: usize,
    pub request: u64,
    /// Its objects.
    pub child: Child,
    /// The pool unit that is its RAM.
    pub unit: u32,
    /// Its id (`session::id`).
    pub id: u64,
    /// Its name (zero-padded).
    pub name: [u8; 16],
    /// Its session (gone once broken).
    session: Option<Box<SessionDispatcher<Lmp>>>,
    /// What to undo when it ends: services it registered, claims it made.
    pub services: Vec<Service>,
    /// Its dispatchers on other cores.
    pub spans: Vec<crate::span::Span>,
    /// Pages it shared with them since (address, object).
    pub shared: Vec<(u64, ObjId)>,
}

impl Program {
    /// The record of a program just started.
    /// `receive_slot` is the monitor's one slot where a capability a
    /// session sends lands (the `Session` interface carries none; the
    /// serving loop empties it).
    pub fn new(
        requester: usize,
        request: u64,
        child: Child,
        (unit, id): (u32, u64),
        name: [u8; 16],
        receive_slot: usize,
    ) -> Program {
        let transport = Lmp::new(child.replies, child.requests, EVENT_SESSION)
            .with_receive_slot(receive_slot)
            .never_waiting();
        Program {
            requester,
            request,
            child,
            unit,
            id,
            name,
            session: Some(Box::new(SessionDispatcher::new(transport))),
            services: Vec::new(),
            spans: Vec::new(),
            shared: Vec::new(),
        }
    }
}

/// A registry entry (and the channel behind it) to retire.
pub struct Service {
    /// The name (registered only if `registered`).
    pub name: Name,
    /// Whether the name was registered.
    pub registered: bool,
    /// The channel's frames (none for a claim).
    pub objects: Vec<ObjId>,
    /// The pool unit the frames came from.
    pub unit: Option<u32>,
}

/// A name as 16 zero-padded bytes.
pub fn name_bytes(name: &str) -> [u8; 16] {
    Name::new(name).0
}

/// The text of zero-padded name bytes.
pub(crate) fn text(bytes: &[u8; 16]) -> &str {
    let length = bytes.iter().position(|&b| b == 0).unwrap_or(16);
    core::str::from_utf8(&bytes[..length]).unwrap_or("?")
}

/// Name bytes from the two words `pack_name` made.
pub(crate) fn unpack(lo: u64, hi: u64) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&lo.to_le_bytes());
    bytes[8..].copy_from_slice(&hi.to_le_bytes());
    bytes
}

/// A service name a program may register: 1 to 15 printable bytes.
fn service_name(name: &str) -> Option<Name> {
    let ok = !name.is_empty() && name.len() < 16 && name.bytes().all(|b| b.is_ascii_graphic() && b != CLAIM);
    ok.then(|| Name::new(name))
}

fn claim_of(name: Name) -> Name {
    let mut claim = name;
    let length = claim.0.iter().position(|&b| b == 0).unwrap_or(15);
    claim.0[length.min(15)] = CLAIM;
    claim
}

impl Node {
    /// Whether a session request is waiting.
    pub fn sessions_pending(&self) -> bool {
        dispatch::own_frame().is_some_and(|frame| frame.events() & (1 << EVENT_SESSION) != 0)
    }

    /// Serves every waiting session request.
    pub fn serve_sessions(&mut self) {
        loop {
            let mut served = false;
            let ids: Vec<u64> = self.children.iter().map(|p| p.id).collect();
            for id in ids {
                let Some(mut session) =
                    self.children.iter_mut().find(|p| p.id == id).and_then(|p| p.session.take())
                else {
                    continue;
                };
                self.serving = Some(id);
                let result = session.poll_one(&mut Handler { node: self, caller: id });
                self.serving = None;
                // A capability no request carries (the interface has none)
                // makes the request rejected: it is deleted then.
                if !matches!(result, Ok(None) | Ok(Some(stubs::Served::Handled { .. }))) {
                    let _ = CNode::root().delete(self.session_slot);
                }
                served |= matches!(result, Ok(Some(_)));
                if let Some(program) = self.children.iter_mut().find(|p| p.id == id) {
                    match result {
                        Ok(_) => program.session = Some(session),
                        Err(error) => println!(
                            "monitor: core {}: session of {} broken: {error:?}",
                            self.me,
                            text(&program.name)
                        ),
                    }
                }
            }
            if !served {
                return;
            }
        }
    }

    /// Ends program `id` here; its status.
    fn kill_here(&mut self, id: u64) -> Status {
        match self.children.iter().position(|p| p.id == id) {
            Some(index) => {
                self.end_program(index, SPAWN_KILLED, 0);
                Status::Ok
            }
            None => Status::NotFound,
        }
    }

    /// Serves another monitor's [`KILL`].
    pub fn kill_for(&mut self, request: Control) {
        let status = self.kill_here(request.a);
        let answer = Control { op: KILLED, a: request.c, b: status as u64, ..Control::default() };
        self.links.control(request.core as usize, answer);
    }

    /// Serves a [`PS`]: one entry per program, then the end.
    pub fn list_for(&mut self, request: Control) {
        let to = request.core as usize;
        let mut entries: Vec<(u64, [u8; 16])> = self.children.iter().map(|p| (p.id, p.name)).collect();
        // Dispatchers here of programs that span cores from elsewhere.
        entries.extend(self.replicas.iter().map(|r| (r.program, name_bytes("(span)"))));
        for &(id, name) in &entries {
            let (lo, hi) = pack_name(text(&name));
            self.links.control(
                to,
                Control { op: PS_ENTRY, a: id, b: lo, c: hi, d: request.c, ..Control::default() },
            );
        }
        let end = Control { op: PS_END, a: request.c, b: entries.len() as u64, ..Control::default() };
        self.links.control(to, end);
    }

    /// A fresh id for a request to another monitor.
    pub(crate) fn request_id(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request
    }

    /// Whether `core` runs a monitor.
    pub(crate) fn online_core(&self, core: usize) -> bool {
        core < self.system.listed && self.monitor.replica().online().contains(CoreId(core as u8))
    }

    /// Waits for the control answer `op` to request `id` (dropping others
    /// to the same request).
    pub(crate) fn answer(&mut self, ops: &[u32], id: u64) -> Option<Control> {
        let mut found = None;
        self.wait_until(TIMEOUT_MS, |node| {
            if let Some(i) = node.links.control.iter().position(|c| ops.contains(&c.op) && c.a == id) {
                found = node.links.control.remove(i);
            }
            found.is_some()
        });
        found
    }

    /// Gathers every monitor's programs into `listing`.
    fn gather(&mut self) {
        let id = self.request_id();
        let cores: Vec<usize> = (0..self.system.listed).filter(|&c| self.online_core(c)).collect();
        for &core in &cores {
            self.links.control(core, Control { op: PS, c: id, ..Control::default() });
        }
        let mut listing = Vec::new();
        let mut ended = 0;
        self.wait_until(TIMEOUT_MS, |node| {
            while let Some(i) = node
                .links
                .control
                .iter()
                .position(|c| (c.op == PS_ENTRY && c.d == id) || (c.op == PS_END && c.a == id))
            {
                if let Some(c) = node.links.control.remove(i) {
                    if c.op == PS_ENTRY {
                        listing.push((c.a, c.core, unpack(c.b, c.c)));
                    } else {
                        ended += 1;
                    }
                }
            }
            ended == cores.len()
        });
        listing.sort_by_key(|&(id, core, _)| (id, core));
        self.listing = listing;
    }

    /// Unregisters and revokes what ended programs left, and drops this
    /// core's claims of services that are gone.
    pub fn retire(&mut self) {
        while let Some(service) = self.retiring.pop() {
            if service.registered {
                let _ = self.run(Operation::Unregister { name: service.name }, TIMEOUT_MS);
            }
            let mut revoked = true;
            for &obj in &service.objects {
                let outcome = self.run(Operation::CapRevoke { obj }, TIMEOUT_MS);
                if outcome != Some(Outcome::Done) {
                    println!("monitor: core {}: revoke of a service channel: {outcome:?}", self.me);
                    revoked = false;
                }
            }
            if let Some(unit) = service.unit {
                // The unit is free once every copy is gone everywhere and
                // this core's own are buried; if a revoke did not complete,
                // it stays taken for good rather than be reused under
                // another core's mapping.
                self.pool.bury(&self.monitor);
                if revoked && service.objects.iter().all(|&obj| self.pool.copy(obj).is_none()) {
                    self.release_unit(unit);
                } else {
                    println!("monitor: core {}: a service's RAM unit {unit} is kept out of use", self.me);
                }
            }
        }
        self.drop_stale_claims();
    }

    /// Whether a claim of this core's is for a channel that is gone.
    pub fn stale_claim(&self) -> bool {
        self.claims
            .iter()
            .any(|&(_, service, port)| self.monitor.lookup(service).is_none_or(|p| p.port != port))
    }

    /// Unregisters this core's claims whose service is gone (or is another
    /// channel by now): a claim lives as long as the channel it claims, so
    /// a used channel is never bound again.
    fn drop_stale_claims(&mut self) {
        let mut i = 0;
        while i < self.claims.len() {
            let (claim, service, port) = self.claims[i];
            if self.monitor.lookup(service).is_some_and(|p| p.port == port) {
                i += 1;
                continue;
            }
            self.claims.swap_remove(i);
            let _ = self.run(Operation::Unregister { name: claim }, TIMEOUT_MS);
        }
    }

    /// Registers `name` for the caller: a channel in a unit of this core's
    /// pool, copied to every monitor, mapped into the caller.
    fn register(&mut self, caller: u64, name: &str) -> Result<u64, Status> {
        let name = service_name(name).ok_or(Status::NotFound)?;
        if self.monitor.lookup(name).is_some() {
            return Err(Status::Exists);
        }
        let unit = self.take_unit().ok_or(Status::NoMemory)?;
        let mut service = Service { name, registered: false, objects: Vec::new(), unit: Some(unit) };
        let result = self.make_service(caller, name, &mut service);
        // Whatever was made is undone when the caller ends (or now).
        match self.children.iter_mut().find(|p| p.id == caller) {
            Some(program) => program.services.push(service),
            None => self.retiring.push(service),
        }
        result
    }

    fn make_service(&mut self, caller: u64, name: Name, service: &mut Service) -> Result<u64, Status> {
        let unit = service.unit.ok_or(Status::Failed)?;
        let frames = self.pool.frames(unit, CHANNEL_PAGES).map_err(|_| Status::NoMemory)?;
        let others: Vec<CoreId> =
            self.monitor.replica().online().iter().filter(|&c| c != CoreId(self.me as u8)).collect();
        for (i, &(slot, desc)) in frames.iter().enumerate() {
            let Some(Outcome::Created(obj)) = self.run(Operation::CapCreate { desc }, TIMEOUT_MS) else {
                // The frames not recorded yet go now (the recorded ones
                // when the service is retired).
                for &(slot, _) in &frames[i..] {
                    let _ = CNode::root().delete(slot);
                }
                return Err(Status::Timeout);
            };
            self.pool.adopt(obj, slot);
            service.objects.push(obj);
            for &to in &others {
                if self.run(Operation::CapCopy { obj, to }, TIMEOUT_MS) != Some(Outcome::Done) {
                    return Err(Status::Timeout);
                }
            }
        }
        let port = Port { core: CoreId(self.me as u8), port: service.objects[0].0 as u32 };
        match self.run(Operation::Register { name, endpoint: port }, TIMEOUT_MS) {
            Some(Outcome::Done) => service.registered = true,
            Some(Outcome::Failed(_)) => return Err(Status::Exists),
            _ => return Err(Status::Timeout),
        }
        let slots: Vec<CPtr> = frames.iter().map(|&(slot, _)| CPtr::slot(slot)).collect();
        self.map_into(caller, &slots)
    }

    /// Maps `frames` into program `caller`'s services window.
    fn map_into(&mut self, caller: u64, frames: &[CPtr]) -> Result<u64, Status> {
        let program = self.children.iter_mut().find(|p| p.id == caller).ok_or(Status::NotFound)?;
        program.child.map_service(frames).map(|address| address as u64).map_err(|_| Status::NoMemory)
    }

    /// Binds the caller to the service `name`: claims it (one client),
    /// maps this core's copies of its channel into the caller.
    fn bind(&mut self, caller: u64, name: &str) -> Result<u64, Status> {
        let name = service_name(name).ok_or(Status::NotFound)?;
        let port = self.monitor.lookup(name).ok_or(Status::NotFound)?;
        let claim = claim_of(name);
        let me = Port { core: CoreId(self.me as u8), port: port.port };
        match self.run(Operation::Register { name: claim, endpoint: me }, TIMEOUT_MS) {
            Some(Outcome::Done) => {}
            Some(Outcome::Failed(_)) => return Err(Status::Exists),
            _ => return Err(Status::Timeout),
        }
        // Kept until the service's channel is gone (`drop_stale_claims`),
        // whether the client lives that long or not.
        self.claims.push((claim, name, port.port));
        let server = u64::from(port.core.0) << 32;
        let frames: Option<Vec<CPtr>> = (0..CHANNEL_PAGES as u64)
            .map(|i| self.pool.copy(ObjId(server | (u64::from(port.port) + i))).map(CPtr::slot))
            .collect();
        self.map_into(caller, &frames.ok_or(Status::NotFound)?)
    }

    /// Starts `program` on `core` for the caller; its id.
    fn spawn_program(&mut self, program: &str, core: u32) -> Result<u64, Status> {
        let core = if core == THIS_CORE { self.me } else { core as usize };
        if !self.online_core(core) {
            return Err(Status::CoreDown);
        }
        if program.is_empty() || program.len() > 16 {
            return Err(Status::NotFound);
        }
        let id = self.request_id();
        let (lo, hi) = pack_name(program);
        let request = Control { op: SPAWN, a: lo, b: hi, c: id, d: SPAWN_TELL_START, ..Control::default() };
        self.links.control(core, request);
        match self.answer(&[STARTED], id) {
            Some(answer) if answer.b == SPAWN_OK => Ok(answer.c),
            Some(answer) if answer.b == SPAWN_NOT_FOUND => Err(Status::NotFound),
            Some(answer) if answer.b == SPAWN_BAD_PROGRAM => Err(Status::BadProgram),
            // Out of RAM, slots, or a per-core kernel limit.
            Some(_) => Err(Status::NoMemory),
            None => Err(Status::Timeout),
        }
    }

    /// Ends program `id` wherever it runs (not the caller itself, nor the
    /// program reading the terminal: the system would be left without it).
    fn kill_program(&mut self, caller: u64, id: u64) -> Status {
        let reader = self.console.as_ref().and_then(|c| c.reader());
        let reads = self.children.iter().any(|p| p.id == id && Some(p.child.wakeups) == reader);
        if id == caller || reads {
            return Status::Refused;
        }
        let (core, _) = split_id(id);
        let core = core as usize;
        if core == self.me {
            return self.kill_here(id);
        }
        if !self.online_core(core) {
            return Status::NotFound;
        }
        let request = self.request_id();
        self.links.control(core, Control { op: KILL, a: id, c: request, ..Control::default() });
        match self.answer(&[KILLED], request) {
            Some(answer) => Status::from_code(answer.b as u32),
            None => Status::Timeout,
        }
    }
}

/// Serves one session request of program `caller`.
struct Handler<'a> {
    node: &'a mut Node,
    caller: u64,
}

fn status<T>(result: Result<T, Status>) -> (u32, T)
where
    T: Default,
{
    match result {
        Ok(value) => (Status::Ok as u32, value),
        Err(status) => (status as u32, T::default()),
    }
}

impl SessionServer for Handler<'_> {
    fn write(&mut self, text: Str<400>) -> u32 {
        match self.node.console.as_mut() {
            Some(console) => {
                console.write(text.as_str());
                Status::Ok as u32
            }
            None => Status::NotHere as u32,
        }
    }

    fn read_line(&mut self) -> (bool, Str<256>) {
        let wakeups = self.node.children.iter().find(|p| p.id == self.caller).map(|p| p.child.wakeups);
        match (self.node.console.as_mut(), wakeups) {
            (Some(console), Some(wakeups)) => match console.take_line(wakeups) {
                Some(line) => (true, Str::from_text(&line).unwrap_or_default()),
                None => (false, Str::default()),
            },
            _ => (false, Str::default()),
        }
    }

    fn spawn(&mut self, program: Str<16>, core: u32) -> (u32, u64) {
        status(self.node.spawn_program(program.as_str(), core))
    }

    fn kill(&mut self, id: u64) -> u32 {
        self.node.kill_program(self.caller, id) as u32
    }

    fn ps(&mut self, index: u32) -> (bool, u64, u32, Str<16>) {
        if index == 0 {
            self.node.gather();
        }
        match self.node.listing.get(index as usize) {
            Some(&(id, core, name)) => (true, id, core, Str::from_text(text(&name)).unwrap_or_default()),
            None => (false, 0, 0, Str::default()),
        }
    }

    fn caps(&mut self, index: u32) -> (bool, u32, u8, u64, u64, u64, bool) {
        // Live objects only (the replica keeps tombstones of dead ones).
        let live = |(_, record): &(&ObjId, &monitor::CapRecord)| {
            matches!(record.state, monitor::CapState::Live | monitor::CapState::Revoking)
        };
        match self.node.monitor.replica().caps().filter(live).nth(index as usize) {
            Some((_, record)) => (
                true,
                u32::from(record.owner.0),
                record.desc.kind,
                record.desc.base,
                record.desc.bytes,
                record.copies.0,
                record.state == monitor::CapState::Revoking,
            ),
            None => (false, 0, 0, 0, 0, 0, false),
        }
    }

    fn mem(&mut self, core: u32) -> (bool, u32, u32, u64, u64) {
        let listed = self.node.system.listed as u32;
        if core >= listed {
            return (false, 0, 0, 0, 0);
        }
        let replica = self.node.monitor.replica();
        let owned = replica.ram_owned_by(CoreId(core as u8));
        let units = replica.ram_units() / listed.max(1);
        let pool = self.node.kernel.pool(core as usize).map_or(0, |(base, _, _)| base as u64);
        (true, owned, units, caps::abi::monitor::UNIT_BYTES, pool)
    }

    fn registry(&mut self, index: u32) -> (bool, Str<16>, u32, u32) {
        match self.node.monitor.replica().registry().iter().nth(index as usize) {
            Some((name, registration)) => (
                true,
                Str::from_text(text(&name.0)).unwrap_or_default(),
                u32::from(registration.endpoint.core.0),
                registration.endpoint.port,
            ),
            None => (false, Str::default(), 0, 0),
        }
    }

    fn programs(&mut self, index: u32) -> (bool, Str<32>, u64) {
        match userland::spawn::programs().nth(index as usize) {
            Some(name) => {
                let bytes = userland::spawn::find(name).map_or(0, |image| image.len() as u64);
                (true, Str::from_text(name).unwrap_or_default(), bytes)
            }
            None => (false, Str::default(), 0),
        }
    }

    fn register(&mut self, name: Str<16>) -> (u32, u64) {
        status(self.node.register(self.caller, name.as_str()))
    }

    fn lookup(&mut self, name: Str<16>) -> (u32, u32) {
        let found = service_name(name.as_str()).and_then(|name| self.node.monitor.lookup(name));
        status(found.map(|port| u32::from(port.core.0)).ok_or(Status::NotFound))
    }

    fn bind(&mut self, name: Str<16>) -> (u32, u64) {
        status(self.node.bind(self.caller, name.as_str()))
    }

    fn span(&mut self, core: u32, entry: u64, heap_slot: u32, heap_pages: u32) -> u32 {
        match self.node.span(self.caller, core, entry, (heap_slot, heap_pages)) {
            Ok(()) => Status::Ok as u32,
            Err(status) => status as u32,
        }
    }

    fn share(&mut self, va: u64, slot: u32) -> u32 {
        match self.node.share(self.caller, va, slot as usize) {
            Ok(()) => Status::Ok as u32,
            Err(status) => status as u32,
        }
    }

    fn unshare(&mut self, va: u64) -> u32 {
        match self.node.unshare(self.caller, va) {
            Ok(()) => Status::Ok as u32,
            Err(status) => status as u32,
        }
    }

    fn power_off(&mut self) -> u32 {
        match self.node.console.as_mut() {
            Some(console) => {
                console.flush();
                self.node.kernel.power_off()
            }
            None => Status::NotHere as u32,
        }
    }
}
