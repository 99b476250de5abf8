//! User-level threads above the dispatcher's upcalls (the Barrelfish and
//! scheduler-activations model): the kernel schedules the dispatcher; this
//! library schedules its threads.
//!
//! * [`init`] turns the calling code into the main thread of this
//!   dispatcher and installs the upcall entry: from then on, when the kernel
//!   preempts the dispatcher while enabled, it later enters it by a run
//!   upcall, and the runtime decides which thread continues (round robin:
//!   a thread spinning forever does not stop the others).
//! * Thread switches between threads are plain function calls (callee-saved
//!   registers only) made with the dispatcher disabled; a thread stopped by
//!   the kernel is resumed with all its registers through `RESUME`.
//! * [`spawn`], [`join`], [`yield_now`], [`sleep_until`], [`Mutex`],
//!   [`Condvar`], thread-local words ([`local`], [`set_local`]) through
//!   `TPIDR_EL0`, which points at the running thread's control block.
//! * Waiting for LMP messages: [`wait_event`] blocks the thread until an
//!   event bit of the dispatcher frame is set; [`receive`] wraps it around
//!   `Endpoint::recv`. With no thread ready, the dispatcher sleeps in the
//!   kernel (`WAIT`) until an event or the next sleeper's deadline.
//! * A fault of a thread is delivered to the runtime by upcall: the thread
//!   ends with [`FAULTED`] as its result and the others go on. A fault in
//!   the runtime itself (disabled) goes to the dispatcher's supervisor.
//!
//! Threads, mutexes and condition variables belong to one dispatcher (one
//! core); they are not shared across dispatchers.

// On the host only the data structures compile; the switch code is
// assembly for the target.
#![cfg_attr(not(all(target_arch = "aarch64", target_os = "none")), allow(dead_code))]

extern crate alloc;

use crate::cap::{would_block, Endpoint, ReceiveSlot, Received};
use crate::dispatch::{self, Frame};
use crate::error::{Error, Result};
use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use caps::abi::SavedRegisters;
use core::cell::UnsafeCell;
use core::ptr::null_mut;

/// Bytes of a thread's stack (and of the upcall stack).
pub const STACK_SIZE: usize = 16 * 1024;
/// Thread-local words per thread.
pub const LOCAL_WORDS: usize = 8;
/// Result of a thread that faulted.
pub const FAULTED: usize = usize::MAX;

const READY: usize = 1;
const RUNNING: usize = 2;
const BLOCKED: usize = 3;
const DONE: usize = 4;

/// Callee-saved registers of a thread switched out by a call.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Context {
    /// x19..x30.
    x: [u64; 12],
    sp: u64,
    /// d8..d15.
    d: [u64; 8],
    /// Set (release) by the marked switches once the rest is saved: a
    /// thread handed to another dispatcher runs there only after it.
    saved: u64,
}

/// FP/SIMD registers.
#[repr(C, align(16))]
#[derive(Clone, Copy)]
struct FpRegisters {
    q: [u128; 32],
    fpcr: u64,
    fpsr: u64,
}

/// A thread control block (`TPIDR_EL0` points at the running one).
#[repr(C)]
pub struct Tcb {
    ctx: Context,
    next: *mut Tcb,
    state: usize,
    id: usize,
    result: usize,
    joiner: *mut Tcb,
    runtime: *mut Runtime,
    wake_at: u64,
    locals: [usize; LOCAL_WORDS],
    /// Stopped by the kernel: its registers are in `full` and `fp`.
    preempted: bool,
    full: SavedRegisters,
    fp: FpRegisters,
    stack: *mut u8,
    entry: fn(usize) -> usize,
    argument: usize,
}

#[derive(Clone, Copy)]
struct Queue {
    head: *mut Tcb,
    tail: *mut Tcb,
}

impl Queue {
    const EMPTY: Queue = Queue { head: null_mut(), tail: null_mut() };

    fn push(&mut self, tcb: *mut Tcb) {
        // SAFETY: queued TCBs are live (freed only after they are DONE and
        // joined, when no queue holds them).
        unsafe {
            (*tcb).next = null_mut();
            if self.tail.is_null() {
                self.head = tcb;
            } else {
                (*self.tail).next = tcb;
            }
        }
        self.tail = tcb;
    }

    fn pop(&mut self) -> Option<*mut Tcb> {
        let tcb = self.head;
        if tcb.is_null() {
            return None;
        }
        // SAFETY: as in `push`.
        self.head = unsafe { (*tcb).next };
        if self.head.is_null() {
            self.tail = null_mut();
        }
        Some(tcb)
    }
}

/// The per-dispatcher scheduler state, kept in the user part of the
/// dispatcher frame.
#[repr(C)]
struct Runtime {
    /// FP/SIMD registers of the thread the kernel stopped (saved first
    /// thing in an upcall).
    fp_scratch: FpRegisters,
    frame: Frame,
    current: *mut Tcb,
    ready: Queue,
    sleepers: *mut Tcb,
    /// Threads waiting for each event bit.
    waiters: [Queue; 64],
    /// Event bits some thread waits for.
    waiting: u64,
    next_id: usize,
}

