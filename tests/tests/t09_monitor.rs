//! `test=monitor`: one monitor per core, every pair linked, the replicated
//! state exercised from every core (names, a RAM transfer, a capability
//! copied everywhere and revoked remotely, bad input), then the same digest
//! on every core.

use mk_tests::{compile_dts, contract_lines, edit_cpus, virt_dts, Qemu};

/// Boots with `args` and `test=monitor`; checks the contract lines for `n`
/// monitors, the broadcast tree and at least `cases` passed cases. Returns
/// the console.
fn monitor_test(args: &[&str], n: usize, tree: &str, cases: u32) -> String {
    let mut all = vec!["--append", "test=monitor"];
    all.extend_from_slice(args);
    let console = Qemu::boot(&all).finish();
    let lines = contract_lines(&console);
    let up = format!("monitors: {n}/{n} up channels={}", n * (n - 1) / 2);
    assert!(lines.contains(&up.as_str()), "{up} missing:\n{console}");
    let tree = format!("monitor: broadcast tree: {tree}");
    assert!(lines.contains(&tree.as_str()), "{tree} missing:\n{console}");
    let verdict_at = lines
        .iter()
        .position(|l| l.starts_with("test monitor: ") && l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no verdict:\n{console}"));
    let verdict = lines[verdict_at];
    let (passed, failed) = verdict
        .trim_start_matches("test monitor: ")
        .split_once(" passed, ")
        .map(|(p, f)| (p.parse::<u32>().unwrap(), f.trim_end_matches(" failed").parse::<u32>().unwrap()))
        .unwrap();
    assert!(passed >= cases && failed == 0, "{verdict}\n{console}");
    // One replica line per core, all before the verdict, one digest.
    let replicas: Vec<&str> =
        lines[..verdict_at].iter().copied().filter(|l| l.starts_with("replica: ")).collect();
    assert_eq!(replicas.len(), n, "{console}");
    let digest = replicas[0].rsplit_once("digest=").unwrap().1;
    assert!(
        digest.len() == 16 && digest.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "{console}"
    );
    for core in 0..n {
        let line = format!("replica: core={core} digest={digest}");
        assert!(replicas.contains(&line.as_str()), "{line} missing:\n{console}");
        // `hello`, spawned on every core through the monitors.
        let hello = format!("hello from core {core}");
        assert!(lines.contains(&hello.as_str()), "{hello} missing:\n{console}");
    }
    console
}

#[test]
fn eight_cores() {
    monitor_test(&["--smp", "8"], 8, "clusters 8, depth 3", 220);
}

#[test]
fn two_sockets_make_two_clusters() {
    monitor_test(&["--smp", "8,sockets=2", "--gic", "2"], 8, "clusters 4+4, depth 3", 220);
}

#[test]
fn two_cores() {
    monitor_test(&["--smp", "2"], 2, "clusters 2, depth 1", 45);
}

#[test]
fn one_core() {
    monitor_test(&["--smp", "1"], 1, "clusters 1, depth 0", 10);
}

#[test]
fn raspberry_pi_4() {
    monitor_test(&["--board", "rpi4"], 4, "clusters 4, depth 2", 95);
}

/// Two of four listed CPUs never start: the two monitors that run leave
/// them out of the online set and agree without them.
#[test]
fn offline_cores_are_left_out() {
    let out = edit_cpus(&virt_dts(4, ""), |cpu, line| match (cpu, line.trim()) {
        (Some(1 | 3), "enable-method = \"psci\";") => line.replace("psci", "acpi-parking"),
        _ => line.to_string(),
    });
    let dtb = compile_dts("monitor-offline", "board", &out);
    let dtb = dtb.to_str().unwrap().to_string();
    let console = Qemu::boot(&["--smp", "4", "--append", "test=monitor", "--", "-dtb", &dtb]).finish();
    let lines = contract_lines(&console);
    assert!(lines.contains(&"monitors: 2/2 up channels=1"), "{console}");
    let verdict =
        lines.iter().find(|l| l.starts_with("test monitor: ")).unwrap_or_else(|| panic!("{console}"));
    assert!(verdict.ends_with(" 0 failed"), "{console}");
    let replicas = lines.iter().filter(|l| l.starts_with("replica: ")).count();
    assert_eq!(replicas, 2, "{console}");
}
