//! `test=stubs`: the generated stubs of `interfaces::Test` over LMP (a
//! server dispatcher on the boot core) and URPC (a server on core 1 for
//! every other core), with large payloads, capability transfer, pipelined
//! requests and malformed messages. Runs on every core:
//!
//! * core 0 (the boot core) runs the cases, collects the other cores'
//!   verdicts, prints `test stubs: N passed, M failed` and powers off;
//! * core 1 serves the `Test` interface to every other core over URPC;
//! * cores 2.. call core 1's server and report to core 0.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]
// Failure details are 256-byte stack lines; their size in `Err` costs
// nothing that matters here.
#![allow(clippy::result_large_err)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use stubs::{Bytes, ErrorCode, Header, Kind, RpcError, Str, Transport};
use userland::cap::{CNode, Dispatcher, Endpoint, Frame, Kernel};
use userland::channel::{relax, Lmp, NoCap, Urpc};
use userland::console::LineBuffer;
use userland::cptr::CPtr;
use userland::interfaces::{Test, TestClient, TestDispatcher, TestServer};
use userland::sibling::{slot, Siblings};
use userland::{heap, object, println, syscall};

userland::entry!(main);

/// What a case returns: `Err` carries the failure detail.
type Outcome = core::result::Result<(), LineBuffer>;

macro_rules! detail {
    ($($argument:tt)*) => {
        userland::console::LineBuffer::format(format_args!($($argument)*))
    };
}

fn ensure(condition: bool, what: impl FnOnce() -> LineBuffer) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}

/// A pass/fail tally printed as `test stubs: <case>: ok|FAILED`.
#[derive(Default)]
struct Report {
    passed: u32,
    failed: u32,
}

impl Report {
    fn case(&mut self, name: &str, case: impl FnOnce() -> Outcome) {
        match case() {
            Ok(()) => {
                self.passed += 1;
                println!("test stubs: {name}: ok");
            }
            Err(detail) => {
                self.failed += 1;
                println!("test stubs: {name}: FAILED ({detail})");
            }
        }
    }
}

/// The service, on either transport.
#[derive(Default)]
struct Service {
    notes: u64,
    sum: u64,
    reports: Vec<(u32, u32, u32)>,
}

/// What the service does with a capability it receives.
trait Received {
    /// The frame's physical base (0 if it is not a frame); the capability
    /// is deleted.
    fn base_and_delete(self) -> u64;
}

impl Received for CPtr {
    fn base_and_delete(self) -> u64 {
        let base = Frame::new(self).identify().map_or(0, |info| info.base as u64);
        let _ = CNode::root().delete(self.address());
        base
    }
}

impl Received for NoCap {
    fn base_and_delete(self) -> u64 {
        0
    }
}

impl<C: Received> TestServer<C> for Service {
    fn null(&mut self) {}

    fn add(&mut self, a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }

    fn echo(&mut self, data: Bytes<2048>) -> (Bytes<2048>, u64) {
        let sum = data.as_slice().iter().map(|&b| u64::from(b)).sum();
        (data, sum)
    }

    fn upper(&mut self, text: Str<256>) -> Str<256> {
        let mut buffer = [0u8; 256];
        let bytes = text.as_str().as_bytes();
        for (out, byte) in buffer.iter_mut().zip(bytes) {
            *out = byte.to_ascii_uppercase();
        }
        Str::from_utf8(&buffer[..bytes.len()]).unwrap_or_default()
    }

    fn frame(&mut self, frame: C) -> u64 {
        frame.base_and_delete()
    }

    fn note(&mut self, value: u64) {
        self.notes += 1;
        self.sum += value;
    }

    fn notes(&mut self) -> (u64, u64) {
        (self.notes, self.sum)
    }

    fn report(&mut self, core: u32, passed: u32, failed: u32) {
        self.reports.push((core, passed, failed));
    }
}

fn main(core: usize, cores: usize) -> i32 {
    match core {
        0 => coordinator(cores),
        1 => remote_server(cores),
        _ => remote_client(core, cores),
    }
}