const _: () = assert!(core::mem::size_of::<Runtime>() <= 4096 - dispatch::USER_AREA);
const FP_SCRATCH: usize = dispatch::USER_AREA;

fn runtime_of(frame: Frame) -> *mut Runtime {
    frame.user_area(0) as *mut Runtime
}

/// The running thread's control block (null before [`init`]).
fn current_tcb() -> *mut Tcb {
    arch::thread_pointer() as *mut Tcb
}

/// The running thread's runtime.
fn runtime() -> Result<&'static mut Runtime> {
    let tcb = current_tcb();
    if tcb.is_null() {
        return Err(Error::NotSetUp);
    }
    // SAFETY: `TPIDR_EL0` is only ever set to live TCBs of this dispatcher,
    // whose runtime lives in its (mapped) frame.
    Ok(unsafe { &mut *(*tcb).runtime })
}

fn allocate_tcb(runtime: *mut Runtime) -> Result<*mut Tcb> {
    let layout = Layout::new::<Tcb>();
    // SAFETY: a non-zero-sized layout; all-zero bytes are a valid Tcb
    // (null pointers, zero numbers) except `entry`, set right after.
    let tcb = unsafe { alloc_zeroed(layout) } as *mut Tcb;
    if tcb.is_null() {
        return Err(Error::LimitReached);
    }
    // SAFETY: just allocated, exclusively ours.
    unsafe {
        core::ptr::addr_of_mut!((*tcb).entry).write(idle_entry);
        (*tcb).runtime = runtime;
        (*runtime).next_id += 1;
        (*tcb).id = (*runtime).next_id;
    }
    Ok(tcb)
}

fn idle_entry(_: usize) -> usize {
    0
}

fn stack_layout() -> Layout {
    // 16-byte alignment as AAPCS64 requires; the size is a constant.
    Layout::from_size_align(STACK_SIZE, 16).unwrap_or(Layout::new::<u128>())
}

/// Makes the caller the main thread of the dispatcher whose frame is
/// `frame` and installs the upcalls. Needs the heap (`heap::init`).
pub fn init(frame: Frame) -> Result<()> {
    // SAFETY: a fresh stack for upcalls, never freed.
    let upcall_stack = unsafe { alloc_zeroed(stack_layout()) };
    if upcall_stack.is_null() {
        return Err(Error::LimitReached);
    }
    init_with_upcall_stack(frame, upcall_stack as usize + STACK_SIZE)
}

/// [`init`] with the upcall stack below `upcall_stack_top` (memory of the
/// caller's that stays mapped and unused for good): for a dispatcher whose
/// stacks are not in the heap (one on another core of a program that spans
/// cores, whose heap is shared).
pub fn init_with_upcall_stack(frame: Frame, upcall_stack_top: usize) -> Result<()> {
    let runtime = runtime_of(frame);
    // SAFETY: the user part of our own frame, unused so far (zero).
    unsafe {
        (*runtime).frame = frame;
        (*runtime).ready = Queue::EMPTY;
        (*runtime).waiters = [Queue::EMPTY; 64];
    }
    let main = allocate_tcb(runtime)?;
    // SAFETY: `main` is fresh; the runtime is ours.
    unsafe {
        (*main).state = RUNNING;
        (*runtime).current = main;
    }
    arch::set_thread_pointer(main as usize);
    frame.set_upcalls(arch::upcall_entry(), upcall_stack_top);
    Ok(())
}

/// A thread made by [`spawn`].
#[derive(Debug, PartialEq, Eq)]
pub struct Thread(*mut Tcb);

impl Thread {
    /// Its number (the main thread is 1).
    pub fn id(&self) -> usize {
        // SAFETY: the TCB lives until `join` consumes the handle.
        unsafe { (*self.0).id }
    }

    /// Whether it ended (returned or faulted): `join` will not wait.
    pub fn ended(&self) -> bool {
        // SAFETY: as above; the state word is only written by this
        // dispatcher's runtime, which is not running while we are.
        unsafe { core::ptr::addr_of!((*self.0).state).read_volatile() == DONE }
    }
}

/// Starts `entry(argument)` in a new thread of this dispatcher.
pub fn spawn(entry: fn(usize) -> usize, argument: usize) -> Result<Thread> {
    // SAFETY: a fresh stack for the thread, freed by `join`.
    let stack = unsafe { alloc_zeroed(stack_layout()) };
    if stack.is_null() {
        return Err(Error::LimitReached);
    }
    let started = start(entry, argument, stack as usize + STACK_SIZE, stack);
    if started.is_err() {
        // SAFETY: allocated above with this layout, never shared.
        unsafe { dealloc(stack, stack_layout()) };
    }
    started
}

