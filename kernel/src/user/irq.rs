//! Interrupts handed to user space (Irq capabilities): which dispatcher of
//! this core each bound SPI signals, and with which event. A fired
//! interrupt is masked at the distributor until the dispatcher acks it.

use super::dispatcher::{self, blocked, state};
use super::error::{SysError, SysResult};
use super::invoke::Resolved;
use crate::cpu_driver::CpuDriver;
use caps::abi::method::irq;
use caps::{CapError, Rights};

/// Most interrupts bound on one core at a time.
pub const MAX_BOUND: usize = 8;

/// One bound interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Binding {
    intid: u32,
    dispatcher: u64,
    event: u64,
}

/// The interrupts bound on one core (in its scheduler).
pub struct IrqBindings {
    entries: [Option<Binding>; MAX_BOUND],
}

impl Default for IrqBindings {
    fn default() -> Self {
        Self::new()
    }
}

impl IrqBindings {
    /// None bound.
    pub const fn new() -> Self {
        IrqBindings { entries: [None; MAX_BOUND] }
    }

    fn find(&self, intid: u32) -> Option<Binding> {
        self.entries.iter().flatten().find(|b| b.intid == intid).copied()
    }

    /// Binds `intid` to `dispatcher` with `event` (again by the same one:
    /// the event changes).
    fn bind(&mut self, intid: u32, dispatcher: u64, event: u64) -> Result<(), SysError> {
        let new = Some(Binding { intid, dispatcher, event });
        if let Some(entry) = self.entries.iter_mut().find(|e| e.is_some_and(|b| b.intid == intid)) {
            if entry.is_some_and(|b| b.dispatcher != dispatcher) {
                return Err(SysError::AlreadyBound);
            }
            *entry = new;
            return Ok(());
        }
        let free = self.entries.iter_mut().find(|e| e.is_none()).ok_or(SysError::LimitReached)?;
        *free = new;
        Ok(())
    }

    /// Unbinds `intid`; whether it was bound.
    pub fn unbind(&mut self, intid: u32) -> bool {
        let found = self.entries.iter_mut().find(|e| e.is_some_and(|b| b.intid == intid));
        found.map(|entry| entry.take()).is_some()
    }

    /// Unbinds every interrupt bound to `dispatcher` (which dies), calling
    /// `each` with its ID.
    pub fn unbind_dispatcher(&mut self, dispatcher: u64, mut each: impl FnMut(u32)) {
        for entry in &mut self.entries {
            if let Some(binding) = entry.filter(|b| b.dispatcher == dispatcher) {
                *entry = None;
                each(binding.intid);
            }
        }
    }
}

/// Irq.bind(event) / Irq.ack(), by the running dispatcher `running`.
pub fn method(me: &CpuDriver, running: u64, target: &Resolved, method: u64, event: u64) -> SysResult {
    if !target.cap.rights.contains(Rights::WRITE) {
        return Err(CapError::MissingRights.into());
    }
    let intid = u32::try_from(target.cap.base).map_err(|_| SysError::InvalidArgument)?;
    match method {
        irq::BIND => {
            if event > caps::abi::lmp::MAX_EVENT {
                return Err(SysError::InvalidArgument);
            }
            me.user.borrow_mut().slots.sched.irqs.bind(intid, running, event)?;
            let address = me.mailbox().owner.0.sgi_address.load(core::sync::atomic::Ordering::Acquire);
            me.gic.bind_spi(intid, address);
            Ok([0; 3])
        }
        irq::ACK => {
            if me.user.borrow().slots.sched.irqs.find(intid).is_none() {
                return Err(SysError::NotBound);
            }
            me.gic.enable_spi(intid, true);
            Ok([0; 3])
        }
        _ => Err(SysError::InvalidMethod),
    }
}

/// SPI `intid` fired on this core (interrupts masked): mask it, set the
/// bound dispatcher's event and end its `WAIT`. Returns whether it was
/// bound here (it is masked either way).
pub fn fired(me: &CpuDriver, intid: u32) -> bool {
    me.gic.enable_spi(intid, false);
    let Ok(mut user) = me.user.try_borrow_mut() else { return true };
    let sched = &mut user.slots.sched;
    let Some(binding) = sched.irqs.find(intid) else { return false };
    // SAFETY: the bound dispatcher is alive (unbound when it dies).
    unsafe { dispatcher::frame(binding.dispatcher) }.events |= 1 << binding.event;
    // SAFETY: as above.
    let object = unsafe { dispatcher::object(binding.dispatcher) };
    if object.state == state::BLOCKED && object.blocked == blocked::EVENTS {
        sched.make_runnable(binding.dispatcher);
    }
    true
}

/// Masks `intid` at the distributor (its binding went). If it was the
/// console's, bound on the core that took the console, the console server
/// ended: the kernel takes the console back.
pub fn mask(intid: u32) {
    if let Some(me) = crate::cpu_driver::current() {
        me.gic.enable_spi(intid, false);
        let console = intid == me.shared.console_uart.intid && crate::console::owner() == Some(me.index);
        if console && crate::console::take_back(me.index) {
            log::warn!(
                "console: the console server on core {} ended; the kernel writes the console again",
                me.index
            );
        }
    }
}
