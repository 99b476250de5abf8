//! One monitor's links to the others and its event loop.
//!
//! Every pair of monitors shares one URPC channel of the user channel area.
//! The protocol's messages ([`monitor::Message`]) travel as generated
//! `MonitorLink` stubs; a send into a full ring is queued (in order) and
//! retried by the event loop, so two monitors flooding each other cannot
//! deadlock. Idle, a monitor polls its rings (watching its doorbell's bell
//! count) for a while, then sleeps in `WAIT` until a sender rings its
//! doorbell (`Kernel.notify`).

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use monitor::{CoreId, Effect, Message, Monitor, OpId, Outbox, Outcome, Topology, Update, Wire};
use stubs::{RpcError, TransportError};
use userland::cap::{CNode, Kernel, System};
use userland::channel::{doorbell_of, relax, Rung, Urpc};
use userland::interfaces::{MonitorLinkClient, MonitorLinkDispatcher, MonitorLinkServer};
use userland::spawn::{SpawnError, Spawner};
use userland::{dispatch, println, syscall, thread};

use crate::pool::Pool;

/// The event bit the user doorbell sets.
pub const EVENT_DOORBELL: u32 = 62;
/// The event bit the console's interrupt sets.
pub const EVENT_CONSOLE: u32 = 61;
/// The event bit of every program's session requests.
pub const EVENT_SESSION: u32 = 60;
/// Polls of an idle monitor before it sleeps (each a few instructions; a
/// full scan of every ring every [`SCAN_EVERY`]th).
const SPIN: u32 = 4096;
/// A spawned program's priority (below the monitor's); its RAM is one
/// pool unit.
pub(crate) const CHILD_PRIORITY: usize = caps::abi::priority::DEFAULT as usize - 1;
/// Polls before sleeping while other dispatchers share the core.
const SHARED_SPIN: u32 = 64;
/// While idle, every this many polls scan every ring even if the bell
/// count did not move (the count is a hint, not ordered with the rings).
const SCAN_EVERY: u32 = 256;
/// How long a sleeping monitor waits before looking again anyway.
const SLEEP_MS: u64 = 100;

/// Control op: start program `a`/`b` (16 bytes of name) here; `c` is the
/// requester's id for it. Answered with [`SPAWNED`] when the program ended.
pub const SPAWN: u32 = 30;
/// Control op: the answer to [`SPAWN`]: `a` = the request id, `b` = the
/// result ([`SPAWN_OK`] or an error code), `c` = the exit status.
pub const SPAWNED: u32 = 31;
/// Spawn results.
pub const SPAWN_OK: u64 = 0;
/// No such program.
pub const SPAWN_NOT_FOUND: u64 = 1;
/// It could not be loaded or started.
pub const SPAWN_FAILED: u64 = 2;
/// It faulted or was destroyed.
pub const SPAWN_CRASHED: u64 = 3;
/// [`SPAWNED`] result: not a program this system runs.
pub const SPAWN_BAD_PROGRAM: u64 = 5;
/// [`SPAWNED`] result: the program was killed.
pub const SPAWN_KILLED: u64 = 4;
/// [`SPAWN`]'s `d` flag: answer [`STARTED`] as soon as the program runs.
pub const SPAWN_TELL_START: u64 = 1;
/// Control op: the program of a [`SPAWN`] request runs (or could not be
/// started): `a` = the request id, `b` = the result, `c` = its program id.
pub const STARTED: u32 = 32;
/// Control op: end program `a` (an id); `c` = the requester's id for it.
pub const KILL: u32 = 33;
/// Control op: the answer to [`KILL`]: `a` = the request id, `b` = a
/// `session::Status` code.
pub const KILLED: u32 = 34;
/// Control op: list your programs; `c` = the request id.
pub const PS: u32 = 35;
/// Control op: one program in answer to [`PS`]: `a` = its id, `b`, `c` its
/// name (packed), `d` = the request id.
pub const PS_ENTRY: u32 = 36;
/// Control op: the end of a [`PS`] answer: `a` = the request id, `b` = how
/// many entries were sent.
pub const PS_END: u32 = 37;

