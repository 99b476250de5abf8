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
