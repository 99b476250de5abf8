//! LMP between two dispatchers on this core: call/reply with capability
//! transfers, split-phase sends into a full endpoint, and the errors.

use crate::{child, child_slot, detail, ensure, step, Outcome, Report, Setup};
use core::sync::atomic::{AtomicUsize, Ordering};
use userland::cap::{CNode, Dispatcher, Endpoint, Frame, Message, ReceiveSlot, RunOutcome};
use userland::object;
use userland::rights::Rights;
use userland::syscall;
use userland::Error;

/// Round trips of the call/reply case.
const ROUND_TRIPS: usize = 100_000;
/// Messages of the split-phase case.
const ASYNC_MESSAGES: usize = 1_000;
/// The badge the client's send capability carries.
const BADGE: usize = 0x5a;
/// `words[0]` that ends a server.
const STOP: usize = usize::MAX;
/// Mixes a sequence number into a check word.
const MIX: usize = 0x9e37_79b9_7f4a_7c15;

/// Runs the LMP cases.
pub fn run(report: &mut Report, setup: &mut Setup) {
    report.case(setup, "lmp call/reply 10^5 with capability transfer", call_reply);
    report.case(setup, "lmp split-phase sends: full endpoint refused, nothing lost", split_phase);
    report.case(setup, "lmp errors", errors);
}

/// The reply's status bits (0: all checks passed).
fn check(words: &[usize; 8], badge: usize, cap: bool) -> usize {
    let [sequence, check, base, ..] = *words;
    let mut status = 0;
    if check != sequence.wrapping_mul(MIX) ^ base {
        status |= 1;
    }
    if badge != BADGE {
        status |= 2;
    }
    if cap {
        match Frame::at(child_slot::RECEIVED).identify() {
            Ok(info) if info.base == base => {}
            _ => status |= 4,
        }
        if CNode::root().delete(child_slot::RECEIVED).is_err() {
            status |= 8;
        }
    } else if base != 0 {
        status |= 16;
    }
    status
}

/// The server: receives on slot 10, replies through slot 11 (reply and
/// wait in one call), checks every message and capability.
extern "C" fn server(_frame: usize, _core: usize) -> ! {
    let (receive, reply) = (Endpoint::at(child_slot::RECEIVE), Endpoint::at(child_slot::SEND));
    let slot = ReceiveSlot::root(child_slot::RECEIVED);
    let mut next = receive.recv(slot, true);
    loop {
        let Ok(message) = next else { syscall::exit(100) };
        let status = check(&message.words, message.badge, message.cap);
        let answer = Message { words: [message.words[0], status, 0, 0, 0, 0, 0, 0], cap: None };
        if message.words[0] == STOP {
            let sent = reply.send(&answer, false);
            syscall::exit(if sent.is_ok() { 0 } else { 101 });
        }
        next = reply.call(&answer, receive, slot);
    }
}

/// Endpoints between this dispatcher (client) and a child (server): the
/// child receives on one and sends on the other.
struct Pair {
    /// Our badged send capability to the child's endpoint.
    to_child: Endpoint,
    /// Our endpoint, bound to us with event 1.
    ours: Endpoint,
}

fn pair(child: &crate::Child) -> userland::Result<Pair> {
    let theirs = object::endpoint()?;
    theirs.bind(child.dispatcher, 0)?;
    let ours = object::endpoint()?;
    ours.bind(Dispatcher::own(), 1)?;
    child.cnode.copy(child_slot::RECEIVE, theirs.cptr())?;
    child.cnode.copy(child_slot::SEND, ours.cptr())?;
    let to_child = Endpoint::at(userland::allocator::allocate_slot()?);
    CNode::root().mint(to_child.cptr().address(), theirs.cptr(), Rights::ALL, BADGE)?;
    Ok(Pair { to_child, ours })
}

