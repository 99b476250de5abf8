//! `badsession`: a program that misuses its session with its monitor —
//! malformed messages, a capability where none belongs, bad names, ids,
//! cores and frames — and checks that each gets a clear refusal and that
//! the monitor still serves it afterwards. Prints `badsession: <n> refusals,
//! the monitor still answers: ok` (or what went wrong) and exits 0 (1).
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use userland::cap::{Endpoint, Message, ReceiveSlot};
use userland::cptr::{CPtr, DISPATCHER_SLOT, SESSION_REPLY_SLOT, SESSION_SLOT};
use userland::session::{self, Status};
use userland::{println, span};

userland::entry!(main);

fn main(core: usize, _cores: usize) -> i32 {
    let mut session = session::connect();
    let mut failures: Vec<String> = Vec::new();
    let mut refusals = 0;
    let expect = |what: &str, got: Result<u32, stubs::RpcError>, want: Status| match got {
        Ok(code) if Status::from_code(code) == want => Ok(()),
        other => Err(alloc::format!("{what}: {other:?}, expected {want:?}")),
    };
    tally(
        &mut refusals,
        &mut failures,
        expect("spawn on core 1000", session.spawn("hello", 1000).map(|r| r.0), Status::CoreDown),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("spawn of nothing", session.spawn("", session::THIS_CORE).map(|r| r.0), Status::NotFound),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("kill of an unknown id", session.kill(session::id(core as u32, 9999)), Status::NotFound),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect(
            "kill of an id on a core that is not there",
            session.kill(session::id(999, 1)),
            Status::NotFound,
        ),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("register of an empty name", session.register("").map(|r| r.0), Status::NotFound),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("register of a claim's name", session.register("x*").map(|r| r.0), Status::NotFound),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("register of a name with a space", session.register("a b").map(|r| r.0), Status::NotFound),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("bind of nothing", session.bind("nosuch").map(|r| r.0), Status::NotFound),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("lookup of nothing", session.lookup("nosuch").map(|r| r.0), Status::NotFound),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("span to this core", session.span(core as u32, 0, 0, 0), Status::Exists),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("span to core 999", session.span(999, 0, 0, 0), Status::CoreDown),
    );
    // Its dispatcher is not a frame of its RAM: not shareable.
    tally(
        &mut refusals,
        &mut failures,
        expect("share of a non-frame", session.share(0x1000_0000, DISPATCHER_SLOT as u32), Status::NotFound),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("unshare of nothing", session.unshare(0x1000_0000), Status::NotFound),
    );
    tally(
        &mut refusals,
        &mut failures,
        expect("share at an unaligned address", session.share(0x1000_0004, 0), Status::Exists),
    );
    // Without a heap it cannot span (it has nothing to share).
    match span::start(&mut session, (core + 1) % 64) {
        Err(Status::NoMemory) => refusals += 1,
        other => failures.push(alloc::format!("span without a heap: {other:?}")),
    }
    // A message of a number the interface does not have, and one with a
    // capability (which no request carries): each is answered (the
    // monitor neither stops nor breaks).
    let raw = Endpoint::at(SESSION_SLOT);
    let reply = Endpoint::at(SESSION_REPLY_SLOT);
    for (what, words, cap) in [
        ("unknown message", [u64::MAX as usize, 1, 2, 3, 4, 5, 6, 7], None),
        ("capability sent", [0, 0, 0, 0, 0, 0, 0, 0], Some(CPtr::slot(DISPATCHER_SLOT))),
    ] {
        match raw.call(&Message { words, cap }, reply, ReceiveSlot::NONE) {
            Ok(_) => refusals += 1,
            Err(error) => failures.push(alloc::format!("{what}: the call failed: {error:?}")),
        }
    }
    // The monitor still answers properly.
    match session.lookup("nosuch") {
        Ok((code, _)) if Status::from_code(code) == Status::NotFound => {}
        other => failures.push(alloc::format!("after all that, lookup: {other:?}")),
    }
    if failures.is_empty() {
        println!("badsession: {refusals} refusals, the monitor still answers: ok");
        0
    } else {
        for failure in &failures {
            println!("badsession: {failure}");
        }
        1
    }
}

fn tally(refusals: &mut usize, failures: &mut Vec<String>, result: Result<(), String>) {
    match result {
        Ok(()) => *refusals += 1,
        Err(failure) => failures.push(failure),
    }
}
