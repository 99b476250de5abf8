//! The boot CPU: device tree, memory, the other CPUs, the self-check.

use super::start::{start_secondaries, StartReport};
use super::{
    page_span, phys_to_virt, DRIVER_AREA, LINEAR_BASE, LINEAR_LIMIT, MAX_DTB_SIZE, PER_CORE_RESERVED,
    STACK_SIZE,
};
use crate::arch::aarch64::cpu;
use crate::arch::aarch64::early::image_layout;
use crate::arch::aarch64::gic::{Gic, GicRegisters};
use crate::arch::aarch64::handoff::BOOT_HANDOFF;
use crate::arch::aarch64::mmu::{Attributes, Mapper, PAGE_SIZE};
use crate::board::{Board, BoardSetup};
use crate::bootinfo::{self, BootInfo, DtError, GicInfo, Region};
use crate::channels::Channels;
use crate::command::{broadcast, deadline_in, Command, Kind};
use crate::console::ring::RingWriter;
use crate::cpu_driver::{self, CpuDriver};
use crate::shared::{state, BootShared};
use crate::user::store::KernelSlots;
use crate::user::UserCore;
use crate::{bootargs, console, memory, ontarget, selfcheck};
use core::cell::{Cell, RefCell};
use core::sync::atomic::Ordering;

extern "C" {
    static __image_start: u8;
}

/// The boot CPU's mapping state while it builds the kernel's view.
struct BootMapper {
    mapper: Mapper,
    root: u64,
}

impl BootMapper {
    fn map(&self, physical: u64, size: u64, attributes: Attributes) -> Option<usize> {
        let (start, length) = page_span(physical, size);
        if start.checked_add(length)? > LINEAR_LIMIT {
            return None;
        }
        self.mapper.map(self.root, LINEAR_BASE + start, start, length, attributes).ok()?;
        Some(phys_to_virt(physical))
    }

    /// Maps and parses the device tree at `physical`.
    fn device_tree(&self, physical: u64) -> Result<BootInfo, DtError> {
        if physical == 0 || !physical.is_multiple_of(8) || physical >= LINEAR_LIMIT - MAX_DTB_SIZE {
            return Err(DtError::BadAddress(physical));
        }
        let header =
            self.map(physical, 64, Attributes::KernelReadOnly).ok_or(DtError::BadAddress(physical))?;
        // SAFETY: the 64 bytes at `header` were just mapped read-only.
        let total = bootinfo::total_size(unsafe { core::slice::from_raw_parts(header as *const u8, 64) })?;
        if total as u64 > MAX_DTB_SIZE {
            return Err(DtError::Truncated);
        }
        let blob = self
            .map(physical, total as u64, Attributes::KernelReadOnly)
            .ok_or(DtError::BadAddress(physical))?;
        // SAFETY: `total` bytes at `blob` are mapped read-only and nothing writes them.
        bootinfo::parse(unsafe { core::slice::from_raw_parts(blob as *const u8, total) }, physical)
    }

    fn gic(&self, info: &GicInfo) -> Option<GicRegisters> {
        Some(match *info {
            GicInfo::V2 { distributor, cpu_interface } => GicRegisters::V2 {
                distributor: self.map(distributor.base, distributor.size, Attributes::Device)?,
                cpu_interface: self.map(cpu_interface.base, cpu_interface.size, Attributes::Device)?,
            },
            GicInfo::V3 { distributor, redistributors } => GicRegisters::V3 {
                distributor: self.map(distributor.base, distributor.size, Attributes::Device)?,
                redistributors: self.map(redistributors.base, redistributors.size, Attributes::Device)?,
                frames: (redistributors.size / (128 << 10)) as usize,
            },
        })
    }
}

