//! Boot modules: find a program in the initrd (CPIO `newc`) and load its ELF
//! segments into a new address space.

use super::vspace::{self, PAGE};
use crate::boot::phys_to_virt;
use caps::Rights;
use elf::abi::{EM_AARCH64, ET_EXEC, PF_W, PF_X, PT_LOAD};
use elf::endian::LittleEndian;
use elf::ElfBytes;

pub use caps::abi::layout::{STACK_SIZE, STACK_TOP};

/// Why a program could not be loaded.
#[derive(Clone, Copy, Debug)]
pub enum LoadError {
    /// No initrd was passed.
    NoInitrd,
    /// No file of that name in the initrd.
    NotFound,
    /// Not a static AArch64 executable, or a segment is malformed.
    BadElf,
    /// A segment lies outside user space below the stack.
    BadAddress,
    /// The loader's memory ran out.
    OutOfMemory,
}

/// The boot modules: the initrd's bytes (read-only, linearly mapped).
pub fn modules<'a>(initrd: Option<crate::bootinfo::Region>) -> Result<&'a [u8], LoadError> {
    let region = initrd.ok_or(LoadError::NoInitrd)?;
    // SAFETY: the initrd lies in RAM (kept out of every partition), which is
    // linearly mapped, and nothing writes it.
    Ok(unsafe { core::slice::from_raw_parts(phys_to_virt(region.base) as *const u8, region.size as usize) })
}

/// The program called `name` in the boot modules.
pub fn find<'a>(modules: &'a [u8], name: &str) -> Result<&'a [u8], LoadError> {
    caps::initrd::find(modules, name).ok_or(LoadError::NotFound)
}

/// The names of all programs in the boot modules (for error messages).
pub fn names(modules: &[u8]) -> impl Iterator<Item = &str> {
    caps::initrd::files(modules).map(|file| file.name)
}

/// Maps `program`'s loadable segments and a stack under `root`, taking
/// zeroed 4 KiB pages from `allocate`. Returns the entry point.
pub fn load(program: &[u8], root: u64, allocate: &mut dyn FnMut() -> Option<u64>) -> Result<u64, LoadError> {
    let file = ElfBytes::<LittleEndian>::minimal_parse(program).map_err(|_| LoadError::BadElf)?;
    if file.ehdr.e_machine != EM_AARCH64 || file.ehdr.e_type != ET_EXEC {
        return Err(LoadError::BadElf);
    }
    let segments = file.segments().ok_or(LoadError::BadElf)?;
    for segment in segments.iter().filter(|s| s.p_type == PT_LOAD) {
        let start = segment.p_vaddr & !(PAGE - 1);
        let end = segment.p_vaddr.checked_add(segment.p_memsz).ok_or(LoadError::BadAddress)?;
        if start == 0 || end > caps::abi::layout::FRAME || segment.p_filesz > segment.p_memsz {
            return Err(LoadError::BadAddress);
        }
        let data = program
            .get(segment.p_offset as usize..(segment.p_offset + segment.p_filesz) as usize)
            .ok_or(LoadError::BadElf)?;
        let mut rights = Rights::READ;
        if segment.p_flags & PF_W != 0 {
            rights |= Rights::WRITE;
        }
        if segment.p_flags & PF_X != 0 {
            rights |= Rights::EXECUTE;
        }
        let mut page = start;
        while page < end {
            let frame = allocate().ok_or(LoadError::OutOfMemory)?;
            copy_into_page(frame, page, segment.p_vaddr, data);
            vspace::map_page(root, page, frame, rights, allocate).ok_or(LoadError::OutOfMemory)?;
            page += PAGE;
        }
    }
    let mut page = STACK_TOP - STACK_SIZE;
    while page < STACK_TOP {
        let frame = allocate().ok_or(LoadError::OutOfMemory)?;
        vspace::map_page(root, page, frame, Rights::READ | Rights::WRITE, allocate)
            .ok_or(LoadError::OutOfMemory)?;
        page += PAGE;
    }
    Ok(file.ehdr.e_entry)
}

/// Copies the part of `data` (which starts at `segment_start`) that falls
/// into the page at `page` into the zeroed `frame`.
fn copy_into_page(frame: u64, page: u64, segment_start: u64, data: &[u8]) {
    let data_end = segment_start + data.len() as u64;
    let from = page.max(segment_start);
    let to = (page + PAGE).min(data_end);
    if from >= to {
        return;
    }
    let source = &data[(from - segment_start) as usize..(to - segment_start) as usize];
    // SAFETY: `frame` is a zeroed page of this core's RAM the loader just
    // took, linearly mapped; the copy stays inside it.
    unsafe {
        let target = (phys_to_virt(frame) + (from - page) as usize) as *mut u8;
        core::ptr::copy_nonoverlapping(source.as_ptr(), target, source.len());
    }
}
