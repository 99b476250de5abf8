//! A core's first program: its initial objects and capabilities (layout in
//! `docs/syscalls.md`), its address space from the boot modules, and the
//! first entry to EL0.

use super::dispatcher::{self, state};
use super::load::{self, STACK_TOP};
use super::store::KernelSlots;
use super::{vspace, UserCore};
use crate::arch::aarch64::exceptions::{mk_enter_user, ExceptionFrame};
use crate::boot::{phys_to_virt, PER_CORE_RESERVED};
use crate::cpu_driver::CpuDriver;
use caps::{CapType, Slot, SlotAddr, SlotStore, SLOT_BYTES};

use caps::abi::layout::{CHANNELS, CONSOLE_RINGS, FRAME, MODULES};
use caps::abi::monitor::{POOL_BYTES, UNIT_BYTES};
use caps::abi::slot;

/// Radix of the first program's root CNode.
const ROOT_RADIX: u64 = slot::ROOT_RADIX;
/// Memory set aside for the loader: the program's pages, stack and tables.
const LOADER_BYTES: u64 = 4 << 20;

/// Why the first program could not start.
#[derive(Debug)]
pub enum StartError {
    /// Loading failed.
    Load(load::LoadError),
    /// The core's partition is too small.
    NoMemory,
    /// Setting up the capabilities failed.
    Caps(caps::CapError),
}

impl From<caps::CapError> for StartError {
    fn from(error: caps::CapError) -> Self {
        StartError::Caps(error)
    }
}

fn align_up(value: u64, align: u64) -> u64 {
    value.div_ceil(align) * align
}

/// Starts `program` from the boot modules as this core's first dispatcher,
/// calling `started` just before it first runs; returns only if it cannot
/// be started.
pub fn start(me: &CpuDriver, program: &str, started: impl FnOnce()) -> StartError {
    let frame = match prepare(me, program) {
        Ok(frame) => frame,
        Err(error) => return error,
    };
    log::info!("user: core {} started {program}", me.index);
    started();
    let top = phys_to_virt(me.shared.partitions[me.index].pieces()[0].base + PER_CORE_RESERVED) as u64;
    me.user_frame.set(frame as *const ExceptionFrame as u64);
    // SAFETY: the frame resumes the program just set up; the kernel stack is
    // this core's own and nothing on it is needed any more.
    unsafe { mk_enter_user(frame, top) }
}

/// Where the first program's objects go in a core's RAM.
#[derive(Clone, Copy, Debug)]
struct Layout {
    cnode: u64,
    l0: u64,
    dispatcher_base: u64,
    loader: u64,
    /// `slot::RAM`: from here to `end`.
    ram: u64,
    end: u64,
}

/// The layout in `partition`: in its largest piece (the first begins with
/// the core's driver and stack).
fn layout(partition: &crate::memory::Partition) -> Option<Layout> {
    let (first, piece) =
        partition.pieces().iter().enumerate().max_by_key(|(_, p)| p.size).map(|(i, p)| (i == 0, *p))?;
    let start = if first { piece.base + PER_CORE_RESERVED } else { piece.base };
    let cnode_bytes = (1 << ROOT_RADIX) * SLOT_BYTES;
    let cnode = align_up(start, cnode_bytes);
    let l0 = cnode + cnode_bytes;
    let dispatcher_bytes = 1 << caps::cap_type::DISPATCHER_BITS;
    let dispatcher_base = align_up(l0 + vspace::PAGE, dispatcher_bytes);
    let loader = dispatcher_base + dispatcher_bytes;
    // 2 MiB-aligned, so that the program can retype objects up to 2 MiB
    // (the user allocator aligns offsets, not addresses).
    let ram = align_up(loader + LOADER_BYTES, 1 << 21);
    // At least a pool and as much again for everything else.
    (ram + 2 * POOL_BYTES <= piece.end()).then_some(Layout {
        cnode,
        l0,
        dispatcher_base,
        loader,
        ram,
        end: piece.end(),
    })
}

/// Core `core`'s monitor pool: physical base, bytes, and offset inside its
/// `slot::RAM` (the top `POOL_BYTES`, unit-aligned).
pub fn pool(me: &CpuDriver, core: usize) -> Option<(u64, u64, u64)> {
    let partition = me.shared.partitions.get(core).filter(|_| core < me.shared.info.cpu_count)?;
    let layout = layout(partition)?;
    let base = (layout.end - POOL_BYTES) / UNIT_BYTES * UNIT_BYTES;
    Some((base, POOL_BYTES, base - layout.ram))
}

/// Core `core`'s user RAM (its first program's `slot::RAM`): physical
/// base and bytes.
pub fn user_ram(me: &CpuDriver, core: usize) -> Option<(u64, u64)> {
    let partition = me.shared.partitions.get(core).filter(|_| core < me.shared.info.cpu_count)?;
    let layout = layout(partition)?;
    Some((layout.ram, layout.end - layout.ram))
}

