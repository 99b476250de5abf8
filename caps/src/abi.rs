//! The system-call ABI shared by the kernel and user space (declared once;
//! `docs/syscalls.md` explains it): call numbers, method numbers, the first
//! program's slots, and the kernel's error codes above the `CapError` ones.

/// Call numbers (`x8` of `svc #0`).
pub mod call {
    /// Enter and leave the kernel.
    pub const NULL: u64 = 0;
    /// Invoke a capability.
    pub const INVOKE: u64 = 1;
    /// Let others run (sleeps until an interrupt when nothing else can).
    pub const YIELD: u64 = 2;
    /// End the calling dispatcher.
    pub const EXIT: u64 = 3;
    /// LMP: queue a message (and a capability) on an endpoint.
    pub const SEND: u64 = 4;
    /// LMP: take the next message from an endpoint bound to the caller.
    pub const RECV: u64 = 5;
    /// LMP: send on one endpoint, yield to its receiver, and block receiving
    /// on another (a client's call, and a server's reply-and-wait).
    pub const CALL: u64 = 6;
    /// Block the dispatcher until an event (a message on one of its
    /// endpoints, a child ending) or a deadline.
    pub const WAIT: u64 = 7;
    /// Leave an upcall: clear the disabled flag and continue from the
    /// enabled save area.
    pub const RESUME: u64 = 8;
}

/// LMP register conventions and flags (`docs/syscalls.md`).
pub mod lmp {
    /// Message words (in `x0`–`x7`).
    pub const WORDS: usize = 8;
    /// Messages an endpoint queues (see `cap_type::ENDPOINT_SLOTS`).
    pub const QUEUE: u64 = crate::cap_type::ENDPOINT_SLOTS;
    /// `SEND` flag: yield to the receiver at once (directed yield).
    pub const YIELD: u64 = 1;
    /// `RECV` flag: block until a message arrives on this endpoint.
    pub const BLOCK: u64 = 2;
    /// Result info bit: a capability arrived in the receive slot.
    pub const CAP_RECEIVED: u64 = 1;
    /// Highest event index an endpoint can be bound to (bit 63 of the
    /// events word is [`EVENT_CHILD`]).
    pub const MAX_EVENT: u64 = 62;
    /// Event bit: a dispatcher this one started has ended.
    pub const EVENT_CHILD: u64 = 1 << 63;
}

/// Reasons passed in `x1` of an upcall.
pub mod upcall {
    /// Entered to run (after preemption, a yield, or first start).
    pub const RUN: u64 = 0;
    /// Entered because messages are pending (`events` is non-zero).
    pub const MESSAGE: u64 = 1;
    /// A data or instruction abort (`x2` = ESR, `x3` = FAR).
    pub const PAGE_FAULT: u64 = 2;
    /// Any other exception (`x2` = ESR, `x3` = FAR).
    pub const TRAP: u64 = 3;
}

/// Registers of a stopped dispatcher as kept in its dispatcher frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SavedRegisters {
    /// x0..x30.
    pub x: [u64; 31],
    /// The stack pointer (`SP_EL0`).
    pub sp: u64,
    /// Where it continues.
    pub pc: u64,
    /// Condition flags (NZCV, bits 31:28); other bits are ignored.
    pub pstate: u64,
    /// The thread pointer (`TPIDR_EL0`).
    pub tpidr: u64,
}

/// The dispatcher frame: the second page of a dispatcher object, which
/// user space maps (read/write) and the kernel reads and writes when it
/// stops and enters the dispatcher. Layout in `docs/syscalls.md`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DispatcherFrame {
    /// Non-zero: disabled (the kernel resumes it where it stopped rather
    /// than upcalling it). The kernel sets it on every upcall.
    pub disabled: u64,
    /// Pending events: bit `i` while the endpoint bound with event index `i`
    /// holds messages (kept by the kernel); [`lmp::EVENT_CHILD`] when a
    /// started child ended (cleared by user space).
    pub events: u64,
    /// Upcall entry for [`upcall::RUN`] (0: no upcalls at all: the
    /// dispatcher is always resumed where it stopped).
    pub run_entry: u64,
    /// Upcall entry for [`upcall::MESSAGE`] (0: use `run_entry`).
    pub message_entry: u64,
    /// Upcall entry for [`upcall::PAGE_FAULT`] (0: faults go to the
    /// supervisor).
    pub page_fault_entry: u64,
    /// Upcall entry for [`upcall::TRAP`] (0: traps go to the supervisor).
    pub trap_entry: u64,
    /// Stack pointer for upcalls.
    pub upcall_stack: u64,
    /// Syndrome of the last fault delivered by upcall.
    pub fault_esr: u64,
    /// Address of the last fault delivered by upcall.
    pub fault_far: u64,
    /// Times the kernel stopped this dispatcher to run another.
    pub preemptions: u64,
    /// Reserved (zero).
    pub reserved: [u64; 6],
    /// Where an enabled dispatcher's registers go when it is stopped.
    pub enabled_area: SavedRegisters,
    /// Where a disabled (or blocked) dispatcher's registers go when it is
    /// stopped; it resumes from here.
    pub disabled_area: SavedRegisters,
}

