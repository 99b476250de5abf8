//! A transport wrapper that counts operations and does `call` and
//! `reply_and_receive` as one operation each, as LMP does with `CALL`.

use std::sync::{Arc, Mutex};

use crate::{Transport, TransportError};

/// The operations asked of a transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `try_send`s.
    pub sends: u64,
    /// `try_recv`s, whether or not they found a fragment.
    pub receives: u64,
    /// `call`s.
    pub calls: u64,
    /// `reply_and_receive`s.
    pub replies: u64,
    /// `wait`s.
    pub waits: u64,
}

impl Counts {
    /// Nothing.
    pub const NONE: Self = Self { sends: 0, receives: 0, calls: 0, replies: 0, waits: 0 };

    /// The operations since `before`.
    pub fn since(self, before: Self) -> Self {
        Self {
            sends: self.sends - before.sends,
            receives: self.receives - before.receives,
            calls: self.calls - before.calls,
            replies: self.replies - before.replies,
            waits: self.waits - before.waits,
        }
    }
}

/// The counts of a [`Counted`], readable while it is in use (also from
/// another thread).
#[derive(Clone, Default)]
pub struct Counter(Arc<Mutex<Counts>>);

impl Counter {
    /// The counts so far.
    pub fn get(&self) -> Counts {
        *self.0.lock().unwrap()
    }

    fn add(&self, count: impl FnOnce(&mut Counts)) {
        count(&mut self.0.lock().unwrap());
    }
}

/// `inner`, with every operation counted. `call` and `reply_and_receive`
/// count as one operation each: they send and then receive on `inner`
/// directly, waiting on it without counting, as a kernel `CALL` blocks
/// inside one system call.
pub struct Counted<T> {
    inner: T,
    counter: Counter,
}

impl<T: Transport> Counted<T> {
    /// `inner` counted, and the counter to read.
    pub fn new(inner: T) -> (Self, Counter) {
        let counter = Counter::default();
        (Self { inner, counter: counter.clone() }, counter)
    }

    /// The wrapped transport.
    pub fn inner(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Sends `words`, then receives into `into`, on `inner`, uncounted.
    fn fused(
        &mut self,
        words: &T::Words,
        cap: &mut Option<T::Cap>,
        into: &mut T::Words,
        into_cap: &mut Option<T::Cap>,
    ) -> Result<(), TransportError> {
        loop {
            match self.inner.try_send(words, cap) {
                Err(TransportError::Full) => self.inner.wait()?,
                result => break result?,
            }
        }
        while !self.inner.try_recv(into, into_cap)? {
            self.inner.wait()?;
        }
        Ok(())
    }
}

impl<T: Transport> Transport for Counted<T> {
    type Words = T::Words;
    type Cap = T::Cap;

    fn carries_caps(&self) -> bool {
        self.inner.carries_caps()
    }

    fn try_send(&mut self, words: &T::Words, cap: &mut Option<T::Cap>) -> Result<(), TransportError> {
        self.counter.add(|counts| counts.sends += 1);
        self.inner.try_send(words, cap)
    }

    fn try_recv(&mut self, words: &mut T::Words, cap: &mut Option<T::Cap>) -> Result<bool, TransportError> {
        self.counter.add(|counts| counts.receives += 1);
        self.inner.try_recv(words, cap)
    }

    fn wait(&mut self) -> Result<(), TransportError> {
        self.counter.add(|counts| counts.waits += 1);
        self.inner.wait()
    }

    fn call(
        &mut self,
        request: &T::Words,
        cap: &mut Option<T::Cap>,
        reply: &mut T::Words,
        reply_cap: &mut Option<T::Cap>,
    ) -> Result<(), TransportError> {
        self.counter.add(|counts| counts.calls += 1);
        self.fused(request, cap, reply, reply_cap)
    }

    fn reply_and_receive(
        &mut self,
        reply: &T::Words,
        cap: &mut Option<T::Cap>,
        next: &mut T::Words,
        next_cap: &mut Option<T::Cap>,
    ) -> Result<(), TransportError> {
        self.counter.add(|counts| counts.replies += 1);
        self.fused(reply, cap, next, next_cap)
    }
}