/// [`spawn`] on the stack below `stack_top`, which the caller provides
/// (mapped, unused until the thread was joined; `join` does not free it).
///
/// # Safety
/// The memory below `stack_top` must be this dispatcher's to use as the
/// thread's stack until `join` returned.
pub unsafe fn spawn_on_stack(entry: fn(usize) -> usize, argument: usize, stack_top: usize) -> Result<Thread> {
    start(entry, argument, stack_top, null_mut())
}

/// A new ready thread; `stack` is the heap stack `join` frees (null: none).
fn start(entry: fn(usize) -> usize, argument: usize, stack_top: usize, stack: *mut u8) -> Result<Thread> {
    let runtime = runtime()? as *mut Runtime;
    let tcb = allocate_tcb(runtime)?;
    // SAFETY: `tcb` is fresh and exclusively ours until queued.
    unsafe {
        (*tcb).stack = stack;
        (*tcb).entry = entry;
        (*tcb).argument = argument;
        (*tcb).ctx.x[0] = tcb as u64; // x19: the TCB, for the trampoline
        (*tcb).ctx.x[11] = arch::trampoline() as u64; // x30
        (*tcb).ctx.sp = stack_top as u64;
        (*tcb).state = READY;
        let frame = (*runtime).frame;
        frame.disable();
        (*runtime).ready.push(tcb);
        frame.enable();
    }
    Ok(Thread(tcb))
}

/// Waits for `thread` to end; returns its result ([`FAULTED`] if it
/// faulted) and frees it.
pub fn join(thread: Thread) -> Result<usize> {
    let runtime = runtime()?;
    let frame = runtime.frame;
    let tcb = thread.0;
    frame.disable();
    // SAFETY: the TCB lives until freed below.
    unsafe {
        if (*tcb).state != DONE {
            (*tcb).joiner = runtime.current;
            (*runtime.current).state = BLOCKED;
            block_current(runtime);
            frame.disable();
        }
        let result = (*tcb).result;
        frame.enable();
        // A finished thread never runs again (it switched away for good
        // before its joiner could run): its stack and TCB can go.
        if !(*tcb).stack.is_null() {
            dealloc((*tcb).stack, stack_layout());
        }
        dealloc(tcb as *mut u8, Layout::new::<Tcb>());
        Ok(result)
    }
}

/// Lets the next ready thread run (this one goes to the back).
pub fn yield_now() {
    let Ok(runtime) = runtime() else { return };
    runtime.frame.disable();
    if runtime.ready.head.is_null() && runtime.waiting == 0 && runtime.sleepers.is_null() {
        runtime.frame.enable();
        return;
    }
    let current = runtime.current;
    // SAFETY: the running thread's TCB.
    unsafe { (*current).state = READY };
    runtime.ready.push(current);
    block_current(runtime);
}

/// The running thread's number (0 before [`init`]).
pub fn current_id() -> usize {
    let tcb = current_tcb();
    if tcb.is_null() {
        return 0;
    }
    // SAFETY: a live TCB (see `runtime`).
    unsafe { (*tcb).id }
}

/// Thread-local word `index` (0 to 7) of the running thread.
pub fn local(index: usize) -> usize {
    let tcb = current_tcb();
    if tcb.is_null() || index >= LOCAL_WORDS {
        return 0;
    }
    // SAFETY: the running thread's TCB.
    unsafe { (*tcb).locals[index] }
}

/// Sets thread-local word `index` (0 to 7) of the running thread.
pub fn set_local(index: usize, value: usize) {
    let tcb = current_tcb();
    if !tcb.is_null() && index < LOCAL_WORDS {
        // SAFETY: the running thread's TCB.
        unsafe { (*tcb).locals[index] = value };
    }
}

/// The counter (`CNTVCT_EL0`).
pub fn counter() -> u64 {
    arch::counter()
}

/// Counter ticks per second (`CNTFRQ_EL0`).
pub fn frequency() -> u64 {
    arch::frequency().max(1)
}

/// Counter ticks per millisecond.
pub fn ticks_per_millisecond() -> u64 {
    (frequency() / 1000).max(1)
}

/// Blocks the thread until the counter reaches `deadline` (the kernel's
/// tick, 10 ms, bounds the precision).
pub fn sleep_until(deadline: u64) {
    let Ok(runtime) = runtime() else { return };
    runtime.frame.disable();
    let current = runtime.current;
    // SAFETY: the running thread's TCB.
    unsafe {
        (*current).wake_at = deadline;
        (*current).state = BLOCKED;
        (*current).next = runtime.sleepers;
    }
    runtime.sleepers = current;
    block_current(runtime);
}

