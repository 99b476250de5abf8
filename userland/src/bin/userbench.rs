//! `userbench`: system-call costs measured at EL0 with the virtual counter
//! (run by `scripts/bench` as `init=userbench` under `-icount`, where one
//! virtual nanosecond is one instruction); prints `BENCH` lines, powers off.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use userland::cap::{CNode, Dispatcher, Endpoint, Kernel, Message, ReceiveSlot, VNode};
use userland::channel::{relax, Lmp, Urpc};
use userland::interfaces::{TestClient, TestDispatcher, TestServer};
use userland::sibling::{slot, Siblings};
use userland::{dispatch, heap, object, println, syscall, thread};

userland::entry!(main);

/// Timed samples, and calls per sample.
const SAMPLES: usize = 31;
const BATCH: u64 = 256;

fn counter() -> u64 {
    thread::counter()
}

fn frequency() -> u64 {
    thread::frequency()
}

/// Median and minimum per call, in thousandths of a virtual nanosecond.
fn measure(call: impl FnMut()) -> (u64, u64) {
    measure_per(1, call)
}

/// Like `measure`, for a call that does `operations` operations.
fn measure_per(operations: u64, mut call: impl FnMut()) -> (u64, u64) {
    for _ in 0..BATCH {
        call();
    }
    let mut samples = [0u64; SAMPLES];
    for slot in samples.iter_mut() {
        let start = counter();
        for _ in 0..BATCH {
            call();
        }
        let ticks = counter() - start;
        let per = u128::from(BATCH) * u128::from(operations);
        *slot = (u128::from(ticks) * 1_000_000_000_000 / u128::from(frequency()) / per) as u64;
    }
    samples.sort_unstable();
    (samples[SAMPLES / 2], samples[0])
}

fn report(name: &str, (median, min): (u64, u64)) {
    println!(
        "BENCH {name} n={SAMPLES} median={}.{} min={}.{} unit=insn",
        median / 1000,
        median % 1000 / 100,
        min / 1000,
        min % 1000 / 100
    );
}

fn main(core: usize, cores: usize) -> i32 {
    // With `others=userbench`, core 1 serves `rpc_rt_remote` and the other
    // cores sleep.
    match core {
        0 => {}
        1 => remote_server(cores),
        _ => loop {
            syscall::yield_now();
        },
    }
    report(
        "null_syscall",
        measure(|| {
            let _ = userland::syscall::null();
        }),
    );
    let kernel = Kernel::initial();
    report(
        "cap_invoke_null",
        measure(|| {
            let _ = kernel.null();
        }),
    );
    let heap = match heap::init(64) {
        Ok(heap) => heap,
        Err(error) => {
            println!("error: bench userbench: heap: {error}");
            kernel.power_off()
        }
    };
    if let Err(error) = lmp_and_threads() {
        println!("error: bench userbench: {error}");
    }
    if let Err(error) = rpc_local(&heap) {
        println!("error: bench rpc_rt_local: {error}");
    }
    if cores >= 2 {
        match Urpc::between(0, 1, cores) {
            Some(mut transport) => {
                report(
                    "urpc_rt_user",
                    measure(|| {
                        let _ = raw_round_trip(&mut transport);
                    }),
                );
                let mut client = Box::new(TestClient::new(transport));
                report(
                    "rpc_rt_remote",
                    measure(|| {
                        let _ = client.null();
                    }),
                );
            }
            None => println!("error: bench rpc_rt_remote: no channel to core 1"),
        }
    }
    kernel.power_off()
}

/// The null service of the RPC benchmarks.
struct Null;

impl<C> TestServer<C> for Null {
    fn null(&mut self) {}
    fn add(&mut self, a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }
    fn echo(&mut self, data: stubs::Bytes<2048>) -> (stubs::Bytes<2048>, u64) {
        (data, 0)
    }
    fn upper(&mut self, text: stubs::Str<256>) -> stubs::Str<256> {
        text
    }
    fn frame(&mut self, _frame: C) -> u64 {
        0
    }
    fn note(&mut self, _value: u64) {}
    fn notes(&mut self) -> (u64, u64) {
        (0, 0)
    }
    fn report(&mut self, _core: u32, _passed: u32, _failed: u32) {}
}

/// Round trips `measure` makes (warm-up and samples).
const MEASURED_CALLS: u64 = BATCH * (SAMPLES as u64 + 1);

/// One raw URPC round trip (`urpc_rt_user`): a message to core 1 and its
/// echo, polling, without the stubs.
fn raw_round_trip(transport: &mut Urpc) -> Result<(), stubs::TransportError> {
    use stubs::Transport;
    let mut words = [1, 2, 3, 4, 5, 6, 7];
    while let Err(error) = transport.try_send(&words, &mut None) {
        if error != stubs::TransportError::Full {
            return Err(error);
        }
        core::hint::spin_loop();
    }
    while !transport.try_recv(&mut words, &mut None)? {
        relax();
    }
    Ok(())
}

