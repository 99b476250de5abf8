//! Endpoint capabilities: same-core messages (LMP) through the kernel.
//!
//! A message is eight words and at most one capability. An endpoint queues
//! up to 16 messages for the one dispatcher bound to it; `send` never
//! blocks (a full queue is [`Error::EndpointFull`] and nothing is sent);
//! `recv` takes the oldest message; `call` sends, yields to the receiver
//! and blocks for the reply on another endpoint.

use super::{handle, CNode, Dispatcher};
use crate::cptr::CPtr;
use crate::error::{Error, Result};
use crate::method::endpoint;
use crate::syscall::{self, Words, CALL, RECV, SEND};

handle!(
    /// An LMP endpoint.
    Endpoint
);

/// A message to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// The payload.
    pub words: Words,
    /// A capability to transfer (a copy; the sender keeps its own).
    pub cap: Option<CPtr>,
}

/// A message received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The payload.
    pub words: Words,
    /// The badge of the endpoint capability it was sent through.
    pub badge: usize,
    /// Whether a capability arrived in the receive slot.
    pub cap: bool,
}

/// Where a received capability goes: slot `index` of `cnode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiveSlot {
    /// The CNode.
    pub cnode: CNode,
    /// The slot index in it.
    pub index: usize,
}

impl ReceiveSlot {
    /// No receive slot: a message with a capability is refused (and stays
    /// queued).
    pub const NONE: ReceiveSlot = ReceiveSlot { cnode: CNode::at(0), index: 0 };

    /// Slot `index` of the root CNode.
    pub const fn root(index: usize) -> ReceiveSlot {
        ReceiveSlot { cnode: CNode::root(), index }
    }
}

impl Endpoint {
    /// Binds it to `receiver`, which is told about queued messages through
    /// bit `event` (0 to 62) of its `events` word.
    pub fn bind(self, receiver: Dispatcher, event: usize) -> Result<()> {
        self.invoke(endpoint::BIND, [receiver.cptr().raw(), event, 0, 0, 0, 0]).map(drop)
    }

    /// Messages queued.
    pub fn pending(self) -> Result<usize> {
        self.invoke(endpoint::PENDING, [0; 6]).map(|[count, _, _]| count)
    }

    /// Queues `message`; with `yield_now`, the receiver runs at once.
    #[inline]
    pub fn send(self, message: &Message, yield_now: bool) -> Result<()> {
        let mut words = message.words;
        let cap = message.cap.map_or(0, CPtr::raw);
        let flags = if yield_now { caps::abi::lmp::YIELD as usize } else { 0 };
        syscall::lmp(SEND, &mut words, [self.cptr().raw(), cap, flags, 0, 0]).map(drop)
    }

    /// Takes the oldest message ([`Error::EndpointEmpty`] if none); a
    /// capability goes to `slot`. With `block`, waits for one (the whole
    /// dispatcher blocks).
    #[inline]
    pub fn recv(self, slot: ReceiveSlot, block: bool) -> Result<Received> {
        let mut words = [0; 8];
        let flags = if block { caps::abi::lmp::BLOCK as usize } else { 0 };
        let control = [self.cptr().raw(), slot.cnode.cptr().raw(), slot.index, flags, 0];
        let (badge, info) = syscall::lmp(RECV, &mut words, control)?;
        Ok(Received { words, badge, cap: info & caps::abi::lmp::CAP_RECEIVED as usize != 0 })
    }

    /// Sends `message` on this endpoint, runs its receiver, and waits for
    /// the reply on `reply` (bound to this dispatcher), its capability
    /// going to `slot`. A server's reply-and-wait is the same call: reply
    /// on the client's endpoint, receive on its own.
    #[inline]
    pub fn call(self, message: &Message, reply: Endpoint, slot: ReceiveSlot) -> Result<Received> {
        let mut words = message.words;
        let cap = message.cap.map_or(0, CPtr::raw);
        let control = [self.cptr().raw(), cap, reply.cptr().raw(), slot.cnode.cptr().raw(), slot.index];
        let (badge, info) = syscall::lmp(CALL, &mut words, control)?;
        Ok(Received { words, badge, cap: info & caps::abi::lmp::CAP_RECEIVED as usize != 0 })
    }
}

/// Whether `error` means "try again later" (a full or empty queue).
pub const fn would_block(error: Error) -> bool {
    matches!(error, Error::EndpointFull | Error::EndpointEmpty)
}
