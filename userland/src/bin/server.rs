//! `server`: registers the service `adder` with the name service and
//! serves additions (the `Bound` interface) to the one client that binds
//! it, over the URPC channel its monitor made; ends when the client says
//! `quit`.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use userland::channel::{relax, Urpc, UrpcChannel};
use userland::interfaces::{BoundDispatcher, BoundServer};
use userland::println;
use userland::session::{self, Status};

userland::entry!(main);

/// The service's name.
const NAME: &str = "adder";

struct Adder {
    calls: u64,
    quit: bool,
}

impl BoundServer for Adder {
    fn add(&mut self, a: u64, b: u64) -> u64 {
        self.calls += 1;
        a.wrapping_add(b)
    }
    fn quit(&mut self) {
        self.quit = true;
    }
}

fn main(core: usize, _cores: usize) -> i32 {
    let mut session = session::connect();
    let address = match session.register(NAME) {
        Ok((0, address)) => address as usize,
        Ok((code, _)) => {
            println!("server: cannot register {NAME}: {}", Status::from_code(code).message());
            return 1;
        }
        Err(error) => {
            println!("server: cannot register {NAME}: session: {error:?}");
            return 1;
        }
    };
    // SAFETY: the monitor mapped the service's channel (zeroed frames: an
    // empty channel) read/write at `address` for as long as this program
    // lives; it is used only through `urpc`'s atomics.
    let channel: &'static UrpcChannel = unsafe { &*(address as *const UrpcChannel) };
    println!("server: {NAME} registered on core {core}");
    let mut dispatcher = BoundDispatcher::new(Urpc::on(channel, urpc::Side::B));
    let mut adder = Adder { calls: 0, quit: false };
    loop {
        match dispatcher.poll_one(&mut adder) {
            Ok(Some(_)) if adder.quit => break,
            Ok(Some(_)) => {}
            Ok(None) => relax(),
            Err(error) => {
                println!("server: channel broken: {error:?}");
                return 2;
            }
        }
    }
    println!("server: {NAME} served {} calls", adder.calls);
    0
}