/// Packs a program name (at most 16 bytes) into two words.
pub fn pack_name(name: &str) -> (u64, u64) {
    let mut bytes = [0u8; 16];
    for (dst, src) in bytes.iter_mut().zip(name.bytes()) {
        *dst = src;
    }
    let (lo, hi) = bytes.split_at(8);
    (
        u64::from_le_bytes(lo.try_into().unwrap_or_default()),
        u64::from_le_bytes(hi.try_into().unwrap_or_default()),
    )
}

/// A coordination message between monitors (not part of the protocol).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Control {
    /// What it asks or reports.
    pub op: u32,
    /// The sending core.
    pub core: u32,
    /// Arguments.
    pub a: u64,
    /// Arguments.
    pub b: u64,
    /// Arguments.
    pub c: u64,
    /// Arguments.
    pub d: u64,
}

/// Something waiting to be sent to one peer.
#[derive(Clone, Copy, Debug)]
enum Outgoing {
    Wire(Wire),
    Hello { peers: u32 },
    Control(Control),
}

/// The sending halves of the links, and what the protocol reported.
pub struct Links {
    me: usize,
    tx: Vec<Option<MonitorLinkClient<Rung>>>,
    backlog: Vec<VecDeque<Outgoing>>,
    /// Messages in all backlogs.
    queued: usize,
    /// Completions of operations started on this core, in order.
    pub completions: VecDeque<(OpId, Outcome)>,
    /// Local effects the protocol asked for, in order.
    pub effects: VecDeque<Effect>,
    /// Coordination messages received, in order.
    pub control: VecDeque<Control>,
    /// Cores whose hello arrived (bit `i` = core `i`).
    pub hellos: u64,
    /// Cores that said they heard from every peer.
    pub ready: u64,
    /// Messages handed to the rings (or queued for them) so far.
    pub sent: u64,
    /// Malformed messages received (counted and dropped).
    pub malformed: u64,
}

impl Links {
    fn push(&mut self, to: usize, out: Outgoing) {
        self.sent += 1;
        if to == self.me || to >= self.tx.len() {
            return;
        }
        if self.backlog[to].is_empty() && self.try_out(to, out) {
            return;
        }
        self.backlog[to].push_back(out);
        self.queued += 1;
    }

    /// Tries to send `out` to `to`; `false` if the ring is full.
    fn try_out(&mut self, to: usize, out: Outgoing) -> bool {
        let Some(client) = self.tx[to].as_mut() else { return true };
        let sent = match out {
            Outgoing::Wire(wire) => match wire.kind {
                1 => client.submit(wire.words),
                2 => client.ordered(wire.words),
                3 => client.sync(wire.words),
                4 => client.ram_ask(wire.words),
                5 => client.ram_deny(wire.words),
                6 => client.revoke_ack(wire.words),
                7 => client.report(wire.words),
                8 => client.fetch(wire.words),
                9 => client.start(wire.words),
                10 => client.applied(wire.words),
                11 => client.trim(wire.words),
                kind => {
                    // A protocol message this transport has no stub for: the
                    // two were changed apart. Said, not silently dropped.
                    println!("monitor: core {}: no stub for protocol message kind {kind}; dropped", self.me);
                    Ok(())
                }
            },
            Outgoing::Hello { peers } => client.hello(self.me as u32, peers),
            Outgoing::Control(c) => client.control(c.op, c.core, c.a, c.b, c.c, c.d),
        };
        match sent {
            Err(RpcError::Transport(TransportError::Full)) => false,
            Ok(()) => true,
            Err(error) => {
                println!("monitor: core {}: link to {to} broken: {error:?}; dropping it", self.me);
                self.tx[to] = None;
                true
            }
        }
    }

    /// Sends what waits in the backlogs; whether anything went.
    fn flush(&mut self) -> bool {
        if self.queued == 0 {
            return false;
        }
        let mut progress = false;
        for to in 0..self.backlog.len() {
            while let Some(&out) = self.backlog[to].front() {
                if !self.try_out(to, out) {
                    break;
                }
                self.backlog[to].pop_front();
                self.queued -= 1;
                progress = true;
            }
        }
        progress
    }