/// Blocks the thread until event bit `event` (0 to 63) of the dispatcher
/// frame is set (bit 63: a started child dispatcher ended).
pub fn wait_event(event: u32) -> Result<()> {
    let runtime = runtime()?;
    let bit = 1u64.checked_shl(event).ok_or(Error::InvalidArgument)?;
    runtime.frame.disable();
    if runtime.frame.events() & bit != 0 {
        runtime.frame.enable();
        return Ok(());
    }
    let current = runtime.current;
    // SAFETY: the running thread's TCB.
    unsafe { (*current).state = BLOCKED };
    runtime.waiters[event as usize].push(current);
    runtime.waiting |= bit;
    block_current(runtime);
    Ok(())
}

/// Receives from `endpoint` (bound to this dispatcher with `event`),
/// blocking only this thread while it is empty.
pub fn receive(endpoint: Endpoint, event: u32, slot: ReceiveSlot) -> Result<Received> {
    loop {
        match endpoint.recv(slot, false) {
            Err(error) if would_block(error) => wait_event(event)?,
            other => return other,
        }
    }
}

/// Wakes sleepers whose deadline passed and waiters of pending events
/// (disabled).
fn poll(runtime: &mut Runtime) {
    if !runtime.sleepers.is_null() {
        let now = arch::counter();
        let mut link: *mut *mut Tcb = &mut runtime.sleepers;
        // SAFETY: the sleepers list holds live blocked TCBs.
        unsafe {
            while !(*link).is_null() {
                let tcb = *link;
                if (*tcb).wake_at <= now {
                    *link = (*tcb).next;
                    (*tcb).state = READY;
                    runtime.ready.push(tcb);
                } else {
                    link = &mut (*tcb).next;
                }
            }
        }
    }
    let pending = runtime.frame.events() & runtime.waiting;
    if pending != 0 {
        for event in 0..64 {
            if pending & (1 << event) != 0 {
                while let Some(tcb) = runtime.waiters[event].pop() {
                    // SAFETY: a live blocked TCB.
                    unsafe { (*tcb).state = READY };
                    runtime.ready.push(tcb);
                }
            }
        }
        runtime.waiting &= !pending;
    }
}

/// The earliest sleeper's deadline (0: none).
fn next_deadline(runtime: &Runtime) -> u64 {
    let mut deadline = 0;
    let mut cursor = runtime.sleepers;
    while !cursor.is_null() {
        // SAFETY: live blocked TCBs.
        unsafe {
            if deadline == 0 || (*cursor).wake_at < deadline {
                deadline = (*cursor).wake_at.max(1);
            }
            cursor = (*cursor).next;
        }
    }
    deadline
}

/// The next thread to run, sleeping in the kernel until there is one
/// (disabled).
fn next_ready(runtime: &mut Runtime) -> *mut Tcb {
    loop {
        poll(runtime);
        if let Some(next) = runtime.ready.pop() {
            return next;
        }
        crate::syscall::wait(next_deadline(runtime));
    }
}

/// The running thread stops (already queued somewhere, or done); runs the
/// next one. Called disabled; returns, enabled, when this thread runs again.
fn block_current(runtime: &mut Runtime) {
    switch_away(runtime, false);
}

/// [`block_current`]; `marked`: the thread's context says when it is saved
/// (it is handed to another dispatcher, which runs it only then).
fn switch_away(runtime: &mut Runtime, marked: bool) {
    let current = runtime.current;
    let next = next_ready(runtime);
    if next == current {
        // SAFETY: our own TCB.
        unsafe { (*current).state = RUNNING };
        runtime.frame.enable();
        return;
    }
    runtime.current = next;
    // SAFETY: `current` and `next` are live TCBs of this dispatcher;
    // `current` resumes from its context when someone switches back.
    unsafe {
        (*next).state = RUNNING;
        if (*next).preempted {
            (*next).preempted = false;
            *runtime.frame.enabled_area() = (*next).full;
            arch::load_fp(&(*next).fp);
            if marked {
                arch::save_and_resume_marked(&mut (*current).ctx);
            } else {
                arch::save_and_resume(&mut (*current).ctx);
            }
        } else if marked {
            arch::switch_marked(
                &mut (*current).ctx,
                &(*next).ctx,
                next as usize,
                runtime.frame.disabled_flag(),
            );
        } else {
            arch::switch(&mut (*current).ctx, &(*next).ctx, next as usize, runtime.frame.disabled_flag());
        }
    }
}

/// Moves the running thread to another dispatcher of this program (one on
/// another core, in a replica of this address space): `send` gets its
/// control block's address and sends it there (`true`: sent), where
/// [`adopt`] queues it once its registers are saved; this returns on that
/// dispatcher. The thread's stack and control block must be memory every
/// replica maps (the heap, statics), and nobody may `join` it (its end is
/// seen where it ends).
pub fn hand_off(send: impl FnOnce(usize) -> bool) -> Result<()> {
    let runtime = runtime()?;
    runtime.frame.disable();
    let current = runtime.current;
    // SAFETY: our own TCB; the `saved` word is cleared before the address
    // leaves (the send publishes it with release ordering).
    unsafe {
        core::ptr::addr_of_mut!((*current).ctx.saved).write_volatile(0);
        (*current).state = BLOCKED;
    }
    if !send(current as usize) {
        // SAFETY: our own TCB.
        unsafe { (*current).state = RUNNING };
        runtime.frame.enable();
        return Err(Error::LimitReached);
    }
    switch_away(runtime, true);
    Ok(())
}

