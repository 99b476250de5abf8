//! Power-off: PSCI when the device tree has it, else the board's own way,
//! else stop the core.

use crate::arch::aarch64::{cpu, psci};
use crate::board::BoardOps;
use crate::bootinfo::Conduit;

/// Powers the machine off; halts this core if nothing can.
pub fn power_off(conduit: Option<Conduit>, board: Option<&dyn BoardOps>) -> ! {
    if let Some(conduit) = conduit {
        psci::system_off(conduit);
    }
    if let Some(board) = board {
        board.power_off();
    }
    halt()
}

/// Stops this core for good (interrupts masked).
pub fn halt() -> ! {
    cpu::disable_interrupts();
    loop {
        cpu::wait_for_interrupt();
    }
}

/// Powers off using what the running core's driver knows.
pub fn power_off_current() -> ! {
    match crate::cpu_driver::current() {
        Some(me) => power_off(me.shared.info.psci, Some(me.shared.board)),
        None => halt(),
    }
}
