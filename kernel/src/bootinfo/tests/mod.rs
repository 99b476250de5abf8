//! Host tests of the device tree → `BootInfo` code, on real QEMU dumps
//! (`kernel/tests/dtb/`, and `dtb/` here for cpu-map) and on mutated copies
//! of them.

extern crate std;
use super::*;
use proptest::prelude::*;
use std::vec::Vec;

const GICV3_SMP8: &[u8] = include_bytes!("../../../tests/dtb/virt-gicv3-smp8.dtb");
const GICV2_SMP8: &[u8] = include_bytes!("../../../tests/dtb/virt-gicv2-smp8.dtb");
const GICV2_SMP1: &[u8] = include_bytes!("../../../tests/dtb/virt-gicv2-smp1.dtb");
const GICV3_SMP20: &[u8] = include_bytes!("../../../tests/dtb/virt-gicv3-smp20.dtb");
const EL2_SMP4: &[u8] = include_bytes!("../../../tests/dtb/virt-el2-smp4.dtb");
const SOC_RANGES: &[u8] = include_bytes!("../../../tests/dtb/soc-ranges.dtb");
const CPUS_ODD: &[u8] = include_bytes!("../../../tests/dtb/cpus-odd.dtb");

fn region(base: u64, size: u64) -> Region {
    Region { base, size }
}

#[test]
fn virt_gicv3_eight_cpus() {
    let info = parse(GICV3_SMP8, 0x4000_0000).unwrap();
    assert_eq!(info.memory.as_slice(), &[region(0x4000_0000, 0x4000_0000)]);
    assert_eq!(info.cpus_listed, 8);
    for (i, cpu) in info.cpus().iter().enumerate() {
        assert_eq!(cpu.mpidr, Some(i as u64));
        assert_eq!(cpu.method, EnableMethod::Psci);
    }
    assert_eq!(info.psci, Some(Conduit::Hvc));
    assert_eq!(
        info.gic,
        GicInfo::V3 {
            distributor: region(0x0800_0000, 0x1_0000),
            redistributors: region(0x080a_0000, 0xf6_0000)
        }
    );
    assert_eq!(info.timer, TimerInfo { physical: 30, virtual_timer: 27 });
    assert_eq!(info.stdout_path.as_str(), "/pl011@9000000");
    assert_eq!(info.dtb, region(0x4000_0000, GICV3_SMP8.len() as u64));
    assert_eq!(info.initrd, None);
}

#[test]
fn virt_gicv2() {
    let info = parse(GICV2_SMP8, 0).unwrap();
    assert_eq!(
        info.gic,
        GicInfo::V2 {
            distributor: region(0x0800_0000, 0x1_0000),
            cpu_interface: region(0x0801_0000, 0x1_0000)
        }
    );
    assert_eq!(info.gic.version(), 2);
}

#[test]
fn single_cpu_has_no_enable_method() {
    let info = parse(GICV2_SMP1, 0).unwrap();
    assert_eq!(info.cpus_listed, 1);
    assert_eq!(info.cpus()[0], CpuInfo { mpidr: Some(0), method: EnableMethod::Absent, cluster: 0 });
}

#[test]
fn seventeenth_cpu_is_in_the_second_cluster() {
    let info = parse(GICV3_SMP20, 0).unwrap();
    assert_eq!(info.cpus_listed, 20);
    assert_eq!(info.cpus()[15].mpidr, Some(15));
    assert_eq!(info.cpus()[16].mpidr, Some(0x100));
    assert_eq!(info.cpus()[19].mpidr, Some(0x103));
    assert_eq!(info.cpu_index(0x100), Some(16));
    assert_eq!(info.cpu_index(16), None);
}

#[test]
fn el2_machine_uses_smc() {
    let info = parse(EL2_SMP4, 0).unwrap();
    assert_eq!(info.psci, Some(Conduit::Smc));
}

