//! The Raspberry Pi 4 board under QEMU raspi4b with the real device tree:
//! spin-table (stock firmware) and PSCI (TF-A as armstub), the same on-target
//! tests as on virt.

use mk_tests::{contract_lines, Qemu};

fn boot(psci: bool, bootargs: &str) -> String {
    let mut args = vec!["--board", "rpi4", "--append", bootargs];
    if psci {
        args.push("--psci");
    }
    Qemu::boot(&args).finish()
}

fn boots_and_meshes(psci: bool) {
    let console = boot(psci, "poweroff");
    let lines = contract_lines(&console);
    let method = if psci { "psci-smc" } else { "spin-table" };
    let expected = format!("boot: 4/4 cores online board=rpi4 gic=v2 method={method}");
    assert!(lines.contains(&expected.as_str()), "{console}");
    assert!(lines.contains(&"sgi: 4x4 mesh ok"), "{console}");
    assert!(lines.contains(&"mk: multikernel CPU driver, board rpi4, entered at EL2"), "{console}");
}

#[test]
fn spin_table_boot() {
    boots_and_meshes(false);
}

#[test]
fn psci_boot_through_tf_a() {
    boots_and_meshes(true);
}

#[test]
fn boot_test_passes_in_both_modes() {
    for psci in [false, true] {
        let console = boot(psci, "test=boot");
        assert!(contract_lines(&console).contains(&"test boot: 7 passed, 0 failed"), "{console}");
    }
}

/// Without PSCI, a panic powers off through the watchdog.
#[test]
fn panic_on_a_secondary_powers_off_without_psci() {
    let console = boot(false, "test=panic");
    let lines = contract_lines(&console);
    assert!(
        lines.iter().any(|l| l.starts_with("PANIC core=3 ") && l.ends_with("panic requested by test=panic")),
        "{console}"
    );
}

#[test]
fn unexpected_exception_is_dumped() {
    let console = boot(true, "test=fault");
    let lines = contract_lines(&console);
    assert!(lines.contains(&"unexpected exception: sync (EL1)"), "{console}");
    assert!(lines.iter().any(|l| l.starts_with("PANIC core=0 ")), "{console}");
}
