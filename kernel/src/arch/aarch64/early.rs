//! The first Rust to run, on the boot CPU with the MMU off, at whatever
//! physical address the loader chose: it builds the tables that map the image
//! at its link address (TTBR1) and at its load address (TTBR0, identity, used
//! only while the MMU comes on). Position-independent by construction: it
//! reaches statics only PC-relatively and calls nothing that can panic.

use super::handoff::{MmuConfig, BOOT_HANDOFF};
use super::mmu::{mair_index, Attributes, Mapper};
use aarch64_cpu::registers::{Readable, ID_AA64MMFR0_EL1, MAIR_EL1, SCTLR_EL1, TCR_EL1};

extern "C" {
    static __image_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __image_end: u8;
}

/// Offsets of the image's sections from its start (equal in any view).
pub struct ImageLayout {
    /// End of code.
    pub text: u64,
    /// End of read-only data.
    pub rodata: u64,
    /// End of data and BSS.
    pub end: u64,
}

/// The image's section boundaries, relative to its start.
pub fn image_layout() -> ImageLayout {
    let start = core::ptr::addr_of!(__image_start) as u64;
    ImageLayout {
        text: core::ptr::addr_of!(__text_end) as u64 - start,
        rodata: core::ptr::addr_of!(__rodata_end) as u64 - start,
        end: core::ptr::addr_of!(__image_end) as u64 - start,
    }
}

/// Maps the image's sections at `virt` (for `phys`) with their permissions.
pub fn map_image(
    mapper: &Mapper,
    root: u64,
    virt: u64,
    phys: u64,
    identity: bool,
) -> Result<(), super::mmu::MapError> {
    let layout = image_layout();
    if identity {
        return mapper.map(root, phys, phys, layout.end, Attributes::BootIdentity);
    }
    mapper.map(root, virt, phys, layout.text, Attributes::KernelText)?;
    let ro = layout.rodata - layout.text;
    mapper.map(root, virt + layout.text, phys + layout.text, ro, Attributes::KernelReadOnly)?;
    let rw = layout.end - layout.rodata;
    mapper.map(root, virt + layout.rodata, phys + layout.rodata, rw, Attributes::KernelData)
}

/// Builds the boot tables and the MMU configuration every CPU loads.
/// Returns the configuration's physical address; halts if the pool runs out.
///
/// # Safety
/// Called once, by `boot.S`, on the boot CPU with the MMU off; `image_physical`
/// is the load address and `image_virtual` the link address.
#[no_mangle]
pub unsafe extern "C" fn mk_early_map(image_physical: u64, image_virtual: u64) -> *const MmuConfig {
    // SAFETY: boot CPU, MMU off, code sees the image at its physical address.
    let mapper = unsafe { Mapper::new(image_physical, image_physical) };
    let built = (|| {
        let kernel_root = mapper.allocate_table()?;
        let identity_root = mapper.allocate_table()?;
        map_image(&mapper, kernel_root, image_virtual, image_physical, false)?;
        map_image(&mapper, identity_root, 0, image_physical, true)?;
        Ok::<_, super::mmu::MapError>((identity_root, kernel_root))
    })();
    let Ok((identity_root, kernel_root)) = built else {
        // Nothing can be printed yet; a debugger shows the PC here.
        loop {
            aarch64_cpu::asm::wfe();
        }
    };
    let config =
        MmuConfig { mair: mair(), tcr: tcr(), ttbr0: identity_root, ttbr1: kernel_root, sctlr: sctlr() };
    // SAFETY: PC-relative address of the hand-off block; nothing else runs.
    unsafe {
        let handoff = BOOT_HANDOFF.get();
        core::ptr::addr_of_mut!((*handoff).mmu).write_volatile(config);
        core::ptr::addr_of!((*handoff).mmu)
    }
}

/// Slots as named by `mmu::mair_index` (0 device, 1 normal, 2 non-cacheable).
fn mair() -> u64 {
    const _: () = assert!(mair_index::DEVICE == 0 && mair_index::NORMAL == 1);
    const _: () = assert!(mair_index::NORMAL_NONCACHEABLE == 2);
    (MAIR_EL1::Attr0_Device::nonGathering_nonReordering_EarlyWriteAck
        + MAIR_EL1::Attr1_Normal_Outer::WriteBack_NonTransient_ReadWriteAlloc
        + MAIR_EL1::Attr1_Normal_Inner::WriteBack_NonTransient_ReadWriteAlloc
        + MAIR_EL1::Attr2_Normal_Outer::NonCacheable
        + MAIR_EL1::Attr2_Normal_Inner::NonCacheable)
        .value
}

fn tcr() -> u64 {
    let physical_range = ID_AA64MMFR0_EL1.read(ID_AA64MMFR0_EL1::PARange).min(5);
    (TCR_EL1::T0SZ.val(16)
        + TCR_EL1::IRGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
        + TCR_EL1::ORGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
        + TCR_EL1::SH0::Inner
        + TCR_EL1::TG0::KiB_4
        + TCR_EL1::T1SZ.val(16)
        + TCR_EL1::IRGN1::WriteBack_ReadAlloc_WriteAlloc_Cacheable
        + TCR_EL1::ORGN1::WriteBack_ReadAlloc_WriteAlloc_Cacheable
        + TCR_EL1::SH1::Inner
        + TCR_EL1::TG1::KiB_4
        + TCR_EL1::IPS.val(physical_range))
    .value
}

fn sctlr() -> u64 {
    let res1 = (1 << 29) | (1 << 28) | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11);
    res1 | (SCTLR_EL1::M::Enable + SCTLR_EL1::C::Cacheable + SCTLR_EL1::I::Cacheable + SCTLR_EL1::SA::Enable)
        .value
}
