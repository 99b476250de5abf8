//! `scripts/bench` runs every benchmark to completion under deterministic
//! QEMU and prints well-formed lines (speed itself is measured, not asserted).

use mk_tests::root;
use std::process::Command;

#[test]
fn bench_prints_one_line_per_result() {
    let out = Command::new(root().join("scripts/bench")).arg("--no-build").output().expect("scripts/bench");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    // Name, unit and samples.
    let expected = [
        ("line_rt_raw", "insn", "31"),
        ("urpc_rt_poll", "insn", "31"),
        ("urpc_rt_sgi", "insn", "31"),
        ("urpc_tput", "insn/msg", "31"),
        ("sgi_rt", "insn", "31"),
        ("unmap_tlbi_n2", "insn", "31"),
        ("unmap_tlbi_n4", "insn", "31"),
        ("unmap_tlbi_n8", "insn", "31"),
        ("unmap_msg_n2", "insn", "31"),
        ("unmap_msg_n4", "insn", "31"),
        ("unmap_msg_n8", "insn", "31"),
        ("null_syscall", "insn", "31"),
        ("cap_invoke_null", "insn", "31"),
        ("lmp_rt", "insn", "31"),
        ("thread_switch", "insn", "31"),
        ("rpc_rt_local", "insn", "31"),
        ("urpc_rt_user", "insn", "31"),
        ("rpc_rt_remote", "insn", "31"),
        ("agree_n2", "insn", "15"),
        ("agree_hops_n2", "hops", "480"),
        ("agree_n4", "insn", "15"),
        ("agree_hops_n4", "hops", "480"),
        ("agree_n8", "insn", "15"),
        ("ns_lookup", "insn", "15"),
        ("ns_lookup_msgs", "messages", "480"),
        ("cap_revoke_remote", "insn", "15"),
        ("agree_hops_n8", "hops", "480"),
        ("session_rt", "insn", "31"),
        ("spawn_local", "insn", "11"),
        ("spawn_remote", "insn", "11"),
        ("urpc_rt_poll_over_line_rt_raw", "ratio", "31"),
        ("urpc_rt_sgi_over_sgi_rt", "ratio", "31"),
        ("rpc_rt_local_over_lmp_rt", "ratio", "31"),
        ("rpc_rt_remote_over_urpc_rt_user", "ratio", "31"),
        ("rpc_rt_remote_over_urpc_rt_poll", "ratio", "31"),
        ("unmap_msg_n8_over_unmap_tlbi_n8", "ratio", "31"),
        ("agree_step", "insn", "6"),
        ("agree_step_over_urpc_rt_poll", "ratio", "6"),
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (line, (name, unit, samples)) in lines.iter().zip(expected) {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 6, "{line}");
        assert_eq!((fields[0], fields[1]), ("BENCH", name), "{line}");
        assert_eq!(fields[2], format!("n={samples}"), "{line}");
        let value = |key: &str, field: &str| -> f64 {
            field.strip_prefix(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{line}"))
        };
        let (median, min) = (value("median=", fields[3]), value("min=", fields[4]));
        // A ratio of minimums may exceed the ratio of medians; a lookup
        // sends no message.
        let positive = min > 0.0 || unit == "messages";
        assert!(positive && (min <= median || unit == "ratio"), "{line}");
        assert_eq!(fields[5], format!("unit={unit}"), "{line}");
    }
}
