//! User-level threads of this dispatcher: blocking and waking each other,
//! thread-local words, sleep, preemption by upcall, FP state, faults, and a
//! thread woken by a message.

use crate::fp::{hold_registers, pattern};
use crate::{child, child_slot, detail, ensure, step, Outcome, Report, Setup};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use userland::cap::{Dispatcher, Endpoint, Message, ReceiveSlot};
use userland::dispatch;
use userland::object;
use userland::syscall;
use userland::thread::{self, Condvar, Mutex, FAULTED};

/// Runs the thread cases.
pub fn run(report: &mut Report, setup: &mut Setup) {
    report.case(setup, "threads: producers and consumer with mutex and condvar", producer_consumer);
    report.case(setup, "threads: thread-local words", locals);
    report.case(setup, "threads: sleep", sleep);
    report.case(setup, "threads: a spinning thread is preempted (run upcall)", spinning_thread);
    report.case(setup, "threads: FP registers survive preemption between threads", fp_threads);
    report.case(setup, "threads: a faulting thread ends alone (fault upcall)", faulting_thread);
    report.case(setup, "threads: a thread blocked on an endpoint wakes on a send", woken_by_message);
}

/// Items each producer makes.
const ITEMS: usize = 500;
const CAPACITY: usize = 4;

struct Buffer {
    items: [usize; CAPACITY],
    head: usize,
    count: usize,
}

static BUFFER: Mutex<Buffer> = Mutex::new(Buffer { items: [0; CAPACITY], head: 0, count: 0 });
static NOT_EMPTY: Condvar = Condvar::new();
static NOT_FULL: Condvar = Condvar::new();

fn produce(first: usize) -> usize {
    for value in first..first + ITEMS {
        let mut buffer = BUFFER.lock();
        while buffer.count == CAPACITY {
            buffer = NOT_FULL.wait(buffer);
        }
        let slot = (buffer.head + buffer.count) % CAPACITY;
        buffer.items[slot] = value;
        buffer.count += 1;
        drop(buffer);
        NOT_EMPTY.notify_one();
    }
    0
}

fn consume(total: usize) -> usize {
    let mut sum = 0;
    for _ in 0..total {
        let mut buffer = BUFFER.lock();
        while buffer.count == 0 {
            buffer = NOT_EMPTY.wait(buffer);
        }
        sum += buffer.items[buffer.head];
        buffer.head = (buffer.head + 1) % CAPACITY;
        buffer.count -= 1;
        drop(buffer);
        NOT_FULL.notify_all();
    }
    sum
}

fn producer_consumer(_setup: &mut Setup) -> Outcome {
    let consumer = step("spawn consumer", thread::spawn(consume, 2 * ITEMS))?;
    let first = step("spawn producer", thread::spawn(produce, 1))?;
    let second = step("spawn producer", thread::spawn(produce, 1_000_001))?;
    step("join", thread::join(first))?;
    step("join", thread::join(second))?;
    let sum = step("join", thread::join(consumer))?;
    let expected: usize = (1..=ITEMS).sum::<usize>() + (1_000_001..1_000_001 + ITEMS).sum::<usize>();
    ensure(sum == expected, || detail!("consumer summed {sum}, expected {expected}"))
}

fn local_worker(seed: usize) -> usize {
    thread::set_local(0, seed);
    thread::set_local(7, seed * 3);
    for _ in 0..10 {
        thread::yield_now();
    }
    usize::from(thread::local(0) == seed && thread::local(7) == seed * 3)
}

fn locals(_setup: &mut Setup) -> Outcome {
    thread::set_local(0, 99);
    let workers: [_; 3] = core::array::from_fn(|i| thread::spawn(local_worker, 10 + i));
    let mut good = 0;
    for worker in workers {
        good += step("join", thread::join(step("spawn", worker)?))?;
    }
    ensure(good == 3 && thread::local(0) == 99, || detail!("{good} of 3 workers kept their words"))
}

static WOKE: AtomicBool = AtomicBool::new(false);

fn sleeper(milliseconds: usize) -> usize {
    let start = thread::counter();
    thread::sleep_until(start + milliseconds as u64 * thread::ticks_per_millisecond());
    WOKE.store(true, Ordering::SeqCst);
    ((thread::counter() - start) / thread::ticks_per_millisecond()) as usize
}

