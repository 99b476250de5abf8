//! Device tree walk: nodes and raw cells to `BootInfo`, every absence an error.

use super::tree::{Node, Tree};
use super::validate::{validate, MAX_DEPTH};
use super::{
    BootInfo, Conduit, CpuInfo, DtError, EnableMethod, FixedStr, GicInfo, Region, RegionList, TimerInfo,
    MAX_CPUS,
};

/// The affinity fields of MPIDR (Aff3, Aff2, Aff1, Aff0).
pub const MPIDR_AFFINITY_MASK: u64 = (0xff << 32) | ((1 << 24) - 1);

/// Most cells in an address (PCI buses use 3).
const MAX_CELLS: usize = 4;
const MAX_CELLS_U64: u64 = MAX_CELLS as u64;

const GIC_V3_COMPATIBLE: &[&str] = &["arm,gic-v3"];
const GIC_V2_COMPATIBLE: &[&str] =
    &["arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a9-gic", "arm,cortex-a7-gic", "arm,gic-v2"];

/// How addresses inside a node (for its children) reach the root's space.
struct Bus<'b, 'a> {
    address_cells: usize,
    size_cells: usize,
    /// The node's own `ranges`: `None` when absent (nothing translates).
    ranges: Option<&'a [u8]>,
    upper: Option<&'b Bus<'b, 'a>>,
}

/// The properties of one node that the kernel looks at.
#[derive(Default)]
struct Props<'a> {
    device_type: Option<&'a [u8]>,
    compatible: Option<&'a [u8]>,
    reg: Option<&'a [u8]>,
    address_cells: Option<&'a [u8]>,
    size_cells: Option<&'a [u8]>,
    ranges: Option<&'a [u8]>,
    enable_method: Option<&'a [u8]>,
    release_addr: Option<&'a [u8]>,
    method: Option<&'a [u8]>,
    interrupts: Option<&'a [u8]>,
    phandle: Option<&'a [u8]>,
    linux_phandle: Option<&'a [u8]>,
    cpu: Option<&'a [u8]>,
}

impl<'a> Props<'a> {
    fn of(node: Node<'a>) -> Self {
        let mut props = Props::default();
        for prop in node.properties() {
            let slot = match prop.name {
                "device_type" => &mut props.device_type,
                "compatible" => &mut props.compatible,
                "reg" => &mut props.reg,
                "#address-cells" => &mut props.address_cells,
                "#size-cells" => &mut props.size_cells,
                "ranges" => &mut props.ranges,
                "enable-method" => &mut props.enable_method,
                "cpu-release-addr" => &mut props.release_addr,
                "method" => &mut props.method,
                "interrupts" => &mut props.interrupts,
                "phandle" => &mut props.phandle,
                "linux,phandle" => &mut props.linux_phandle,
                "cpu" => &mut props.cpu,
                _ => continue,
            };
            *slot = Some(prop.value);
        }
        props
    }

    fn is_compatible(&self, names: &[&str]) -> bool {
        strings(self.compatible).any(|c| names.contains(&c))
    }

    fn device_type_is(&self, wanted: &str) -> bool {
        strings(self.device_type).next() == Some(wanted)
    }

    /// The node's `phandle` (or older `linux,phandle`); 0 and `0xffffffff`
    /// are not phandles.
    fn phandle(&self) -> Option<u32> {
        phandle_value(self.phandle.or(self.linux_phandle))
    }
}

/// A one-cell phandle value (`phandle`, or a reference such as cpu-map's
/// `cpu`): exactly 4 bytes, neither 0 nor `0xffffffff`.
fn phandle_value(value: Option<&[u8]>) -> Option<u32> {
    let value = value.filter(|v| v.len() == 4)?;
    let phandle = read_cells(value, 1)? as u32;
    (phandle != 0 && phandle != u32::MAX).then_some(phandle)
}

/// The NUL-separated strings of a string-list property.
fn strings(value: Option<&[u8]>) -> impl Iterator<Item = &str> {
    value
        .unwrap_or(&[])
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .filter_map(|s| core::str::from_utf8(s).ok())
}