/// Bytes of the dispatcher frame the kernel uses; the rest of the page
/// belongs to user space.
pub const FRAME_USED: usize = core::mem::size_of::<DispatcherFrame>();
const _: () = assert!(FRAME_USED <= 1024);

/// Method numbers (`x1` of `INVOKE`), per capability type.
pub mod method {
    /// CNode methods.
    pub mod cnode {
        /// Copy a capability into a slot of this CNode.
        pub const COPY: u64 = 1;
        /// Copy with fewer rights (and a badge).
        pub const MINT: u64 = 2;
        /// Delete the capability in a slot.
        pub const DELETE: u64 = 3;
        /// Delete every descendant of the capability in a slot.
        pub const REVOKE: u64 = 4;
    }

    /// RAM methods.
    pub mod ram {
        /// Make typed objects from part of the RAM.
        pub const RETYPE: u64 = 1;
    }

    /// VNode (translation table) methods.
    pub mod vnode {
        /// Map a child table or frame at an entry.
        pub const MAP: u64 = 1;
        /// Remove a child's mapping from this table.
        pub const UNMAP: u64 = 2;
    }

    /// Frame methods.
    pub mod frame {
        /// Physical base and size.
        pub const IDENTIFY: u64 = 1;
    }

    /// Dispatcher methods.
    pub mod dispatcher {
        /// Set CSpace, VSpace, entry point and stack.
        pub const SETUP: u64 = 1;
        /// `SETUP`'s last argument for a program started from its ELF entry
        /// (x0 = core, x1 = cores online, x2 = frame address, as the first
        /// program gets); otherwise x0 = frame address, x1 = core.
        pub const PROGRAM_ENTRY: u64 = 1;
        /// Start it (if it is not started) and wait until it ends.
        pub const RUN: u64 = 2;
        /// Make it runnable; its end is reported as an event.
        pub const START: u64 = 3;
        /// Its state and, once ended, how it ended.
        pub const STATUS: u64 = 4;
        /// Set its scheduling priority.
        pub const SET_PRIORITY: u64 = 5;
        /// Directed yield: run it now (the caller stays runnable).
        pub const YIELD_TO: u64 = 6;
        /// Name it (16 bytes in two words, zero-padded) for the console.
        pub const NAME: u64 = 7;
    }

    /// Endpoint methods.
    pub mod endpoint {
        /// Bind it to the dispatcher that receives from it, with an event
        /// index.
        pub const BIND: u64 = 1;
        /// Messages queued.
        pub const PENDING: u64 = 2;
    }

    /// Kernel methods.
    pub mod kernel {
        /// Print one console line.
        pub const PRINT: u64 = 1;
        /// Power the machine off.
        pub const POWER_OFF: u64 = 2;
        /// Do nothing (benchmark `cap_invoke_null`).
        pub const NULL: u64 = 3;
        /// Core number and cores online.
        pub const IDENTIFY: u64 = 4;
        /// Cores listed in the device tree, the online set (bit `i` = core
        /// `i`) and the boot core's number.
        pub const SYSTEM: u64 = 5;
        /// The cluster of core `a0` (from the DT's `cpu-map`; 0 without one).
        pub const CLUSTER: u64 = 6;
        /// Physical base and size of core `a0`'s monitor RAM pool (the top
        /// [`super::super::monitor::POOL_BYTES`] of its `slot::RAM`).
        pub const POOL: u64 = 7;
        /// Create a root capability of type `a0` (RAM or Frame) for the
        /// physical range `a1` (base), `a2` (bytes) in slot `a4` of CNode
        /// `a3`. The range must lie in another core's monitor pool: the
        /// monitors hand RAM between cores this way.
        pub const CREATE: u64 = 8;
        /// Ring core `a0`'s user doorbell (an SGI that signals the
        /// dispatcher bound there).
        pub const NOTIFY: u64 = 9;
        /// Bind the calling dispatcher to this core's user doorbell: a ring
        /// sets event `a0` and ends its `WAIT`.
        pub const DOORBELL: u64 = 10;
        /// The boot arguments: their length and the 16 bytes from offset
        /// `a0` (zero past the end).
        pub const BOOTARGS: u64 = 11;
        /// The boot modules mapped at `layout::MODULES`: the offset of
        /// their first byte there and their length (0, 0 without an
        /// initrd).
        pub const MODULES: u64 = 12;
        /// Hand the console to the caller's core: a DevFrame capability for
        /// the UART's page in slot `a1` and an Irq capability for its
        /// interrupt in slot `a2` of CNode `a0`. Returns the offset of the
        /// UART's registers in that page and the interrupt's ID. From then
        /// on the kernel writes console lines into the console rings
        /// (`layout::CONSOLE_RINGS`, see [`super::super::console`]) and
        /// touches the UART only to report a panic. Once per boot.
        pub const CONSOLE: u64 = 13;
    }