    /// Whether every send has reached its ring.
    pub fn drained(&self) -> bool {
        self.queued == 0
    }

    /// Sends protocol words of `kind` as they are (for tests of bad input).
    pub fn send_raw(&mut self, to: usize, kind: u8, words: [u64; 6]) {
        self.push(to, Outgoing::Wire(Wire { kind, words }));
    }

    /// Sends `control` (with this core as sender) to core `to`.
    pub fn control(&mut self, to: usize, mut control: Control) {
        control.core = self.me as u32;
        if to == self.me {
            // To this monitor itself: straight into its own queue.
            self.sent += 1;
            return self.control.push_back(control);
        }
        self.push(to, Outgoing::Control(control));
    }
}

impl Outbox for Links {
    fn send(&mut self, to: CoreId, message: Message) {
        if let Some(wire) = message.to_wire() {
            return self.push(to.index(), Outgoing::Wire(wire));
        }
        // A catch-up: one `Ordered` per entry.
        for part in message.split_catchup() {
            if let Some(wire) = part.to_wire() {
                self.push(to.index(), Outgoing::Wire(wire));
            }
        }
    }

    fn send_each(&mut self, to: monitor::CoreSet, message: Message) {
        match message.to_wire() {
            // Encoded once for all.
            Some(wire) => to.iter().for_each(|core| self.push(core.index(), Outgoing::Wire(wire))),
            None => to.iter().for_each(|core| self.send(core, message.clone())),
        }
    }

    fn complete(&mut self, op: OpId, outcome: Outcome) {
        self.completions.push_back((op, outcome));
    }

    fn effect(&mut self, effect: Effect) {
        self.effects.push_back(effect);
    }
}

/// Messages from one peer, handed to the protocol or queued for the caller.
struct Inbox<'a> {
    from: usize,
    monitor: &'a mut Monitor,
    links: &'a mut Links,
}

impl Inbox<'_> {
    fn protocol(&mut self, kind: u8, words: [u64; 6]) {
        match Message::from_wire(&Wire { kind, words }) {
            Some(message) if sent_by(self.from, &message) => {
                self.monitor.handle(CoreId(self.from as u8), message, self.links)
            }
            _ => self.links.malformed += 1,
        }
    }
}

/// Whether a submitted update is one monitor `from` may submit: its own
/// operation, or a RAM transfer it donates; never an entry only the
/// sequencer makes. (A monitor is trusted with its own operations only.)
fn sent_by(from: usize, message: &Message) -> bool {
    let Message::Submit { update, .. } = message else { return true };
    let from = CoreId(from as u8);
    match *update {
        // The donor submits a transfer for the requester's operation.
        Update::RamTransfer { from: donor, .. } => donor == from,
        // Entries without an operation are the sequencer's own.
        _ => update.op().is_some_and(|op| op.core == from),
    }
}

impl MonitorLinkServer for Inbox<'_> {
    fn submit(&mut self, w: [u64; 6]) {
        self.protocol(1, w);
    }
    fn ordered(&mut self, w: [u64; 6]) {
        // Every update brings one to every monitor: decoded in place.
        match Message::ordered_from_wire(&w) {
            Some((seq, update, hops)) => {
                self.monitor.handle_ordered(CoreId(self.from as u8), seq, update, hops, self.links)
            }
            None => self.links.malformed += 1,
        }
    }
    fn sync(&mut self, w: [u64; 6]) {
        self.protocol(3, w);
    }
    fn ram_ask(&mut self, w: [u64; 6]) {
        self.protocol(4, w);
    }
    fn ram_deny(&mut self, w: [u64; 6]) {
        self.protocol(5, w);
    }
    fn revoke_ack(&mut self, w: [u64; 6]) {
        self.protocol(6, w);
    }
    fn report(&mut self, w: [u64; 6]) {
        self.protocol(7, w);
    }
    fn fetch(&mut self, w: [u64; 6]) {
        self.protocol(8, w);
    }
    fn start(&mut self, w: [u64; 6]) {
        self.protocol(9, w);
    }
    fn applied(&mut self, w: [u64; 6]) {
        self.protocol(10, w);
    }
    fn trim(&mut self, w: [u64; 6]) {
        self.protocol(11, w);
    }
    fn hello(&mut self, core: u32, peers: u32) {
        if core as usize == self.from {
            self.links.hellos |= 1 << self.from;
            if peers != 0 {
                self.links.ready |= 1 << self.from;
            }
        } else {
            self.links.malformed += 1;
        }
    }
    fn control(&mut self, op: u32, core: u32, a: u64, b: u64, c: u64, d: u64) {
        if core as usize == self.from {
            self.links.control.push_back(Control { op, core, a, b, c, d });
        } else {
            self.links.malformed += 1;
        }
    }
}