/// Entered from `boot.S` (through the board's entry) on the boot CPU, in the
/// upper half, on the boot stack.
pub fn primary<B: Board>(dtb: u64, image_physical: u64, entry_el: u64) -> ! {
    cpu::install_vectors();
    cpu::disable_low_half();
    let image_virtual = core::ptr::addr_of!(__image_start) as u64;
    // SAFETY: boot CPU, others not started; the image is where the loader put it.
    let mapper = unsafe { Mapper::new(image_physical, image_virtual) };
    // SAFETY: written by `mk_early_map`, read on the same CPU.
    let root = unsafe { (*BOOT_HANDOFF.get()).mmu.ttbr1 };
    let boot = BootMapper { mapper, root };
    let mut map_device = |physical, size| boot.map(physical, size, Attributes::Device);
    let board = B::new(&mut BoardSetup::new(entry_el == 2, &mut map_device));
    if let Some(uart) = boot.map(B::CONSOLE.base, PAGE_SIZE, Attributes::Device) {
        console::init(uart, B::CONSOLE.clock_hz);
    }
    console::install_logger();
    log::info!("mk: multikernel CPU driver, board {}, entered at EL{}", B::NAME, entry_el);
    let info = boot.device_tree(dtb).unwrap_or_else(|e| crate::panic::dtb(e, &board));
    let boot_index = info
        .cpu_index(cpu::mpidr())
        .unwrap_or_else(|| crate::panic::dtb(DtError::BootCpuNotListed(cpu::mpidr()), &board));
    for ram in info.memory.as_slice() {
        if boot.map(ram.base, ram.size, Attributes::KernelData).is_none() {
            log::warn!(
                "memory {:#x}+{:#x} not mapped (beyond the linear map or out of tables)",
                ram.base,
                ram.size
            );
        }
    }
    let gic = boot.gic(&info.gic).unwrap_or_else(|| panic!("cannot map the interrupt controller"));
    let shared = build_shared(&info, board, gic, boot_index, image_physical);
    Gic::init_distributor(gic).unwrap_or_else(|e| panic!("interrupt controller: {e:?}"));
    let driver = place_drivers(shared);
    let stack_top = driver as *const CpuDriver as u64 - DRIVER_AREA + PER_CORE_RESERVED;
    // SAFETY: the stack lies in the boot CPU's own partition and is unused;
    // `continue_primary` never returns.
    unsafe { switch_stack(stack_top, continue_primary, driver as *const CpuDriver as usize) }
}

/// Puts `BootShared` and the board into RAM carved before partitioning.
fn build_shared<B: Board>(
    info: &BootInfo,
    board: B,
    gic: GicRegisters,
    boot_index: usize,
    image_physical: u64,
) -> &'static BootShared {
    let image = Region { base: image_physical, size: image_layout().end };
    let mut free = memory::free_ram(info, &[image]);
    let shared_size = core::mem::size_of::<BootShared>().next_multiple_of(64) as u64;
    let region = memory::carve(&mut free, shared_size + core::mem::size_of::<B>() as u64)
        .unwrap_or_else(|| panic!("no RAM for boot data"));
    let channel_area = memory::carve(&mut free, Channels::size(info.cpu_count) as u64)
        .unwrap_or_else(|| panic!("no RAM for the URPC channels"));
    let user_channels = memory::carve(&mut free, Channels::size(info.cpu_count) as u64)
        .unwrap_or_else(|| panic!("no RAM for the user URPC channels"));
    let console_rings = memory::carve(&mut free, console::ring::area_size(info.cpu_count) as u64)
        .unwrap_or_else(|| panic!("no RAM for the console rings"));
    let partitions = memory::partition(&free, info.cpu_count, PER_CORE_RESERVED)
        .unwrap_or_else(|| panic!("too little RAM for {} cores", info.cpu_count));
    let ram: u64 = info.memory.as_slice().iter().map(|r| r.size).sum();
    let lowest = free.as_slice().first().map_or(0, |r| r.base);
    log::info!(
        "mem: {} MiB RAM, {} reserved regions, {} MiB per core, free from {lowest:#x}",
        ram >> 20,
        info.reserved.as_slice().len(),
        partitions[0].size() >> 20
    );
    let shared = phys_to_virt(region.base) as *mut BootShared;
    let board_slot = phys_to_virt(region.base + shared_size) as *mut B;
    // SAFETY: the carved region is mapped RAM owned by nobody else; zero is a
    // valid bit pattern for every mailbox, and each field is written before
    // the reference is made.
    unsafe {
        core::ptr::write_bytes(shared as *mut u8, 0, region.size as usize);
        board_slot.write(board);
        core::ptr::addr_of_mut!((*shared).info).write(info.clone());
        core::ptr::addr_of_mut!((*shared).board).write(&*board_slot);
        core::ptr::addr_of_mut!((*shared).board_name).write(B::NAME);
        core::ptr::addr_of_mut!((*shared).console_uart).write(B::CONSOLE);
        core::ptr::addr_of_mut!((*shared).gic).write(gic);
        core::ptr::addr_of_mut!((*shared).partitions).write(partitions);
        core::ptr::addr_of_mut!((*shared).boot_index).write(boot_index);
        core::ptr::addr_of_mut!((*shared).image_physical).write(image_physical);
        let channels = Channels::init(phys_to_virt(channel_area.base), info.cpu_count);
        core::ptr::addr_of_mut!((*shared).channels).write(channels);
        // Initialised like the kernel's; user space owns the area from now
        // on (the kernel only rings the console core's doorbell there).
        let user_mesh = Channels::init(phys_to_virt(user_channels.base), info.cpu_count);
        core::ptr::addr_of_mut!((*shared).user_channels).write(user_channels);
        core::ptr::addr_of_mut!((*shared).user_mesh).write(user_mesh);
        console::ring::init_area(console_rings, info.cpu_count);
        core::ptr::addr_of_mut!((*shared).console_rings).write(console_rings);
        &*shared
    }
}

