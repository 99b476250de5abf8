//! The read-only boot information the kernel takes from the device tree.
//!
//! Everything is copied into fixed-size fields, so a `BootInfo` does not point
//! into the device tree blob and outlives the mapping it was read through.

mod error;
mod fixed;
mod parse;
mod tree;
mod validate;

pub use error::DtError;
pub use fixed::{FixedStr, RegionList};
pub use parse::{parse, MPIDR_AFFINITY_MASK};
pub use validate::total_size;

/// Most CPUs the kernel drives; further `/cpus` entries are listed but skipped.
pub const MAX_CPUS: usize = 64;
/// Most memory or reserved regions kept from the device tree.
pub const MAX_REGIONS: usize = 16;

/// A physical address range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Region {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl Region {
    /// One past the last byte (saturating).
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether the two ranges share a byte.
    pub fn overlaps(&self, other: &Region) -> bool {
        self.base < other.end() && other.base < self.end()
    }
}

/// How a secondary CPU is started, from its node's `enable-method`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnableMethod {
    /// PSCI `CPU_ON` through the `/psci` conduit.
    Psci,
    /// Write the entry point to `cpu-release-addr` and `sev`.
    SpinTable {
        /// Physical address of the release slot.
        release_addr: u64,
    },
    /// No `enable-method` (QEMU's single CPU): only usable as the boot CPU.
    #[default]
    Absent,
    /// A method this kernel does not know.
    Unknown,
    /// `spin-table` without a `cpu-release-addr`.
    SpinTableWithoutAddress,
}

impl EnableMethod {
    /// The name printed on the console.
    pub fn name(&self) -> &'static str {
        match self {
            EnableMethod::Psci => "psci",
            EnableMethod::SpinTable { .. } => "spin-table",
            EnableMethod::Absent => "none",
            EnableMethod::Unknown => "unknown",
            EnableMethod::SpinTableWithoutAddress => "spin-table without cpu-release-addr",
        }
    }
}

/// One `/cpus` child with `device_type = "cpu"`, in device-tree order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuInfo {
    /// MPIDR affinity (Aff3 in bits 39:32, Aff2..Aff0 in 23:0), or `None`
    /// when the node has no usable `reg`.
    pub mpidr: Option<u64>,
    /// How to start it.
    pub method: EnableMethod,
    /// The cluster it belongs to, from `/cpus/cpu-map`: clusters (the
    /// innermost nodes holding `coreN` nodes, so cores under different
    /// sockets never share one) are numbered 0, 1, ... as they first appear
    /// in the map. CPUs the map leaves out share one cluster after those.
    /// Without a cpu-map, or with one that cannot be read, every CPU is in
    /// cluster 0.
    pub cluster: u16,
}

/// The PSCI conduit named by `/psci` `method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conduit {
    /// `hvc #0`.
    Hvc,
    /// `smc #0`.
    Smc,
}

/// The interrupt controller and its (translated) register ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicInfo {
    /// GICv2 (GIC-400 and friends).
    V2 {
        /// Distributor.
        distributor: Region,
        /// CPU interface.
        cpu_interface: Region,
    },
    /// GICv3 with one redistributor region.
    V3 {
        /// Distributor.
        distributor: Region,
        /// The first redistributor region.
        redistributors: Region,
    },
}

impl GicInfo {
    /// 2 or 3.
    pub fn version(&self) -> u32 {
        match self {
            GicInfo::V2 { .. } => 2,
            GicInfo::V3 { .. } => 3,
        }
    }
}

/// Generic timer interrupts as GIC interrupt IDs (PPIs, 16..31).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerInfo {
    /// Non-secure EL1 physical timer.
    pub physical: u32,
    /// EL1 virtual timer (the one the kernel uses).
    pub virtual_timer: u32,
}

/// Everything the kernel reads from the device tree, copied out of it.
#[derive(Clone, Debug)]
pub struct BootInfo {
    /// RAM from `/memory` nodes.
    pub memory: RegionList,
    /// `/memreserve/` entries and `/reserved-memory` children.
    pub reserved: RegionList,
    /// The first `MAX_CPUS` CPU nodes, in device-tree order.
    pub cpus: [CpuInfo; MAX_CPUS],
    /// How many of `cpus` are filled.
    pub cpu_count: usize,
    /// How many CPU nodes the tree lists (may exceed `MAX_CPUS`).
    pub cpus_listed: usize,
    /// The PSCI conduit, when there is a `/psci` node.
    pub psci: Option<Conduit>,
    /// The interrupt controller.
    pub gic: GicInfo,
    /// Timer interrupts.
    pub timer: TimerInfo,
    /// `/chosen/bootargs`.
    pub bootargs: FixedStr<512>,
    /// `/chosen/stdout-path`.
    pub stdout_path: FixedStr<128>,
    /// `/chosen/linux,initrd-start` .. `linux,initrd-end`.
    pub initrd: Option<Region>,
    /// Where the blob itself lies.
    pub dtb: Region,
}

impl BootInfo {
    /// The CPU nodes that were kept.
    pub fn cpus(&self) -> &[CpuInfo] {
        &self.cpus[..self.cpu_count]
    }

    /// Index (device-tree order) of the CPU whose MPIDR affinity is `mpidr`.
    pub fn cpu_index(&self, mpidr: u64) -> Option<usize> {
        self.cpus().iter().position(|c| c.mpidr == Some(mpidr))
    }

    /// How many clusters the kept CPUs form (their numbers are `0..clusters()`).
    pub fn clusters(&self) -> u16 {
        self.cpus().iter().map(|c| c.cluster + 1).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
