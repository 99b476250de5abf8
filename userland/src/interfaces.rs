//! Interfaces declared once (`stubs::interface!`); the generated clients,
//! servers and message types are used by the programs in this crate.

stubs::interface! {
    /// The service `test=stubs` and the RPC benchmarks exercise.
    pub interface Test {
        /// Does nothing (`BENCH rpc_rt_local`, `rpc_rt_remote`).
        rpc null() -> ();
        /// Adds two numbers (wrapping).
        rpc add(a: u64, b: u64) -> (sum: u64);
        /// Sends bytes back with their sum (several fragments each way).
        rpc echo(data: Bytes<2048>) -> (data: Bytes<2048>, sum: u64);
        /// Upper-cases a UTF-8 string.
        rpc upper(text: Str<256>) -> (text: Str<256>);
        /// The physical base of a Frame capability (which the server then
        /// deletes).
        rpc frame(frame: Cap) -> (base: u64);
        /// A one-way note the server counts.
        message note(value: u64);
        /// How many notes arrived, and their sum.
        rpc notes() -> (count: u64, sum: u64);
        /// A client core's verdict (the boot core collects them).
        rpc report(core: u32, passed: u32, failed: u32) -> ();
    }
}

stubs::interface! {
    /// Between two monitors, one-way messages over their URPC channel. The
    /// protocol messages carry the words of a `monitor::Wire` of the kind
    /// their name says (the protocol crate validates them); the rest is the
    /// monitors' own coordination (boot handshake, test and benchmark
    /// steps).
    pub interface MonitorLink {
        /// `Wire` kind 1: an update for the sequencer to order.
        message submit(w: [u64; 6]);
        /// `Wire` kind 2: an ordered log entry, down the broadcast tree.
        message ordered(w: [u64; 6]);
        /// `Wire` kind 3: resend the log from an entry.
        message sync(w: [u64; 6]);
        /// `Wire` kind 4: please donate RAM.
        message ram_ask(w: [u64; 6]);
        /// `Wire` kind 5: no RAM to donate.
        message ram_deny(w: [u64; 6]);
        /// `Wire` kind 6: a revoke mark was applied.
        message revoke_ack(w: [u64; 6]);
        /// The sender's monitor is up (boot handshake); `peers` is how many
        /// monitors it has heard from so far.
        message hello(core: u32, peers: u32);
        /// A step of a test or benchmark, or its result (`op` says which).
        message control(op: u32, core: u32, a: u64, b: u64, c: u64, d: u64);
        /// `Wire` kind 7: to a new sequencer, the length of this log.
        message report(w: [u64; 6]);
        /// `Wire` kind 8: from a new sequencer, send me the log from here.
        message fetch(w: [u64; 6]);
        /// `Wire` kind 9: from a new sequencer, it has taken over.
        message start(w: [u64; 6]);
        /// `Wire` kind 10: to the sequencer, how far this log is applied.
        message applied(w: [u64; 6]);
        /// `Wire` kind 11: from the sequencer, drop log entries below this.
        message trim(w: [u64; 6]);
    }
}

stubs::interface! {
    /// What two dispatchers bound across cores by their monitors say to
    /// each other in `test=monitor`.
    pub interface Bound {
        /// Adds two numbers (wrapping).
        rpc add(a: u64, b: u64) -> (sum: u64);
        /// The client is done: the server ends.
        message quit();
    }
}

stubs::interface! {
    /// Between a spawned program and its core's monitor, over LMP (the
    /// program's slots `SESSION`, `SESSION_REPLY` and `SESSION_EVENTS`):
    /// the terminal, programs, the name service and the system's state.
    /// Errors are [`crate::session::Status`] codes (0: done).
    pub interface Session {
        /// Writes `text` to the terminal as it is (no prefix, no line end
        /// added). Only the console's core has the terminal.
        rpc write(text: Str<400>) -> (status: u32);
        /// The next line typed at the terminal, if a whole one is there
        /// (`ready`); if not, the caller becomes the reader and the monitor
        /// sends a message on its events endpoint when one is.
        rpc read_line() -> (ready: bool, line: Str<256>);
        /// Starts `program` from the boot modules on `core`
        /// ([`crate::session::THIS_CORE`]: the caller's). Its id
        /// (`core << 32 | n`).
        rpc spawn(program: Str<16>, core: u32) -> (status: u32, id: u64);
        /// Ends the program `id`.
        rpc kill(id: u64) -> (status: u32);
        /// The `index`-th dispatcher of a program running on any core
        /// (index 0 takes a fresh list from every monitor): the program's
        /// id, the core it runs on (a program that spans cores has one
        /// entry per core) and its name.
        rpc ps(index: u32) -> (found: bool, id: u64, core: u32, name: Str<16>);
        /// The `index`-th capability the monitors track across cores:
        /// its owner, type, physical range, the cores holding copies and
        /// whether a revoke is under way.
        rpc caps(index: u32) -> (found: bool, owner: u32, kind: u8, base: u64, bytes: u64, copies: u64, revoking: bool);
        /// The RAM of `core`: pool units it owns now (of `units` per core,
        /// each `unit_bytes`), and the bytes its kernel gave its first
        /// program.
        rpc mem(core: u32) -> (found: bool, owned: u32, units: u32, unit_bytes: u64, ram_bytes: u64);
        /// The `index`-th registered name and where it lives.
        rpc registry(index: u32) -> (found: bool, name: Str<16>, core: u32, port: u32);
        /// The `index`-th program in the boot modules, and its size.
        rpc programs(index: u32) -> (found: bool, name: Str<32>, bytes: u64);
        /// Registers `name` for a service of the caller's: the monitor makes
        /// a URPC channel in its RAM, maps it into the caller (at the
        /// returned address, the caller is side B) and shares it with every
        /// core's monitor. One client may bind.
        rpc register(name: Str<16>) -> (status: u32, address: u64);
        /// The core of the service registered as `name` (a local read: no
        /// message leaves the core).
        rpc lookup(name: Str<16>) -> (status: u32, core: u32);
        /// Binds to the service `name`: maps its channel into the caller
        /// (at the returned address, the caller is side A).
        rpc bind(name: Str<16>) -> (status: u32, address: u64);
        /// Powers the machine off (the console's core only).
        rpc power_off() -> (status: u32);
        /// Spans the caller to `core`: a dispatcher there in a replica of
        /// the caller's address space (its segments, and the `heap_pages`
        /// heap frames in its slots from `heap_slot` on, at
        /// `heap::HEAP_BASE`), started at `entry` (x0 = its frame, x1 = its
        /// core). The memory is shared, not copied.
        rpc span(core: u32, entry: u64, heap_slot: u32, heap_pages: u32) -> (status: u32);
        /// Shares the page at `va` (the caller's 4 KiB frame in its slot
        /// `slot`, of its own RAM) with its dispatchers on other cores:
        /// each core's replica maps it at `va` too.
        rpc share(va: u64, slot: u32) -> (status: u32);
        /// Unmaps the page shared at `va` from every other core: when this
        /// returns, no other core can touch it (every copy is gone, and its
        /// mappings and TLB entries with it); the caller may then unmap it
        /// and reuse its RAM.
        rpc unshare(va: u64) -> (status: u32);
    }
}