#[test]
fn soc_ranges_are_translated() {
    let info = parse(SOC_RANGES, 0x0800_0000).unwrap();
    assert_eq!(
        info.gic,
        GicInfo::V2 { distributor: region(0xff84_1000, 0x1000), cpu_interface: region(0xff84_2000, 0x2000) }
    );
    assert_eq!(info.psci, None);
    assert_eq!(info.cpus()[2].method, EnableMethod::SpinTable { release_addr: 0xe8 });
    assert_eq!(info.memory.as_slice(), &[region(0, 0x3b40_0000), region(0x4000_0000, 0x4000_0000)]);
    assert_eq!(info.reserved.as_slice(), &[region(0, 0x1000), region(0x3000_0000, 0x400_0000)]);
    assert_eq!(info.bootargs.as_str(), "coherent_pool=1M poweroff test=boot");
    assert_eq!(info.initrd, Some(region(0x0270_0000, 0x1_0000)));
    assert_eq!(info.timer, TimerInfo { physical: 30, virtual_timer: 27 });
    assert_eq!(info.cpus_listed, 4);
}

/// A blob kept as `xxd -p` hex text in `dtb/` (see its README).
fn hex_blob(text: &str) -> Vec<u8> {
    let nibbles: Vec<u8> = text.chars().filter_map(|c| c.to_digit(16)).map(|d| d as u8).collect();
    assert!(nibbles.len().is_multiple_of(2), "odd number of hex digits");
    nibbles.chunks(2).map(|pair| (pair[0] << 4) | pair[1]).collect()
}

/// `dtb/NAME.dtb.hex` as a blob.
macro_rules! dtb {
    ($name:literal) => {
        hex_blob(include_str!(concat!("dtb/", $name, ".dtb.hex")))
    };
}

/// QEMU `-smp 8,sockets=2`.
fn sockets2() -> Vec<u8> {
    dtb!("virt-gicv3-smp8-sockets2")
}

/// The cluster of each kept CPU, in device-tree order.
fn clusters(blob: &[u8]) -> Vec<u16> {
    parse(blob, 0).unwrap().cpus().iter().map(|c| c.cluster).collect()
}

/// QEMU `-smp 8,sockets=2`: cpu-map lists cpu@0..3 (phandles 0x8008..0x8005)
/// under socket0/cluster0 and cpu@4..7 under socket1/cluster0.
#[test]
fn two_sockets_are_two_clusters() {
    let info = parse(&sockets2(), 0).unwrap();
    assert_eq!(clusters(&sockets2()), [0, 0, 0, 0, 1, 1, 1, 1]);
    assert_eq!(info.clusters(), 2);
    for (i, cpu) in info.cpus().iter().enumerate() {
        assert_eq!(cpu.mpidr, Some(i as u64));
        assert_eq!(cpu.method, EnableMethod::Psci);
    }
    // The small tree the cpu-map-* variants start from reads the same.
    assert_eq!(clusters(&dtb!("cpu-map-base")), [0, 0, 0, 0, 1, 1, 1, 1]);
}

/// QEMU `-smp 72,sockets=2`: socket1 starts at cpu@36. The cpu-map entries
/// for cpu@64..71, which the kernel does not keep, are skipped like those
/// CPUs rather than spoiling the map.
#[test]
fn cpus_beyond_max_cpus_are_skipped_in_cpu_map() {
    let info = parse(&dtb!("virt-gicv3-smp72-sockets2"), 0).unwrap();
    assert_eq!((info.cpus_listed, info.cpu_count), (72, MAX_CPUS));
    let clusters: Vec<u16> = info.cpus().iter().map(|c| c.cluster).collect();
    assert_eq!(clusters[..36], [0; 36]);
    assert_eq!(clusters[36..], [1; 28]);
    assert_eq!(info.clusters(), 2);
}

/// QEMU's one-socket, one-cluster maps (`-smp 1`, `-smp 4`, `-smp 8` and
/// `-smp 20`, whose CPUs 16.. have MPIDR Aff1 = 1 but share cpu-map's
/// cluster), and trees without a cpu-map (the Pi-4-like ones; the real Pi 4
/// tree has none either): one cluster.
#[test]
fn one_cluster_without_sockets_or_cpu_map() {
    for blob in [GICV3_SMP8, GICV2_SMP8, GICV2_SMP1, GICV3_SMP20, EL2_SMP4, SOC_RANGES, CPUS_ODD] {
        let info = parse(blob, 0).unwrap();
        assert!(info.cpus().iter().all(|c| c.cluster == 0));
        assert_eq!(info.clusters(), 1);
    }
}

