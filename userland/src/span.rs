//! Programs that span cores: one dispatcher per core, in replicas of one
//! address space (the same pages at the same addresses; the monitors build
//! each core's replica, see the monitor's `span` module), and threads
//! created on another core's dispatcher by message.
//!
//! A program (started by a monitor, with its heap made by `heap::init`)
//! calls [`start`] for each core it wants to run on: its monitor gives that
//! core's monitor its segments and heap, which starts a dispatcher there in
//! [`dispatcher_entry`]. [`spawn_on`] then sends that dispatcher a message
//! (a URPC channel in the shared heap, one per core) naming a function and
//! its argument; the dispatcher runs it in a new user-level thread of its
//! own, on a stack in its core's own memory, and publishes the result,
//! which [`RemoteThread::join`] waits for. Statics and the heap are shared
//! by every dispatcher of the program (the heap's lock is an atomic in
//! shared memory); each dispatcher's thread scheduler lives in its own
//! dispatcher frame, which each replica maps at the same address.

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use caps::abi::layout::SPAN_STACK_TOP;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use spin::Mutex;

use crate::channel::Lmp;
use crate::interfaces::SessionClient;
use crate::session::Status;
use crate::{dispatch, syscall, thread};

/// Cores a program can span (one channel each).
pub const MAX_CORES: usize = 64;
/// Slots of each request ring.
const SLOTS: usize = 4;
/// Threads one remote dispatcher runs at a time (a stack each).
const THREADS: usize = 5;
/// Bytes of the remote dispatcher's own stack, its upcall stack and each
/// thread's stack (all below `SPAN_STACK_TOP`, in its core's memory: 64 KiB,
/// `spawn::SPAN_STACK_PAGES`).
const MAIN_STACK: usize = 16 << 10;
const UPCALL_STACK: usize = 8 << 10;
const THREAD_STACK: usize = 8 << 10;
const _: () = assert!(MAIN_STACK + UPCALL_STACK + THREADS * THREAD_STACK <= 64 << 10);

type Link = urpc::Channel<SLOTS>;