/// The LMP server: a sibling dispatcher of the coordinator, serving on its
/// slot 10 and replying through slot 11.
extern "C" fn lmp_server(_frame: usize, _core: usize) -> ! {
    let transport =
        Lmp::new(Endpoint::at(slot::SEND), Endpoint::at(slot::RECEIVE), 0).with_receive_slot(slot::RECEIVED);
    let mut dispatcher = Box::new(TestDispatcher::new(transport));
    let mut service = Service::default();
    let _ = dispatcher.serve(&mut service, |_| true);
    syscall::exit(1)
}

/// Core 1: serves every other core over its URPC channel, polling.
fn remote_server(cores: usize) -> i32 {
    if heap::init(128).is_err() {
        return 1;
    }
    let mut dispatchers: Vec<Box<TestDispatcher<Urpc>>> = (0..cores)
        .filter(|&peer| peer != 1)
        .filter_map(|peer| Urpc::between(1, peer, cores))
        .map(|transport| Box::new(TestDispatcher::new(transport)))
        .collect();
    let mut service = Service::default();
    loop {
        for dispatcher in dispatchers.iter_mut() {
            // A broken channel is that client's problem; keep serving.
            while let Ok(Some(_)) = dispatcher.poll_one(&mut service) {}
        }
        relax();
    }
}

/// The cases every client runs against a server (over `transport`).
fn common_cases<T: Transport<Cap = C>, C>(report: &mut Report, name: &str, client: &mut TestClient<T>) {
    report.case(&alloc::format!("{name}: null, add, upper"), || {
        client.null().map_err(|e| detail!("null: {e:?}"))?;
        let sum = client.add(40, 2).map_err(|e| detail!("add: {e:?}"))?;
        ensure(sum == 42, || detail!("40 + 2 = {sum}"))?;
        let upper = client.upper("hello, multikernel").map_err(|e| detail!("upper: {e:?}"))?;
        ensure(upper.as_str() == "HELLO, MULTIKERNEL", || detail!("upper: {}", upper.as_str()))?;
        let long = [b'x'; 300];
        let too_long = client.upper(core::str::from_utf8(&long).unwrap_or(""));
        ensure(matches!(too_long, Err(RpcError::TooLong { .. })), || detail!("300-byte string: {too_long:?}"))
    });
    report.case(&alloc::format!("{name}: large payloads"), || {
        for size in [0usize, 7, 56, 57, 1000, 2048] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
            let (back, sum) = client.echo(&data).map_err(|e| detail!("echo {size}: {e:?}"))?;
            let expected: u64 = data.iter().map(|&b| u64::from(b)).sum();
            ensure(back.as_slice() == data.as_slice() && sum == expected, || {
                detail!("echo {size} came back wrong")
            })?;
        }
        Ok(())
    });
    report.case(&alloc::format!("{name}: pipelined requests"), || {
        let mut pending = Vec::new();
        for i in 0..8u64 {
            pending.push((i, client.send_add(i, 100).map_err(|e| detail!("send_add {i}: {e:?}"))?));
        }
        for (i, request) in pending {
            let sum = client.recv_add(request).map_err(|e| detail!("recv_add {i}: {e:?}"))?;
            ensure(sum == i + 100, || detail!("{i} + 100 = {sum}"))?;
        }
        for value in 1..=10 {
            client.note(value).map_err(|e| detail!("note: {e:?}"))?;
        }
        let (count, total) = client.notes().map_err(|e| detail!("notes: {e:?}"))?;
        ensure(count >= 10 && total >= 55, || detail!("{count} notes summing {total}"))
    });
}

