//! PSCI calls through the conduit the device tree names.

use crate::bootinfo::Conduit;
use smccc::psci;
use smccc::{Hvc, Smc};

/// Starts the CPU `mpidr` at physical `entry`.
pub fn cpu_on(conduit: Conduit, mpidr: u64, entry: u64) -> Result<(), psci::Error> {
    match conduit {
        Conduit::Hvc => psci::cpu_on::<Hvc>(mpidr, entry, 0),
        Conduit::Smc => psci::cpu_on::<Smc>(mpidr, entry, 0),
    }
}

/// Powers the machine off; returns only if the firmware refuses.
pub fn system_off(conduit: Conduit) {
    let _ = match conduit {
        Conduit::Hvc => psci::system_off::<Hvc>(),
        Conduit::Smc => psci::system_off::<Smc>(),
    };
}
