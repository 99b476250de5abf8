//! Why a device tree cannot be used.

use core::fmt;

/// Why the kernel cannot run on a device tree; printed as `PANIC dtb: <reason>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtError {
    /// The loader's x0 does not point at a blob (`0xd00dfeed` missing).
    BadMagic,
    /// The blob or one of its blocks ends early.
    Truncated,
    /// Structure block damaged at this offset.
    Malformed(usize),
    /// Nodes nest deeper than the kernel walks.
    TooDeep,
    /// Header version older than 17.
    UnsupportedVersion(u32),
    /// x0 is not an address the kernel can map.
    BadAddress(u64),
    /// No `/memory` node with a usable `reg`.
    NoMemory,
    /// No `/cpus` node or no CPU in it.
    NoCpus,
    /// The booting CPU's MPIDR is not among the CPU nodes.
    BootCpuNotListed(u64),
    /// No GICv2/GICv3 interrupt controller node.
    NoGic,
    /// The GIC node lacks its register ranges.
    BadGicReg,
    /// No `arm,armv8-timer` node, or its interrupts are not PPIs.
    NoTimer,
    /// `#address-cells`/`#size-cells` outside 1..=2 (0 for sizes), or a value
    /// whose length is not a whole number of entries.
    BadCells,
    /// An address does not translate through a parent's `ranges`.
    Untranslatable(u64),
    /// `/psci` names a method other than `hvc`/`smc`.
    BadPsciMethod,
    /// `linux,initrd-start/end` is inverted or malformed.
    BadInitrd,
}

impl fmt::Display for DtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DtError::BadMagic => write!(f, "no device tree at x0 (bad magic)"),
            DtError::Truncated => write!(f, "blob truncated"),
            DtError::Malformed(at) => write!(f, "structure block malformed at offset {at:#x}"),
            DtError::TooDeep => write!(f, "nodes nested too deeply"),
            DtError::UnsupportedVersion(v) => write!(f, "unsupported version {v}"),
            DtError::BadAddress(a) => write!(f, "blob address {a:#x} not usable"),
            DtError::NoMemory => write!(f, "no /memory node with a reg"),
            DtError::NoCpus => write!(f, "no cpu nodes under /cpus"),
            DtError::BootCpuNotListed(m) => write!(f, "boot cpu mpidr {m:#x} not in /cpus"),
            DtError::NoGic => write!(f, "no GICv2/v3 interrupt controller"),
            DtError::BadGicReg => write!(f, "interrupt controller reg incomplete"),
            DtError::NoTimer => write!(f, "no arm,armv8-timer with PPI interrupts"),
            DtError::BadCells => write!(f, "bad #address-cells/#size-cells or reg length"),
            DtError::Untranslatable(a) => write!(f, "address {a:#x} outside parent ranges"),
            DtError::BadPsciMethod => write!(f, "/psci method is neither hvc nor smc"),
            DtError::BadInitrd => write!(f, "bad linux,initrd-start/end"),
        }
    }
}