/// Queues a thread another dispatcher handed over ([`hand_off`]) on this
/// one, once its registers are saved.
///
/// # Safety
/// `tcb` must be a control block [`hand_off`] sent, adopted once.
pub unsafe fn adopt(tcb: usize) -> Result<()> {
    let runtime = runtime()?;
    let tcb = tcb as *mut Tcb;
    // SAFETY: a live TCB in memory both dispatchers map (the caller's
    // promise); the word is only ever accessed atomically once shared.
    let saved = unsafe { core::sync::atomic::AtomicU64::from_ptr(core::ptr::addr_of_mut!((*tcb).ctx.saved)) };
    while saved.load(core::sync::atomic::Ordering::Acquire) == 0 {
        core::hint::spin_loop();
    }
    runtime.frame.disable();
    // SAFETY: saved, and handed to this dispatcher alone; its runtime
    // pointer is the runtime's address, which is this one's here.
    unsafe {
        (*tcb).runtime = runtime as *mut Runtime;
        (*tcb).state = READY;
    }
    runtime.ready.push(tcb);
    runtime.frame.enable();
    Ok(())
}

/// A new thread starts here (from the trampoline, enabled).
extern "C" fn thread_main(tcb: *mut Tcb) -> ! {
    // SAFETY: the TCB of the running thread, set up by `spawn`.
    let (entry, argument) = unsafe { ((*tcb).entry, (*tcb).argument) };
    let result = entry(argument);
    exit_current(result)
}

/// Ends the running thread with `result`.
fn exit_current(result: usize) -> ! {
    let Ok(runtime) = runtime() else { crate::syscall::exit(result) };
    runtime.frame.disable();
    let current = runtime.current;
    // SAFETY: our own TCB; the joiner is a live blocked TCB.
    unsafe {
        (*current).result = result;
        (*current).state = DONE;
        let joiner = (*current).joiner;
        if !joiner.is_null() {
            (*joiner).state = READY;
            runtime.ready.push(joiner);
        }
    }
    block_current(runtime);
    // Nobody switches back to a finished thread.
    crate::syscall::exit(FAULTED)
}

/// Every upcall lands here (on the upcall stack, disabled), after the entry
/// saved the stopped thread's FP/SIMD registers in the runtime.
extern "C" fn upcall(frame: usize, reason: u64, esr: u64, far: u64) -> ! {
    let Some(frame) = Frame::at(frame) else { crate::syscall::exit(FAULTED) };
    // SAFETY: our frame's runtime, set up by `init`.
    let runtime = unsafe { &mut *runtime_of(frame) };
    let current = runtime.current;
    if current.is_null() {
        crate::syscall::exit(FAULTED);
    }
    match reason {
        dispatch::upcall::PAGE_FAULT | dispatch::upcall::TRAP => {
            // SAFETY: the running thread's TCB; its registers stay in the
            // enabled area for a debugger.
            let (id, pc) = unsafe { ((*current).id, (*runtime.frame.enabled_area()).pc) };
            crate::println!("thread {id} faulted: esr={esr:#x} far={far:#x} pc={pc:#x}");
            // SAFETY: our own TCB; the joiner is a live blocked TCB.
            unsafe {
                (*current).result = FAULTED;
                (*current).state = DONE;
                let joiner = (*current).joiner;
                if !joiner.is_null() {
                    (*joiner).state = READY;
                    runtime.ready.push(joiner);
                }
            }
        }
        _ => {
            poll(runtime);
            if runtime.ready.head.is_null() {
                // Only the stopped thread can run: straight back to it.
                arch::load_fp(&runtime.fp_scratch);
                crate::syscall::resume();
            }
            // SAFETY: the stopped thread's TCB; the kernel put its registers
            // in the enabled area and the entry its FP registers in the
            // scratch area.
            unsafe {
                (*current).full = *runtime.frame.enabled_area();
                (*current).fp = runtime.fp_scratch;
                (*current).preempted = true;
                (*current).state = READY;
            }
            runtime.ready.push(current);
        }
    }
    let next = next_ready(runtime);
    runtime.current = next;
    // SAFETY: a live TCB of this dispatcher.
    unsafe {
        (*next).state = RUNNING;
        if (*next).preempted {
            (*next).preempted = false;
            *runtime.frame.enabled_area() = (*next).full;
            arch::load_fp(&(*next).fp);
            crate::syscall::resume();
        }
        arch::load(&(*next).ctx, next as usize, runtime.frame.disabled_flag())
    }
}

