//! `client`: finds the service `adder` through the name service (waiting
//! up to 10 s for it to be registered), binds it, makes 100 calls over the
//! cross-core channel, checks every answer and tells the server to quit.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use userland::channel::{Urpc, UrpcChannel};
use userland::interfaces::BoundClient;
use userland::session::{self, Status};
use userland::{println, syscall, thread};

userland::entry!(main);

/// The service's name.
const NAME: &str = "adder";
/// Calls made.
const CALLS: u64 = 100;
/// How long to wait for the service.
const WAIT_MS: u64 = 10_000;

fn main(core: usize, _cores: usize) -> i32 {
    let mut session = session::connect();
    let deadline = thread::counter() + WAIT_MS * thread::ticks_per_millisecond();
    let server_core = loop {
        match session.lookup(NAME) {
            Ok((0, core)) => break core,
            _ if thread::counter() < deadline => {
                syscall::wait(thread::counter() + 10 * thread::ticks_per_millisecond())
            }
            _ => {
                println!("client: no service {NAME}");
                return 1;
            }
        }
    };
    let address = match session.bind(NAME) {
        Ok((0, address)) => address as usize,
        Ok((code, _)) => {
            println!("client: cannot bind {NAME}: {}", Status::from_code(code).message());
            return 1;
        }
        Err(error) => {
            println!("client: cannot bind {NAME}: session: {error:?}");
            return 1;
        }
    };
    // SAFETY: the monitor mapped this core's copies of the service's
    // channel read/write at `address` for as long as this program lives (a
    // revoke by the server's monitor unmaps them first); it is used only
    // through `urpc`'s atomics.
    let channel: &'static UrpcChannel = unsafe { &*(address as *const UrpcChannel) };
    let mut client = BoundClient::new(Urpc::on(channel, urpc::Side::A));
    let mut wrong = 0;
    for i in 0..CALLS {
        match client.add(i, 2 * i) {
            Ok(sum) if sum == 3 * i => {}
            Ok(_) => wrong += 1,
            Err(error) => {
                println!("client: call {i} failed: {error:?}");
                return 2;
            }
        }
    }
    let _ = client.quit();
    if wrong == 0 {
        println!("client: {CALLS} calls to {NAME} on core {server_core} from core {core}: ok");
        0
    } else {
        println!("client: {wrong} of {CALLS} answers wrong");
        3
    }
}