/// Reads `cells` big-endian 32-bit cells as one number; `None` when there are
/// too few bytes or the value does not fit in 64 bits.
fn read_cells(bytes: &[u8], cells: usize) -> Option<u64> {
    if cells == 0 || cells > MAX_CELLS || bytes.len() < cells * 4 {
        return None;
    }
    let mut value = 0u64;
    for c in bytes[..cells * 4].chunks(4) {
        if value >> 32 != 0 {
            return None;
        }
        value = (value << 32) | u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
    Some(value)
}

fn cell_count(value: Option<&[u8]>, default: usize, allow_zero: bool) -> Result<usize, DtError> {
    let Some(bytes) = value else { return Ok(default) };
    match read_cells(bytes, 1) {
        Some(n @ 1..=MAX_CELLS_U64) => Ok(n as usize),
        Some(0) if allow_zero => Ok(0),
        _ => Err(DtError::BadCells),
    }
}

impl Bus<'_, '_> {
    /// Splits a `reg` value into (address, size) pairs in this bus's space.
    fn reg_entries<'v>(&self, reg: &'v [u8]) -> Result<impl Iterator<Item = (u64, u64)> + 'v, DtError> {
        let (ac, sc) = (self.address_cells, self.size_cells);
        let entry = (ac + sc) * 4;
        if reg.is_empty() || !reg.len().is_multiple_of(entry) {
            return Err(DtError::BadCells);
        }
        let mut bad = false;
        for e in reg.chunks(entry) {
            bad |= read_cells(e, ac).is_none() || (sc != 0 && read_cells(&e[ac * 4..], sc).is_none());
        }
        if bad {
            return Err(DtError::BadCells);
        }
        Ok(reg.chunks(entry).map(move |e| {
            let size = if sc == 0 { 0 } else { read_cells(&e[ac * 4..], sc).unwrap_or(0) };
            (read_cells(e, ac).unwrap_or(0), size)
        }))
    }

    /// Translates an address of this bus's space to the root's space.
    fn translate(&self, address: u64) -> Result<u64, DtError> {
        let Some(upper) = self.upper else { return Ok(address) };
        let ranges = self.ranges.ok_or(DtError::Untranslatable(address))?;
        if ranges.is_empty() {
            return upper.translate(address);
        }
        let (child, parent, size) = (self.address_cells, upper.address_cells, self.size_cells);
        let entry = (child + parent + size) * 4;
        if size == 0 || ranges.len() % entry != 0 {
            return Err(DtError::BadCells);
        }
        for e in ranges.chunks(entry) {
            let child_base = read_cells(e, child).ok_or(DtError::BadCells)?;
            let parent_base = read_cells(&e[child * 4..], parent).ok_or(DtError::BadCells)?;
            let len = read_cells(&e[(child + parent) * 4..], size).ok_or(DtError::BadCells)?;
            if address >= child_base && address - child_base < len {
                return upper.translate(parent_base + (address - child_base));
            }
        }
        Err(DtError::Untranslatable(address))
    }

    /// The translated regions of a `reg` value.
    fn regions(&self, reg: &[u8]) -> Result<impl Iterator<Item = Result<Region, DtError>> + '_, DtError> {
        let entries = self.reg_entries(reg)?;
        let mut out = [(0u64, 0u64); 4];
        let mut n = 0;
        for e in entries.take(4) {
            out[n] = e;
            n += 1;
        }
        Ok(out
            .into_iter()
            .take(n)
            .map(move |(address, size)| Ok(Region { base: self.translate(address)?, size })))
    }
}

/// What the walk collects before the final checks.
struct Builder {
    info: BootInfo,
    gic: Option<GicInfo>,
    gic_error: Option<DtError>,
    timer: Option<TimerInfo>,
    saw_cpus_node: bool,
}

/// Parses a device tree blob into `BootInfo`. `blob_address` is where the
/// loader put it (recorded so the blob can be kept out of free RAM).
pub fn parse(blob: &[u8], blob_address: u64) -> Result<BootInfo, DtError> {
    validate(blob)?;
    let tree = Tree::new(blob).ok_or(DtError::Truncated)?;
    let total = super::validate::total_size(blob)?;
    let mut builder = Builder {
        info: BootInfo {
            memory: RegionList::default(),
            reserved: RegionList::default(),
            cpus: [CpuInfo::default(); MAX_CPUS],
            cpu_count: 0,
            cpus_listed: 0,
            psci: None,
            gic: GicInfo::V2 { distributor: Region::default(), cpu_interface: Region::default() },
            timer: TimerInfo::default(),
            bootargs: FixedStr::default(),
            stdout_path: FixedStr::default(),
            initrd: None,
            dtb: Region { base: blob_address, size: total as u64 },
        },
        gic: None,
        gic_error: None,
        timer: None,
        saw_cpus_node: false,
    };
    for (base, size) in tree.reservations() {
        builder.info.reserved.push(Region { base, size });
    }
    let root = tree.root().ok_or(DtError::Malformed(0))?;
    let root_props = Props::of(root);
    let root_bus = Bus {
        address_cells: cell_count(root_props.address_cells, 2, false)?,
        size_cells: cell_count(root_props.size_cells, 1, false)?,
        ranges: None,
        upper: None,
    };
    for child in root.children() {
        builder.top_level(child, &root_bus)?;
    }
    builder.finish()
}

