//! The interfaces the tests use, and handlers for them.

crate::interface! {
    /// Echo and arithmetic service.
    pub interface Echo {
        /// One-way message.
        message log(level: u8, text: Str<200>);
        /// RPC: request arguments -> reply results.
        rpc add(a: u32, b: u32) -> (sum: u64);
        rpc echo(data: Bytes<1000>, flag: bool) -> (data: Bytes<1000>);
        rpc grant(frame: Cap, size: u64) -> (ok: bool);
        rpc null() -> ();
        rpc table(values: [u16; 12]) -> (total: u32);
    }
}

crate::interface! {
    /// Every field type, both ways, for the round-trip properties.
    pub interface Every {
        /// Every scalar type.
        rpc scalars(a: u8, b: u16, c: u32, d: u64, e: i8, f: i16, g: i32, h: i64, i: bool)
            -> (a: u8, b: u16, c: u32, d: u64, e: i8, f: i16, g: i32, h: i64, i: bool);
        /// Arrays of every element size, and an empty one.
        rpc arrays(a: [u8; 5], b: [i16; 3], c: [bool; 9], d: [u64; 2], e: [i32; 3], f: [u8; 0])
            -> (a: [u8; 5], b: [i16; 3], c: [bool; 9], d: [u64; 2], e: [i32; 3], f: [u8; 0]);
        /// Strings between scalars, swapped in the reply.
        rpc strings(x: u8, a: Bytes<300>, b: Str<100>, c: Bytes<0>, y: u16)
            -> (b: Str<100>, a: Bytes<300>, x: u8, y: u16);
        /// Several capabilities: one fragment each at least.
        rpc caps(a: Cap, x: u32, b: Cap, c: Cap) -> (c: Cap, a: Cap, x: u32);
        /// A one-way message with a capability.
        message notify(a: Cap, text: Str<50>);
        /// A large message: many fragments.
        rpc big(data: Bytes<4000>, tail: u64) -> (data: Bytes<4000>, length: u32, tail: u64);
        /// Nothing either way.
        rpc nothing() -> ();
    }
}

crate::interface! {
    /// A one-way-only interface without capabilities (no reply enum variants).
    pub(crate) interface Events {
        message tick(count: u64);
        message name(text: Str<LONGEST_NAME>);
    }
}

/// A bound given as a constant.
const LONGEST_NAME: usize = 20;