fn call_reply(setup: &mut Setup) -> Outcome {
    let server = step("child", child(setup, server))?;
    let pair = step("endpoints", pair(&server))?;
    let frame = step("frame", object::frame())?;
    let base = step("identify", frame.identify())?.base;
    step("start", server.dispatcher.start())?;
    let mut failures = 0;
    let mut first = None;
    for sequence in 0..ROUND_TRIPS {
        // Every other message carries the frame capability.
        let (cap, sent_base) = if sequence % 2 == 0 { (Some(frame.cptr()), base) } else { (None, 0) };
        let words = [sequence, sequence.wrapping_mul(MIX) ^ sent_base, sent_base, 0, 0, 0, 0, 0];
        match pair.to_child.call(&Message { words, cap }, pair.ours, ReceiveSlot::NONE) {
            Ok(reply) if reply.words[0] == sequence && reply.words[1] == 0 && !reply.cap => {}
            other => {
                failures += 1;
                first.get_or_insert((sequence, other));
            }
        }
    }
    let stop = Message { words: [STOP, STOP.wrapping_mul(MIX), 0, 0, 0, 0, 0, 0], cap: None };
    let last = pair.to_child.call(&stop, pair.ours, ReceiveSlot::NONE);
    ensure(failures == 0, || detail!("{failures} bad round trips, first {first:?}"))?;
    ensure(matches!(last, Ok(ref r) if r.words[0] == STOP && r.words[1] == 0), || detail!("stop: {last:?}"))?;
    let outcome = step("run", server.dispatcher.run())?;
    ensure(outcome == RunOutcome::Exited(0), || detail!("server ended {outcome:?}"))?;
    // Every transferred capability was deleted by the server: the frame has
    // no descendants left, so it can be deleted right away.
    step("delete frame", CNode::root().delete(frame.cptr().address()))
}

