//! Binding two dispatchers on different cores through their monitors.
//!
//! The server's monitor makes a URPC channel in frames of its own RAM,
//! initialises it, records the frames as capability objects, copies them
//! to the client's core and registers the service's name (port = the first
//! frame's object number). The client's monitor looks the name up (a
//! local read), finds the copies (which arrived as real Frame capabilities
//! through the protocol), maps them, and starts its dispatcher on the
//! channel. Both dispatchers are siblings of their monitors (they share its
//! address space; see `userland::sibling`). Revoking the frames afterwards
//! unmaps them on the client's core before the revoke completes.

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use monitor::{CoreId, Endpoint, Name, ObjId, Operation, Outcome};
use userland::cap::Dispatcher;
use userland::channel::{Urpc, UrpcChannel};
use userland::error::{Error, Result};
use userland::interfaces::{BoundClient, BoundDispatcher, BoundServer};
use userland::object::PAGE_SIZE;
use userland::sibling::Siblings;
use userland::syscall;

use crate::node::Node;
use crate::window::Window;

/// The service's name.
pub const NAME: &str = "bind-test";
/// Calls the client makes.
pub const CALLS: u64 = 1000;
/// Pages of the channel.
pub const PAGES: usize = core::mem::size_of::<UrpcChannel>().div_ceil(PAGE_SIZE);

/// Where the channel is mapped, for the sibling started next (siblings
/// share the monitor's address space and statics).
static CHANNEL: AtomicUsize = AtomicUsize::new(0);

fn channel(side: urpc::Side) -> Urpc {
    // SAFETY: the monitor mapped the channel's frames read-write at this
    // address before starting the sibling, and the frames stay mapped at
    // least until the sibling ended: the monitors revoke them only after
    // the server ended and the client ended or was destroyed (`selftest`'s
    // bind step); the channel is used only through `urpc`'s atomics.
    let channel: &'static UrpcChannel = unsafe { &*(CHANNEL.load(Ordering::Acquire) as *const UrpcChannel) };
    Urpc::on(channel, side)
}

struct Adder {
    quit: bool,
}

impl BoundServer for Adder {
    fn add(&mut self, a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }
    fn quit(&mut self) {
        self.quit = true;
    }
}

/// The server sibling: serves until told to quit (exit 0), or exits 2 on a
/// broken channel.
extern "C" fn server(_frame: usize, _core: usize) -> ! {
    let mut dispatcher = Box::new(BoundDispatcher::new(channel(urpc::Side::B)));
    let mut adder = Adder { quit: false };
    loop {
        match dispatcher.poll_one(&mut adder) {
            Ok(Some(_)) if adder.quit => syscall::exit(0),
            Ok(Some(_)) => {}
            // Polling; the monitor (higher priority) preempts when its
            // doorbell rings.
            Ok(None) => userland::channel::relax(),
            Err(_) => syscall::exit(2),
        }
    }
}

/// The client sibling: `CALLS` additions; exits with the number of wrong
/// answers (0: all right), or 1000 + n on a transport error.
extern "C" fn client(_frame: usize, _core: usize) -> ! {
    let mut client = Box::new(BoundClient::new(channel(urpc::Side::A)));
    let mut wrong = 0;
    for i in 0..CALLS {
        match client.add(i, 3 * i) {
            Ok(sum) if sum == 4 * i => {}
            Ok(_) => wrong += 1,
            Err(_) => syscall::exit(1000 + i as usize),
        }
    }
    let _ = client.quit();
    syscall::exit(wrong)
}

/// The server's monitor: the channel in frames of one of its pool units,
/// recorded, copied to `client_core`, registered; the server started.
/// Returns the server's dispatcher and the channel's objects.
pub fn serve(
    node: &mut Node,
    window: &mut Window,
    siblings: &mut Siblings,
    client_core: usize,
) -> Result<(Dispatcher, Vec<ObjId>)> {
    let unit = node.take_unit().ok_or(Error::InvalidSize)?;
    let frames = node.pool.frames(unit, PAGES)?;
    let slots: Vec<usize> = frames.iter().map(|&(slot, _)| slot).collect();
    let address = window.map(&slots)?;
    // SAFETY: the frames were just made (zeroed) and mapped at `address`,
    // read-write, contiguous, for the program's life; nothing else uses
    // them yet.
    let channel = unsafe { &*(address as *const UrpcChannel) };
    channel.init();
    let mut objects = Vec::new();
    let to = CoreId(client_core as u8);
    for &(slot, desc) in &frames {
        let Some(Outcome::Created(obj)) = node.run(Operation::CapCreate { desc }, 10_000) else {
            return Err(Error::InvalidArgument);
        };
        node.pool.adopt(obj, slot);
        if node.run(Operation::CapCopy { obj, to }, 10_000) != Some(Outcome::Done) {
            return Err(Error::InvalidArgument);
        }
        objects.push(obj);
    }
    let endpoint = Endpoint { core: CoreId(node.me as u8), port: objects[0].0 as u32 };
    if node.run(Operation::Register { name: Name::new(NAME), endpoint }, 10_000) != Some(Outcome::Done) {
        return Err(Error::InvalidArgument);
    }
    CHANNEL.store(address, Ordering::Release);
    let server = siblings.make(server)?;
    start(node, server.dispatcher, "bind-server")?;
    Ok((server.dispatcher, objects))
}

/// The client's monitor: the name looked up locally, the copies found and
/// mapped, the client started. Returns the client's dispatcher.
pub fn connect(node: &mut Node, window: &mut Window, siblings: &mut Siblings) -> Result<Dispatcher> {
    let Some(Outcome::Found(Some(endpoint))) = node.run(Operation::Lookup { name: Name::new(NAME) }, 10_000)
    else {
        return Err(Error::InvalidArgument);
    };
    let server_core = u64::from(endpoint.core.0) << 32;
    let slots: Vec<usize> = (0..PAGES as u64)
        .map(|i| ObjId(server_core | (u64::from(endpoint.port) + i)))
        .map(|obj| node.pool.copy(obj).ok_or(Error::InvalidArgument))
        .collect::<Result<_>>()?;
    let address = window.map(&slots)?;
    CHANNEL.store(address, Ordering::Release);
    let client = siblings.make(client)?;
    start(node, client.dispatcher, "bind-client")?;
    Ok(client.dispatcher)
}

/// Starts a sibling below the monitor's priority (the monitor runs when
/// its doorbell rings, the sibling whenever the monitor sleeps), and makes
/// the monitor sleep soon when idle.
fn start(node: &mut Node, dispatcher: Dispatcher, name: &str) -> Result<()> {
    dispatcher.set_priority(caps::abi::priority::DEFAULT as usize - 1)?;
    dispatcher.set_name(name)?;
    dispatcher.start()?;
    node.share_core();
    Ok(())
}

/// Waits (serving) until `dispatcher` ended; its exit status, or `None` if
/// it faulted or did not end in `timeout_ms`.
pub fn finished(node: &mut Node, dispatcher: Dispatcher, timeout_ms: u64) -> Option<usize> {
    let mut status = None;
    node.wait_until(timeout_ms, |_| {
        status = dispatcher.status().ok().filter(|s| s.ended());
        status.is_some()
    });
    status.filter(|s| s.outcome == 0).map(|s| s.value)
}