/// A mutual-exclusion lock for the threads of one dispatcher; waiters
/// block (they do not spin) and get the lock in FIFO order.
pub struct Mutex<T> {
    locked: UnsafeCell<bool>,
    waiters: UnsafeCell<Queue>,
    value: UnsafeCell<T>,
}

// SAFETY: every access to the fields is made with the dispatcher disabled,
// and the threads sharing a Mutex run on one dispatcher (one core), so no
// two of them touch it at once.
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Mutex<T> {}

/// Holds a [`Mutex`]; unlocks when dropped.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            locked: UnsafeCell::new(false),
            waiters: UnsafeCell::new(Queue::EMPTY),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks it, blocking this thread while another holds it. Before
    /// [`init`] (one thread only) it is taken at once or never.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let Ok(runtime) = runtime() else {
            // SAFETY: single-threaded: nobody else can hold it.
            unsafe { *self.locked.get() = true };
            return MutexGuard { mutex: self };
        };
        runtime.frame.disable();
        // SAFETY: disabled (see `Sync`).
        unsafe {
            if !*self.locked.get() {
                *self.locked.get() = true;
                runtime.frame.enable();
            } else {
                let current = runtime.current;
                (*current).state = BLOCKED;
                (*self.waiters.get()).push(current);
                // The unlocker hands the lock over: it stays locked.
                block_current(runtime);
            }
        }
        MutexGuard { mutex: self }
    }

    fn unlock(&self) {
        let Ok(runtime) = runtime() else {
            // SAFETY: single-threaded.
            unsafe { *self.locked.get() = false };
            return;
        };
        runtime.frame.disable();
        self.release(runtime);
        runtime.frame.enable();
    }

    /// Hands the lock to the first waiter, or unlocks it (disabled).
    fn release(&self, runtime: &mut Runtime) {
        // SAFETY: disabled (see `Sync`).
        unsafe {
            match (*self.waiters.get()).pop() {
                Some(next) => {
                    (*next).state = READY;
                    runtime.ready.push(next);
                }
                None => *self.locked.get() = false,
            }
        }
    }
}

impl<T> core::ops::Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T> core::ops::DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

/// A condition variable for threads of one dispatcher.
pub struct Condvar {
    waiters: UnsafeCell<Queue>,
}

// SAFETY: as for `Mutex`.
unsafe impl Sync for Condvar {}
// SAFETY: as for `Mutex`.
unsafe impl Send for Condvar {}

impl Default for Condvar {
    fn default() -> Self {
        Self::new()
    }
}

impl Condvar {
    /// A condition variable nobody waits on.
    pub const fn new() -> Condvar {
        Condvar { waiters: UnsafeCell::new(Queue::EMPTY) }
    }

    /// Unlocks `guard`'s mutex, blocks until notified, locks it again.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex = guard.mutex;
        let Ok(runtime) = runtime() else { return guard };
        // The guard's unlock happens here, disabled, together with queueing
        // this thread: no notify can fall in between.
        core::mem::forget(guard);
        runtime.frame.disable();
        let current = runtime.current;
        // SAFETY: disabled (see `Mutex`'s `Sync`).
        unsafe {
            (*current).state = BLOCKED;
            (*self.waiters.get()).push(current);
        }
        mutex.release(runtime);
        block_current(runtime);
        mutex.lock()
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.notify(false);
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.notify(true);
    }

    fn notify(&self, all: bool) {
        let Ok(runtime) = runtime() else { return };
        runtime.frame.disable();
        // SAFETY: disabled (see `Mutex`'s `Sync`).
        unsafe {
            while let Some(tcb) = (*self.waiters.get()).pop() {
                (*tcb).state = READY;
                runtime.ready.push(tcb);
                if !all {
                    break;
                }
            }
        }
        runtime.frame.enable();
    }
}

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
mod arch {
    use super::{Context, FpRegisters, FP_SCRATCH};
    use core::arch::{asm, global_asm};