/// This core's monitor: the protocol state machine, its links, its pool.
pub struct Node {
    /// This core.
    pub me: usize,
    /// The machine.
    pub system: System,
    /// The protocol.
    pub monitor: Monitor,
    /// Sending halves and reports.
    pub links: Links,
    rx: Vec<Option<MonitorLinkDispatcher<Rung>>>,
    /// RAM units and capability copies made real.
    pub pool: Pool,
    /// The Kernel capability.
    pub kernel: Kernel,
    /// Sizes of the clusters, in core order.
    pub clusters: Vec<usize>,
    /// The broadcast tree's shape.
    pub topology: Topology,
    /// Idle polls before sleeping.
    spin: u32,
    /// Loads programs (set by `main` once the heap exists).
    pub spawner: Option<Spawner>,
    /// Programs this monitor started (for itself or for others).
    pub(crate) children: Vec<crate::programs::Program>,
    /// The number of the next program started here.
    pub(crate) next_program: u32,
    /// The id of this monitor's next request to another.
    pub(crate) next_request: u64,
    /// Services of programs that ended, to unregister and revoke.
    pub(crate) retiring: Vec<crate::programs::Service>,
    /// The program whose session request is being served.
    pub(crate) serving: Option<u64>,
    /// Services this core claimed for a client: the claim, the service's
    /// name and its port (the claim goes when that channel does).
    pub(crate) claims: Vec<(monitor::Name, monitor::Name, u32)>,
    /// The last `ps` list gathered from every monitor.
    pub(crate) listing: Vec<(u64, u32, [u8; 16])>,
    /// The console, on the core that took it.
    pub(crate) console: Option<crate::console::Console>,
    /// Where a capability sent on a session lands (and is deleted).
    pub(crate) session_slot: usize,
    /// Pages of span requests from other monitors, and the requests.
    pub(crate) span_pages: Vec<Control>,
    pub(crate) span_requests: Vec<crate::span::Pending>,
    /// Dispatchers of other cores' programs on this core.
    pub(crate) replicas: Vec<crate::span::Replica>,
    /// Programs that spanned cores and ended, with their result and value:
    /// their spans go before their memory.
    pub(crate) dying: Vec<(crate::programs::Program, u64, u64)>,
    /// Spawn requests waiting for RAM from another core: the RAM request,
    /// the spawn request.
    short: Vec<(OpId, Control)>,
}

/// The broadcast tree's clusters, from the kernel (the DT's `cpu-map`):
/// consecutive cores of equal cluster number form one cluster.
fn clusters(kernel: Kernel, listed: usize) -> userland::error::Result<Vec<usize>> {
    let mut sizes: Vec<usize> = Vec::new();
    let mut last = usize::MAX;
    for core in 0..listed {
        let cluster = kernel.cluster(core)?;
        if cluster != last || sizes.is_empty() {
            sizes.push(0);
            last = cluster;
        }
        if let Some(size) = sizes.last_mut() {
            *size += 1;
        }
    }
    Ok(sizes)
}

