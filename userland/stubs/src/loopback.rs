//! An in-memory transport for host tests: two bounded queues, one thread.

use core::cell::RefCell;

use crate::transport::{Transport, TransportError};

/// The capability token of the loopback transport: an opaque number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Token(pub u64);

/// One direction: a ring of `DEPTH` fragments.
struct Queue<const W: usize, const DEPTH: usize> {
    /// The fragments; `length` of them from `head` are queued.
    slots: [([u64; W], Option<Token>); DEPTH],
    /// The slot of the oldest queued fragment.
    head: usize,
    /// The number of queued fragments.
    length: usize,
    /// Fragments queued and dequeued so far: a change means progress.
    moved: u64,
}

impl<const W: usize, const DEPTH: usize> Queue<W, DEPTH> {
    const fn new() -> Self {
        Self { slots: [([0; W], None); DEPTH], head: 0, length: 0, moved: 0 }
    }
}

/// Two queues of `DEPTH` fragments of `W` words each, one per direction.
///
/// Both [`ends`](Self::ends) live on one thread; a blocked end makes
/// progress through its wait hook ([`Loopback::with_wait`]), typically by
/// running the peer's dispatcher.
pub struct LoopbackChannel<const W: usize, const DEPTH: usize> {
    /// The queue from the first end to the second, then the other.
    queues: [RefCell<Queue<W, DEPTH>>; 2],
}

impl<const W: usize, const DEPTH: usize> LoopbackChannel<W, DEPTH> {
    /// An empty channel.
    pub const fn new() -> Self {
        Self { queues: [RefCell::new(Queue::new()), RefCell::new(Queue::new())] }
    }

    /// The two ends, both carrying capabilities and without a wait hook.
    pub fn ends(&self) -> (Loopback<'_, W, DEPTH>, Loopback<'_, W, DEPTH>) {
        let [first, second] = &self.queues;
        (Loopback::new(first, second), Loopback::new(second, first))
    }
}

impl<const W: usize, const DEPTH: usize> Default for LoopbackChannel<W, DEPTH> {
    fn default() -> Self {
        Self::new()
    }
}

/// One end of a [`LoopbackChannel`]: a [`Transport`] of `[u64; W]`
/// fragments and [`Token`] capabilities.
pub struct Loopback<'a, const W: usize, const DEPTH: usize> {
    /// The queue this end sends into.
    send: &'a RefCell<Queue<W, DEPTH>>,
    /// The queue this end receives from.
    receive: &'a RefCell<Queue<W, DEPTH>>,
    /// Whether capabilities may be sent (off to stand in for URPC).
    carries_caps: bool,
    /// Run by [`Transport::wait`].
    hook: Option<&'a mut dyn FnMut()>,
}

impl<'a, const W: usize, const DEPTH: usize> Loopback<'a, W, DEPTH> {
    fn new(send: &'a RefCell<Queue<W, DEPTH>>, receive: &'a RefCell<Queue<W, DEPTH>>) -> Self {
        Self { send, receive, carries_caps: true, hook: None }
    }

    /// This end, refusing to send capabilities (as URPC does).
    pub fn without_caps(self) -> Self {
        Self { carries_caps: false, ..self }
    }

    /// This end, running `hook` when it waits. `wait` fails with
    /// [`TransportError::WouldBlock`] if the hook moved no fragment in either
    /// queue (or there is no hook), so a stuck test fails instead of hanging.
    pub fn with_wait(self, hook: &'a mut dyn FnMut()) -> Self {
        Self { hook: Some(hook), ..self }
    }

    /// The number of fragments waiting to be received at this end.
    pub fn waiting(&self) -> usize {
        self.receive.borrow().length
    }

    /// A count that changes whenever a fragment is queued or dequeued.
    fn moved(&self) -> u64 {
        self.send.borrow().moved.wrapping_add(self.receive.borrow().moved)
    }
}

impl<const W: usize, const DEPTH: usize> Transport for Loopback<'_, W, DEPTH> {
    type Words = [u64; W];
    type Cap = Token;

    #[inline]
    fn carries_caps(&self) -> bool {
        self.carries_caps
    }

    #[inline]
    fn try_send(&mut self, words: &[u64; W], cap: &mut Option<Token>) -> Result<(), TransportError> {
        if cap.is_some() && !self.carries_caps {
            return Err(TransportError::CapsUnsupported);
        }
        let mut queue = self.send.borrow_mut();
        if queue.length >= DEPTH {
            return Err(TransportError::Full);
        }
        let tail = (queue.head + queue.length) % DEPTH;
        let fragment = (*words, cap.take());
        if let Some(slot) = queue.slots.get_mut(tail) {
            *slot = fragment;
        }
        queue.length += 1;
        queue.moved = queue.moved.wrapping_add(1);
        Ok(())
    }

    #[inline]
    fn try_recv(&mut self, words: &mut [u64; W], cap: &mut Option<Token>) -> Result<bool, TransportError> {
        let mut queue = self.receive.borrow_mut();
        if queue.length == 0 {
            return Ok(false);
        }
        let head = queue.head;
        if let Some(slot) = queue.slots.get_mut(head) {
            *words = slot.0;
            *cap = slot.1.take();
        }
        queue.head = (head + 1) % DEPTH;
        queue.length -= 1;
        queue.moved = queue.moved.wrapping_add(1);
        Ok(true)
    }

    fn wait(&mut self) -> Result<(), TransportError> {
        let before = self.moved();
        if let Some(hook) = self.hook.as_mut() {
            hook();
        }
        if self.moved() == before {
            return Err(TransportError::WouldBlock);
        }
        Ok(())
    }
}
