//! The wait policy and the caller's hooks for pausing, blocking and waking.

/// How the caller pauses, blocks and wakes; implemented by the kernel (or by
/// a test harness).
pub trait Waiter {
    /// Pauses briefly between two polls. On target, `YIELD` or `WFE` after
    /// `LDAXR` on the doorbell's bell, not `core::hint::spin_loop()` (`ISB`),
    /// which never yields the vCPU under single-threaded TCG.
    fn relax(&self);

    /// Blocks the current core until it is woken. Must return at once if a
    /// wake-up arrived since the last `block` returned (the kernel's
    /// pending bit); may return spuriously.
    fn block(&self);

    /// Wakes `core`, which may be blocked in [`Waiter::block`] (sends it an
    /// SGI); the wake-up must not be lost if `core` has not blocked yet.
    fn wake(&self, core: usize);
}

/// How long a receiver polls before it blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Polls (each followed by [`Waiter::relax`]) before blocking.
    pub polls: u32,
}

impl WaitPolicy {
    /// Polls `polls` times before blocking.
    pub const fn polls(polls: u32) -> Self {
        Self { polls }
    }

    /// Blocks at once when nothing is waiting.
    pub const BLOCK: Self = Self::polls(0);
}

impl Default for WaitPolicy {
    /// A few hundred polls: about the cost of blocking and being woken.
    fn default() -> Self {
        Self::polls(256)
    }
}
