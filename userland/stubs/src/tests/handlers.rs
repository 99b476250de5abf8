//! Handlers that answer from their arguments and record one-way messages.

use std::vec::Vec;

use super::interfaces::{EchoServer, EveryServer};
use crate::{Bytes, Str, Token};

/// Answers `Echo` requests and records the one-way messages.
#[derive(Default)]
pub struct EchoHandler {
    /// `(level, text)` of every `log` received.
    pub logs: Vec<(u8, std::string::String)>,
    /// The capabilities granted.
    pub granted: Vec<Token>,
}

impl EchoServer<Token> for EchoHandler {
    fn log(&mut self, level: u8, text: Str<200>) {
        self.logs.push((level, text.as_str().into()));
    }

    fn add(&mut self, a: u32, b: u32) -> u64 {
        u64::from(a) + u64::from(b)
    }

    fn echo(&mut self, data: Bytes<1000>, flag: bool) -> Bytes<1000> {
        let mut data = data;
        if flag {
            data.as_mut_slice().reverse();
        }
        data
    }

    fn grant(&mut self, frame: Token, size: u64) -> bool {
        self.granted.push(frame);
        size.is_power_of_two()
    }

    fn null(&mut self) {}

    fn table(&mut self, values: [u16; 12]) -> u32 {
        values.iter().map(|&value| u32::from(value)).sum()
    }
}

/// Answers `Every` requests with their arguments and records `notify`.
#[derive(Default)]
pub struct EveryHandler {
    /// `(cap, text)` of every `notify` received.
    pub notes: Vec<(Token, std::string::String)>,
}

type Scalars = (u8, u16, u32, u64, i8, i16, i32, i64, bool);
type Arrays = ([u8; 5], [i16; 3], [bool; 9], [u64; 2], [i32; 3], [u8; 0]);

impl EveryServer<Token> for EveryHandler {
    fn scalars(&mut self, a: u8, b: u16, c: u32, d: u64, e: i8, f: i16, g: i32, h: i64, i: bool) -> Scalars {
        (a, b, c, d, e, f, g, h, i)
    }

    fn arrays(
        &mut self,
        a: [u8; 5],
        b: [i16; 3],
        c: [bool; 9],
        d: [u64; 2],
        e: [i32; 3],
        f: [u8; 0],
    ) -> Arrays {
        (a, b, c, d, e, f)
    }

    fn strings(
        &mut self,
        x: u8,
        a: Bytes<300>,
        b: Str<100>,
        _c: Bytes<0>,
        y: u16,
    ) -> (Str<100>, Bytes<300>, u8, u16) {
        (b, a, x, y)
    }

    fn caps(&mut self, a: Token, x: u32, b: Token, c: Token) -> (Token, Token, u32) {
        let _ = b;
        (c, a, x)
    }

    fn notify(&mut self, a: Token, text: Str<50>) {
        self.notes.push((a, text.as_str().into()));
    }

    fn big(&mut self, data: Bytes<4000>, tail: u64) -> (Bytes<4000>, u32, u64) {
        let length = data.len() as u32;
        (data, length, tail)
    }

    fn nothing(&mut self) {}
}
