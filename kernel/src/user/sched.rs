//! The core-local scheduler: run queues by priority (round robin within
//! one), a list of blocked dispatchers with deadlines, and the list of every
//! set-up dispatcher (so that when one dies, every reference to it can be
//! dropped). All links are physical addresses of dispatcher objects of this
//! core; the kernel removes a dispatcher from every list before its memory
//! can be reused (`dispatcher_destroyed`).

use super::dispatcher::{self, blocked, queued, state};
use caps::abi::priority::LEVELS;

/// A doubly linked list through the dispatchers' `queue_*` links.
#[derive(Clone, Copy, Default)]
struct Queue {
    head: u64,
    tail: u64,
}

/// One core's scheduling state.
pub struct Scheduler {
    /// Physical address of the running dispatcher (0: none).
    pub running: u64,
    /// The running dispatcher's object was destroyed (its last capability
    /// deleted while it runs): its memory may be reused, so the kernel no
    /// longer reads or writes it, and ends it when the system call returns.
    pub running_gone: bool,
    /// The dispatcher waiting in `Dispatcher.run` for the destroyed running
    /// one, and the one that started it.
    pub gone_links: [u64; 2],
    run: [Queue; LEVELS as usize],
    /// Bit `p` set while the run queue of priority `p` is not empty.
    nonempty: u32,
    timed: Queue,
    /// First dispatcher of the list of set-up ones.
    all: u64,
    /// The dispatcher whose FP/SIMD registers are in the registers (0: none).
    pub fp_owner: u64,
    /// Whether EL0 may use the FP/SIMD registers now (`CPACR_EL1`).
    pub fp_allowed: bool,
    /// A dispatcher of higher priority than the running one became
    /// runnable, or the running one's time slice ended with others waiting.
    pub need_resched: bool,
    /// The L0 table installed in `TTBR0_EL1` (0: translation off).
    pub active_root: u64,
    /// The dispatcher bound to the user doorbell (0: none), and its event.
    pub doorbell: (u64, u64),
    /// The interrupts bound to dispatchers of this core (`Irq.bind`).
    pub irqs: super::irq::IrqBindings,
}