impl Builder {
    fn top_level(&mut self, node: Node<'_>, root: &Bus<'_, '_>) -> Result<(), DtError> {
        let props = Props::of(node);
        let base_name = node.name.split('@').next().unwrap_or("");
        match base_name {
            "cpus" => return self.cpus(node, &props),
            "chosen" => return self.chosen(node),
            "reserved-memory" => return self.reserved_memory(node, &props, root),
            "psci" => self.psci(&props)?,
            _ => {}
        }
        if props.device_type_is("memory") {
            if let Some(reg) = props.reg {
                for region in root.regions(reg)? {
                    self.info.memory.push(region?);
                }
            }
        }
        self.device(node, props, root, 1)
    }

    /// Any node below the root: interrupt controller, timer, and buses.
    fn device(
        &mut self,
        node: Node<'_>,
        props: Props<'_>,
        bus: &Bus<'_, '_>,
        depth: usize,
    ) -> Result<(), DtError> {
        if props.is_compatible(&["arm,psci", "arm,psci-0.2", "arm,psci-1.0"]) && self.info.psci.is_none() {
            self.psci(&props)?;
        }
        if self.gic.is_none() && self.gic_error.is_none() {
            self.interrupt_controller(&props, bus);
        }
        if self.timer.is_none() && props.is_compatible(&["arm,armv8-timer"]) {
            self.timer = timer(&props);
        }
        if depth >= MAX_DEPTH {
            return Ok(());
        }
        let inner = Bus {
            address_cells: cell_count(props.address_cells, 2, false)?,
            size_cells: cell_count(props.size_cells, 1, true)?,
            ranges: props.ranges,
            upper: Some(bus),
        };
        for child in node.children() {
            let child_props = Props::of(child);
            self.device(child, child_props, &inner, depth + 1)?;
        }
        Ok(())
    }

    fn interrupt_controller(&mut self, props: &Props<'_>, bus: &Bus<'_, '_>) {
        let v3 = props.is_compatible(GIC_V3_COMPATIBLE);
        if !v3 && !props.is_compatible(GIC_V2_COMPATIBLE) {
            return;
        }
        let mut regions = [Region::default(); 2];
        let read = (|| {
            let mut found = 0;
            for (slot, region) in regions.iter_mut().zip(bus.regions(props.reg.ok_or(DtError::BadGicReg)?)?) {
                *slot = region?;
                found += 1;
            }
            if found < 2 {
                Err(DtError::BadGicReg)
            } else {
                Ok(())
            }
        })();
        match read {
            Ok(()) if v3 => {
                self.gic = Some(GicInfo::V3 { distributor: regions[0], redistributors: regions[1] })
            }
            Ok(()) => self.gic = Some(GicInfo::V2 { distributor: regions[0], cpu_interface: regions[1] }),
            Err(e) => self.gic_error = Some(e),
        }
    }

    fn psci(&mut self, props: &Props<'_>) -> Result<(), DtError> {
        self.info.psci = match strings(props.method).next() {
            Some("hvc") => Some(Conduit::Hvc),
            Some("smc") => Some(Conduit::Smc),
            _ => return Err(DtError::BadPsciMethod),
        };
        Ok(())
    }