    /// Irq methods.
    pub mod irq {
        /// Route the interrupt to this core, enable it and bind it to the
        /// calling dispatcher with event `a0`: when it fires the kernel
        /// masks it, sets the event and ends the dispatcher's `WAIT`.
        pub const BIND: u64 = 1;
        /// Unmask it again (after the device was serviced).
        pub const ACK: u64 = 2;
    }
}

/// The monitors' RAM pools.
pub mod monitor {
    /// Bytes of each core's pool: the top of its `slot::RAM`, which its
    /// monitor retypes into units and hands between cores.
    pub const POOL_BYTES: u64 = 1 << 20;
    /// Bytes of one unit of a pool.
    pub const UNIT_BYTES: u64 = 64 << 10;
    /// Units per pool.
    pub const UNITS: u64 = POOL_BYTES / UNIT_BYTES;
}

/// The console rings (after `Kernel.CONSOLE`): each listed core's kernel
/// sends its console lines, its own and `Kernel.print`'s, to the console's
/// core through one `urpc` ring of [`layout::CHANNEL_SLOTS`] slots, core
/// `i`'s at byte `i * size_of::<urpc::Ring<CHANNEL_SLOTS>>()` of the area,
/// and rings the console core's doorbell in the user channel area.
pub mod console {
    /// Text bytes in one ring message (words 1 to 6 of its payload).
    pub const FRAGMENT_BYTES: usize = 48;
    /// Word 0 of a ring message: the number of text bytes (bits 0 to 7)
    /// and this flag on the last fragment of a line. A line is the whole
    /// text, prefix included, without its line end.
    pub const END_OF_LINE: u64 = 1 << 8;
}

/// Scheduling priorities: higher runs first; round robin within one.
pub mod priority {
    /// Number of priorities (0 to `LEVELS - 1`).
    pub const LEVELS: u64 = 32;
    /// Priority of the first program and of new dispatchers.
    pub const DEFAULT: u64 = 16;
}

/// The first program's address space (besides its ELF segments).
pub mod layout {
    /// Top of its stack.
    pub const STACK_TOP: u64 = 1 << 31;
    /// Bytes of its stack.
    pub const STACK_SIZE: u64 = 64 << 10;
    /// Where its dispatcher frame is mapped (read/write), below the stack
    /// with an unmapped page between.
    pub const FRAME: u64 = STACK_TOP - STACK_SIZE - 2 * 4096;
    /// Where the user channel area is mapped (read/write) in every core's
    /// first program: one URPC channel per pair of cores with rings of
    /// [`CHANNEL_SLOTS`] slots, laid out as `urpc::mesh` says (a stand-in
    /// until the monitors set channels up).
    pub const CHANNELS: u64 = 1 << 32;
    /// Slots in each ring of the user channel area.
    pub const CHANNEL_SLOTS: usize = 64;
    /// Where the boot modules (the initrd, CPIO `newc`) are mapped read-only
    /// in every core's first program, from the page holding their first
    /// byte (`Kernel.modules` gives the offset and length).
    pub const MODULES: u64 = 1 << 34;
    /// Where the console rings ([`super::console`]) are mapped read/write
    /// in every core's first program.
    pub const CONSOLE_RINGS: u64 = 1 << 35;
    /// Where a program's monitor maps the service channels it registers or
    /// binds (`Session.register`, `Session.bind`), one after the other.
    pub const SERVICES: u64 = 1 << 36;
    /// Top of the stack of a program's dispatcher on another core (a
    /// program that spans cores): each core's replica of the address space
    /// has its own stack here.
    pub const SPAN_STACK_TOP: u64 = 1 << 37;
}

