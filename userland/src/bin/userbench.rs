//! `userbench`: system-call costs measured at EL0 with the virtual counter
//! (run by `scripts/bench` as `init=userbench` under `-icount`, where one
//! virtual nanosecond is one instruction); prints `BENCH` lines, powers off.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use userland::cap::{CNode, Dispatcher, Endpoint, Kernel, Message, ReceiveSlot, VNode};
use userland::{dispatch, heap, object, println, syscall, thread};

userland::entry!(main);

/// Timed samples, and calls per sample.
const SAMPLES: usize = 31;
const BATCH: u64 = 256;

fn counter() -> u64 {
    #[cfg(target_os = "none")]
    {
        let value: u64;
        // SAFETY: reads the virtual counter, which the kernel lets EL0 read.
        unsafe { core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack)) };
        value
    }
    #[cfg(not(target_os = "none"))]
    0
}

fn frequency() -> u64 {
    #[cfg(target_os = "none")]
    {
        let value: u64;
        // SAFETY: reads the counter frequency, readable at EL0.
        unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) value, options(nomem, nostack)) };
        value.max(1)
    }
    #[cfg(not(target_os = "none"))]
    1
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

fn main(_core: usize, _cores: usize) -> i32 {
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
    if let Err(error) = lmp_and_threads() {
        println!("error: bench userbench: {error}");
    }
    kernel.power_off()
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
    heap::init(16)?;
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