    fn cpus(&mut self, node: Node<'_>, props: &Props<'_>) -> Result<(), DtError> {
        self.saw_cpus_node = true;
        let address_cells = cell_count(props.address_cells, 2, false)?;
        let first = self.info.cpu_count;
        let mut phandles = [None; MAX_CPUS];
        for child in node.children() {
            let cpu = Props::of(child);
            if !cpu.device_type_is("cpu") {
                continue;
            }
            self.info.cpus_listed += 1;
            if self.info.cpu_count == MAX_CPUS {
                continue;
            }
            let mpidr = cpu
                .reg
                .filter(|r| r.len() == address_cells * 4)
                .and_then(|r| read_cells(r, address_cells))
                .map(|m| m & MPIDR_AFFINITY_MASK);
            let release = cpu.release_addr.and_then(|r| read_cells(r, r.len() / 4));
            let method = match (strings(cpu.enable_method).next(), release) {
                (None, _) => EnableMethod::Absent,
                (Some("psci"), _) => EnableMethod::Psci,
                (Some("spin-table"), Some(release_addr)) => EnableMethod::SpinTable { release_addr },
                (Some("spin-table"), None) => EnableMethod::SpinTableWithoutAddress,
                (Some(_), _) => EnableMethod::Unknown,
            };
            phandles[self.info.cpu_count - first] = cpu.phandle();
            self.info.cpus[self.info.cpu_count] = CpuInfo { mpidr, method, cluster: 0 };
            self.info.cpu_count += 1;
        }
        let kept = &mut self.info.cpus[first..self.info.cpu_count];
        if let Some(map) = node.children().find(|c| c.name == "cpu-map") {
            // A cpu-map that cannot be read is ignored: every CPU stays in
            // cluster 0, as without one.
            if let Some(clusters) = CpuMap::read(node, map, &phandles[..kept.len()]) {
                for (cpu, cluster) in kept.iter_mut().zip(clusters) {
                    cpu.cluster = cluster;
                }
            }
        }
        Ok(())
    }

    fn chosen(&mut self, node: Node<'_>) -> Result<(), DtError> {
        let (mut start, mut end) = (None, None);
        for prop in node.properties() {
            let text = || strings(Some(prop.value)).next().unwrap_or("");
            match prop.name {
                "bootargs" => self.info.bootargs = FixedStr::new(text()),
                "stdout-path" => self.info.stdout_path = FixedStr::new(text()),
                "linux,initrd-start" => start = read_cells(prop.value, prop.value.len() / 4),
                "linux,initrd-end" => end = read_cells(prop.value, prop.value.len() / 4),
                _ => {}
            }
        }
        self.info.initrd = match (start, end) {
            (None, None) => None,
            (Some(s), Some(e)) if e >= s => Some(Region { base: s, size: e - s }),
            _ => return Err(DtError::BadInitrd),
        };
        Ok(())
    }

