//! `spantest`: a program that spans cores. It spans itself to up to three
//! other cores (a dispatcher on each, in a replica of its address space),
//! starts two threads on each of them by message, and checks that they ran
//! there and shared its memory: every thread adds to one counter in its
//! statics and records its core in a shared table, and each result comes
//! back through the shared heap.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use userland::cap::Kernel;
use userland::session::{self, Status};
use userland::{heap, println, span};

userland::entry!(main);

/// Heap pages (the program's own RAM is 32 KiB: three tables and these).
const HEAP_PAGES: usize = 5;
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

fn main(core: usize, _cores: usize) -> i32 {
    if heap::init(HEAP_PAGES).is_err() {
        println!("spantest: no heap");
        return 1;
    }
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
    0
}