    global_asm!(
        // The callee-saved registers, sp and d8-d15 into the `Context` at x0.
        ".macro MK_SAVE_CONTEXT",
        "    stp x19, x20, [x0, #0]",
        "    stp x21, x22, [x0, #16]",
        "    stp x23, x24, [x0, #32]",
        "    stp x25, x26, [x0, #48]",
        "    stp x27, x28, [x0, #64]",
        "    stp x29, x30, [x0, #80]",
        "    mov x9, sp",
        "    str x9, [x0, #96]",
        "    stp d8, d9, [x0, #104]",
        "    stp d10, d11, [x0, #120]",
        "    stp d12, d13, [x0, #136]",
        "    stp d14, d15, [x0, #152]",
        ".endm",
        // switch(from x0, to x1, tcb x2, disabled flag x3)
        ".global mk_thread_switch",
        "mk_thread_switch:",
        "    MK_SAVE_CONTEXT",
        // load(ctx x1, tcb x2, disabled flag x3)
        "mk_thread_load_common:",
        "    ldp x19, x20, [x1, #0]",
        "    ldp x21, x22, [x1, #16]",
        "    ldp x23, x24, [x1, #32]",
        "    ldp x25, x26, [x1, #48]",
        "    ldp x27, x28, [x1, #64]",
        "    ldp x29, x30, [x1, #80]",
        "    ldr x9, [x1, #96]",
        "    mov sp, x9",
        "    ldp d8, d9, [x1, #104]",
        "    ldp d10, d11, [x1, #120]",
        "    ldp d12, d13, [x1, #136]",
        "    ldp d14, d15, [x1, #152]",
        "    msr tpidr_el0, x2",
        "    str xzr, [x3]",
        "    ret",
        // load(ctx x0, tcb x1, disabled flag x2)
        ".global mk_thread_load",
        "mk_thread_load:",
        "    mov x3, x2",
        "    mov x2, x1",
        "    mov x1, x0",
        "    b mk_thread_load_common",
        // The same as switch and save_and_resume, and then the context's
        // `saved` word set (release): for a thread handed to another
        // dispatcher, which waits for it.
        ".global mk_thread_switch_marked",
        "mk_thread_switch_marked:",
        "    MK_SAVE_CONTEXT",
        "    mov x9, #1",
        "    add x10, x0, #168",
        "    stlr x9, [x10]",
        "    b mk_thread_load_common",
        ".global mk_thread_save_resume_marked",
        "mk_thread_save_resume_marked:",
        "    MK_SAVE_CONTEXT",
        "    mov x9, #1",
        "    add x10, x0, #168",
        "    stlr x9, [x10]",
        "    mov x8, #{resume}",
        "    svc #0",
        "    brk #0",
        // save_and_resume(from x0): save, then RESUME (never returns here)
        ".global mk_thread_save_resume",
        "mk_thread_save_resume:",
        "    MK_SAVE_CONTEXT",
        "    mov x8, #{resume}",
        "    svc #0",
        "    brk #0",
        ".global mk_thread_trampoline",
        "mk_thread_trampoline:",
        "    mov x0, x19",
        "    bl {thread_main}",
        "    brk #0",
        // upcall(frame x0, reason x1, esr x2, far x3) on the upcall stack
        ".global mk_upcall_entry",
        "mk_upcall_entry:",
        "    add x9, x0, #{scratch}",
        "    stp q0, q1, [x9, #0]",
        "    stp q2, q3, [x9, #32]",
        "    stp q4, q5, [x9, #64]",
        "    stp q6, q7, [x9, #96]",
        "    stp q8, q9, [x9, #128]",
        "    stp q10, q11, [x9, #160]",
        "    stp q12, q13, [x9, #192]",
        "    stp q14, q15, [x9, #224]",
        "    stp q16, q17, [x9, #256]",
        "    stp q18, q19, [x9, #288]",
        "    stp q20, q21, [x9, #320]",
        "    stp q22, q23, [x9, #352]",
        "    stp q24, q25, [x9, #384]",
        "    stp q26, q27, [x9, #416]",
        "    stp q28, q29, [x9, #448]",
        "    stp q30, q31, [x9, #480]",
        "    mrs x10, fpcr",
        "    mrs x11, fpsr",
        "    add x9, x9, #512",
        "    stp x10, x11, [x9]",
        "    mov x29, xzr",
        "    mov x30, xzr",
        "    bl {upcall}",
        "    brk #0",
        ".global mk_user_fp_load",
        "mk_user_fp_load:",
        "    ldp q0, q1, [x0, #0]",
        "    ldp q2, q3, [x0, #32]",
        "    ldp q4, q5, [x0, #64]",
        "    ldp q6, q7, [x0, #96]",
        "    ldp q8, q9, [x0, #128]",
        "    ldp q10, q11, [x0, #160]",
        "    ldp q12, q13, [x0, #192]",
        "    ldp q14, q15, [x0, #224]",
        "    ldp q16, q17, [x0, #256]",
        "    ldp q18, q19, [x0, #288]",
        "    ldp q20, q21, [x0, #320]",
        "    ldp q22, q23, [x0, #352]",
        "    ldp q24, q25, [x0, #384]",
        "    ldp q26, q27, [x0, #416]",
        "    ldp q28, q29, [x0, #448]",
        "    ldp q30, q31, [x0, #480]",
        "    add x0, x0, #512",
        "    ldp x1, x2, [x0]",
        "    msr fpcr, x1",
        "    msr fpsr, x2",
        "    ret",
        resume = const caps::abi::call::RESUME,
        thread_main = sym super::thread_main,
        upcall = sym super::upcall,
        scratch = const FP_SCRATCH,
    );