/// Each core's request channel (a leaked heap allocation; 0: not spanned).
static LINKS: [AtomicUsize; MAX_CORES] = [const { AtomicUsize::new(0) }; MAX_CORES];
/// The sending ends, used by the program's first dispatcher.
static SENDERS: Mutex<Vec<(usize, urpc::Sender<'static, SLOTS>)>> = Mutex::new(Vec::new());

/// A thread to run on another core, and its result (in the shared heap).
struct Job {
    entry: fn(usize) -> usize,
    argument: usize,
    result: AtomicUsize,
    done: AtomicBool,
}

/// A thread started on another core by [`spawn_on`].
pub struct RemoteThread(*mut Job);

impl RemoteThread {
    /// Waits until it ended; its result.
    pub fn join(self) -> usize {
        // SAFETY: the job lives until this handle frees it; the remote
        // thread stops touching it once `done` is set.
        let job = unsafe { &*self.0 };
        while !job.done.load(Ordering::Acquire) {
            syscall::wait(thread::counter() + thread::ticks_per_millisecond());
        }
        let result = job.result.load(Ordering::Relaxed);
        // SAFETY: made by `Box::into_raw` in `spawn_on`; nobody else
        // touches it after `done`.
        drop(unsafe { Box::from_raw(self.0) });
        result
    }
}

/// Spans this program to `core` (through `session`, its monitor's).
pub fn start(session: &mut SessionClient<Lmp>, core: usize) -> Result<(), Status> {
    if core >= MAX_CORES {
        return Err(Status::CoreDown);
    }
    if LINKS[core].load(Ordering::Acquire) != 0 {
        return Err(Status::Exists);
    }
    let (heap_slot, heap_pages) = crate::heap::frames().ok_or(Status::NoMemory)?;
    let link: &'static Link = Box::leak(Box::new(Link::new()));
    LINKS[core].store(link as *const Link as usize, Ordering::Release);
    SENDERS.lock().push((core, link.outgoing(urpc::Side::A).sender()));
    let entry = dispatcher_entry as *const () as usize as u64;
    match session.span(core as u32, entry, heap_slot as u32, heap_pages as u32) {
        Ok(code) => Status::check(code),
        Err(_) => Err(Status::Failed),
    }
}

/// Shares the page at `va` — this program's 4 KiB frame in root slot
/// `slot`, made from its own RAM and mapped at `va` here — with its
/// dispatchers on other cores (each maps it at `va`).
pub fn share(session: &mut SessionClient<Lmp>, va: usize, slot: usize) -> Result<(), Status> {
    session.share(va as u64, slot as u32).map_err(|_| Status::Failed).and_then(Status::check)
}

/// Unmaps the page shared at `va` from every other core: once this returns
/// no other core can touch it, and this program may unmap it and reuse its
/// RAM.
pub fn unshare(session: &mut SessionClient<Lmp>, va: usize) -> Result<(), Status> {
    session.unshare(va as u64).map_err(|_| Status::Failed).and_then(Status::check)
}

/// Message kinds (word 1 of a request): a job, or a thread moving there.
const JOB: u64 = 0;
const ADOPT: u64 = 1;

/// Sends `words` to `core`'s dispatcher, waiting while its ring is full;
/// `false` if the program does not span to `core`.
fn send(core: usize, words: &[u64; 7]) -> bool {
    loop {
        let mut senders = SENDERS.lock();
        let Some((_, sender)) = senders.iter_mut().find(|(c, _)| *c == core) else { return false };
        if sender.try_send_words(words).is_ok() {
            return true;
        }
        drop(senders);
        syscall::yield_now();
    }
}

/// Moves the calling thread to this program's dispatcher on `core`: when
/// this returns it runs there. The thread must run on a stack every core
/// of the program maps (the heap or statics: not the first dispatcher's own
/// stack), under this dispatcher's thread runtime (`thread::init`), and
/// must not be joined.
pub fn migrate(core: usize) -> Result<(), Status> {
    thread::hand_off(|tcb| send(core, &[tcb as u64, ADOPT, 0, 0, 0, 0, 0])).map_err(|_| Status::NotFound)
}

/// Starts `entry(argument)` in a new thread of this program's dispatcher on
/// `core` (spanned there with [`start`]).
pub fn spawn_on(core: usize, entry: fn(usize) -> usize, argument: usize) -> Result<RemoteThread, Status> {
    let job = Box::into_raw(Box::new(Job {
        entry,
        argument,
        result: AtomicUsize::new(0),
        done: AtomicBool::new(false),
    }));
    if send(core, &[job as u64, JOB, 0, 0, 0, 0, 0]) {
        Ok(RemoteThread(job))
    } else {
        // SAFETY: made just above, never shared.
        drop(unsafe { Box::from_raw(job) });
        Err(Status::NotFound)
    }
}

/// A running remote thread's bookkeeping (on the remote dispatcher's stack).
struct Running {
    job: AtomicUsize,
    finished: AtomicBool,
}

/// What one remote thread runs: the job, then its result published.
fn run(running: usize) -> usize {
    // SAFETY: `running` points at an entry of the dispatcher's `slots`
    // array, which outlives the thread (it is joined before the entry is
    // reused), and at a job that lives until its `done` is seen.
    let running = unsafe { &*(running as *const Running) };
    // SAFETY: as above.
    let job = unsafe { &*(running.job.load(Ordering::Relaxed) as *const Job) };
    let result = (job.entry)(job.argument);
    finish(job, result);
    running.finished.store(true, Ordering::Release);
    result
}

/// Publishes a job's result: the last touch of the job (its joiner may
/// free it from then on).
fn finish(job: &Job, result: usize) {
    job.result.store(result, Ordering::Relaxed);
    job.done.store(true, Ordering::Release);
}

/// Where this program's dispatcher on another core starts (x0 = its frame,
/// x1 = its core): it takes jobs from its channel and runs each in a
/// thread of its own, for good (its monitor ends it when the program ends).
pub extern "C" fn dispatcher_entry(frame: usize, core: usize) -> ! {
    let top = SPAN_STACK_TOP as usize;
    let Some(frame) = dispatch::Frame::at(frame) else { syscall::exit(1) };
    if thread::init_with_upcall_stack(frame, top - MAIN_STACK).is_err() {
        syscall::exit(2);
    }
    let Some(link) = LINKS.get(core).map(|l| l.load(Ordering::Acquire)).filter(|&l| l != 0) else {
        syscall::exit(3)
    };
    // SAFETY: leaked by `start` before the span was asked for: lives for
    // good, shared through the heap; used only through `urpc`'s atomics.
    let link: &'static Link = unsafe { &*(link as *const Link) };
    let mut receiver = link.incoming(urpc::Side::B).receiver();
    let slots: [Running; THREADS] =
        core::array::from_fn(|_| Running { job: AtomicUsize::new(0), finished: AtomicBool::new(false) });
    let mut threads: [Option<thread::Thread>; THREADS] = Default::default();
    loop {
        let mut busy = false;
        for (i, slot) in threads.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(thread::Thread::ended) {
                if let Some(done) = slot.take() {
                    let result = thread::join(done);
                    if !slots[i].finished.load(Ordering::Acquire) {
                        // It faulted before publishing: the job ends so.
                        let job = slots[i].job.load(Ordering::Relaxed);
                        // SAFETY: a job of `spawn_on`, alive until `done`.
                        finish(unsafe { &*(job as *const Job) }, result.unwrap_or(thread::FAULTED));
                    }
                }
            }
            while slot.is_none() {
                let Ok(message) = receiver.try_recv() else { break };
                if message.words[1] == ADOPT {
                    // SAFETY: a thread `migrate` handed to this dispatcher.
                    if unsafe { thread::adopt(message.words[0] as usize) }.is_err() {
                        crate::println!("span: core {core}: cannot take a thread in");
                    }
                    continue;
                }
                let job = message.words[0] as usize;
                slots[i].job.store(job, Ordering::Relaxed);
                slots[i].finished.store(false, Ordering::Relaxed);
                let stack_top = top - MAIN_STACK - UPCALL_STACK - i * THREAD_STACK;
                let running = &slots[i] as *const Running as usize;
                // SAFETY: stack `i` lies in this dispatcher's own stack pages
                // (below its main and upcall stacks) and is used only by the
                // thread of entry `i`, which was joined before it is reused.
                *slot = unsafe { thread::spawn_on_stack(run, running, stack_top) }.ok();
                if slot.is_none() {
                    // No thread for it: it ends at once, as faulted.
                    crate::println!("span: core {core}: cannot start a thread; its job ends as faulted");
                    // SAFETY: a job of `spawn_on`, alive until `done`.
                    finish(unsafe { &*(job as *const Job) }, thread::FAULTED);
                }
            }
            busy |= slot.is_some();
        }
        if busy {
            thread::yield_now();
        } else {
            thread::sleep_until(thread::counter() + thread::ticks_per_millisecond());
        }
    }
}