impl Node {
    /// Sets up this core's monitor: links to every online peer, the pool,
    /// the doorbell.
    pub fn start(me: usize, kernel: Kernel) -> userland::error::Result<Node> {
        let system = kernel.system()?;
        if system.listed > monitor::MAX_CORES || system.listed == 0 {
            return Err(userland::error::Error::InvalidArgument);
        }
        let clusters = clusters(kernel, system.listed)?;
        let topology = Topology::from_clusters(&clusters);
        let pool = Pool::new(kernel, me, system.listed)?;
        let mut monitor = Monitor::new(CoreId(me as u8), topology, pool.units_per_core());
        let online = |core: usize| system.online & (1 << core) != 0;
        let link = |peer: usize| {
            (peer != me && online(peer)).then(|| Urpc::between(me, peer, system.listed)).flatten()
        };
        let tx =
            (0..system.listed).map(|peer| link(peer).map(|t| MonitorLinkClient::new(t.rung(peer)))).collect();
        let rx = (0..system.listed)
            .map(|peer| link(peer).map(|t| MonitorLinkDispatcher::new(t.rung(peer))))
            .collect();
        let mut links = Links {
            me,
            tx,
            backlog: (0..system.listed).map(|_| VecDeque::new()).collect(),
            queued: 0,
            completions: VecDeque::new(),
            effects: VecDeque::new(),
            control: VecDeque::new(),
            hellos: 0,
            ready: 0,
            sent: 0,
            malformed: 0,
        };
        kernel.bind_doorbell(EVENT_DOORBELL)?;
        // Cores listed but not online never run a monitor: they leave the
        // replicated online set (ordered by the sequencer like any update).
        for core in (0..system.listed).filter(|&c| !online(c)) {
            monitor.core_down(CoreId(core as u8), &mut links);
        }
        Ok(Node {
            me,
            system,
            monitor,
            links,
            rx,
            pool,
            kernel,
            clusters,
            topology,
            spin: SPIN,
            spawner: None,
            children: Vec::new(),
            next_program: 1,
            next_request: 1,
            retiring: Vec::new(),
            claims: Vec::new(),
            serving: None,
            listing: Vec::new(),
            console: None,
            session_slot: userland::allocator::allocate_slot()?,
            span_pages: Vec::new(),
            span_requests: Vec::new(),
            replicas: Vec::new(),
            dying: Vec::new(),
            short: Vec::new(),
        })
    }

    /// A RAM unit this core owns and nobody uses, marked busy (never
    /// donated) until [`Node::release_unit`].
    pub fn take_unit(&mut self) -> Option<u32> {
        let unit = (0..self.monitor.replica().ram_units()).rev().find(|&u| self.monitor.free_unit(u))?;
        self.monitor.set_busy(monitor::RamRange { base: unit, count: 1 }, true);
        Some(unit)
    }

    /// Makes unit `unit` free for use or donation again.
    pub fn release_unit(&mut self, unit: u32) {
        self.monitor.set_busy(monitor::RamRange { base: unit, count: 1 }, false);
    }

    /// Other dispatchers run on this core: sleep soon when idle, so that
    /// they do.
    pub fn share_core(&mut self) {
        self.spin = SHARED_SPIN;
    }

