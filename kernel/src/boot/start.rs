//! Starting the other CPUs with the method each CPU node names.

use super::{phys_to_virt, PER_CORE_RESERVED};
use crate::arch::aarch64::handoff::{HandoffEntry, BOOT_HANDOFF};
use crate::arch::aarch64::{cpu, psci};
use crate::bootinfo::{Conduit, CpuInfo, EnableMethod, MAX_CPUS};
use crate::cpu_driver::CpuDriver;
use crate::selfcheck::StartMethods;
use core::fmt;

extern "C" {
    static __image_start: u8;
    fn mk_secondary_entry();
}

/// Which cores were started, when, and how.
pub struct StartReport {
    /// Bit i: core i was started (or is the boot CPU).
    pub started: u64,
    /// Counter value when each core was started.
    pub started_at: [u64; MAX_CPUS],
    /// Methods used.
    pub methods: StartMethods,
}

/// Why a CPU was not started.
#[derive(Debug)]
enum StartError {
    NoReg,
    NoMethod,
    UnknownMethod,
    NoReleaseAddress,
    ReleaseAddressUnmapped(u64),
    PsciWithoutNode,
    Psci(smccc::psci::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NoReg => write!(f, "no reg (MPIDR)"),
            StartError::NoMethod => write!(f, "no enable-method"),
            StartError::UnknownMethod => write!(f, "unknown enable-method"),
            StartError::NoReleaseAddress => write!(f, "spin-table without cpu-release-addr"),
            StartError::ReleaseAddressUnmapped(a) => write!(f, "cpu-release-addr {a:#x} is not in RAM"),
            StartError::PsciWithoutNode => write!(f, "enable-method psci but no /psci node"),
            StartError::Psci(e) => write!(f, "PSCI CPU_ON failed: {e:?}"),
        }
    }
}

/// Starts every CPU but the boot one; reports and skips those that cannot be.
pub fn start_secondaries(me: &CpuDriver) -> StartReport {
    let shared = me.shared;
    let mut report =
        StartReport { started: 1 << me.index, started_at: [0; MAX_CPUS], methods: StartMethods::default() };
    if shared.info.cpus_listed > shared.info.cpu_count {
        log::warn!(
            "{} cpu nodes beyond the first {MAX_CPUS} skipped",
            shared.info.cpus_listed - shared.info.cpu_count
        );
    }
    for (index, cpu_info) in shared.info.cpus().iter().enumerate() {
        if index == me.index {
            continue;
        }
        report.started_at[index] = cpu::counter();
        match start_one(me, index, cpu_info) {
            Ok(method) => {
                report.started |= 1 << index;
                match method {
                    Method::Psci(Conduit::Hvc) => report.methods.psci_hvc = true,
                    Method::Psci(Conduit::Smc) => report.methods.psci_smc = true,
                    Method::SpinTable => report.methods.spin_table = true,
                }
            }
            Err(e) => log::warn!("cpu {index}: not started: {e}"),
        }
    }
    report
}

enum Method {
    Psci(Conduit),
    SpinTable,
}

fn start_one(me: &CpuDriver, index: usize, cpu_info: &CpuInfo) -> Result<Method, StartError> {
    let shared = me.shared;
    let mpidr = cpu_info.mpidr.ok_or(StartError::NoReg)?;
    let method = match cpu_info.method {
        EnableMethod::Psci => Method::Psci(shared.info.psci.ok_or(StartError::PsciWithoutNode)?),
        EnableMethod::SpinTable { release_addr } => {
            if !shared
                .info
                .memory
                .as_slice()
                .iter()
                .any(|r| r.base <= release_addr && release_addr + 8 <= r.end())
            {
                return Err(StartError::ReleaseAddressUnmapped(release_addr));
            }
            Method::SpinTable
        }
        EnableMethod::Absent => return Err(StartError::NoMethod),
        EnableMethod::Unknown => return Err(StartError::UnknownMethod),
        EnableMethod::SpinTableWithoutAddress => return Err(StartError::NoReleaseAddress),
    };
    let base = shared.partitions[index].pieces()[0].base;
    let entry = HandoffEntry {
        mpidr,
        stack_top: phys_to_virt(base + PER_CORE_RESERVED) as u64,
        argument: phys_to_virt(base) as u64,
        entry: secondary_trampoline as *const () as u64,
    };
    // SAFETY: only the boot CPU writes the hand-off block, and core `index`
    // is not running; it reads the entry after the clean and CPU_ON/SEV below.
    unsafe {
        let handoff = BOOT_HANDOFF.get();
        core::ptr::addr_of_mut!((*handoff).entries[index]).write_volatile(entry);
        cpu::clean_to_point_of_coherency(handoff as usize, core::mem::size_of_val(&*handoff));
    }
    let entry_physical = physical_entry(shared.image_physical);
    match method {
        Method::Psci(conduit) => psci::cpu_on(conduit, mpidr, entry_physical).map_err(StartError::Psci)?,
        Method::SpinTable => {
            let EnableMethod::SpinTable { release_addr } = cpu_info.method else { unreachable!() };
            let slot = phys_to_virt(release_addr) as *mut u64;
            // SAFETY: the release slot lies in RAM (checked above), which is
            // linearly mapped; the parked CPU only reads it.
            unsafe { slot.write_volatile(entry_physical) };
            cpu::clean_to_point_of_coherency(slot as usize, 8);
            cpu::send_event();
        }
    }
    Ok(method)
}

/// Physical address of `mk_secondary_entry` in the loaded image (its offset
/// in the image is the same physically and virtually).
fn physical_entry(image_physical: u64) -> u64 {
    let image_virtual = core::ptr::addr_of!(__image_start) as u64;
    mk_secondary_entry as *const () as u64 - image_virtual + image_physical
}

extern "C" fn secondary_trampoline(driver: usize) -> ! {
    super::secondary(driver)
}
