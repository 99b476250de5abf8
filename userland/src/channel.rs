//! Transports for the generated stubs (`stubs::interface!`): the same
//! client and server code runs over LMP on one core and over URPC across
//! cores.
//!
//! * [`Lmp`]: a pair of endpoints, eight words and one capability per
//!   fragment; a blocking RPC is one `CALL` system call each way.
//! * [`Urpc`]: one channel of the user channel area or of a frame shared
//!   through the monitors (seven words per fragment, no capabilities:
//!   sending one is `CapsUnsupported`; capabilities cross cores through the
//!   monitors), polled, optionally ringing the peer's doorbell.

use crate::cap::{Endpoint, Message, ReceiveSlot};
use crate::cptr::CPtr;
use crate::error::Error;
use stubs::{Transport, TransportError};

/// Words of an LMP fragment.
pub type LmpWords = [u64; caps::abi::lmp::WORDS];
/// Words of a URPC fragment.
pub type UrpcWords = [u64; urpc::PAYLOAD_WORDS];

/// LMP between two dispatchers on one core: this side sends on `send` and
/// receives on `receive` (bound to this dispatcher with event `event`).
/// Capabilities are capability pointers: one sent is copied to the peer;
/// one received arrives in a fresh slot of the root CNode.
#[derive(Clone, Copy, Debug)]
pub struct Lmp {
    send: Endpoint,
    receive: Endpoint,
    event: u32,
    slot: Option<usize>,
    fixed: bool,
    /// Sends in a row that found the peer's queue full.
    full: u32,
    /// Never block: a send into a full queue fails (`Disconnected`).
    never_wait: bool,
}

impl Lmp {
    /// The transport over `send` (to the peer) and `receive` (ours, bound
    /// with `event`).
    pub const fn new(send: Endpoint, receive: Endpoint, event: u32) -> Lmp {
        Lmp { send, receive, event, slot: None, fixed: false, full: 0, never_wait: false }
    }

    /// The same, for a server that must not wait for a client: a reply
    /// the client's queue has no room for breaks the connection instead
    /// (a client that never reads cannot stall the server).
    pub const fn never_waiting(mut self) -> Lmp {
        self.never_wait = true;
        self
    }

    /// The same, with received capabilities always arriving in root slot
    /// `slot` (which the receiver must empty before the next can arrive),
    /// for programs that do not use `allocator::allocate_slot`.
    pub const fn with_receive_slot(mut self, slot: usize) -> Lmp {
        self.slot = Some(slot);
        self.fixed = true;
        self
    }

    /// Where the next capability may arrive (a fresh root slot, kept until
    /// one arrives in it).
    fn receive_slot(&mut self) -> ReceiveSlot {
        if self.slot.is_none() {
            self.slot = crate::allocator::allocate_slot().ok();
        }
        self.slot.map_or(ReceiveSlot::NONE, ReceiveSlot::root)
    }

    fn outgoing(words: &LmpWords, cap: &Option<CPtr>) -> Message {
        Message { words: words.map(|word| word as usize), cap: *cap }
    }

    fn incoming(&mut self, received: crate::cap::Received, words: &mut LmpWords, cap: &mut Option<CPtr>) {
        *words = received.words.map(|word| word as u64);
        *cap = self.arrived(received.cap);
    }

    /// The capability that arrived in the receive slot, if one did (a
    /// fresh slot is taken for the next unless the slot is fixed).
    fn arrived(&mut self, arrived: bool) -> Option<CPtr> {
        match (arrived, self.fixed) {
            (false, _) => None,
            (true, true) => self.slot.map(CPtr::slot),
            (true, false) => self.slot.take().map(CPtr::slot),
        }
    }
}

fn transport_error(error: Error) -> TransportError {
    match error {
        Error::EndpointFull => TransportError::Full,
        Error::EndpointEmpty => TransportError::WouldBlock,
        _ => TransportError::Disconnected,
    }
}

impl Transport for Lmp {
    type Words = LmpWords;
    type Cap = CPtr;

    fn carries_caps(&self) -> bool {
        true
    }

    fn try_send(&mut self, words: &LmpWords, cap: &mut Option<CPtr>) -> Result<(), TransportError> {
        let sent = self.send.send(&Self::outgoing(words, cap), false).map_err(transport_error);
        self.full = if sent == Err(TransportError::Full) { self.full.saturating_add(1) } else { 0 };
        sent?;
        *cap = None;
        Ok(())
    }