/// The first program's root CNode.
pub mod slot {
    /// The root CNode itself.
    pub const ROOT_CNODE: u64 = 1;
    /// The L0 translation table.
    pub const ROOT_VNODE: u64 = 2;
    /// The program's own dispatcher.
    pub const DISPATCHER: u64 = 3;
    /// The rest of the core's RAM.
    pub const RAM: u64 = 4;
    /// The Kernel capability.
    pub const KERNEL: u64 = 5;
    /// A spawned program's session with its monitor: the endpoint it sends
    /// requests on (`Session` interface, LMP).
    pub const SESSION: u64 = 6;
    /// The endpoint the monitor's replies arrive on (event 0).
    pub const SESSION_REPLY: u64 = 7;
    /// The endpoint the monitor's wake-ups arrive on (event 1): a line was
    /// typed for a reader.
    pub const SESSION_EVENTS: u64 = 8;
    /// The first slot the program may use.
    pub const FIRST_FREE: u64 = 9;
    /// The first slot of a spawned program's CNode its loader fills (its
    /// segments, stack, tables); the program's own allocations must stay
    /// below.
    pub const LOADER: u64 = 128;
    /// Radix of the root CNode (256 slots).
    pub const ROOT_RADIX: u64 = 8;
}

/// Errors the kernel adds to the `CapError` codes (which are 1–31).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelError {
    /// The capability has no such method.
    InvalidMethod = 32,
    /// An argument is out of range.
    InvalidArgument = 33,
    /// A buffer is not user memory mapped readable.
    InvalidBuffer = 34,
    /// The capability, or the table entry, is already mapped.
    AlreadyMapped = 35,
    /// Nothing is mapped there.
    NotMapped = 36,
    /// The child does not fit a table of this level.
    WrongLevel = 37,
    /// The dispatcher was not set up (or cannot run now).
    NotSetUp = 38,
    /// A per-core limit was reached (e.g. live CNodes).
    LimitReached = 39,
    /// The endpoint has no receiving dispatcher, or the caller is not it.
    NotBound = 40,
    /// The endpoint's queue is full; nothing was sent.
    EndpointFull = 41,
    /// No message is queued.
    EndpointEmpty = 42,
    /// The dispatcher cannot run now (directed yield to a blocked one).
    NotRunnable = 43,
    /// The endpoint is already bound.
    AlreadyBound = 44,
    /// The console ring is full: try again after the console drained it.
    Busy = 45,
}

impl KernelError {
    /// Every kernel error, in code order.
    pub const ALL: [KernelError; 14] = [
        KernelError::InvalidMethod,
        KernelError::InvalidArgument,
        KernelError::InvalidBuffer,
        KernelError::AlreadyMapped,
        KernelError::NotMapped,
        KernelError::WrongLevel,
        KernelError::NotSetUp,
        KernelError::LimitReached,
        KernelError::NotBound,
        KernelError::EndpointFull,
        KernelError::EndpointEmpty,
        KernelError::NotRunnable,
        KernelError::AlreadyBound,
        KernelError::Busy,
    ];

    /// The code in `x0`.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The error with this code.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::{DispatcherFrame, KernelError};
    use core::mem::offset_of;

    #[test]
    fn dispatcher_frame_layout_is_the_documented_one() {
        assert_eq!(offset_of!(DispatcherFrame, disabled), 0);
        assert_eq!(offset_of!(DispatcherFrame, events), 8);
        assert_eq!(offset_of!(DispatcherFrame, run_entry), 16);
        assert_eq!(offset_of!(DispatcherFrame, message_entry), 24);
        assert_eq!(offset_of!(DispatcherFrame, page_fault_entry), 32);
        assert_eq!(offset_of!(DispatcherFrame, trap_entry), 40);
        assert_eq!(offset_of!(DispatcherFrame, upcall_stack), 48);
        assert_eq!(offset_of!(DispatcherFrame, fault_esr), 56);
        assert_eq!(offset_of!(DispatcherFrame, fault_far), 64);
        assert_eq!(offset_of!(DispatcherFrame, preemptions), 72);
        assert_eq!(offset_of!(DispatcherFrame, enabled_area), 128);
        assert_eq!(offset_of!(DispatcherFrame, disabled_area), 408);
        assert_eq!(core::mem::size_of::<DispatcherFrame>(), 688);
    }
    use crate::CapError;

    #[test]
    fn codes_do_not_overlap_and_round_trip() {
        for error in KernelError::ALL {
            assert_eq!(KernelError::from_code(error.code()), Some(error));
            assert!(CapError::from_code(error.code()).is_none());
        }
        assert!(CapError::ALL.iter().all(|e| e.code() < 32));
    }
}
