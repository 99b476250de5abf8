//! `spantest`: a program that spans cores. It spans itself to up to three
//! other cores (a dispatcher on each, in a replica of its address space),
//! starts two threads on each of them by message, and checks that they ran
//! there and shared its memory: every thread adds to one counter in its
//! statics and records its core in a shared table, and each result comes
//! back through the shared heap. Then it maps a page of its own, shares it
//! with those dispatchers (each reads it), unmaps it everywhere through the
//! monitors (afterwards a read on each of those cores faults), and reuses
//! its RAM.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};
use userland::allocator::{allocate_ram, allocate_slot};
use userland::cap::Kernel;
use userland::cap::{CNode, Ram};
use userland::cptr::{CPtr, ROOT_CNODE_SLOT};
use userland::object::{self, ObjectType, PAGE_BITS};
use userland::rights::Rights;
use userland::session::{self, Status};
use userland::{dispatch, heap, println, span, thread};

userland::entry!(main);

/// Heap pages (the program's own RAM is 32 KiB: the heap's three tables,
/// these, and the shared page).
const HEAP_PAGES: usize = 4;
/// The shared page's entry in the heap's L3 table (past the heap).
const SHARED_ENTRY: usize = 511;
/// What the shared page holds.
const PATTERN: usize = 0x5eed_5eed;
/// Other cores spanned to, at most.
const SPANS: usize = 3;
/// Threads started on each.
const PER_CORE: usize = 2;
/// Additions each thread makes.
const ROUNDS: usize = 10_000;

/// Shared by every dispatcher of the program (its statics are one memory).
static COUNTER: AtomicUsize = AtomicUsize::new(0);
/// The core each thread ran on, plus one.
static RAN_ON: [AtomicUsize; SPANS * PER_CORE] = [const { AtomicUsize::new(0) }; SPANS * PER_CORE];

fn work(index: usize) -> usize {
    for _ in 0..ROUNDS {
        COUNTER.fetch_add(1, Ordering::Relaxed);
    }
    let core = Kernel::initial().identify().map_or(usize::MAX, |(core, _)| core);
    RAN_ON[index].store(core + 1, Ordering::Release);
    core
}

/// Reads the word at `address` (a remote thread: on a core where it is
/// not mapped, it faults and its join gives `thread::FAULTED`).
fn read(address: usize) -> usize {
    // SAFETY: a page the program maps (or, after the unshare, a fault the
    // runtime turns into the end of this thread).
    unsafe { (address as *const usize).read_volatile() }
}