    fn try_recv(&mut self, words: &mut LmpWords, cap: &mut Option<CPtr>) -> Result<bool, TransportError> {
        let slot = self.receive_slot();
        match self.receive.recv(slot, false) {
            Ok(received) => {
                self.incoming(received, words, cap);
                Ok(true)
            }
            Err(Error::EndpointEmpty) => Ok(false),
            Err(error) => Err(transport_error(error)),
        }
    }

    fn wait(&mut self) -> Result<(), TransportError> {
        if self.never_wait {
            return Err(TransportError::Disconnected);
        }
        match self.full {
            0 => {}
            // The peer must run to make room (the messages that filled its
            // queue woke it): let it, if it has our priority...
            1 => {
                crate::syscall::yield_now();
                return Ok(());
            }
            // ...else (a yield does not run a lower priority) sleep until
            // the next tick, so that it runs whatever its priority.
            _ => {
                let deadline = crate::thread::counter() + crate::thread::ticks_per_millisecond();
                crate::syscall::wait(deadline);
                return Ok(());
            }
        }
        // Another thread may run; with none, the dispatcher sleeps in the
        // kernel until a message arrives. Without the thread runtime the
        // whole dispatcher waits for any event.
        match crate::thread::wait_event(self.event) {
            Err(Error::NotSetUp) => {
                crate::syscall::wait(0);
                Ok(())
            }
            other => other.map_err(|_| TransportError::Disconnected),
        }
    }

    #[inline]
    fn call(
        &mut self,
        request: &LmpWords,
        cap: &mut Option<CPtr>,
        reply: &mut LmpWords,
        reply_cap: &mut Option<CPtr>,
    ) -> Result<(), TransportError> {
        // One `CALL`, the words going straight from and to the registers.
        let slot = self.receive_slot();
        let mut words = request.map(|word| word as usize);
        let control = [
            self.send.cptr().raw(),
            cap.map_or(0, CPtr::raw),
            self.receive.cptr().raw(),
            slot.cnode.cptr().raw(),
            slot.index,
        ];
        let (_badge, info) =
            crate::syscall::lmp(crate::syscall::CALL, &mut words, control).map_err(transport_error)?;
        *cap = None;
        *reply = words.map(|word| word as u64);
        *reply_cap = self.arrived(info & caps::abi::lmp::CAP_RECEIVED as usize != 0);
        Ok(())
    }

    #[inline]
    fn reply_and_receive(
        &mut self,
        reply: &LmpWords,
        cap: &mut Option<CPtr>,
        next: &mut LmpWords,
        next_cap: &mut Option<CPtr>,
    ) -> Result<(), TransportError> {
        self.call(reply, cap, next, next_cap)
    }
}

/// The URPC transport's capability token: there is none to give
/// (capabilities cannot cross cores until the monitors transfer them), so
/// the stubs refuse a call that offers one (`CapsUnsupported`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoCap;

/// A URPC channel with the user channel area's ring size.
pub type UrpcChannel = urpc::Channel<{ caps::abi::layout::CHANNEL_SLOTS }>;

/// One side of a URPC channel between this core and `peer`, in the user
/// channel area (`caps::abi::layout::CHANNELS`) or in a frame two monitors
/// set up (`Urpc::at`).
pub struct Urpc {
    sender: urpc::Sender<'static, { caps::abi::layout::CHANNEL_SLOTS }>,
    receiver: urpc::Receiver<'static, { caps::abi::layout::CHANNEL_SLOTS }>,
}

impl Urpc {
    /// The channel between core `me` and core `peer` of `cores`. Only one
    /// `Urpc` per channel side may exist, and the peer must start fresh too.
    pub fn between(me: usize, peer: usize, cores: usize) -> Option<Urpc> {
        let (offset, side) =
            urpc::mesh::channel_offset::<{ caps::abi::layout::CHANNEL_SLOTS }>(cores, me, peer)?;
        let address = caps::abi::layout::CHANNELS as usize + offset;
        // SAFETY: the kernel maps the user channel area read-write at
        // `CHANNELS` in every core's first program, laid out by
        // `urpc::mesh` and initialised before any program starts; the
        // channel is only ever used through `urpc`'s atomics, and stays
        // mapped for the program's life.
        let channel: &'static UrpcChannel = unsafe { &*(address as *const UrpcChannel) };
        Some(Urpc::on(channel, side))
    }

