//! Boot and SGI mesh on QEMU virt: core counts, GIC versions, EL2 entry,
//! more cores than one GICv3 cluster, and the bootargs contract.

use mk_tests::{contract_lines, Qemu};

fn boot_and_mesh(extra: &[&str], smp: u32, gic: u32, method: &str) {
    let smp_text = smp.to_string();
    let gic_text = gic.to_string();
    let mut args = vec!["--smp", &smp_text, "--gic", &gic_text, "--append", "poweroff"];
    args.extend_from_slice(extra);
    let mut qemu = Qemu::boot(&args);
    let boot = qemu.expect("boot: ");
    let expected = format!("boot: {smp}/{smp} cores online board=qemu-virt gic=v{gic} method={method}");
    assert!(boot.ends_with(&expected), "got {boot:?}, want {expected:?}");
    let mesh = qemu.expect("sgi: ");
    assert!(mesh.ends_with(&format!("sgi: {smp}x{smp} mesh ok")), "got {mesh:?}");
    let console = qemu.finish();
    assert!(!console.contains("PANIC"), "{console}");
}

#[test]
fn one_core() {
    boot_and_mesh(&[], 1, 3, "none");
}

#[test]
fn two_cores() {
    boot_and_mesh(&[], 2, 3, "psci-hvc");
}

#[test]
fn four_cores() {
    boot_and_mesh(&[], 4, 3, "psci-hvc");
}

#[test]
fn eight_cores_gicv3() {
    boot_and_mesh(&[], 8, 3, "psci-hvc");
}

#[test]
fn eight_cores_gicv2() {
    boot_and_mesh(&[], 8, 2, "psci-hvc");
}

#[test]
fn entered_at_el2_uses_smc() {
    boot_and_mesh(&["--el2"], 4, 3, "psci-smc");
}

#[test]
fn entered_at_el2_with_gicv2() {
    boot_and_mesh(&["--el2"], 4, 2, "psci-smc");
}

/// The 17th core's MPIDR is 0x100: core numbers must not be MPIDRs.
#[test]
fn twenty_cores_span_two_clusters() {
    boot_and_mesh(&[], 20, 3, "psci-hvc");
}

#[test]
fn sockets_do_not_change_core_numbers() {
    boot_and_mesh(&["--", "-smp", "8,sockets=2,cores=4"], 8, 3, "psci-hvc");
}

#[test]
fn boot_test_passes_and_unknown_args_warn_once() {
    let mut qemu = Qemu::boot(&["--append", "console=ttyAMA0 test=boot quiet"]);
    let console = qemu.finish();
    let lines = contract_lines(&console);
    let warnings: Vec<_> = lines.iter().filter(|l| l.starts_with("warning: bootargs")).collect();
    assert_eq!(warnings.len(), 1, "{console}");
    assert!(warnings[0].contains("console=ttyAMA0 quiet"), "{console}");
    let verdicts: Vec<_> =
        lines.iter().filter(|l| l.starts_with("test boot: ") && l.contains(" passed, ")).collect();
    assert_eq!(verdicts, [&"test boot: 7 passed, 0 failed"], "{console}");
}

#[test]
fn unknown_test_fails_once() {
    let mut qemu = Qemu::boot(&["--smp", "2", "--append", "test=no-such-test"]);
    let console = qemu.finish();
    assert!(contract_lines(&console).contains(&"test no-such-test: 0 passed, 1 failed"), "{console}");
}

#[test]
fn every_line_has_core_and_uptime() {
    let mut qemu = Qemu::boot(&["--append", "poweroff"]);
    let console = qemu.finish();
    for line in console.lines().filter(|l| !l.is_empty()) {
        let (prefix, _) = line.split_once("] ").unwrap_or_else(|| panic!("no prefix: {line:?}"));
        let (core, uptime) = prefix.trim_start_matches('[').split_once(' ').expect("core and uptime");
        assert!(core.starts_with('c'), "{line:?}");
        let (secs, micros) = uptime.split_once('.').expect("seconds.micros");
        assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{line:?}");
    }
}

/// An unexpected exception dumps registers and syndrome, panics with the
/// contract's line, and powers off.
#[test]
fn unexpected_exception_is_dumped_and_powers_off() {
    let mut qemu = Qemu::boot(&["--smp", "2", "--append", "test=fault"]);
    let console = qemu.finish();
    let lines = contract_lines(&console);
    assert!(lines.contains(&"unexpected exception: sync (EL1)"), "{console}");
    assert!(
        lines.iter().any(|l| l.starts_with("esr=0x96")
            && l.contains("(data abort (same el))")
            && l.contains("far=0xffff008000000000")),
        "{console}"
    );
    assert!(lines.iter().any(|l| l.starts_with("x0 =")), "{console}");
    assert!(
        lines.iter().any(|l| l.starts_with("PANIC core=0 kernel/src/arch/aarch64/exceptions.rs:")),
        "{console}"
    );
}

/// A panic on another core names that core and still powers the machine off.
#[test]
fn panic_on_a_secondary_names_it_and_powers_off() {
    let mut qemu = Qemu::boot(&["--smp", "4", "--append", "test=panic"]);
    let console = qemu.finish();
    let panic = contract_lines(&console).into_iter().find(|l| l.starts_with("PANIC ")).map(str::to_string);
    let panic = panic.unwrap_or_else(|| panic!("no PANIC line: {console}"));
    assert!(panic.starts_with("PANIC core=3 kernel/src/command.rs:"), "{panic}");
    assert!(panic.ends_with(": panic requested by test=panic"), "{panic}");
}
