//! The CPU driver: one single-threaded EL1 kernel per core, generic over a `Board`.
//!
//! The pure parts (`bootinfo`, `bootargs`, `memory`, `selfcheck`) build and
//! test on the host; everything else is built only for the target.
#![cfg_attr(not(test), no_std)]

pub mod bootargs;
pub mod bootinfo;
pub mod memory;
pub mod selfcheck;

#[cfg(target_os = "none")]
pub mod arch;
#[cfg(target_os = "none")]
pub mod bench;
#[cfg(target_os = "none")]
pub mod board;
#[cfg(target_os = "none")]
pub mod boot;
#[cfg(target_os = "none")]
pub mod channels;
#[cfg(target_os = "none")]
pub mod command;
#[cfg(target_os = "none")]
pub mod console;
#[cfg(target_os = "none")]
pub mod cpu_driver;
#[cfg(target_os = "none")]
pub mod ontarget;
#[cfg(target_os = "none")]
pub mod panic;
#[cfg(target_os = "none")]
pub mod power;
#[cfg(target_os = "none")]
pub mod shared;
#[cfg(target_os = "none")]
pub mod user;

/// Defines a board binary's entry points and panic handler.
#[cfg(target_os = "none")]
#[macro_export]
macro_rules! board_main {
    ($board:ty) => {
        #[no_mangle]
        extern "C" fn mk_board_primary(dtb: u64, image_physical: u64, entry_el: u64) -> ! {
            $crate::boot::primary::<$board>(dtb, image_physical, entry_el)
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
            $crate::panic::handle(info)
        }
    };
}
