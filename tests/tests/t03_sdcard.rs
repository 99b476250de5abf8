//! `scripts/sdcard` makes a bootable Pi 4 card image without root: a DOS
//! label, one bootable FAT32 partition with firmware, tree, config and kernel.

use mk_tests::{root, scratch};
use std::process::Command;

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn make_card(psci: bool) -> String {
    let image = scratch("sdcard").join(if psci { "psci.img" } else { "spin.img" });
    let image = image.to_str().unwrap().to_string();
    let sdcard = root().join("scripts/sdcard");
    let mut args = vec!["--no-build", "--append", "test=boot"];
    if psci {
        args.push("--psci");
    }
    args.push(&image);
    run(sdcard.to_str().unwrap(), &args);
    image
}

fn check_card(psci: bool) {
    let image = make_card(psci);
    let table = run("sfdisk", &["-d", &image]);
    assert!(table.contains("label: dos"), "{table}");
    assert!(table.contains("start=        2048") && table.contains("type=c, bootable"), "{table}");
    let fat = format!("{image}@@1M");
    let info = run("minfo", &["-i", &fat, "::"]);
    assert!(info.contains("FAT32"), "not FAT32: {info}");
    let files = run("mdir", &["-i", &fat, "-b", "::/"]);
    for name in
        ["start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb", "config.txt", "cmdline.txt", "kernel8.img"]
    {
        assert!(files.contains(name), "{name} missing: {files}");
    }
    assert_eq!(files.contains("bl31.bin"), psci, "{files}");
    let config = run("mtype", &["-i", &fat, "::/config.txt"]);
    assert!(files.contains("initrd.cpio"), "boot modules missing: {files}");
    for line in [
        "arm_64bit=1",
        "kernel=kernel8.img",
        "enable_uart=1",
        "device_tree=bcm2711-rpi-4-b.dtb",
        "initramfs initrd.cpio followkernel",
    ] {
        assert!(config.lines().any(|l| l == line), "{line} missing: {config}");
    }
    assert_eq!(config.lines().any(|l| l == "armstub=bl31.bin"), psci, "{config}");
    assert_eq!(run("mtype", &["-i", &fat, "::/cmdline.txt"]).trim(), "test=boot");
    let copy = scratch("sdcard").join(if psci { "kernel-psci" } else { "kernel-spin" });
    let _ = std::fs::remove_file(&copy);
    run("mcopy", &["-i", &fat, "::/kernel8.img", copy.to_str().unwrap()]);
    let built = std::fs::read(root().join("out/rpi4/Image")).unwrap();
    assert!(std::fs::read(&copy).unwrap() == built, "kernel8.img differs from out/rpi4/Image");
}

#[test]
fn spin_table_card() {
    check_card(false);
}

#[test]
fn psci_card() {
    check_card(true);
}
