//! The interrupt controller through `arm-gic`: GICv2 or GICv3 per the device tree.
//!
//! The distributor is configured once by the boot CPU before any other CPU
//! runs; each CPU then sets up only its own banked state (GICv2 CPU interface
//! and SGI/PPI banks, GICv3 redistributor found by affinity) and afterwards
//! only acknowledges, ends and sends interrupts.

use arm_gic::gicv2::{GicV2, SgiTarget as SgiTargetV2, SgiTargetListFilter};
use arm_gic::gicv3::registers::{Gicd, GicrSgi};
use arm_gic::gicv3::{GicCpuInterface, GicDistributor, GicV3, Group, SgiTarget, SgiTargetGroup};
use arm_gic::{IntId, InterruptGroup, Trigger, UniqueMmioPointer};
use core::ptr::NonNull;

/// GICD_ITARGETSR0: a read returns this CPU interface's own bit (banked).
const GICD_ITARGETSR0: usize = 0x800;
/// GICD_ITARGETSR<n>: one byte per interrupt, the CPU interfaces it goes to.
const GICD_ITARGETSR: usize = 0x800;
/// GICD_IPRIORITYR<n>: one byte per interrupt.
const GICD_IPRIORITYR: usize = 0x400;
/// First shared peripheral interrupt.
pub const FIRST_SPI: u32 = 32;
/// The last SPI ID (1020–1023 are special).
pub const LAST_SPI: u32 = 1019;
/// Priority given to the interrupts the kernel uses.
const PRIORITY: u8 = 0x80;
/// The intid the GIC reads as "nothing pending".
const SPURIOUS: u32 = 1023;

/// Where the GIC's registers are mapped (virtual addresses).
#[derive(Clone, Copy, Debug)]
pub enum GicRegisters {
    /// GICv2 distributor and CPU interface.
    V2 {
        /// Distributor.
        distributor: usize,
        /// CPU interface.
        cpu_interface: usize,
    },
    /// GICv3 distributor and redistributor region.
    V3 {
        /// Distributor.
        distributor: usize,
        /// First redistributor frame.
        redistributors: usize,
        /// Redistributor frames (128 KiB each on GICv3) the region holds.
        frames: usize,
    },
}

/// Why a CPU could not set up its interrupt controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicError {
    /// No redistributor's GICR_TYPER names this CPU's affinity.
    NoRedistributor(u64),
    /// The redistributor layout is not one `arm-gic` knows.
    BadLayout,
}

/// One CPU's handle on the interrupt controller.
#[derive(Clone, Copy, Debug)]
pub struct Gic {
    registers: GicRegisters,
}

/// How another CPU addresses SGIs to this one: the GICv2 CPU interface bit
/// or the GICv3 MPIDR affinity.
pub type SgiAddress = u64;

impl Gic {
    /// A handle on the mapped controller (nothing is touched yet).
    pub const fn new(registers: GicRegisters) -> Self {
        Gic { registers }
    }