/// Returns the first dispatcher's context.
fn prepare(me: &CpuDriver, program: &str) -> Result<&'static ExceptionFrame, StartError> {
    let Layout { cnode, l0, dispatcher_base, loader, ram, end } =
        layout(&me.shared.partitions[me.index]).ok_or(StartError::NoMemory)?;
    let cnode_bytes = (1 << ROOT_RADIX) * SLOT_BYTES;
    let dispatcher_bytes = 1 << caps::cap_type::DISPATCHER_BITS;
    // SAFETY: this core's RAM after its stack: unused until now.
    unsafe { core::ptr::write_bytes(phys_to_virt(l0) as *mut u8, 0, (ram - l0) as usize) };

    let mut user = me.user.borrow_mut();
    let UserCore { database, slots } = &mut *user;
    *slots = KernelSlots::new(me.shared.partitions[me.index]);
    slots.live_holders = 1;
    let slot_at =
        |index: u64| SlotAddr::new(cnode + index * SLOT_BYTES).ok_or(caps::CapError::BadSlotAddress);
    for index in 0..1 << ROOT_RADIX {
        slots.init_slot(slot_at(index)?, Slot::EMPTY);
    }
    database.insert_root(slots, slot_at(slot::ROOT_CNODE)?, CapType::CNode, cnode, cnode_bytes)?;
    database.insert_root(slots, slot_at(slot::ROOT_VNODE)?, CapType::VNodeL0, l0, vspace::PAGE)?;
    database.insert_root(
        slots,
        slot_at(slot::DISPATCHER)?,
        CapType::Dispatcher,
        dispatcher_base,
        dispatcher_bytes,
    )?;
    database.insert_root(slots, slot_at(slot::RAM)?, CapType::Ram, ram, end - ram)?;
    database.insert_root(slots, slot_at(slot::KERNEL)?, CapType::Kernel, 0, 0)?;

    let mut next = loader;
    let mut allocate = || {
        let page = next;
        next += vspace::PAGE;
        (next <= loader + LOADER_BYTES).then_some(page)
    };
    let modules = load::modules(me.shared.info.initrd).map_err(StartError::Load)?;
    let image = load::find(modules, program).map_err(StartError::Load)?;
    let entry = load::load(image, l0, &mut allocate).map_err(StartError::Load)?;
    // Its dispatcher frame, at a fixed address; recorded as the mapping of
    // its Dispatcher capability, so the page goes when the object does.
    let frame_page = dispatcher_base + dispatcher::FRAME_OFFSET;
    let rights = caps::Rights::READ | caps::Rights::WRITE;
    let frame_entry = vspace::map_page(l0, FRAME, frame_page, rights, &mut allocate)
        .ok_or(StartError::Load(load::LoadError::OutOfMemory))?;
    caps::CapDatabase::set_mapping(slots, slot_at(slot::DISPATCHER)?, frame_entry)?;
    // The user channel area (a stand-in until monitors hand out channels).
    let channels = me.shared.user_channels;
    let mut offset = 0;
    while offset < channels.size {
        vspace::map_page(l0, CHANNELS + offset, channels.base + offset, rights, &mut allocate)
            .ok_or(StartError::Load(load::LoadError::OutOfMemory))?;
        offset += vspace::PAGE;
    }
    // The console rings, which the console driver drains once it took the
    // console (`Kernel.console`).
    let rings = me.shared.console_rings;
    let ring_bytes = crate::console::ring::area_size(me.shared.info.cpu_count) as u64;
    let mut offset = 0;
    while offset < ring_bytes {
        vspace::map_page(l0, CONSOLE_RINGS + offset, rings.base + offset, rights, &mut allocate)
            .ok_or(StartError::Load(load::LoadError::OutOfMemory))?;
        offset += vspace::PAGE;
    }
    // The boot modules, read-only, for the monitor to load programs from.
    if let Some(initrd) = me.shared.info.initrd {
        let first = initrd.base & !(vspace::PAGE - 1);
        let mut page = first;
        while page < initrd.end() {
            vspace::map_page(l0, MODULES + (page - first), page, caps::Rights::READ, &mut allocate)
                .ok_or(StartError::Load(load::LoadError::OutOfMemory))?;
            page += vspace::PAGE;
        }
    }

    // SAFETY: the dispatcher object was just zeroed and is this core's.
    let object = unsafe { dispatcher::object(dispatcher_base) };
    object
        .set_spaces(slots, slot_at(slot::ROOT_CNODE)?, slot_at(slot::ROOT_VNODE)?)
        .map_err(|_| caps::CapError::WrongType)?;
    object.set_name(program);
    object.state = state::RUNNING;
    object.priority = caps::abi::priority::DEFAULT;
    object.frame_va = FRAME;
    slots.sched.link(dispatcher_base);
    slots.sched.running = dispatcher_base;
    slots.sched.active_root = l0;
    enable_user_counter();
    vspace::switch_to(l0);
    // The registers start zero; FP/SIMD traps on first use (and gets zeros).
    crate::arch::aarch64::cpu::allow_user_fp(false);
    slots.sched.fp_allowed = false;
    crate::arch::aarch64::cpu::set_user_thread_pointer(0);
    object.context = ExceptionFrame::user(entry, STACK_TOP, &[me.index as u64, me.online_cores(), FRAME]);
    object.thread_pointer = 0;
    // SAFETY: the object lives as long as its capability; if that goes, the
    // kernel stops using its context (and never returns to it).
    Ok(unsafe { &*(&object.context as *const ExceptionFrame) })
}

/// Lets EL0 read the virtual counter (`CNTVCT_EL0`) for its own timing.
fn enable_user_counter() {
    use aarch64_cpu::registers::{ReadWriteable, CNTKCTL_EL1};
    CNTKCTL_EL1.modify(CNTKCTL_EL1::EL0VCTEN::SET);
}