const _: () = assert!(LEVELS <= 32);

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    /// Nothing running, nothing queued.
    pub const fn new() -> Self {
        Scheduler {
            running: 0,
            running_gone: false,
            gone_links: [0; 2],
            run: [Queue { head: 0, tail: 0 }; LEVELS as usize],
            nonempty: 0,
            timed: Queue { head: 0, tail: 0 },
            all: 0,
            fp_owner: 0,
            fp_allowed: false,
            need_resched: false,
            active_root: 0,
            doorbell: (0, 0),
            irqs: super::irq::IrqBindings::new(),
        }
    }

    fn list(&mut self, kind: u64, priority: u64) -> &mut Queue {
        match kind {
            queued::RUN => &mut self.run[priority as usize],
            _ => &mut self.timed,
        }
    }

    fn push(&mut self, base: u64, kind: u64) {
        // SAFETY: `base` is a live dispatcher of this core (callers hold a
        // capability to it or a reference on one of these lists).
        let object = unsafe { dispatcher::object(base) };
        let priority = object.priority.min(LEVELS - 1);
        object.priority = priority;
        let queue = self.list(kind, priority);
        let tail = queue.tail;
        object.queue_prev = tail;
        object.queue_next = 0;
        object.queued = kind;
        if tail == 0 {
            queue.head = base;
        } else {
            // SAFETY: the tail is a live dispatcher on this list.
            unsafe { dispatcher::object(tail) }.queue_next = base;
        }
        queue.tail = base;
        if kind == queued::RUN {
            self.nonempty |= 1 << priority;
        }
    }

    /// Takes `base` off whichever list its queue links are on.
    pub fn unqueue(&mut self, base: u64) {
        // SAFETY: as in `push`.
        let object = unsafe { dispatcher::object(base) };
        let kind = object.queued;
        if kind == queued::NONE {
            return;
        }
        let (prev, next, priority) = (object.queue_prev, object.queue_next, object.priority);
        object.queued = queued::NONE;
        object.queue_prev = 0;
        object.queue_next = 0;
        let queue = self.list(kind, priority);
        if prev == 0 {
            queue.head = next;
        } else {
            // SAFETY: a neighbour on the same list, alive.
            unsafe { dispatcher::object(prev) }.queue_next = next;
        }
        if next == 0 {
            queue.tail = prev;
        } else {
            // SAFETY: as above.
            unsafe { dispatcher::object(next) }.queue_prev = prev;
        }
        if kind == queued::RUN && self.run[priority as usize].head == 0 {
            self.nonempty &= !(1 << priority);
        }
    }

    /// Makes `base` runnable: the tail of its priority's run queue.
    pub fn make_runnable(&mut self, base: u64) {
        self.unqueue(base);
        // SAFETY: as in `push`.
        let object = unsafe { dispatcher::object(base) };
        object.state = state::RUNNABLE;
        object.blocked = blocked::NONE;
        object.wake_at = 0;
        let priority = object.priority;
        self.push(base, queued::RUN);
        if self.running != 0 && !self.running_gone {
            // SAFETY: the running dispatcher, alive (not gone).
            let current = unsafe { dispatcher::object(self.running) }.priority;
            if priority > current {
                self.need_resched = true;
            }
        }
    }

    /// Blocks `base` (not running any more) until `wake_at` (0: no deadline).
    pub fn block(&mut self, base: u64, reason: u64, on: u64, wake_at: u64) {
        // SAFETY: as in `push`.
        let object = unsafe { dispatcher::object(base) };
        object.state = state::BLOCKED;
        object.blocked = reason;
        object.blocked_on = on;
        object.wake_at = wake_at;
        if wake_at != 0 {
            self.push(base, queued::TIMED);
        }
    }

    /// Whether a blocked dispatcher waits for a deadline.
    pub fn has_timed(&self) -> bool {
        self.timed.head != 0
    }

    /// The highest priority with a runnable dispatcher.
    pub fn highest_runnable(&self) -> Option<u64> {
        (self.nonempty != 0).then(|| u64::from(31 - self.nonempty.leading_zeros()))
    }

    /// Takes the next dispatcher to run off its run queue.
    pub fn pick(&mut self) -> Option<u64> {
        let priority = self.highest_runnable()?;
        let base = self.run[priority as usize].head;
        self.unqueue(base);
        Some(base)
    }

    /// Makes runnable every dispatcher whose deadline passed (`WAIT`
    /// returns 0 to them); returns whether any did.
    pub fn expire(&mut self, now: u64) -> bool {
        let mut woke = false;
        let mut cursor = self.timed.head;
        while cursor != 0 {
            // SAFETY: a live dispatcher on the timed list.
            let object = unsafe { dispatcher::object(cursor) };
            let next = object.queue_next;
            if object.wake_at <= now {
                object.context.registers[0] = 0;
                self.make_runnable(cursor);
                woke = true;
            }
            cursor = next;
        }
        woke
    }

    /// Whether the running dispatcher should give way at a timer tick:
    /// another one of at least its priority is runnable.
    pub fn slice_over(&self) -> bool {
        if self.running == 0 || self.running_gone {
            return self.nonempty != 0;
        }
        // SAFETY: the running dispatcher, alive.
        let current = unsafe { dispatcher::object(self.running) }.priority;
        self.highest_runnable().is_some_and(|p| p >= current)
    }

    /// Adds `base` to the list of set-up dispatchers (once).
    pub fn link(&mut self, base: u64) {
        // SAFETY: as in `push`.
        let object = unsafe { dispatcher::object(base) };
        if object.linked != 0 {
            return;
        }
        object.linked = 1;
        object.all_prev = 0;
        object.all_next = self.all;
        if self.all != 0 {
            // SAFETY: the list head, alive.
            unsafe { dispatcher::object(self.all) }.all_prev = base;
        }
        self.all = base;
    }

    /// Every set-up dispatcher, as a function over the list (the closure
    /// must not unlink anything).
    pub fn for_each(&self, mut visit: impl FnMut(u64)) {
        let mut cursor = self.all;
        while cursor != 0 {
            // SAFETY: a live dispatcher on the list.
            let next = unsafe { dispatcher::object(cursor) }.all_next;
            visit(cursor);
            cursor = next;
        }
    }

    /// A CNode at `[base, end)` dies: every dispatcher whose CSpace or
    /// VSpace root capability lies in one of its slots loses that root.
    pub fn forget_slots(&mut self, base: u64, end: u64) {
        self.for_each(|other| {
            // SAFETY: live dispatchers on the list.
            let object = unsafe { dispatcher::object(other) };
            for handle in [&mut object.cspace, &mut object.vspace] {
                if (base..end).contains(&handle[0]) {
                    *handle = [0, 0];
                }
            }
        });
    }

    /// A dispatcher object dies: off every list, and nothing refers to it
    /// any more; a dispatcher waiting for it in `Dispatcher.run` becomes
    /// runnable with the outcome "destroyed".
    pub fn dispatcher_destroyed(&mut self, base: u64) {
        // SAFETY: the object is intact until this hook returns.
        let object = unsafe { dispatcher::object(base) };
        if self.doorbell.0 == base {
            self.doorbell = (0, 0);
        }
        self.irqs.unbind_dispatcher(base, super::irq::mask);
        if base == self.running && !self.running_gone {
            self.running_gone = true;
            self.gone_links = [object.waiter, object.supervisor];
        }
        self.unqueue(base);
        if object.linked != 0 {
            let (prev, next) = (object.all_prev, object.all_next);
            if prev == 0 {
                self.all = next;
            } else {
                // SAFETY: a live neighbour.
                unsafe { dispatcher::object(prev) }.all_next = next;
            }
            if next != 0 {
                // SAFETY: a live neighbour.
                unsafe { dispatcher::object(next) }.all_prev = prev;
            }
            object.linked = 0;
        }
        let waiter = object.waiter;
        object.state = state::EMPTY;
        for link in &mut self.gone_links {
            if *link == base {
                *link = 0;
            }
        }
        if self.fp_owner == base {
            self.fp_owner = 0;
        }
        // Whoever it started forgets it; whoever waits for it wakes up.
        self.for_each(|other| {
            // SAFETY: live dispatchers on the list (this one is off it).
            let other_object = unsafe { dispatcher::object(other) };
            if other_object.supervisor == base {
                other_object.supervisor = 0;
            }
            if other_object.waiter == base {
                other_object.waiter = 0;
            }
        });
        if waiter != 0 && waiter != base {
            // SAFETY: the waiter is a live dispatcher blocked on this one
            // (waiters are cleared when they die, above).
            let waiting = unsafe { dispatcher::object(waiter) };
            if waiting.state == state::BLOCKED
                && waiting.blocked == blocked::CHILD
                && waiting.blocked_on == base
            {
                super::syscall::set_outcome(waiter, [dispatcher::outcome::DESTROYED, 0, 0]);
                self.make_runnable(waiter);
            }
        }
    }
}