    /// Side `side` of `channel`.
    pub fn on(channel: &'static UrpcChannel, side: urpc::Side) -> Urpc {
        let (sender, receiver) = channel.endpoints(side);
        Urpc { sender, receiver }
    }

    /// The same channel, ringing core `peer`'s doorbell after every send
    /// and never waiting (see [`Rung`]).
    pub fn rung(self, peer: usize) -> Rung {
        Rung { inner: self, bell: doorbell_of(peer), peer }
    }

    /// Whether a fragment (or a broken ring, which the next receive
    /// reports) waits: one load, for receivers that scan many channels.
    #[inline]
    pub fn pending(&self) -> bool {
        self.receiver.pending()
    }
}

/// A [`Urpc`] channel for a receiver that sleeps on its doorbell (the
/// monitors): every send rings the peer's doorbell in the user channel area
/// and wakes it if it sleeps (`Kernel.notify`), and a send into a full ring
/// fails at once with `TransportError::Full` instead of polling (the caller
/// queues and retries).
pub struct Rung {
    inner: Urpc,
    bell: &'static urpc::Doorbell,
    peer: usize,
}

impl Rung {
    /// Whether a fragment waits (see [`Urpc::pending`]).
    #[inline]
    pub fn pending(&self) -> bool {
        self.inner.pending()
    }
}

impl Transport for Rung {
    type Words = UrpcWords;
    type Cap = NoCap;

    fn carries_caps(&self) -> bool {
        false
    }

    #[inline]
    fn try_send(&mut self, words: &UrpcWords, cap: &mut Option<NoCap>) -> Result<(), TransportError> {
        self.inner.try_send(words, cap)?;
        if self.bell.ring() == urpc::Wake::Needed {
            // A peer that went away cannot be woken; the message stays.
            let _ = crate::cap::Kernel::initial().notify(self.peer);
        }
        Ok(())
    }

    #[inline]
    fn try_recv(&mut self, words: &mut UrpcWords, cap: &mut Option<NoCap>) -> Result<bool, TransportError> {
        self.inner.try_recv(words, cap)
    }

    fn wait(&mut self) -> Result<(), TransportError> {
        Err(TransportError::Full)
    }
}

/// Core `core`'s doorbell in the user channel area (its senders ring it).
pub fn doorbell_of(core: usize) -> &'static urpc::Doorbell {
    let address = caps::abi::layout::CHANNELS as usize + urpc::mesh::doorbell_offset(core);
    // SAFETY: as in `Urpc::between`.
    unsafe { &*(address as *const urpc::Doorbell) }
}

impl Transport for Urpc {
    type Words = UrpcWords;
    type Cap = NoCap;

    fn carries_caps(&self) -> bool {
        false
    }

    #[inline]
    fn try_send(&mut self, words: &UrpcWords, _cap: &mut Option<NoCap>) -> Result<(), TransportError> {
        match self.sender.try_send_words(words) {
            Ok(()) => Ok(()),
            Err(urpc::SendError::Full) => Err(TransportError::Full),
            Err(_) => Err(TransportError::Corrupt),
        }
    }

    #[inline]
    fn try_recv(&mut self, words: &mut UrpcWords, _cap: &mut Option<NoCap>) -> Result<bool, TransportError> {
        match self.receiver.try_recv_into(words) {
            Ok(()) => Ok(true),
            Err(urpc::RecvError::Empty) => Ok(false),
            Err(_) => Err(TransportError::Corrupt),
        }
    }

    #[inline]
    fn wait(&mut self) -> Result<(), TransportError> {
        // Polling: the peer is another core.
        relax();
        Ok(())
    }
}

/// A polite spin: the `yield` hint (QEMU's single-threaded TCG switches to
/// the next virtual CPU on it; `core::hint::spin_loop` emits `isb`).
#[inline(always)]
pub fn relax() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `yield` is a hint with no architectural effect.
    unsafe {
        core::arch::asm!("yield", options(nomem, nostack, preserves_flags))
    };
}