    /// The online peers.
    pub fn peers(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.system.listed).filter(move |&c| c != self.me && self.system.online & (1 << c) != 0)
    }

    /// Number of monitors (online cores).
    pub fn online(&self) -> usize {
        self.system.online.count_ones() as usize
    }

    /// Handles everything that arrived; whether anything did.
    pub fn poll(&mut self) -> bool {
        let mut progress = self.links.flush();
        for from in 0..self.rx.len() {
            let Some(rx) = self.rx[from].as_mut() else { continue };
            if !rx.transport().pending() {
                continue;
            }
            let mut inbox = Inbox { from, monitor: &mut self.monitor, links: &mut self.links };
            loop {
                match rx.poll_one(&mut inbox) {
                    Ok(Some(_)) => progress = true,
                    Ok(None) => break,
                    Err(error) => {
                        println!(
                            "monitor: core {}: link from {from} broken: {error:?}; dropping it",
                            self.me
                        );
                        self.rx[from] = None;
                        break;
                    }
                }
            }
        }
        while let Some(effect) = self.links.effects.pop_front() {
            self.pool.apply(self.kernel, effect, &self.monitor);
            progress = true;
        }
        if self.pool.zombies() {
            self.pool.bury(&self.monitor);
        }
        // Requests this monitor serves in every mode.
        while let Some(i) = self.links.control.iter().position(|c| matches!(c.op, SPAWN | KILL | PS)) {
            match self.links.control.remove(i) {
                Some(request) if request.op == SPAWN => self.spawn_for(request),
                Some(request) if request.op == KILL => self.kill_for(request),
                Some(request) => self.list_for(request),
                None => {}
            }
            progress = true;
        }
        progress |= self.span_messages();
        if let Some(console) = self.console.as_mut() {
            progress |= console.poll();
        }
        if !self.children.is_empty() {
            progress |= self.reap();
        }
        if !self.short.is_empty() {
            progress |= self.resume_short();
        }
        progress | self.links.flush()
    }

    /// Starts the program a [`SPAWN`] request names (answering at once if
    /// it cannot be started).
    fn spawn_for(&mut self, request: Control) {
        // A pool unit of its own for the child; a core that has none left
        // asks another core's monitor for one first.
        let Some(unit) = self.take_unit() else {
            let op = self.monitor.start(monitor::Operation::RequestRam { count: 1 }, &mut self.links);
            self.short.push((op, request));
            return;
        };
        self.spawn_on(request, unit);
    }

    /// Spawn requests whose RAM arrived (or was refused).
    fn resume_short(&mut self) -> bool {
        let mut progress = false;
        let mut i = 0;
        while i < self.short.len() {
            let (op, request) = self.short[i];
            let Some(at) = self.links.completions.iter().position(|&(o, _)| o == op) else {
                i += 1;
                continue;
            };
            let outcome = self.links.completions.remove(at).map(|(_, outcome)| outcome);
            self.short.swap_remove(i);
            progress = true;
            match outcome {
                Some(Outcome::Ram(range)) => {
                    self.monitor.set_busy(monitor::RamRange { base: range.base, count: 1 }, true);
                    self.spawn_on(request, range.base)
                }
                other => {
                    println!("monitor: core {}: no RAM for a program: {other:?}", self.me);
                    self.spawn_failed(request, SPAWN_FAILED);
                }
            }
        }
        progress
    }

    /// Starts the program of `request` with pool unit `unit` (busy) as its
    /// RAM.
    fn spawn_on(&mut self, request: Control, unit: u32) {
        let bytes = crate::programs::unpack(request.a, request.b);
        let name = crate::programs::text(&bytes);
        let requester = request.core as usize;
        let ram = self.pool.ram(unit).map(|ram| ram.cptr());
        let started = match (self.spawner.as_mut(), ram) {
            (Some(spawner), Some(ram)) => spawner.spawn(name, ram, CHILD_PRIORITY, EVENT_SESSION as usize),
            _ => Err(SpawnError::NoModules),
        };
        match started {
            Ok(child) => {
                self.share_core();
                let n = self.next_program;
                self.next_program += 1;
                let id = userland::session::id(self.me as u32, n);
                if request.d & SPAWN_TELL_START != 0 {
                    let answer =
                        Control { op: STARTED, a: request.c, b: SPAWN_OK, c: id, ..Control::default() };
                    self.links.control(requester, answer);
                }
                let program = crate::programs::Program::new(
                    requester,
                    request.c,
                    child,
                    (unit, id),
                    bytes,
                    self.session_slot,
                );
                self.children.push(program);
            }
            Err(error) => {
                self.release_unit(unit);
                let result = match error {
                    SpawnError::NotFound => SPAWN_NOT_FOUND,
                    SpawnError::BadElf | SpawnError::NoModules => SPAWN_BAD_PROGRAM,
                    _ => SPAWN_FAILED,
                };
                if error != SpawnError::NotFound {
                    println!("monitor: core {}: cannot spawn {name:?}: {error:?}", self.me);
                }
                self.spawn_failed(request, result);
            }
        }
    }

    /// Answers a [`SPAWN`] request that failed with `result`.
    fn spawn_failed(&mut self, request: Control, result: u64) {
        let to = request.core as usize;
        if request.d & SPAWN_TELL_START != 0 {
            self.links.control(to, Control { op: STARTED, a: request.c, b: result, ..Control::default() });
        }
        self.links.control(to, Control { op: SPAWNED, a: request.c, b: result, ..Control::default() });
    }

    /// Answers for the children that ended, and destroys them.
    fn reap(&mut self) -> bool {
        let mut progress = false;
        let mut i = 0;
        while i < self.children.len() {
            match self.children[i].child.dispatcher.status() {
                Ok(status) if !status.ended() => i += 1,
                status => {
                    let (result, value) = match status {
                        Ok(s) if s.outcome == 0 => (SPAWN_OK, s.value as u64),
                        Ok(s) => (SPAWN_CRASHED, s.value as u64),
                        Err(_) => (SPAWN_CRASHED, 0),
                    };
                    self.end_program(i, result, value);
                    progress = true;
                }
            }
        }
        progress
    }

    /// Runs the event loop until `done` holds (checked after every event),
    /// or until `timeout_ms` passed (0: never); whether `done` held.
    pub fn wait_until(&mut self, timeout_ms: u64, mut done: impl FnMut(&mut Node) -> bool) -> bool {
        let deadline =
            (timeout_ms != 0).then(|| thread::counter() + timeout_ms * thread::ticks_per_millisecond());
        let bell = doorbell_of(self.me);
        let mut idle = 0u32;
        let mut last = bell.bell();
        loop {
            if done(self) {
                return true;
            }
            let now = bell.bell();
            if now != last || idle.is_multiple_of(SCAN_EVERY) {
                last = now;
                if self.poll() {
                    idle = 1;
                    continue;
                }
            }
            if deadline.is_some_and(|d| thread::counter() > d) {
                return done(self);
            }
            idle += 1;
            if idle < self.spin {
                relax();
                continue;
            }
            // With sends waiting for room, only briefly: the peer's reading
            // does not ring this doorbell (and a dead peer never reads).
            let sleeper = Sleeper { ms: if self.links.drained() { SLEEP_MS } else { 1 } };
            let found = bell.sleep(&sleeper, &mut || self.poll().then_some(()));
            last = bell.bell();
            // Woken for nothing (the timeout): straight back to sleep after
            // one more look; else poll for a while again.
            idle = if found.is_some() || last != now { 1 } else { self.spin - 1 };
        }
    }

    /// Ends the program at `index` of `children` (it ended, or is killed):
    /// its objects and RAM go, its services are retired, its requester
    /// hears `result` and `value`.
    pub(crate) fn end_program(&mut self, index: usize, result: u64, value: u64) {
        let program = self.children.swap_remove(index);
        if let Some(console) = self.console.as_mut() {
            console.forget_reader(program.child.wakeups);
        }
        if !program.spans.is_empty() || !program.shared.is_empty() || self.serving == Some(program.id) {
            // Stopped now; freed once its other dispatchers and shared
            // pages are gone, and its session request (if one is being
            // served: the reply must not reach a program made in its
            // place) is answered (`end_dying`, from the serving loop).
            let _ = program.child.cnode.delete(caps::abi::slot::DISPATCHER as usize);
            self.dying.push((program, result, value));
            return;
        }
        self.destroy_program(program, result, value);
    }

    /// Ends the spans of programs that ended, then frees them.
    pub fn end_dying(&mut self) {
        while let Some((mut program, result, value)) = self.dying.pop() {
            self.end_spans(&mut program);
            self.destroy_program(program, result, value);
        }
    }

    /// Frees an ended program's objects and RAM; its services are retired,
    /// its requester hears `result` and `value`.
    fn destroy_program(&mut self, program: crate::programs::Program, result: u64, value: u64) {
        if let Some(spawner) = self.spawner.as_mut() {
            if let Err(error) = spawner.destroy(program.child) {
                println!("monitor: core {}: cannot free a program: {error:?}", self.me);
            }
        }
        // Whatever it made of its RAM goes; the unit is free.
        if let Some(ram) = self.pool.ram(program.unit) {
            let _ = CNode::root().revoke(ram.cptr().address());
        }
        self.release_unit(program.unit);
        self.retiring.extend(program.services);
        let answer = Control { op: SPAWNED, a: program.request, b: result, c: value, ..Control::default() };
        self.links.control(program.requester, answer);
    }

    /// Serves for good: the other monitors, this core's programs' sessions,
    /// the console.
    pub fn serve(&mut self) -> ! {
        loop {
            self.wait_until(0, |node| {
                !node.links.control.is_empty()
                    || node.sessions_pending()
                    || !node.retiring.is_empty()
                    || !node.dying.is_empty()
                    || node.stale_claim()
            });
            // Requests (served by `poll`); then answers that came too late
            // for their request, and test steps nobody asks a serving
            // monitor for: dropped.
            self.poll();
            self.links.control.clear();
            self.serve_sessions();
            self.end_dying();
            self.retire();
        }
    }

    /// Boot handshake: a hello to every peer, then wait until every peer
    /// said hello (each channel works both ways) and, on the boot core,
    /// until every peer heard from all of its peers. Returns the number of
    /// monitors up (this one included).
    pub fn handshake(&mut self, timeout_ms: u64) -> usize {
        let peers: Vec<usize> = self.peers().collect();
        for &peer in &peers {
            self.links.push(peer, Outgoing::Hello { peers: 0 });
        }
        let all: u64 = peers.iter().fold(0, |set, &p| set | 1 << p);
        self.wait_until(timeout_ms, |node| node.links.hellos & all == all);
        // Tell everyone this monitor heard from all its peers.
        let heard = self.links.hellos.count_ones();
        for &peer in &peers {
            self.links.push(peer, Outgoing::Hello { peers: heard.max(1) });
        }
        if self.me == self.system.boot {
            self.wait_until(timeout_ms, |node| node.links.ready & all == all);
        }
        1 + (self.links.hellos & self.links.ready & all).count_ones() as usize
    }

    /// Starts `operation` and runs the event loop until it completes (or
    /// `timeout_ms` passes: `None`).
    pub fn run(&mut self, operation: monitor::Operation, timeout_ms: u64) -> Option<Outcome> {
        let op = self.monitor.start(operation, &mut self.links);
        let mut outcome = None;
        self.wait_until(timeout_ms, |node| {
            // Completions of other operations are not ours to drop: keep
            // them in order.
            if let Some(i) = node.links.completions.iter().position(|&(o, _)| o == op) {
                outcome = node.links.completions.remove(i).map(|(_, outcome)| outcome);
            }
            outcome.is_some()
        });
        // Effects of the operation (a RAM arrival) before the caller looks.
        while let Some(effect) = self.links.effects.pop_front() {
            self.pool.apply(self.kernel, effect, &self.monitor);
        }
        outcome
    }

    /// The next coordination message with `op` (others stay queued), or
    /// `None` after `timeout_ms` (0: no limit).
    pub fn expect(&mut self, op: u32, timeout_ms: u64) -> Option<Control> {
        self.expect_any(&[op], timeout_ms)
    }

    /// The next coordination message with one of `ops`.
    pub fn expect_any(&mut self, ops: &[u32], timeout_ms: u64) -> Option<Control> {
        let mut found = None;
        self.wait_until(timeout_ms, |node| {
            if let Some(i) = node.links.control.iter().position(|c| ops.contains(&c.op)) {
                found = node.links.control.remove(i);
            }
            found.is_some()
        });
        found
    }
}

/// Blocks the monitor until its doorbell rings or `ms` milliseconds passed
/// (a sender that failed to ring costs at most [`SLEEP_MS`]).
struct Sleeper {
    ms: u64,
}

impl urpc::Waiter for Sleeper {
    fn relax(&self) {
        relax();
    }

    fn block(&self) {
        syscall::wait(thread::counter() + self.ms * thread::ticks_per_millisecond());
        if let Some(frame) = dispatch::own_frame() {
            frame.clear_events(1 << EVENT_DOORBELL | caps::abi::lmp::EVENT_CHILD);
        }
    }

    fn wake(&self, core: usize) {
        let _ = Kernel::initial().notify(core);
    }
}
