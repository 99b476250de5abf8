//! The core-local scheduler: preemption of a spinning dispatcher,
//! priorities, directed yield.

use crate::{child, detail, ensure, step, Outcome, Report, Setup};
use core::sync::atomic::{AtomicUsize, Ordering};
use userland::cap::{CNode, Dispatcher, RunOutcome};
use userland::syscall;
use userland::thread;
use userland::Error;

/// Runs the scheduling cases.
pub fn run(report: &mut Report, setup: &mut Setup) {
    report.case(setup, "sched: a dispatcher spinning forever is preempted", spinning_dispatcher);
    report.case(setup, "sched: higher priority runs first", priorities);
    report.case(setup, "sched: directed yield runs a lower-priority dispatcher now", directed_yield);
    report.case(setup, "sched: bad priority and yield to a blocked dispatcher refused", refusals);
}

static SPIN_COUNT: AtomicUsize = AtomicUsize::new(0);

extern "C" fn spin_forever(_frame: usize, _core: usize) -> ! {
    loop {
        SPIN_COUNT.fetch_add(1, Ordering::Relaxed);
    }
}

fn spinning_dispatcher(setup: &mut Setup) -> Outcome {
    let spinner = step("child", child(setup, spin_forever))?;
    step("start", spinner.dispatcher.start())?;
    // This dispatcher sleeps; the spinner never yields. Both have the same
    // priority: the tick that ends our sleep also ends its time slice.
    for round in 1..=3 {
        let before = SPIN_COUNT.load(Ordering::Relaxed);
        thread::sleep_until(thread::counter() + 30 * thread::ticks_per_millisecond());
        let after = SPIN_COUNT.load(Ordering::Relaxed);
        ensure(after > before, || detail!("round {round}: the spinner did not run"))?;
    }
    let status = step("status", spinner.dispatcher.status())?;
    ensure(status.state == 2, || detail!("spinner state {} (expected runnable)", status.state))?;
    // Its last capabilities go (the copy in its own CSpace first): the
    // object is destroyed while it waits on the run queue.
    step("revoke spinner", CNode::root().revoke(spinner.dispatcher.cptr().address()))?;
    step("delete spinner", CNode::root().delete(spinner.dispatcher.cptr().address()))?;
    let count = SPIN_COUNT.load(Ordering::Relaxed);
    thread::sleep_until(thread::counter() + 20 * thread::ticks_per_millisecond());
    let later = SPIN_COUNT.load(Ordering::Relaxed);
    ensure(later == count, || detail!("the deleted spinner still ran ({count} -> {later})"))
}

static ORDER: AtomicUsize = AtomicUsize::new(0);
static SEEN: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

extern "C" fn high(_frame: usize, _core: usize) -> ! {
    SEEN[0].store(ORDER.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
    syscall::exit(0)
}

extern "C" fn low(_frame: usize, _core: usize) -> ! {
    SEEN[1].store(ORDER.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
    syscall::exit(0)
}

fn priorities(setup: &mut Setup) -> Outcome {
    let low_child = step("child", child(setup, low))?;
    let high_child = step("child", child(setup, high))?;
    step("priority", low_child.dispatcher.set_priority(4))?;
    step("priority", high_child.dispatcher.set_priority(28))?;
    // Started in the opposite order of their priorities.
    step("start low", low_child.dispatcher.start())?;
    step("start high", high_child.dispatcher.start())?;
    let first = step("run high", high_child.dispatcher.run())?;
    let second = step("run low", low_child.dispatcher.run())?;
    ensure(first == RunOutcome::Exited(0) && second == RunOutcome::Exited(0), || {
        detail!("ended {first:?} and {second:?}")
    })?;
    let (high_seen, low_seen) = (SEEN[0].load(Ordering::SeqCst), SEEN[1].load(Ordering::SeqCst));
    ensure(high_seen == 1 && low_seen == 2, || detail!("high ran {high_seen}., low {low_seen}."))
}

static YIELDED_TO: AtomicUsize = AtomicUsize::new(0);

extern "C" fn record(_frame: usize, _core: usize) -> ! {
    YIELDED_TO.store(1, Ordering::SeqCst);
    syscall::exit(3)
}

fn directed_yield(setup: &mut Setup) -> Outcome {
    let target = step("child", child(setup, record))?;
    step("priority", target.dispatcher.set_priority(1))?;
    step("start", target.dispatcher.start())?;
    // With priority 1 it would not run while we are runnable; a plain yield
    // does not let it in either.
    syscall::yield_now();
    let before = YIELDED_TO.load(Ordering::SeqCst);
    step("yield_to", target.dispatcher.yield_to())?;
    let after = YIELDED_TO.load(Ordering::SeqCst);
    let outcome = step("run", target.dispatcher.run())?;
    ensure(before == 0 && after == 1, || detail!("ran before the yield: {before}, after: {after}"))?;
    ensure(outcome == RunOutcome::Exited(3), || detail!("ended {outcome:?}"))
}

fn refusals(setup: &mut Setup) -> Outcome {
    let result = Dispatcher::own().set_priority(32);
    ensure(result == Err(Error::InvalidArgument), || detail!("priority 32: {result:?}"))?;
    let idle = step("child", child(setup, record))?;
    let result = idle.dispatcher.yield_to();
    ensure(result == Err(Error::NotRunnable), || detail!("yield to a set-up child: {result:?}"))?;
    let result = Dispatcher::own().yield_to();
    ensure(result == Err(Error::NotRunnable), || detail!("yield to itself: {result:?}"))?;
    let result = Dispatcher::own().run();
    ensure(result == Err(Error::InvalidArgument), || detail!("run itself: {result:?}"))
}
