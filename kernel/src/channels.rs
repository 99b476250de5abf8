//! URPC channels between every pair of cores and one doorbell per core, set
//! up by the boot CPU in RAM it carves before partitioning. Until monitors
//! own them, CPU drivers use them directly (`test=urpc`, `scripts/bench`).

use crate::arch::aarch64::{cpu, timer};
use crate::cpu_driver::{CpuDriver, SGI_WAKE};
use urpc::{Channel, Doorbell, Receiver, Sender, Side};

/// Message slots per ring (64 cache lines, 4 KiB); the user channel area
/// uses the same layout.
pub const RING_SLOTS: usize = caps::abi::layout::CHANNEL_SLOTS;
/// A channel between two cores.
pub type CoreChannel = Channel<RING_SLOTS>;

/// Where the channels live: `cores` doorbells, then one channel per
/// unordered pair `(i, j)`, `i < j`, in order; core `i` is side A.
#[derive(Clone, Copy, Debug)]
pub struct Channels {
    base: usize,
    cores: usize,
}

impl Channels {
    /// Bytes needed for `cores` cores.
    pub fn size(cores: usize) -> usize {
        urpc::mesh::size::<RING_SLOTS>(cores)
    }

    /// Initialises the area at `base` (mapped Normal write-back, inner
    /// shareable) for `cores` cores.
    ///
    /// # Safety
    /// `base..base + size(cores)` must be mapped RAM, 64-byte aligned, used
    /// for nothing else, for the kernel's lifetime.
    pub unsafe fn init(base: usize, cores: usize) -> Self {
        // SAFETY: the caller gives the area to us; zero is a valid value of
        // every atomic in it, and `reset` then sets the empty state.
        unsafe { core::ptr::write_bytes(base as *mut u8, 0, Self::size(cores)) };
        let channels = Channels { base, cores };
        channels.reset();
        channels
    }

    /// Core `core`'s doorbell.
    pub fn doorbell(&self, core: usize) -> &'static Doorbell {
        assert!(core < self.cores, "no doorbell for core {core}");
        let address = self.base + urpc::mesh::doorbell_offset(core);
        // SAFETY: inside the area set up by `init`, aligned (the area and
        // the type are 64-byte aligned), and never freed.
        unsafe { &*(address as *const Doorbell) }
    }

    /// The channel between `a` and `b` and the side `a` is on.
    fn channel(&self, a: usize, b: usize) -> (&'static CoreChannel, Side) {
        let found = urpc::mesh::channel_offset::<RING_SLOTS>(self.cores, a, b);
        let (offset, side) = found.unwrap_or_else(|| panic!("no channel {a}-{b}"));
        // SAFETY: inside the area set up by `init` (the layout says so),
        // aligned (the area and the type are 64-byte aligned), never freed.
        (unsafe { &*((self.base + offset) as *const CoreChannel) }, side)
    }

    /// The sending end from `from` to `to`. Only one may exist at a time.
    pub fn sender(&self, from: usize, to: usize) -> Sender<'static, RING_SLOTS> {
        let (channel, side) = self.channel(from, to);
        channel.outgoing(side).sender()
    }

    /// The receiving end at `at` of messages from `from`. Only one at a time.
    pub fn receiver(&self, at: usize, from: usize) -> Receiver<'static, RING_SLOTS> {
        let (channel, side) = self.channel(at, from);
        channel.incoming(side).receiver()
    }

    /// Resets every ring and doorbell to empty (before a new user starts
    /// fresh endpoints; every core must be quiet).
    pub fn reset(&self) {
        (0..self.cores).for_each(|core| self.doorbell(core).init());
        for a in 0..self.cores {
            (a + 1..self.cores).for_each(|b| self.channel(a, b).0.init());
        }
    }
}

/// The CPU driver's wait hooks: `yield` between polls, `WFI` (bounded by one
/// timer tick, so a peer that suppresses wake-ups cannot stall us for good)
/// to block, a wake SGI to wake.
pub struct CoreWaiter<'a> {
    /// The running core.
    pub me: &'a CpuDriver,
}

impl urpc::Waiter for CoreWaiter<'_> {
    fn relax(&self) {
        cpu::relax();
    }

    fn block(&self) {
        let deadline = cpu::counter() + cpu::counter_frequency() / timer::TICK_HZ;
        self.me.wait_until(deadline, || self.me.wake_pending.replace(false));
    }

    fn wake(&self, core: usize) {
        self.me.send_sgi(SGI_WAKE, core);
    }
}
