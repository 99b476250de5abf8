//! Device trees the kernel cannot run on, and CPUs it cannot start.

use mk_tests::{compile_dts, contract_lines, edit_cpus, virt_dts, Qemu};

fn boot_with_dtb(test: &str, source: &str, smp: &str) -> String {
    let dtb = compile_dts(test, "board", source);
    let dtb = dtb.to_str().unwrap().to_string();
    let mut qemu = Qemu::boot(&["--smp", smp, "--append", "poweroff", "--", "-dtb", &dtb]);
    qemu.finish()
}

#[test]
fn no_interrupt_controller_is_a_dtb_panic() {
    let source = virt_dts(4, "").replace("\"arm,gic-v3\"", "\"arm,gic-v9\"");
    let console = boot_with_dtb("no_gic", &source, "4");
    assert!(contract_lines(&console).contains(&"PANIC dtb: no GICv2/v3 interrupt controller"), "{console}");
    assert!(!console.contains("boot: "), "{console}");
}

#[test]
fn no_timer_is_a_dtb_panic() {
    let source = virt_dts(2, "").replace("arm,armv8-timer", "arm,armv9-timer");
    let console = boot_with_dtb("no_timer", &source, "2");
    assert!(
        contract_lines(&console).contains(&"PANIC dtb: no arm,armv8-timer with PPI interrupts"),
        "{console}"
    );
}

#[test]
fn gic_without_redistributors_is_a_dtb_panic() {
    let source = virt_dts(2, "").replace(
        "reg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0xf60000>;",
        "reg = <0x00 0x8000000 0x00 0x10000>;",
    );
    assert!(!source.contains("0x80a0000"), "QEMU's tree changed: update this test");
    let console = boot_with_dtb("gic_reg", &source, "2");
    assert!(
        contract_lines(&console).contains(&"PANIC dtb: interrupt controller reg incomplete"),
        "{console}"
    );
}

#[test]
fn no_cpus_node_is_a_dtb_panic() {
    let source = virt_dts(1, "").replace("\tcpus {", "\tprocessors {");
    assert!(source.contains("processors {"), "QEMU's tree changed: update this test");
    let console = boot_with_dtb("no_cpus", &source, "1");
    assert!(contract_lines(&console).contains(&"PANIC dtb: no cpu nodes under /cpus"), "{console}");
}

/// A CPU with an unknown enable-method and one whose MPIDR PSCI rejects are
/// reported and skipped; the others boot and mesh.
#[test]
fn unstartable_cpus_are_skipped() {
    let out = edit_cpus(&virt_dts(4, ""), |cpu, line| match (cpu, line.trim()) {
        (Some(2), "enable-method = \"psci\";") => line.replace("psci", "acpi-parking"),
        (Some(3), "reg = <0x03>;") => line.replace("0x03", "0x07"),
        _ => line.to_string(),
    });
    let console = boot_with_dtb("unstartable", &out, "4");
    let lines = contract_lines(&console);
    assert!(lines.contains(&"warning: cpu 2: not started: unknown enable-method"), "{console}");
    assert!(
        lines.iter().any(|l| l.starts_with("warning: cpu 3: not started: PSCI CPU_ON failed")),
        "{console}"
    );
    assert!(lines.contains(&"boot: 2/4 cores online board=qemu-virt gic=v3 method=psci-hvc"), "{console}");
    assert!(lines.contains(&"sgi: 2x2 mesh ok"), "{console}");
}
