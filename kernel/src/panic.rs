//! Panics: one `PANIC` line, then power-off (or halt).

use crate::board::BoardOps;
use crate::bootinfo::DtError;
use crate::console;

/// The panic handler's body (the board crate's `#[panic_handler]` calls it).
pub fn handle(info: &core::panic::PanicInfo<'_>) -> ! {
    let core = crate::cpu_driver::current_index().map_or(-1, |i| i as i64);
    let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    console::print_panic(format_args!("PANIC core={core} {file}:{line}: {}", info.message()));
    crate::power::power_off_current()
}

/// A device tree the kernel cannot run on: `PANIC dtb: <reason>`, power off
/// the board's own way (PSCI's conduit is unknown without the tree).
pub fn dtb(reason: DtError, board: &dyn BoardOps) -> ! {
    console::print_panic(format_args!("PANIC dtb: {reason}"));
    crate::power::power_off(None, Some(board))
}