/// Core 1 with `others=userbench`: echoes core 0's raw `urpc_rt_user`
/// messages, then serves its `rpc_rt_remote` calls.
fn remote_server(cores: usize) -> ! {
    use stubs::Transport;
    if heap::init(16).is_ok() {
        if let Some(mut transport) = Urpc::between(1, 0, cores) {
            let mut words = [0; 7];
            let mut echoed = 0;
            while echoed < MEASURED_CALLS {
                match transport.try_recv(&mut words, &mut None) {
                    Ok(true) => {
                        while transport.try_send(&words, &mut None) == Err(stubs::TransportError::Full) {}
                        echoed += 1;
                    }
                    // Until core 0 gets to the remote benchmarks, sleep from
                    // tick to tick rather than take instructions from it.
                    Ok(false) if echoed == 0 => syscall::yield_now(),
                    Ok(false) => relax(),
                    Err(_) => break,
                }
            }
            let mut dispatcher = Box::new(TestDispatcher::new(transport));
            let _ = dispatcher.serve(&mut Null, |_| true);
        }
    }
    loop {
        syscall::yield_now();
    }
}

/// The `rpc_rt_local` server: a sibling dispatcher serving `Test` over LMP.
extern "C" fn local_server(_frame: usize, _core: usize) -> ! {
    let transport =
        Lmp::new(Endpoint::at(slot::SEND), Endpoint::at(slot::RECEIVE), 0).with_receive_slot(slot::RECEIVED);
    let mut dispatcher = Box::new(TestDispatcher::new(transport));
    let _ = dispatcher.serve(&mut Null, |_| true);
    syscall::exit(1)
}

/// `rpc_rt_local`: a null RPC through the generated stubs over LMP.
fn rpc_local(heap: &heap::HeapTables) -> userland::Result<()> {
    let mut siblings = Siblings::new(heap, 3)?;
    let server = siblings.make(local_server)?;
    let theirs = object::endpoint()?;
    theirs.bind(server.dispatcher, 0)?;
    let ours = object::endpoint()?;
    ours.bind(Dispatcher::own(), 2)?;
    server.cnode.copy(slot::RECEIVE, theirs.cptr())?;
    server.cnode.copy(slot::SEND, ours.cptr())?;
    server.dispatcher.start()?;
    let mut client = Box::new(TestClient::new(Lmp::new(theirs, ours, 2)));
    report(
        "rpc_rt_local",
        measure(|| {
            let _ = client.null();
        }),
    );
    Ok(())
}

/// Slots of the server's endpoints (it shares this CSpace).
static SERVER_RECEIVE: AtomicUsize = AtomicUsize::new(0);
static SERVER_REPLY: AtomicUsize = AtomicUsize::new(0);

/// The `lmp_rt` server: answers every call with the same words (a reply
/// and wait in one `CALL`).
extern "C" fn echo_server(_frame: usize, _core: usize) -> ! {
    let receive = Endpoint::at(SERVER_RECEIVE.load(Ordering::Relaxed));
    let reply = Endpoint::at(SERVER_REPLY.load(Ordering::Relaxed));
    let mut next = receive.recv(ReceiveSlot::NONE, true);
    loop {
        let words = match next {
            Ok(message) => message.words,
            Err(_) => syscall::exit(1),
        };
        next = reply.call(&Message { words, cap: None }, receive, ReceiveSlot::NONE);
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

fn yielder(_: usize) -> usize {
    while !STOP.load(Ordering::Relaxed) {
        thread::yield_now();
    }
    0
}

/// `lmp_rt`: a same-core call and reply between two dispatchers in one
/// address space (8 words each way). `thread_switch`: one user-level
/// switch between two threads that yield to each other.
fn lmp_and_threads() -> userland::Result<()> {
    let server = object::dispatcher()?;
    let theirs = object::endpoint()?;
    theirs.bind(server, 0)?;
    let ours = object::endpoint()?;
    ours.bind(Dispatcher::own(), 1)?;
    SERVER_RECEIVE.store(theirs.cptr().address(), Ordering::Relaxed);
    SERVER_REPLY.store(ours.cptr().address(), Ordering::Relaxed);
    let stack = alloc::vec![0u8; thread::STACK_SIZE].leak();
    let top = (stack.as_ptr() as usize + stack.len()) & !15;
    server.setup(CNode::root().cptr(), VNode::root().cptr(), echo_server as *const () as usize, top)?;
    server.start()?;
    let message = Message { words: [1, 2, 3, 4, 5, 6, 7, 8], cap: None };
    report(
        "lmp_rt",
        measure(|| {
            let _ = theirs.call(&message, ours, ReceiveSlot::NONE);
        }),
    );
    thread::init(dispatch::own_frame().ok_or(userland::Error::NotSetUp)?)?;
    let other = thread::spawn(yielder, 0)?;
    // Each yield here is two switches: to the other thread and back.
    report("thread_switch", measure_per(2, thread::yield_now));
    STOP.store(true, Ordering::Relaxed);
    thread::join(other)?;
    Ok(())
}