/// Threads share their core's cluster; nested clusters are separate ones,
/// numbered in cpu-map order (not CPU order); a cpu-map after the CPU nodes
/// is read too.
#[test]
fn threads_and_nested_clusters() {
    let blob = dtb!("cpu-map-threads");
    assert_eq!(clusters(&blob), [1, 1, 3, 3, 3, 2, 0, 0]);
    assert_eq!(parse(&blob, 0).unwrap().clusters(), 4);
}

/// CPUs that cpu-map leaves out share one extra cluster.
#[test]
fn cpus_missing_from_cpu_map_get_an_extra_cluster() {
    let blob = dtb!("cpu-map-partial");
    assert_eq!(clusters(&blob), [0, 2, 0, 0, 1, 1, 1, 1]);
    assert_eq!(parse(&blob, 0).unwrap().clusters(), 3);
}

/// Cores 8 levels below cpu-map are read; 9 levels make the map ignored.
#[test]
fn cpu_map_depth_is_bounded() {
    assert_eq!(clusters(&dtb!("cpu-map-deep")), [0, 0, 0, 0, 1, 1, 1, 1]);
    assert_eq!(clusters(&dtb!("cpu-map-too-deep")), [0; 8]);
}

/// A cpu-map that cannot be read is ignored (every CPU in cluster 0); the
/// rest of the tree is still used.
#[test]
fn malformed_cpu_map_is_ignored() {
    let cases = [
        ("bad phandle", dtb!("cpu-map-bad-phandle")),
        ("duplicate", dtb!("cpu-map-duplicate")),
        ("wrong length", dtb!("cpu-map-wrong-length")),
        ("missing cpu", dtb!("cpu-map-missing-cpu")),
        ("core and threads", dtb!("cpu-map-core-and-threads")),
    ];
    for (name, blob) in cases {
        let info = parse(&blob, 0).unwrap();
        assert!(info.cpus().iter().all(|c| c.cluster == 0), "{name}");
        assert_eq!(info.clusters(), 1, "{name}");
        assert_eq!(info.cpu_count, 8, "{name}");
        assert_eq!(info.cpus()[7], CpuInfo { mpidr: Some(7), method: EnableMethod::Psci, cluster: 0 });
    }
}

/// Renamed nodes and properties: cpu-map nodes with other names are not
/// walked (their CPUs are unnamed), and `cpu` refers to the CPU nodes'
/// `phandle` (or `linux,phandle`).
#[test]
fn cpu_map_names_and_phandles_matter() {
    // socket0 is not walked: socket1's cluster comes first, cpu@0..3 are extra.
    let blob = mutate(&sockets2(), b"socket0\0", b"sockex0\0");
    assert_eq!(clusters(&blob), [1, 1, 1, 1, 0, 0, 0, 0]);
    // socket0/cluster0/core0 is not walked: cpu@0 is in the extra cluster.
    let blob = mutate_first(&sockets2(), b"core0\0", b"corex\0");
    assert_eq!(clusters(&blob), [2, 0, 0, 0, 1, 1, 1, 1]);
    // No CPU node has a phandle: cpu-map names no CPU and is ignored.
    let blob = mutate(&sockets2(), b"phandle\0", b"phandlx\0");
    assert_eq!(clusters(&blob), [0; 8]);
    assert_eq!(clusters(&dtb!("cpu-map-linux-phandle")), [0, 0, 0, 0, 1, 1, 1, 1]);
}

/// Replaces the first occurrence of `from` by `to` (same length) in a copy.
fn mutate_first(blob: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = blob.to_vec();
    let at = out.windows(from.len()).position(|w| w == from).expect("pattern not found");
    out[at..at + from.len()].copy_from_slice(to);
    out
}

/// Replaces every occurrence of `from` by `to` (same length) in a copy.
fn mutate(blob: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = blob.to_vec();
    let mut hits = 0;
    for i in 0..out.len() - from.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            hits += 1;
        }
    }
    assert!(hits > 0, "pattern not found");
    out
}

#[test]
fn missing_pieces_are_named() {
    let cases: &[(&[u8], &[u8], DtError)] = &[
        (b"memory\0", b"memorx\0", DtError::NoMemory),
        (b"arm,gic-v3\0", b"arm,gic-v9\0", DtError::NoGic),
        (b"arm,armv8-timer\0", b"arm,armv8-timex\0", DtError::NoTimer),
        (b"cpus\0", b"cpux\0", DtError::NoCpus),
        (b"hvc\0", b"hvx\0", DtError::BadPsciMethod),
    ];
    for (from, to, error) in cases {
        let blob = mutate(GICV3_SMP8, from, to);
        assert_eq!(parse(&blob, 0).unwrap_err(), *error, "{:?}", core::str::from_utf8(to));
    }
}