    fn reserved_memory(
        &mut self,
        node: Node<'_>,
        props: &Props<'_>,
        root: &Bus<'_, '_>,
    ) -> Result<(), DtError> {
        let bus = Bus {
            address_cells: cell_count(props.address_cells, 2, false)?,
            size_cells: cell_count(props.size_cells, 1, false)?,
            ranges: props.ranges,
            upper: Some(root),
        };
        for child in node.children() {
            if let Some(reg) = Props::of(child).reg {
                for region in bus.regions(reg)? {
                    self.info.reserved.push(region?);
                }
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<BootInfo, DtError> {
        if self.info.memory.is_empty() {
            return Err(DtError::NoMemory);
        }
        if !self.saw_cpus_node || self.info.cpu_count == 0 {
            return Err(DtError::NoCpus);
        }
        self.info.gic = match (self.gic, self.gic_error) {
            (Some(gic), _) => gic,
            (None, Some(e)) => return Err(e),
            (None, None) => return Err(DtError::NoGic),
        };
        self.info.timer = self.timer.ok_or(DtError::NoTimer)?;
        Ok(self.info)
    }
}

/// Deepest node below `/cpus/cpu-map` that is walked (socket > cluster >
/// core > thread needs 4; Linux nests clusters a few more); deeper maps are
/// ignored.
const MAX_CPU_MAP_DEPTH: usize = 8;

/// What a `/cpus/cpu-map` node is, by name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MapNode {
    /// `socketN` or `clusterN`: groups cores (the innermost one around cores
    /// is their cluster).
    Group,
    /// `coreN`: a leaf with `cpu`, or the parent of `threadN` leaves.
    Core,
    /// `threadN`: a leaf with `cpu` (outside a core, it counts as one).
    Thread,
    /// Anything else, not walked.
    Other,
}

impl MapNode {
    fn of(name: &str) -> Self {
        let numbered = |prefix: &str| {
            name.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        if numbered("socket") || numbered("cluster") {
            MapNode::Group
        } else if numbered("core") {
            MapNode::Core
        } else if numbered("thread") {
            MapNode::Thread
        } else {
            MapNode::Other
        }
    }
}

/// Why a cpu-map is ignored (the walk stops at the first problem).
struct BadCpuMap;

/// The walk of `/cpus/cpu-map`, assigning cluster numbers to kept CPUs.
struct CpuMap<'p, 'a> {
    /// The `/cpus` node, to look up CPUs beyond `MAX_CPUS`.
    cpus_node: Node<'a>,
    /// The phandle of each kept CPU node, in device-tree order.
    phandles: &'p [Option<u32>],
    /// The cluster of each kept CPU, once cpu-map names it.
    clusters: [Option<u16>; MAX_CPUS],
    /// The next cluster number.
    next: u16,
}

impl<'p, 'a> CpuMap<'p, 'a> {
    /// The cluster of each kept CPU (`phandles` holds their phandles), or
    /// `None` when `map` is malformed: a leaf whose `cpu` is missing, not one
    /// cell or names no CPU node, a CPU named twice, a core with both `cpu`
    /// and threads, or nodes deeper than `MAX_CPU_MAP_DEPTH`.
    ///
    /// Clusters are numbered in the order their first kept CPU appears in
    /// the map; CPUs the map does not name share one cluster after those.
    fn read(cpus_node: Node<'a>, map: Node<'a>, phandles: &'p [Option<u32>]) -> Option<[u16; MAX_CPUS]> {
        let mut walk = CpuMap { cpus_node, phandles, clusters: [None; MAX_CPUS], next: 0 };
        walk.group(map, 0).ok()?;
        Some(walk.clusters.map(|c| c.unwrap_or(walk.next)))
    }

    /// Walks the children of `node` (cpu-map, a socket or a cluster), which
    /// is `depth` levels below cpu-map. The cores directly inside form one
    /// cluster, numbered when the first of them names a kept CPU.
    fn group(&mut self, node: Node<'a>, depth: usize) -> Result<(), BadCpuMap> {
        let depth = depth + 1;
        let mut cluster = None;
        for child in node.children() {
            if depth > MAX_CPU_MAP_DEPTH {
                return Err(BadCpuMap);
            }
            match MapNode::of(child.name) {
                MapNode::Group => self.group(child, depth)?,
                MapNode::Core => self.core(child, depth, &mut cluster)?,
                MapNode::Thread => self.leaf(child, &mut cluster)?,
                MapNode::Other => {}
            }
        }
        Ok(())
    }

    /// A core at `depth`: a leaf itself, or the parent of thread leaves.
    fn core(&mut self, core: Node<'a>, depth: usize, cluster: &mut Option<u16>) -> Result<(), BadCpuMap> {
        let mut threads = core.children().filter(|t| MapNode::of(t.name) == MapNode::Thread).peekable();
        if threads.peek().is_none() {
            return self.leaf(core, cluster);
        }
        if Props::of(core).cpu.is_some() || depth + 1 > MAX_CPU_MAP_DEPTH {
            return Err(BadCpuMap);
        }
        threads.try_for_each(|thread| self.leaf(thread, cluster))
    }

    /// A core or thread: puts the CPU its `cpu` names into `cluster`.
    fn leaf(&mut self, leaf: Node<'a>, cluster: &mut Option<u16>) -> Result<(), BadCpuMap> {
        let phandle = phandle_value(Props::of(leaf).cpu).ok_or(BadCpuMap)?;
        let index = match self.phandles.iter().position(|&p| p == Some(phandle)) {
            Some(index) => index,
            // Not a kept CPU: a CPU node beyond `MAX_CPUS` is skipped like
            // the node itself, anything else is an error.
            None if self.is_listed_cpu(phandle) => return Ok(()),
            None => return Err(BadCpuMap),
        };
        if self.clusters[index].is_some() {
            return Err(BadCpuMap);
        }
        let next = &mut self.next;
        let id = *cluster.get_or_insert_with(|| {
            *next += 1;
            *next - 1
        });
        self.clusters[index] = Some(id);
        Ok(())
    }

    /// Whether a CPU node (kept or not) has `phandle`.
    fn is_listed_cpu(&self, phandle: u32) -> bool {
        self.cpus_node
            .children()
            .map(Props::of)
            .any(|p| p.device_type_is("cpu") && p.phandle() == Some(phandle))
    }
}

/// Timer PPIs from `interrupts` (<type number flags> per entry; type 1 = PPI).
fn timer(props: &Props<'_>) -> Option<TimerInfo> {
    let cells = props.interrupts?;
    if cells.len() < 36 || cells.len() % 12 != 0 {
        return None;
    }
    let ppi = |index: usize| {
        let entry = &cells[index * 12..];
        let kind = read_cells(entry, 1)?;
        let number = read_cells(&entry[4..], 1)?;
        (kind == 1 && number < 16).then_some(number as u32 + 16)
    };
    Some(TimerInfo { physical: ppi(1)?, virtual_timer: ppi(2)? })
}