    extern "C" {
        fn mk_thread_switch(from: *mut Context, to: *const Context, tcb: usize, disabled: *mut u64);
        fn mk_thread_load(to: *const Context, tcb: usize, disabled: *mut u64) -> !;
        fn mk_thread_save_resume(from: *mut Context) -> usize;
        fn mk_thread_switch_marked(from: *mut Context, to: *const Context, tcb: usize, disabled: *mut u64);
        fn mk_thread_save_resume_marked(from: *mut Context) -> usize;
        fn mk_thread_trampoline();
        fn mk_upcall_entry();
        fn mk_user_fp_load(area: *const FpRegisters);
    }

    /// Saves the callee-saved registers into `from`, loads `to`, makes
    /// `tcb` the thread pointer and clears the disabled flag; returns when
    /// someone switches back to `from`.
    pub fn switch(from: &mut Context, to: &Context, tcb: usize, disabled: *mut u64) {
        // SAFETY: `to` is a context saved by these routines (or made by
        // `spawn` for the trampoline) on a live stack; the callee-saved
        // registers come back when `from` is resumed, as for any call.
        unsafe { mk_thread_switch(from, to, tcb, disabled) }
    }

    /// [`switch`], then `from.saved` set (release).
    pub fn switch_marked(from: &mut Context, to: &Context, tcb: usize, disabled: *mut u64) {
        // SAFETY: as in `switch`.
        unsafe { mk_thread_switch_marked(from, to, tcb, disabled) }
    }

    /// [`save_and_resume`], then `from.saved` set (release).
    pub fn save_and_resume_marked(from: &mut Context) {
        // SAFETY: as in `switch`.
        unsafe { mk_thread_save_resume_marked(from) };
    }

    /// Loads `to` without saving anything (from an upcall).
    pub fn load(to: &Context, tcb: usize, disabled: *mut u64) -> ! {
        // SAFETY: as in `switch`; the upcall stack is abandoned.
        unsafe { mk_thread_load(to, tcb, disabled) }
    }

    /// Saves the callee-saved registers into `from`, then `RESUME`s the
    /// enabled save area; returns when someone switches back to `from`.
    pub fn save_and_resume(from: &mut Context) {
        // SAFETY: as in `switch`.
        unsafe { mk_thread_save_resume(from) };
    }

    /// Loads the FP/SIMD registers.
    pub fn load_fp(area: &FpRegisters) {
        // SAFETY: reads 528 bytes of `area`; clobbers x0–x2 (C ABI).
        unsafe { mk_user_fp_load(area) }
    }

    pub fn trampoline() -> usize {
        mk_thread_trampoline as *const () as usize
    }

    pub fn upcall_entry() -> usize {
        mk_upcall_entry as *const () as usize
    }

    pub fn thread_pointer() -> usize {
        let value;
        // SAFETY: reads TPIDR_EL0.
        unsafe { asm!("mrs {}, tpidr_el0", out(reg) value, options(nomem, nostack, preserves_flags)) };
        value
    }

    pub fn set_thread_pointer(value: usize) {
        // SAFETY: writes TPIDR_EL0 (ours; the kernel saves it per dispatcher).
        unsafe { asm!("msr tpidr_el0, {}", in(reg) value, options(nomem, nostack, preserves_flags)) };
    }

    pub fn counter() -> u64 {
        let value;
        // SAFETY: reads the virtual counter (EL0 access enabled by the kernel).
        unsafe {
            asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack, preserves_flags))
        };
        value
    }

    pub fn frequency() -> u64 {
        let value;
        // SAFETY: reads the counter frequency, readable at EL0.
        unsafe { asm!("mrs {}, cntfrq_el0", out(reg) value, options(nomem, nostack, preserves_flags)) };
        value
    }
}

#[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
mod arch {
    use super::{Context, FpRegisters};

    const NO_TARGET: &str = "threads exist only on aarch64-unknown-none";

    pub fn switch(_from: &mut Context, _to: &Context, _tcb: usize, _disabled: *mut u64) {
        panic!("{NO_TARGET}")
    }
    pub fn load(_to: &Context, _tcb: usize, _disabled: *mut u64) -> ! {
        panic!("{NO_TARGET}")
    }
    pub fn save_and_resume(_from: &mut Context) {
        panic!("{NO_TARGET}")
    }
    pub fn switch_marked(_from: &mut Context, _to: &Context, _tcb: usize, _disabled: *mut u64) {
        panic!("{NO_TARGET}")
    }
    pub fn save_and_resume_marked(_from: &mut Context) {
        panic!("{NO_TARGET}")
    }
    pub fn load_fp(_area: &FpRegisters) {}
    pub fn trampoline() -> usize {
        0
    }
    pub fn upcall_entry() -> usize {
        0
    }
    pub fn thread_pointer() -> usize {
        0
    }
    pub fn set_thread_pointer(_value: usize) {}
    pub fn counter() -> u64 {
        0
    }
    pub fn frequency() -> u64 {
        1
    }
}