#[test]
fn cpus_that_cannot_start_are_kept_and_described() {
    let info = parse(CPUS_ODD, 0).unwrap();
    assert_eq!(info.cpus_listed, 6);
    assert_eq!(info.cpus()[3], CpuInfo { mpidr: None, method: EnableMethod::Psci, cluster: 0 });
    assert_eq!(info.cpus()[4].method, EnableMethod::Unknown);
    assert_eq!(info.cpus()[5].method, EnableMethod::SpinTableWithoutAddress);
}

#[test]
fn header_damage_is_rejected() {
    let mut blob = GICV3_SMP8.to_vec();
    blob[0] = 0;
    assert_eq!(parse(&blob, 0).unwrap_err(), DtError::BadMagic);
    assert_eq!(parse(&GICV3_SMP8[..100], 0).unwrap_err(), DtError::Truncated);
    assert_eq!(parse(&GICV3_SMP8[..20], 0).unwrap_err(), DtError::Truncated);
    let mut blob = GICV3_SMP8.to_vec();
    blob[8..12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    assert_eq!(parse(&blob, 0).unwrap_err(), DtError::Truncated);
}

#[test]
fn fixed_str_truncates_on_char_boundary() {
    let s: FixedStr<4> = FixedStr::new("abcé");
    assert_eq!(s.as_str(), "abc");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random byte damage anywhere never panics: the result is a `BootInfo`
    /// or an error.
    #[test]
    fn damaged_blobs_never_panic(
        flips in proptest::collection::vec((0usize..8662, any::<u8>()), 1..8),
        cut in 0usize..9000,
    ) {
        let mut blob = GICV3_SMP8.to_vec();
        for (at, value) in flips {
            if at < blob.len() { blob[at] = value; }
        }
        let _ = parse(&blob, 0);
        blob.truncate(cut.min(blob.len()));
        let _ = parse(&blob, 0);
    }

    /// Damage to the cpu-map (and the CPU nodes after it) never panics, and
    /// whatever is read numbers clusters without gaps.
    #[test]
    fn damaged_cpu_map_never_panics(at in 0usize..0x300, value in any::<u32>(), byte in any::<bool>()) {
        let mut blob = dtb!("cpu-map-base");
        let map = blob.windows(8).position(|w| w == b"cpu-map\0").unwrap();
        let at = ((map + at * 4) & !3).min(blob.len() - 4);
        if byte {
            blob[at] = value as u8;
        } else {
            blob[at..at + 4].copy_from_slice(&value.to_be_bytes());
        }
        if let Ok(info) = parse(&blob, 0) {
            let clusters = info.clusters();
            for n in 0..clusters {
                prop_assert!(info.cpus().iter().any(|c| c.cluster == n));
            }
        }
    }

    /// Damage confined to the structure block (where `fdt` would panic)
    /// never panics either.
    #[test]
    fn damaged_structure_never_panics(at in 0usize..0x1800, value in any::<u32>()) {
        let mut blob = SOC_RANGES.to_vec();
        let start = u32::from_be_bytes(blob[8..12].try_into().unwrap()) as usize;
        let at = (start + at * 4).min(blob.len() - 4) & !3;
        blob[at..at + 4].copy_from_slice(&value.to_be_bytes());
        let _ = parse(&blob, 0);
    }
}

/// libfdt replaces deleted properties and nodes with NOP tokens (QEMU's
/// raspi4b does so to the Pi's own tree); they must be skipped.
#[test]
fn nop_tokens_are_skipped() {
    let mut blob = SOC_RANGES.to_vec();
    let value = b"arm,pl011\0";
    let at = blob.windows(value.len()).position(|w| w == value).unwrap();
    let header = at - 12;
    assert_eq!(&blob[header..header + 4], &3u32.to_be_bytes(), "a property token precedes the value");
    let end = (at + value.len() + 3) & !3;
    for word in (header..end).step_by(4) {
        blob[word..word + 4].copy_from_slice(&4u32.to_be_bytes());
    }
    let info = parse(&blob, 0).unwrap();
    assert_eq!(info.gic.version(), 2);
    assert_eq!(info.cpus_listed, 4);
}