    fn v2(distributor: usize, cpu_interface: usize) -> GicV2<'static> {
        // SAFETY: both addresses are device mappings of the GICv2 made by the
        // boot CPU; the driver value is a short-lived view (see module doc).
        unsafe { GicV2::new(distributor as *mut _, cpu_interface as *mut _) }
    }

    fn v3(distributor: usize, redistributors: usize, frames: usize) -> Result<GicV3<'static>, GicError> {
        // SAFETY: device mappings of the GICv3 distributor and redistributor
        // region made by the boot CPU (see module doc for sharing).
        unsafe {
            let gicd =
                UniqueMmioPointer::new(NonNull::new(distributor as *mut Gicd).ok_or(GicError::BadLayout)?);
            let gicr = NonNull::new(redistributors as *mut GicrSgi).ok_or(GicError::BadLayout)?;
            GicV3::new(gicd, gicr, frames).map_err(|_| GicError::BadLayout)
        }
    }

    /// Configures the distributor; boot CPU only, before other CPUs start.
    pub fn init_distributor(registers: GicRegisters) -> Result<(), GicError> {
        match registers {
            GicRegisters::V2 { distributor, cpu_interface } => Self::v2(distributor, cpu_interface).setup(),
            GicRegisters::V3 { distributor, redistributors, frames } => {
                Self::v3(distributor, redistributors, frames)?.distributor().configure_default_settings()
            }
        }
        Ok(())
    }

    /// Sets up this CPU's interface and enables `private` (SGIs and PPIs).
    /// Returns the handle and the address other CPUs send SGIs to.
    pub fn init_cpu(
        registers: GicRegisters,
        mpidr: u64,
        private: &[u32],
    ) -> Result<(Gic, SgiAddress), GicError> {
        let address = match registers {
            GicRegisters::V2 { distributor, cpu_interface } => {
                let mut gic = Self::v2(distributor, cpu_interface);
                gic.setup();
                for &intid in private {
                    let id = private_id(intid);
                    gic.set_interrupt_priority(id, PRIORITY);
                    let _ = gic.enable_interrupt(id, true);
                }
                gic.set_priority_mask(0xff);
                // SAFETY: ITARGETSR0 lies in the mapped distributor; reading
                // it has no side effect.
                let own = unsafe { ((distributor + GICD_ITARGETSR0) as *const u32).read_volatile() };
                u64::from(own & 0xff)
            }
            GicRegisters::V3 { distributor, redistributors, frames } => {
                let mut gic = Self::v3(distributor, redistributors, frames)?;
                let index = (0..frames)
                    .find(|&i| gic.gicr_typer(i).map(|t| t.core_mpidr()) == Ok(mpidr))
                    .ok_or(GicError::NoRedistributor(mpidr))?;
                gic.init_cpu(index);
                gic.redistributor(index).map_err(|_| GicError::BadLayout)?.configure_default_settings();
                for &intid in private {
                    let id = private_id(intid);
                    let _ = gic.set_interrupt_priority(id, Some(index), PRIORITY);
                    let _ = gic.enable_interrupt(id, Some(index), true);
                }
                GicCpuInterface::set_priority_mask(0xff);
                GicCpuInterface::enable_group1(true);
                mpidr
            }
        };
        Ok((Gic { registers }, address))
    }

    fn v3_distributor(distributor: usize) -> Option<GicDistributor<'static>> {
        let pointer = NonNull::new(distributor as *mut Gicd)?;
        // SAFETY: the device mapping of the GICv3 distributor made by the
        // boot CPU; the driver value is a short-lived view (see module doc).
        Some(GicDistributor::new(unsafe { UniqueMmioPointer::new(pointer) }))
    }

    /// Routes SPI `intid` to the CPU whose SGI address is `target` (GICv2:
    /// its CPU interface bit; GICv3: its MPIDR), level-triggered, in the
    /// group and at the priority of the kernel's own interrupts, and
    /// enables it. The distributor is shared hardware: each write here
    /// touches only this interrupt's bits.
    pub fn bind_spi(&self, intid: u32, target: SgiAddress) {
        let Some(id) = spi_id(intid) else { return };
        match self.registers {
            GicRegisters::V2 { distributor, cpu_interface } => {
                let mut gic = Self::v2(distributor, cpu_interface);
                let _ = gic.enable_interrupt(id, false);
                // Byte writes: `arm-gic` has no GICv2 routing, and its
                // `set_interrupt_priority` writes the whole word, which would
                // clear the priorities of three neighbours other cores may use.
                // SAFETY: both registers lie in the mapped distributor and are
                // byte-accessible; the byte belongs to this interrupt only.
                unsafe {
                    ((distributor + GICD_ITARGETSR + intid as usize) as *mut u8).write_volatile(target as u8);
                    ((distributor + GICD_IPRIORITYR + intid as usize) as *mut u8).write_volatile(PRIORITY);
                }
                gic.set_trigger(id, Trigger::Level);
                gic.set_group(id, InterruptGroup::Group0);
                let _ = gic.enable_interrupt(id, true);
            }
            GicRegisters::V3 { distributor, .. } => {
                let Some(mut gicd) = Self::v3_distributor(distributor) else { return };
                let _ = gicd.enable_interrupt(id, false);
                let _ = gicd.set_routing(id, Some(target));
                let _ = gicd.set_interrupt_priority(id, PRIORITY);
                let _ = gicd.set_trigger(id, Trigger::Level);
                let _ = gicd.set_group(id, Group::Group1NS);
                let _ = gicd.enable_interrupt(id, true);
            }
        }
    }

    /// Masks (`false`, GICD_ICENABLER) or unmasks (`true`, GICD_ISENABLER)
    /// SPI `intid` at the distributor.
    pub fn enable_spi(&self, intid: u32, enable: bool) {
        let Some(id) = spi_id(intid) else { return };
        match self.registers {
            GicRegisters::V2 { distributor, cpu_interface } => {
                let _ = Self::v2(distributor, cpu_interface).enable_interrupt(id, enable);
            }
            GicRegisters::V3 { distributor, .. } => {
                if let Some(mut gicd) = Self::v3_distributor(distributor) {
                    let _ = gicd.enable_interrupt(id, enable);
                }
            }
        }
    }

    /// Takes the highest-priority pending interrupt: (the value to pass to
    /// `end`, which on GICv2 carries the SGI's source CPU, and the interrupt ID).
    pub fn acknowledge(&self) -> Option<(IntId, u32)> {
        let acknowledged = match self.registers {
            GicRegisters::V2 { distributor, cpu_interface } => {
                Self::v2(distributor, cpu_interface).get_and_acknowledge_interrupt(InterruptGroup::Group0)?
            }
            GicRegisters::V3 { .. } => {
                GicCpuInterface::get_and_acknowledge_interrupt(InterruptGroup::Group1)?
            }
        };
        let intid = u32::from(acknowledged) & 0x3ff;
        (intid != SPURIOUS).then_some((acknowledged, intid))
    }

    /// Ends an interrupt returned by `acknowledge`.
    pub fn end(&self, acknowledged: IntId) {
        match self.registers {
            GicRegisters::V2 { distributor, cpu_interface } => {
                Self::v2(distributor, cpu_interface).end_interrupt(acknowledged, InterruptGroup::Group0)
            }
            GicRegisters::V3 { .. } => GicCpuInterface::end_interrupt(acknowledged, InterruptGroup::Group1),
        }
    }

    /// Raises SGI `sgi` (0..15) at the CPU with address `target`, after a
    /// `DSB ISHST` so the receiver sees every store made before.
    pub fn send_sgi(&self, sgi: u32, target: SgiAddress) {
        super::cpu::store_barrier();
        match self.registers {
            GicRegisters::V2 { distributor, cpu_interface } => Self::v2(distributor, cpu_interface).send_sgi(
                IntId::sgi(sgi),
                SgiTargetV2::List {
                    target_list_filter: SgiTargetListFilter::CPUTargetList,
                    target_list: target as u16,
                },
            ),
            GicRegisters::V3 { .. } => {
                let target = SgiTarget::List {
                    affinity3: (target >> 32) as u8,
                    affinity2: (target >> 16) as u8,
                    affinity1: (target >> 8) as u8,
                    target_list: 1 << (target & 0xf),
                };
                let _ = GicCpuInterface::send_sgi(IntId::sgi(sgi), target, SgiTargetGroup::CurrentGroup1);
            }
        }
        aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    }
}

/// The ID of SPI `intid` (32 to 1019).
fn spi_id(intid: u32) -> Option<IntId> {
    (FIRST_SPI..=LAST_SPI).contains(&intid).then(|| IntId::spi(intid - FIRST_SPI))
}

fn private_id(intid: u32) -> IntId {
    if intid < 16 {
        IntId::sgi(intid)
    } else {
        IntId::ppi(intid - 16)
    }
}