fn main(core: usize, _cores: usize) -> i32 {
    let Ok(tables) = heap::init(HEAP_PAGES) else {
        println!("spantest: no heap");
        return 1;
    };
    let Ok(system) = Kernel::initial().system() else { return 1 };
    let targets: Vec<usize> =
        (0..system.listed).filter(|&c| c != core && system.online & (1 << c) != 0).take(SPANS).collect();
    if targets.is_empty() {
        println!("spantest: no other core to span to");
        return 1;
    }
    let mut session = session::connect();
    for &target in &targets {
        if let Err(status) = span::start(&mut session, target) {
            println!("spantest: cannot span to core {target}: {}", status.message());
            return 2;
        }
    }
    // A second span to the same core is refused.
    if span::start(&mut session, targets[0]) != Err(Status::Exists) {
        println!("spantest: a second span to core {} was not refused", targets[0]);
        return 3;
    }
    // `ps` lists the program once per core it runs on.
    let mut listed: Vec<(u64, u32, bool)> = Vec::new();
    let mut index = 0;
    while let Ok((true, id, on, name)) = session.ps(index) {
        listed.push((id, on, name.as_str() == "spantest"));
        index += 1;
    }
    let own = listed.iter().find(|&&(id, on, named)| named && on == core as u32 && id >> 32 == core as u64);
    let own = own.map(|&(id, _, _)| id);
    let mut cores_listed: Vec<u32> = listed.iter().filter(|e| Some(e.0) == own).map(|e| e.1).collect();
    cores_listed.sort_unstable();
    let mut expected: Vec<u32> = targets.iter().map(|&c| c as u32).chain([core as u32]).collect();
    expected.sort_unstable();
    if cores_listed != expected {
        println!("spantest: ps lists it on cores {cores_listed:?}, expected {expected:?}");
        return 7;
    }
    let mut threads = Vec::new();
    for (n, &target) in targets.iter().enumerate() {
        for k in 0..PER_CORE {
            match span::spawn_on(target, work, n * PER_CORE + k) {
                Ok(thread) => threads.push((target, thread)),
                Err(status) => {
                    println!("spantest: cannot start a thread on core {target}: {}", status.message());
                    return 4;
                }
            }
        }
    }
    let mut wrong = 0;
    for (i, (target, thread)) in threads.into_iter().enumerate() {
        let ran = thread.join();
        if ran != target || RAN_ON[i].load(Ordering::Acquire) != target + 1 {
            println!("spantest: thread {i} ran on core {ran}, expected {target}");
            wrong += 1;
        }
    }
    let expected = targets.len() * PER_CORE * ROUNDS;
    let counted = COUNTER.load(Ordering::Relaxed);
    if counted != expected {
        println!("spantest: the shared counter is {counted}, expected {expected}");
        wrong += 1;
    }
    if wrong != 0 {
        return 5;
    }
    let list: Vec<alloc::string::String> = targets.iter().map(|c| alloc::format!("{c}")).collect();
    println!(
        "spantest: {} threads on cores {} shared the memory of core {core}: ok",
        targets.len() * PER_CORE,
        list.join(",")
    );
    match shared_page(&mut session, &tables, &targets) {
        Ok(va) => println!(
            "spantest: page {va:#x} shared with cores {}, unmapped on every core, RAM reused: ok",
            list.join(",")
        ),
        Err(what) => {
            println!("spantest: shared page: {what}");
            return 6;
        }
    }
    match migration(core, &targets) {
        Ok(path) => {
            println!("spantest: one thread ran on cores {path} in turn, moved by message: ok");
            0
        }
        Err(what) => {
            println!("spantest: migration: {what}");
            8
        }
    }
}

/// A stack in the program's statics (memory every core of it maps).
#[repr(C, align(16))]
struct Stack(UnsafeCell<[u8; STACK_BYTES]>);

// SAFETY: each stack is used by one thread at a time (the upcall stack by
// this dispatcher's runtime, the mover's by the mover wherever it runs).
unsafe impl Sync for Stack {}

impl Stack {
    fn top(&self) -> usize {
        self.0.get() as usize + STACK_BYTES
    }
}

const STACK_BYTES: usize = 8 << 10;
static UPCALL_STACK: Stack = Stack(UnsafeCell::new([0; STACK_BYTES]));
static MOVER_STACK: Stack = Stack(UnsafeCell::new([0; STACK_BYTES]));
/// The cores the mover ran on, in order (plus one; 0: not yet), and
/// whether it finished.
static PATH: [AtomicUsize; SPANS + 1] = [const { AtomicUsize::new(0) }; SPANS + 1];
static MOVED: AtomicUsize = AtomicUsize::new(0);
/// Where the mover goes (plus one; 0: the end).
static ROUTE: [AtomicUsize; SPANS] = [const { AtomicUsize::new(0) }; SPANS];

fn here() -> usize {
    Kernel::initial().identify().map_or(usize::MAX, |(core, _)| core)
}

/// A thread that records its core, moves to each core of the route in
/// turn, recording each, and ends where it arrives last.
fn mover(_: usize) -> usize {
    PATH[0].store(here() + 1, Ordering::Release);
    for (i, next) in ROUTE.iter().enumerate() {
        let next = next.load(Ordering::Acquire);
        if next == 0 {
            break;
        }
        if span::migrate(next - 1).is_err() {
            break;
        }
        PATH[i + 1].store(here() + 1, Ordering::Release);
    }
    MOVED.store(1, Ordering::Release);
    0
}

