//! The dispatcher frame: the page the kernel and this dispatcher share
//! (`caps::abi::DispatcherFrame`): the disabled flag, the save areas, the
//! upcall entry points and the pending events. The kernel reads and writes
//! it only while this dispatcher is stopped (it runs on this core alone), so
//! plain volatile accesses, fenced against compiler reordering, suffice.

use caps::abi::DispatcherFrame;
use core::sync::atomic::{compiler_fence, AtomicUsize, Ordering};

pub use caps::abi::lmp::EVENT_CHILD;
pub use caps::abi::upcall;

/// The first program's frame address (set by `_start` from `x2`); other
/// dispatchers get theirs in `x0` and record it with [`set_own_frame`].
#[unsafe(no_mangle)]
pub static OWN_FRAME: AtomicUsize = AtomicUsize::new(0);

/// Records this dispatcher's frame address (a dispatcher that shares the
/// address space of another must not: `OWN_FRAME` belongs to the first).
pub fn set_own_frame(address: usize) {
    OWN_FRAME.store(address, Ordering::Relaxed);
}

/// The program's dispatcher frame, if known.
pub fn own_frame() -> Option<Frame> {
    Frame::at(OWN_FRAME.load(Ordering::Relaxed))
}

/// A dispatcher frame mapped at some address of this address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame(*mut DispatcherFrame);

// SAFETY: a frame is a page of this address space; `Frame` is an address,
// and every access through it is volatile (see the module documentation).
unsafe impl Send for Frame {}
// SAFETY: as above.
unsafe impl Sync for Frame {}

impl Frame {
    /// The frame mapped at `address` (`None` for 0).
    pub fn at(address: usize) -> Option<Frame> {
        (address != 0).then_some(Frame(address as *mut DispatcherFrame))
    }

    /// Its address.
    pub fn address(self) -> usize {
        self.0 as usize
    }

    /// The raw pointer.
    pub fn raw(self) -> *mut DispatcherFrame {
        self.0
    }

    /// Sets the disabled flag: the kernel resumes the dispatcher where it
    /// stopped rather than upcalling it.
    #[inline(always)]
    pub fn disable(self) {
        // SAFETY: the frame is mapped read-write for this dispatcher.
        unsafe { core::ptr::addr_of_mut!((*self.0).disabled).write_volatile(1) };
        compiler_fence(Ordering::SeqCst);
    }

    /// Clears the disabled flag.
    #[inline(always)]
    pub fn enable(self) {
        compiler_fence(Ordering::SeqCst);
        // SAFETY: as in `disable`.
        unsafe { core::ptr::addr_of_mut!((*self.0).disabled).write_volatile(0) };
    }

    /// Whether the flag is set.
    pub fn disabled(self) -> bool {
        // SAFETY: as in `disable`.
        unsafe { core::ptr::addr_of!((*self.0).disabled).read_volatile() != 0 }
    }

    /// The pending events (bit `i`: the endpoint bound with event `i` holds
    /// messages; [`EVENT_CHILD`]: a started child ended).
    #[inline(always)]
    pub fn events(self) -> u64 {
        // SAFETY: as in `disable`.
        unsafe { core::ptr::addr_of!((*self.0).events).read_volatile() }
    }

    /// Clears event bits (user space clears [`EVENT_CHILD`]; the kernel
    /// keeps the endpoint bits).
    pub fn clear_events(self, bits: u64) {
        let events = self.events();
        // SAFETY: as in `disable` (the kernel changes the word only while
        // this dispatcher is stopped, so the read-modify-write is safe when
        // made disabled or with bits the kernel does not set).
        unsafe { core::ptr::addr_of_mut!((*self.0).events).write_volatile(events & !bits) };
    }

    /// Times the kernel stopped this dispatcher to run another.
    pub fn preemptions(self) -> u64 {
        // SAFETY: as in `disable`.
        unsafe { core::ptr::addr_of!((*self.0).preemptions).read_volatile() }
    }

    /// Installs the upcall entry points (`entry` for all four) and the
    /// upcall stack.
    pub fn set_upcalls(self, entry: usize, stack_top: usize) {
        let entry = entry as u64;
        // SAFETY: as in `disable`; plain stores of the fields.
        unsafe {
            let frame = &mut *self.0;
            core::ptr::addr_of_mut!(frame.upcall_stack).write_volatile(stack_top as u64);
            core::ptr::addr_of_mut!(frame.message_entry).write_volatile(entry);
            core::ptr::addr_of_mut!(frame.page_fault_entry).write_volatile(entry);
            core::ptr::addr_of_mut!(frame.trap_entry).write_volatile(entry);
            compiler_fence(Ordering::SeqCst);
            core::ptr::addr_of_mut!(frame.run_entry).write_volatile(entry);
        }
    }

    /// Installs a handler for page faults and traps only (no run upcalls:
    /// the dispatcher is resumed where it stopped after preemption).
    pub fn set_fault_handler(self, entry: usize, stack_top: usize) {
        let entry = entry as u64;
        // SAFETY: as in `disable`.
        unsafe {
            let frame = &mut *self.0;
            core::ptr::addr_of_mut!(frame.upcall_stack).write_volatile(stack_top as u64);
            compiler_fence(Ordering::SeqCst);
            core::ptr::addr_of_mut!(frame.page_fault_entry).write_volatile(entry);
            core::ptr::addr_of_mut!(frame.trap_entry).write_volatile(entry);
        }
    }

    /// The enabled save area (the registers of whatever ran when the
    /// kernel stopped the dispatcher while enabled).
    pub fn enabled_area(self) -> *mut caps::abi::SavedRegisters {
        // SAFETY: only the address is computed.
        unsafe { core::ptr::addr_of_mut!((*self.0).enabled_area) }
    }

    /// Address of the disabled flag (for assembly).
    pub fn disabled_flag(self) -> *mut u64 {
        // SAFETY: only the address is computed.
        unsafe { core::ptr::addr_of_mut!((*self.0).disabled) }
    }

    /// The part of the frame page that belongs to user space (after the
    /// kernel's fields), `bytes` long at `offset`.
    pub fn user_area(self, offset: usize) -> *mut u8 {
        (self.0 as usize + USER_AREA + offset) as *mut u8
    }
}

/// Offset of the user-owned part of the frame page.
pub const USER_AREA: usize = 1024;
const _: () = assert!(caps::abi::FRAME_USED <= USER_AREA);