/// Writes every core's `CpuDriver` at the start of its partition; returns the boot CPU's.
fn place_drivers(shared: &'static BootShared) -> &'static CpuDriver {
    for (index, cpu_info) in shared.info.cpus().iter().enumerate() {
        let base = shared.partitions[index].pieces()[0].base;
        let driver = CpuDriver {
            user_frame: Cell::new(0),
            index,
            mpidr: cpu_info.mpidr.unwrap_or(u64::MAX),
            shared,
            gic: Gic::new(shared.gic),
            ticks: Cell::new(0),
            wake_pending: Cell::new(false),
            mesh_received: Cell::new(0),
            bench_sgis: Cell::new(0),
            user: RefCell::new(UserCore {
                database: caps::CapDatabase::new(),
                slots: KernelSlots::new(shared.partitions[index]),
            }),
            console: RefCell::new(RingWriter::new(console::ring::ring(shared.console_rings, index))),
        };
        // SAFETY: the partition's first DRIVER_AREA bytes are mapped RAM that
        // belongs to this core and are not used by anything yet.
        unsafe { (phys_to_virt(base) as *mut CpuDriver).write(driver) };
    }
    let base = shared.partitions[shared.boot_index].pieces()[0].base;
    // SAFETY: written just above.
    unsafe { &*(phys_to_virt(base) as *const CpuDriver) }
}

/// Continues `entry(argument)` on a new stack.
///
/// # Safety
/// `stack_top` must be the top of an unused, mapped stack.
unsafe fn switch_stack(stack_top: u64, entry: extern "C" fn(usize) -> !, argument: usize) -> ! {
    // SAFETY: the caller provides the stack; `entry` never returns.
    unsafe {
        core::arch::asm!("mov sp, {stack}", "br {entry}",
            stack = in(reg) stack_top, entry = in(reg) entry, in("x0") argument, options(noreturn))
    }
}

extern "C" fn continue_primary(driver: usize) -> ! {
    // SAFETY: `driver` is the CpuDriver placed by `place_drivers`.
    let me: &'static CpuDriver = unsafe { &*(driver as *const CpuDriver) };
    cpu_driver::enter(me);
    let shared = me.shared;
    let args = parse_bootargs(shared);
    let report = start_secondaries(me);
    if let Err(e) = super::secondary::init_local(me) {
        panic!("boot cpu cannot take interrupts: {e}");
    }
    let online = wait_for_check_in(me, &report);
    log::info!(
        "boot: {}/{} cores online board={} gic=v{} method={}",
        online.count_ones(),
        shared.info.cpus_listed,
        shared.board_name,
        shared.info.gic.version(),
        report.methods.name()
    );
    let mesh = run_mesh_check(me, online);
    let mut init = args.init.unwrap_or("monitor");
    let mut others_run = args.others.unwrap_or("monitor");
    // On-target tests that are EL0 programs on the boot CPU (and, for
    // `stubs`, on every other core; otherwise those start their monitors).
    let user_test = match args.test {
        Some("user") => Some("usertest"),
        Some("dispatch") => Some("dispatchtest"),
        Some("stubs") => Some("stubstest"),
        Some("console") => Some("consoletest"),
        _ => None,
    };
    // `test=monitor` is run by the monitors themselves (every core's first
    // program); the boot core's reports and powers off.
    let monitor_test = args.test == Some("monitor");
    if let Some(program) = user_test {
        init = program;
        if program == "stubstest" {
            others_run = program;
        }
    } else if let (Some(test), false) = (args.test, monitor_test) {
        let (passed, failed) = ontarget::run(test, me, online, mesh);
        log::info!("test {test}: {passed} passed, {failed} failed");
        crate::power::power_off_current();
    }
    if args.bench {
        crate::bench::run_all(me, online, args.bench_only);
        crate::power::power_off_current();
    }
    if args.poweroff {
        log::info!("poweroff");
        crate::power::power_off_current();
    }
    // Every other core starts its program before the boot CPU starts init.
    let others = online & !(1 << me.index);
    let argument = crate::command::program_argument(me, others_run).unwrap_or(0);
    let command = Command { kind: Kind::StartUser, online: others, deadline: deadline_in(2), argument };
    broadcast(me, &command, 0);
    let error = crate::user::start(me, init, || {});
    log::error!("user: cannot start {init}: {error:?}");
    if let (Some(test), true) = (args.test, user_test.is_some() || monitor_test) {
        log::info!("test {test}: 0 passed, 1 failed");
        crate::power::power_off_current();
    }
    crate::command::idle(me)
}

fn parse_bootargs(shared: &'static BootShared) -> bootargs::BootArgs<'static> {
    let mut ignored = [""; 16];
    let mut count = 0;
    let args = bootargs::parse(shared.info.bootargs.as_str(), |word| {
        if count < ignored.len() {
            ignored[count] = word;
        }
        count += 1;
    });
    if count > 0 {
        let shown = &ignored[..count.min(ignored.len())];
        let more = count.saturating_sub(ignored.len());
        console::print_block(format_args!(
            "warning: bootargs: ignoring {} unknown: {}{}",
            count,
            Words(shown),
            if more > 0 { " ..." } else { "" }
        ));
    }
    args
}

/// Space-separated words.
struct Words<'a>(&'a [&'a str]);

impl core::fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, w) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(w)?;
        }
        Ok(())
    }
}