/// Sends one raw fragment and returns the error code of the error reply
/// to it (the fragment's request id is `id`).
fn raw_error<T: Transport>(transport: &mut T, words: &[u64], cap: Option<T::Cap>) -> Result<u32, LineBuffer> {
    let mut fragment = <T::Words as stubs::Words>::ZERO;
    let out = stubs::Words::words_mut(&mut fragment);
    out[..words.len()].copy_from_slice(words);
    let mut cap = cap;
    while let Err(error) = transport.try_send(&fragment, &mut cap) {
        if error != stubs::TransportError::Full {
            return Err(detail!("raw send: {error}"));
        }
        transport.wait().map_err(|e| detail!("wait: {e}"))?;
    }
    let mut reply = <T::Words as stubs::Words>::ZERO;
    let mut reply_cap = None;
    loop {
        if transport.try_recv(&mut reply, &mut reply_cap).map_err(|e| detail!("raw receive: {e}"))? {
            break;
        }
        transport.wait().map_err(|e| detail!("wait: {e}"))?;
    }
    let words = stubs::Words::words(&reply);
    let header = Header::decode(words[0]).ok_or_else(|| detail!("bad reply header {:#x}", words[0]))?;
    ensure(header.kind() == Kind::Error, || detail!("reply kind {:?}, not an error", header.kind()))?;
    Ok(words[1] as u32)
}

/// Malformed requests get error replies, and the server keeps serving.
fn malformed<T: Transport>(client: &mut TestClient<T>, cap: Option<T::Cap>) -> Outcome {
    let request =
        |number: u8, length: u16| Header::single(Kind::Request, number, 0x5151, length, false).word();
    let transport = client.transport();
    let cases: [(&str, [u64; 3], ErrorCode); 4] = [
        ("unknown message", [request(200, 0), 0, 0], ErrorCode::UnknownMessage),
        ("wrong length", [request(Test::ADD, 8), 1, 0], ErrorCode::WrongLength),
        ("not UTF-8", [request(Test::UPPER, 10), 2, 0xfeff], ErrorCode::InvalidUtf8),
        ("string over its bound", [request(Test::UPPER, 16), 300, 0], ErrorCode::OverBound),
    ];
    for (what, words, expected) in cases {
        let code = raw_error(transport, &words, None)?;
        ensure(code == expected.code(), || detail!("{what}: error code {code}, expected {expected:?}"))?;
    }
    if let Some(cap) = cap {
        let words = [request(Test::ADD, 16) | 1 << 60, 1, 2];
        let code = raw_error(transport, &words, Some(cap))?;
        ensure(code == ErrorCode::UnexpectedCap.code(), || detail!("capability on add: code {code}"))?;
    }
    let sum = client.add(1, 2).map_err(|e| detail!("add after the bad ones: {e:?}"))?;
    ensure(sum == 3, || detail!("1 + 2 = {sum} after the bad ones"))
}

