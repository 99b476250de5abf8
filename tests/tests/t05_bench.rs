//! `scripts/bench` runs every benchmark to completion under deterministic
//! QEMU and prints well-formed lines (speed itself is measured, not asserted).

use mk_tests::root;
use std::process::Command;

#[test]
fn bench_prints_one_line_per_result() {
    let out = Command::new(root().join("scripts/bench")).arg("--no-build").output().expect("scripts/bench");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let expected = [
        ("line_rt_raw", "insn"),
        ("urpc_rt_poll", "insn"),
        ("urpc_rt_sgi", "insn"),
        ("urpc_tput", "insn/msg"),
        ("sgi_rt", "insn"),
        ("null_syscall", "insn"),
        ("cap_invoke_null", "insn"),
        ("lmp_rt", "insn"),
        ("thread_switch", "insn"),
        ("rpc_rt_local", "insn"),
        ("urpc_rt_user", "insn"),
        ("rpc_rt_remote", "insn"),
        ("urpc_rt_poll_over_line_rt_raw", "ratio"),
        ("urpc_rt_sgi_over_sgi_rt", "ratio"),
        ("rpc_rt_local_over_lmp_rt", "ratio"),
        ("rpc_rt_remote_over_urpc_rt_user", "ratio"),
        ("rpc_rt_remote_over_urpc_rt_poll", "ratio"),
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (line, (name, unit)) in lines.iter().zip(expected) {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 6, "{line}");
        assert_eq!((fields[0], fields[1]), ("BENCH", name), "{line}");
        assert_eq!(fields[2], "n=31", "{line}");
        let value = |key: &str, field: &str| -> f64 {
            field.strip_prefix(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{line}"))
        };
        let (median, min) = (value("median=", fields[3]), value("min=", fields[4]));
        // A ratio of minimums may exceed the ratio of medians.
        assert!(min > 0.0 && (min <= median || unit == "ratio"), "{line}");
        assert_eq!(fields[5], format!("unit={unit}"), "{line}");
    }
}
