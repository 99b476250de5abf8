//! The doorbell: one per receiving core, rung by all of its senders.

use crate::layout::{const_unless_loom, CacheLine};
use crate::sync::{
    fence,
    Ordering::{Relaxed, SeqCst},
};
use crate::wait::{WaitPolicy, Waiter};

/// Value of the sleeping flag while the receiver is awake.
const AWAKE: u64 = 0;
/// Value of the sleeping flag while the receiver is (about to be) blocked.
const ASLEEP: u64 = 1;

/// A receiver's doorbell: a bell counter every sender bumps, and a flag that
/// says the receiver is about to block or blocked.
///
/// A core can watch only one address with `WFE`, and a receiver has many
/// incoming rings, so the senders of all of them ring this one bell. The
/// flag and the counter sit in their own cache lines. The senders can write
/// here, so a hostile sender can suppress wake-ups (clear the flag); it
/// cannot make the receiver misbehave otherwise.
#[repr(C)]
pub struct Doorbell {
    /// Bumped by every sender after it publishes; a `WFE` target.
    pub(crate) bell: CacheLine,
    /// [`ASLEEP`] while the receiver is blocked or about to block.
    pub(crate) sleeping: CacheLine,
}

/// What a sender must do after ringing a doorbell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a sleeping receiver must be woken"]
pub enum Wake {
    /// The receiver may be blocked: wake its core (send it an SGI).
    Needed,
    /// The receiver is awake and will see the message.
    NotNeeded,
}

impl Doorbell {
    const_unless_loom! {
        /// A doorbell with an awake receiver.
        pub fn new() -> Self {
            Self { bell: CacheLine::new(), sleeping: CacheLine::new() }
        }
    }

    /// Resets the doorbell in place (see [`crate::Ring::init`]).
    pub fn init(&self) {
        // Relaxed: sharing the region afterwards synchronises.
        self.bell.word.store(0, Relaxed);
        // Relaxed: as above.
        self.sleeping.word.store(AWAKE, Relaxed);
    }

    /// Rings the bell after publishing a message, and says whether the
    /// receiver must be woken.
    pub fn ring(&self) -> Wake {
        // Relaxed: the count is only a hint for `WFE` watchers; messages are
        // published by their own headers.
        self.bell.word.fetch_add(1, Relaxed);
        // SeqCst fence: orders the message's header store before the load of
        // the flag. The receiver stores the flag, fences, then rescans: with
        // a fence on each side, either it sees our message or we see its
        // flag (store buffering). Without both fences the wake-up can be
        // lost, and loom finds it (see tests/loom.rs).
        fence(SeqCst);
        // Relaxed: ordered by the fence above.
        if self.sleeping.word.load(Relaxed) == AWAKE {
            Wake::NotNeeded
        } else {
            Wake::Needed
        }
    }

    /// Rings the bell and, if the receiver may be blocked, wakes `core`
    /// through `waiter`.
    pub fn notify<W: Waiter>(&self, waiter: &W, core: usize) -> Wake {
        let wake = self.ring();
        if wake == Wake::Needed {
            waiter.wake(core);
        }
        wake
    }

    /// Whether the receiver published that it is about to block or blocked
    /// (a hint for tests and schedulers: it may wake at any time).
    pub fn asleep(&self) -> bool {
        // Relaxed: a hint only.
        self.sleeping.word.load(Relaxed) != AWAKE
    }

    /// The bell count, for a receiver that watches it with `WFE`.
    pub fn bell(&self) -> u64 {
        // Relaxed: a hint only (see `ring`).
        self.bell.word.load(Relaxed)
    }

    /// Polls with `poll` (which scans the receiver's rings) until it yields a
    /// value: `policy.polls` times with [`Waiter::relax`] between, then by
    /// blocking in [`Waiter::block`] until rung.
    pub fn wait_for<T, W: Waiter>(
        &self,
        waiter: &W,
        policy: WaitPolicy,
        mut poll: impl FnMut() -> Option<T>,
    ) -> T {
        loop {
            if let Some(value) = Self::spin(waiter, policy, &mut poll) {
                return value;
            }
            if let Some(value) = self.sleep(waiter, &mut poll) {
                return value;
            }
        }
    }

    /// The polling phase.
    fn spin<T, W: Waiter>(waiter: &W, policy: WaitPolicy, poll: &mut impl FnMut() -> Option<T>) -> Option<T> {
        for _ in 0..policy.polls {
            if let Some(value) = poll() {
                return Some(value);
            }
            waiter.relax();
        }
        None
    }

    /// Publishes "asleep", rescans with `poll` (which must look at every
    /// ring, not only at the bell), and blocks if still nothing came; for
    /// receivers that run their own polling phase before.
    pub fn sleep<T, W: Waiter>(&self, waiter: &W, poll: &mut impl FnMut() -> Option<T>) -> Option<T> {
        // Relaxed: ordered before the rescan by the fence below.
        self.sleeping.word.store(ASLEEP, Relaxed);
        // SeqCst fence: pairs with the fence in `ring` (see there), so a
        // message the rescan misses comes with a wake-up.
        fence(SeqCst);
        let found = poll();
        if found.is_none() {
            waiter.block();
        }
        // Relaxed: a sender that still sees ASLEEP only sends a spurious
        // wake-up, which a later `block` absorbs.
        self.sleeping.word.store(AWAKE, Relaxed);
        found
    }
}

impl Default for Doorbell {
    fn default() -> Self {
        Self::new()
    }
}