/// Waits until every started core checked in or had 1 s; returns the online set.
fn wait_for_check_in(me: &CpuDriver, report: &StartReport) -> u64 {
    let shared = me.shared;
    let second = cpu::counter_frequency();
    let settled = |i: usize| {
        shared.mailboxes[i].owner.0.state.load(Ordering::Acquire) != state::OFFLINE
            || cpu::counter() > report.started_at[i] + second
    };
    let last = report.started_at.iter().copied().max().unwrap_or(0) + second;
    me.wait_until(last, || {
        (0..shared.info.cpu_count).filter(|&i| report.started & (1 << i) != 0).all(settled)
    });
    let mut online = 0u64;
    for i in 0..shared.info.cpu_count {
        let state = shared.mailboxes[i].owner.0.state.load(Ordering::Acquire);
        if state == state::ONLINE {
            online |= 1 << i;
        } else if report.started & (1 << i) != 0 && state == state::OFFLINE {
            log::warn!("cpu {i}: started but did not check in within 1 s; given up");
        }
    }
    online
}

/// Every online core sends an SGI to every other; prints the `sgi:` line.
fn run_mesh_check(me: &CpuDriver, online: u64) -> ontarget::MeshOutcome {
    let command = Command { kind: Kind::Mesh, online, deadline: deadline_in(1), argument: 0 };
    let results = broadcast(me, &command, cpu::counter_frequency() / 10);
    let received: [u64; bootinfo::MAX_CPUS] = core::array::from_fn(|j| results[j].map_or(0, |r| r[0]));
    let report = selfcheck::MeshReport { online, received: &received };
    log::info!("{report}");
    let all_reported =
        (0..bootinfo::MAX_CPUS).filter(|&j| online & (1 << j) != 0).all(|j| results[j].is_some());
    ontarget::MeshOutcome { ok: report.ok(), all_reported }
}

const _: () = assert!(STACK_SIZE.is_multiple_of(PAGE_SIZE) && DRIVER_AREA.is_multiple_of(PAGE_SIZE));
// The driver fits its area (the stack follows it).
const _: () = assert!(core::mem::size_of::<CpuDriver>() as u64 <= DRIVER_AREA);
