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