/// Core 0: the LMP cases against a sibling server, the URPC cases against
/// core 1, then the other cores' verdicts.
fn coordinator(cores: usize) -> i32 {
    let mut report = Report::default();
    let setup = heap::init(128).and_then(|heap| {
        let mut siblings = Siblings::new(&heap, 2)?;
        let server = siblings.make(lmp_server)?;
        let theirs = object::endpoint()?;
        theirs.bind(server.dispatcher, 0)?;
        let ours = object::endpoint()?;
        ours.bind(Dispatcher::own(), 1)?;
        server.cnode.copy(slot::RECEIVE, theirs.cptr())?;
        server.cnode.copy(slot::SEND, ours.cptr())?;
        server.dispatcher.start()?;
        Ok((Lmp::new(theirs, ours, 1), server.dispatcher))
    });
    match setup {
        Ok((transport, server)) => {
            let mut client = Box::new(TestClient::new(transport));
            common_cases(&mut report, "lmp", &mut client);
            report.case("lmp: capability transfer", || {
                let frame = object::frame().map_err(|e| detail!("frame: {e}"))?;
                let base = frame.identify().map_err(|e| detail!("identify: {e}"))?.base as u64;
                let seen = client.frame(frame.cptr()).map_err(|e| detail!("frame call: {e:?}"))?;
                ensure(seen == base, || detail!("server saw base {seen:#x}, sent {base:#x}"))?;
                // The server deleted its copy: ours has no descendants left.
                CNode::root().delete(frame.cptr().address()).map_err(|e| detail!("delete: {e}"))
            });
            report.case("lmp: malformed messages answered with errors", || {
                let frame = object::frame().map_err(|e| detail!("frame: {e}"))?;
                malformed(&mut client, Some(frame.cptr()))
            });
            report.case("lmp: a request larger than the queue to a lower-priority server", || {
                // 2 KiB is 37 fragments: the sender meets a full endpoint,
                // and a yield does not run a lower priority.
                server.set_priority(4).map_err(|e| detail!("priority: {e}"))?;
                let data = [0x5au8; 2048];
                let (back, sum) = client.echo(&data).map_err(|e| detail!("echo: {e:?}"))?;
                let _ = server.set_priority(caps::abi::priority::DEFAULT as usize);
                ensure(back.as_slice() == data && sum == 0x5a * 2048, || detail!("echo came back wrong"))
            });
        }
        Err(error) => {
            report.failed += 1;
            println!("test stubs: lmp setup: FAILED ({error})");
        }
    }
    if cores >= 2 {
        match Urpc::between(0, 1, cores) {
            Some(transport) => {
                let mut client = Box::new(TestClient::new(transport));
                common_cases(&mut report, "urpc", &mut client);
                report.case("urpc: a capability is refused (no transfer across cores yet)", || {
                    let result = client.frame(NoCap);
                    ensure(matches!(result, Err(RpcError::CapsUnsupported)), || {
                        detail!("frame over URPC: {result:?}")
                    })
                });
                report.case("urpc: malformed messages answered with errors", || malformed(&mut client, None));
            }
            None => {
                report.failed += 1;
                println!("test stubs: urpc setup: FAILED (no channel 0-1)");
            }
        }
        collect_reports(&mut report, cores);
    }
    println!("test stubs: {} passed, {} failed", report.passed, report.failed);
    Kernel::initial().power_off()
}

/// Waits (up to 10 s) for the verdicts of cores 2.. over their channels to
/// core 0.
fn collect_reports(report: &mut Report, cores: usize) {
    if cores < 3 {
        return;
    }
    let mut service = Service::default();
    let mut dispatchers: Vec<Box<TestDispatcher<Urpc>>> = (2..cores)
        .filter_map(|peer| Urpc::between(0, peer, cores))
        .map(|transport| Box::new(TestDispatcher::new(transport)))
        .collect();
    let deadline = userland::thread::counter() + 10 * userland::thread::frequency();
    while service.reports.len() < cores - 2 && userland::thread::counter() < deadline {
        for dispatcher in dispatchers.iter_mut() {
            while let Ok(Some(_)) = dispatcher.poll_one(&mut service) {}
        }
        relax();
    }
    report.case("urpc: clients on every other core", || {
        let bad: Vec<_> =
            service.reports.iter().filter(|(_, passed, failed)| *failed != 0 || *passed == 0).collect();
        ensure(service.reports.len() == cores - 2 && bad.is_empty(), || {
            detail!("{} of {} cores reported, failing: {bad:?}", service.reports.len(), cores - 2)
        })
    });
}

/// Cores 2..: the common cases against core 1, then the verdict to core 0.
fn remote_client(core: usize, cores: usize) -> i32 {
    if heap::init(64).is_err() {
        return 1;
    }
    let mut report = Report::default();
    match Urpc::between(core, 1, cores) {
        Some(transport) => {
            let mut client = Box::new(TestClient::new(transport));
            common_cases(&mut report, &alloc::format!("core {core} urpc"), &mut client);
        }
        None => report.failed += 1,
    }
    if let Some(transport) = Urpc::between(core, 0, cores) {
        let mut boot = Box::new(TestClient::new(transport));
        let _ = boot.report(core as u32, report.passed, report.failed);
    }
    loop {
        syscall::yield_now();
    }
}