/// Sum of the words the split-phase receiver saw, and its message count.
static RECEIVED_SUM: AtomicUsize = AtomicUsize::new(0);
static RECEIVED_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Receives (blocking) until `STOP`, summing.
extern "C" fn sink(_frame: usize, _core: usize) -> ! {
    let receive = Endpoint::at(child_slot::RECEIVE);
    loop {
        match receive.recv(ReceiveSlot::NONE, true) {
            Ok(message) if message.words[0] == STOP => syscall::exit(0),
            Ok(message) => {
                RECEIVED_SUM.fetch_add(message.words[0], Ordering::Relaxed);
                RECEIVED_COUNT.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => syscall::exit(1),
        }
    }
}

fn split_phase(setup: &mut Setup) -> Outcome {
    let sink_child = step("child", child(setup, sink))?;
    let pair = step("endpoints", pair(&sink_child))?;
    // A lower priority than ours: it runs only when we let it.
    step("priority", sink_child.dispatcher.set_priority(8))?;
    step("start", sink_child.dispatcher.start())?;
    let (mut sent, mut refused, mut sum) = (0, 0, 0);
    let mut first_burst = None;
    while sent < ASYNC_MESSAGES {
        let value = sent + 1;
        match pair.to_child.send(&Message { words: [value, 0, 0, 0, 0, 0, 0, 0], cap: None }, false) {
            Ok(()) => {
                sent += 1;
                sum += value;
            }
            Err(Error::EndpointFull) => {
                refused += 1;
                first_burst.get_or_insert(sent);
                // Let the receiver drain the queue (a directed yield: it has
                // a lower priority than ours).
                let _ = sink_child.dispatcher.yield_to();
            }
            Err(error) => return Err(detail!("send {sent}: {error}")),
        }
    }
    let stop = Message { words: [STOP, 0, 0, 0, 0, 0, 0, 0], cap: None };
    while let Err(Error::EndpointFull) = pair.to_child.send(&stop, false) {
        let _ = sink_child.dispatcher.yield_to();
    }
    let outcome = step("run", sink_child.dispatcher.run())?;
    ensure(outcome == RunOutcome::Exited(0), || detail!("receiver ended {outcome:?}"))?;
    ensure(first_burst == Some(16), || detail!("first refusal after {first_burst:?} messages, not 16"))?;
    ensure(refused > 0, || detail!("never refused"))?;
    let (count, total) = (RECEIVED_COUNT.load(Ordering::Relaxed), RECEIVED_SUM.load(Ordering::Relaxed));
    ensure(count == ASYNC_MESSAGES && total == sum, || {
        detail!("received {count} messages summing {total}, sent {ASYNC_MESSAGES} summing {sum}")
    })
}

fn errors(_setup: &mut Setup) -> Outcome {
    let endpoint = step("endpoint", object::endpoint())?;
    let empty = Message::default();
    let result = endpoint.send(&empty, false);
    ensure(result == Err(Error::NotBound), || detail!("send unbound: {result:?}"))?;
    let result = endpoint.recv(ReceiveSlot::NONE, false);
    ensure(result == Err(Error::NotBound), || detail!("recv unbound: {result:?}"))?;
    step("bind", endpoint.bind(Dispatcher::own(), 5))?;
    let again = endpoint.bind(Dispatcher::own(), 6);
    ensure(again == Err(Error::AlreadyBound), || detail!("bind twice: {again:?}"))?;
    let bad_event = object::endpoint().and_then(|e| e.bind(Dispatcher::own(), 63));
    ensure(bad_event == Err(Error::InvalidArgument), || detail!("event 63: {bad_event:?}"))?;
    let result = endpoint.recv(ReceiveSlot::NONE, false);
    ensure(result == Err(Error::EndpointEmpty), || detail!("recv empty: {result:?}"))?;
    // A capability over an endpoint capability without GRANT.
    let no_grant = userland::cap::Endpoint::at(step("slot", userland::allocator::allocate_slot())?);
    step("mint", CNode::root().mint(no_grant.cptr().address(), endpoint.cptr(), Rights::READ_WRITE, 0))?;
    let frame = step("frame", object::frame())?;
    let with_cap = Message { words: [1; 8], cap: Some(frame.cptr()) };
    let result = no_grant.send(&with_cap, false);
    ensure(result == Err(Error::MissingRights), || detail!("cap without grant: {result:?}"))?;
    // A message with a capability stays queued until a receive slot is given.
    step("send with cap", endpoint.send(&with_cap, false))?;
    let events = userland::dispatch::own_frame().map(|f| f.events()).unwrap_or(0);
    ensure(events & (1 << 5) != 0, || detail!("event bit 5 not set: {events:#x}"))?;
    let result = endpoint.recv(ReceiveSlot::NONE, false);
    ensure(result == Err(Error::SlotEmpty), || detail!("recv cap without slot: {result:?}"))?;
    let slot = step("slot", userland::allocator::allocate_slot())?;
    let received = step("recv with slot", endpoint.recv(ReceiveSlot::root(slot), false))?;
    ensure(received.cap && received.words == [1; 8], || detail!("received {received:?}"))?;
    let info = step("identify received", Frame::at(slot).identify())?;
    let original = step("identify", frame.identify())?;
    ensure(info == original, || detail!("received frame {info:?}, sent {original:?}"))?;
    let events = userland::dispatch::own_frame().map(|f| f.events()).unwrap_or(0);
    ensure(events & (1 << 5) == 0, || detail!("event bit 5 still set: {events:#x}"))?;
    // A revoke reaches a copy in flight.
    step("send again", endpoint.send(&with_cap, false))?;
    step("revoke", CNode::root().revoke(frame.cptr().address()))?;
    let other = step("slot", userland::allocator::allocate_slot())?;
    let received = step("recv after revoke", endpoint.recv(ReceiveSlot::root(other), false))?;
    ensure(!received.cap || Frame::at(other).identify().is_err(), || detail!("revoked copy arrived"))?;
    // Deleting a queued endpoint drops its messages (and their capabilities).
    step("send before delete", endpoint.send(&with_cap, false))?;
    step("revoke endpoint", CNode::root().revoke(endpoint.cptr().address()))?;
    step("delete endpoint", CNode::root().delete(endpoint.cptr().address()))?;
    let result = endpoint.send(&empty, false);
    ensure(result == Err(Error::SlotEmpty), || detail!("send to deleted: {result:?}"))
}
