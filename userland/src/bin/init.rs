//! `init`: the first program of a serving system (the boot core's monitor
//! starts it once it took the console). It starts the shell on its core
//! and ends.
#![cfg_attr(target_os = "none", no_std)]
#![no_main]

use userland::println;
use userland::session::{self, Id, Status, THIS_CORE};

userland::entry!(main);

/// The programs `init` starts.
const START: &[&str] = &["shell"];

fn main(_core: usize, _cores: usize) -> i32 {
    let mut session = session::connect();
    let mut failed = 0;
    for program in START {
        match session.spawn(program, THIS_CORE) {
            Ok((0, id)) => println!("init: started {program} as {}", Id(id)),
            Ok((code, _)) => {
                println!("init: cannot start {program}: {}", Status::from_code(code).message());
                failed += 1;
            }
            Err(error) => {
                println!("init: cannot start {program}: session: {error:?}");
                failed += 1;
            }
        }
    }
    failed
}