/// Starts the mover on this core with `targets` as its route and waits
/// until it finished; the cores it ran on.
fn migration(core: usize, targets: &[usize]) -> Result<alloc::string::String, alloc::string::String> {
    use alloc::format;
    for (slot, &target) in ROUTE.iter().zip(targets) {
        slot.store(target + 1, Ordering::Release);
    }
    let frame = dispatch::own_frame().ok_or("no frame")?;
    thread::init_with_upcall_stack(frame, UPCALL_STACK.top()).map_err(|e| format!("threads: {e:?}"))?;
    // SAFETY: the mover's stack is this program's static, used by it alone.
    unsafe { thread::spawn_on_stack(mover, 0, MOVER_STACK.top()) }.map_err(|e| format!("thread: {e:?}"))?;
    let deadline = thread::counter() + 5_000 * thread::ticks_per_millisecond();
    while MOVED.load(Ordering::Acquire) == 0 {
        if thread::counter() > deadline {
            return Err("the mover did not finish".into());
        }
        thread::sleep_until(thread::counter() + thread::ticks_per_millisecond());
    }
    let path: Vec<usize> =
        PATH.iter().map(|c| c.load(Ordering::Acquire)).take_while(|&c| c != 0).map(|c| c - 1).collect();
    let expected: Vec<usize> = core::iter::once(core).chain(targets.iter().copied()).collect();
    let text: Vec<alloc::string::String> = path.iter().map(|c| format!("{c}")).collect();
    if path != expected {
        return Err(format!("it ran on cores {path:?}, expected {expected:?}"));
    }
    Ok(text.join(","))
}

/// Maps a page, shares it with the dispatchers on `targets` (each reads
/// it), unshares it (each read faults afterwards) and makes a new frame of
/// the same RAM; the page's address.
fn shared_page(
    session: &mut userland::interfaces::SessionClient<userland::channel::Lmp>,
    tables: &heap::HeapTables,
    targets: &[usize],
) -> Result<usize, alloc::string::String> {
    use alloc::format;
    let table = tables.l3;
    let va = tables.base + SHARED_ENTRY * object::PAGE_SIZE;
    let offset = allocate_ram(PAGE_BITS).map_err(|e| format!("RAM: {e:?}"))?;
    let slot = allocate_slot().map_err(|e| format!("slot: {e:?}"))?;
    let root = CPtr::slot(ROOT_CNODE_SLOT);
    Ram::initial()
        .retype(ObjectType::Frame, PAGE_BITS as usize, offset, root, slot, 1)
        .map_err(|e| format!("frame: {e:?}"))?;
    table.map(CPtr::slot(slot), SHARED_ENTRY, Rights::READ_WRITE).map_err(|e| format!("map: {e:?}"))?;
    // SAFETY: the page was just mapped read/write at `va`.
    unsafe { (va as *mut usize).write_volatile(PATTERN) };
    span::share(session, va, slot).map_err(|s| format!("share: {}", s.message()))?;
    for &target in targets {
        let read = span::spawn_on(target, read, va).map_err(|s| format!("thread: {}", s.message()))?.join();
        if read != PATTERN {
            return Err(format!("core {target} read {read:#x}"));
        }
    }
    span::unshare(session, va).map_err(|s| format!("unshare: {}", s.message()))?;
    for &target in targets {
        let read = span::spawn_on(target, read, va).map_err(|s| format!("thread: {}", s.message()))?.join();
        if read != thread::FAULTED {
            return Err(format!("core {target} still read {read:#x} after the unshare"));
        }
    }
    // Only this core maps it now: unmapped and deleted, its RAM is free.
    table.unmap(CPtr::slot(slot)).map_err(|e| format!("unmap: {e:?}"))?;
    CNode::root().delete(slot).map_err(|e| format!("delete: {e:?}"))?;
    Ram::initial()
        .retype(ObjectType::Frame, PAGE_BITS as usize, offset, root, slot, 1)
        .map_err(|e| format!("reuse: {e:?}"))?;
    Ok(va)
}
