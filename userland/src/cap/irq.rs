//! Irq capabilities: one device interrupt, delivered as a dispatcher event.

use super::handle;
use crate::error::Result;

handle!(
    /// A device interrupt (from `Kernel.console`).
    Irq
);

impl Irq {
    /// Routes the interrupt to this core, enables it and binds the calling
    /// dispatcher with `event`: when it fires the kernel masks it, sets the
    /// event bit and ends the dispatcher's `WAIT`.
    pub fn bind(self, event: usize) -> Result<()> {
        self.invoke(caps::abi::method::irq::BIND as usize, [event, 0, 0, 0, 0, 0]).map(drop)
    }

    /// Unmasks the interrupt again, after the device was serviced.
    pub fn ack(self) -> Result<()> {
        self.invoke(caps::abi::method::irq::ACK as usize, [0; 6]).map(drop)
    }
}