fn sleep(_setup: &mut Setup) -> Outcome {
    let handle = step("spawn", thread::spawn(sleeper, 30))?;
    let early = WOKE.load(Ordering::SeqCst);
    let slept = step("join", thread::join(handle))?;
    ensure(!early && (30..1000).contains(&slept), || detail!("slept {slept} ms (woke early: {early})"))
}

static STOP_SPINNING: AtomicBool = AtomicBool::new(false);
static SPINS: AtomicUsize = AtomicUsize::new(0);

fn spinner(_: usize) -> usize {
    while !STOP_SPINNING.load(Ordering::Relaxed) {
        SPINS.fetch_add(1, Ordering::Relaxed);
    }
    1
}

fn spinning_thread(_setup: &mut Setup) -> Outcome {
    let handle = step("spawn", thread::spawn(spinner, 0))?;
    // The spinner never yields: only the run upcall at a timer tick brings
    // this thread back after its sleep.
    thread::sleep_until(thread::counter() + 40 * thread::ticks_per_millisecond());
    let spins = SPINS.load(Ordering::Relaxed);
    STOP_SPINNING.store(true, Ordering::Relaxed);
    let result = step("join", thread::join(handle))?;
    ensure(spins > 0 && result == 1, || detail!("spinner ran {spins} times, returned {result}"))
}

fn fp_worker(seed: usize) -> usize {
    let input = pattern(seed as u128);
    let mut output = [0u128; 32];
    let Some(frame) = dispatch::own_frame() else { return 0 };
    // SAFETY: only the field's address is taken.
    let counter = unsafe { core::ptr::addr_of!((*frame.raw()).preemptions) };
    hold_registers(&input, &mut output, counter, 3);
    usize::from(input == output)
}

fn fp_threads(_setup: &mut Setup) -> Outcome {
    let first = step("spawn", thread::spawn(fp_worker, 1))?;
    let second = step("spawn", thread::spawn(fp_worker, 2))?;
    let good = step("join", thread::join(first))? + step("join", thread::join(second))?;
    ensure(good == 2, || detail!("{good} of 2 threads kept their FP registers"))
}

fn faulter(_: usize) -> usize {
    let address = 0x7_0000_0000usize as *const usize;
    // SAFETY: deliberately reads an unmapped address: the fault upcall
    // ends this thread.
    unsafe { address.read_volatile() }
}

fn faulting_thread(_setup: &mut Setup) -> Outcome {
    let handle = step("spawn", thread::spawn(faulter, 0))?;
    let result = step("join", thread::join(handle))?;
    ensure(result == FAULTED, || detail!("faulting thread returned {result:#x}"))?;
    let after = step("spawn after", thread::spawn(|x| x + 1, 41))?;
    let answer = step("join after", thread::join(after))?;
    ensure(answer == 42, || detail!("next thread returned {answer}"))
}

/// Event bit of the endpoint the thread waits on.
const WAKE_EVENT: u32 = 2;

/// Sends one message to slot 11 after yielding a few times, then exits.
extern "C" fn late_sender(_frame: usize, _core: usize) -> ! {
    for _ in 0..3 {
        syscall::yield_now();
    }
    let message = Message { words: [7, 7, 7, 7, 7, 7, 7, 7], cap: None };
    let sent = Endpoint::at(child_slot::SEND).send(&message, false);
    syscall::exit(usize::from(sent.is_err()))
}

fn waiting_thread(endpoint: usize) -> usize {
    match thread::receive(Endpoint::at(endpoint), WAKE_EVENT, ReceiveSlot::NONE) {
        Ok(message) => message.words.iter().sum(),
        Err(_) => 0,
    }
}

fn woken_by_message(setup: &mut Setup) -> Outcome {
    let endpoint = step("endpoint", object::endpoint())?;
    step("bind", endpoint.bind(Dispatcher::own(), WAKE_EVENT as usize))?;
    let sender = step("child", child(setup, late_sender))?;
    step("copy", sender.cnode.copy(child_slot::SEND, endpoint.cptr()))?;
    let waiter = step("spawn", thread::spawn(waiting_thread, endpoint.cptr().address()))?;
    step("start", sender.dispatcher.start())?;
    // The only thread left blocks in join: the dispatcher sleeps in WAIT
    // until the message arrives.
    let sum = step("join", thread::join(waiter))?;
    ensure(sum == 56, || detail!("received words summing {sum}"))?;
    let outcome = step("run", sender.dispatcher.run())?;
    ensure(outcome == userland::cap::RunOutcome::Exited(0), || detail!("sender ended {outcome:?}"))
}
