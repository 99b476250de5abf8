//! The machine topology and the broadcast tree built from it.
//!
//! Cores are numbered consecutively across clusters (as the DT's `cpu-map`
//! lists them). A broadcast from a root runs along a two-level tree over the
//! cores currently believed alive:
//!
//! * the *leaders* (the root for its own cluster, the lowest live core of every
//!   other cluster) form a binary heap, the root's cluster first;
//! * inside each cluster the live members form a binary heap under their
//!   leader.
//!
//! A node's children are its heap children in its cluster plus, for a leader,
//! its heap children among the leaders, so the out-degree is at most 4 and the
//! depth is about `log2(clusters) + log2(cluster size)`: 3 hops for 8 cores in
//! 2 clusters of 4, 4 hops for 16 cores in 4 clusters of 4.

use crate::types::{CoreId, CoreSet, MAX_CORES};

/// The cluster structure of the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Topology {
    cluster: [u8; MAX_CORES],
    cores: u8,
    clusters: u8,
}

/// Collects up to [`MAX_CORES`] cores into a fixed array.
struct CoreList {
    items: [CoreId; MAX_CORES],
    len: usize,
}

impl CoreList {
    fn new() -> Self {
        CoreList { items: [CoreId(0); MAX_CORES], len: 0 }
    }
    fn push(&mut self, c: CoreId) {
        self.items[self.len] = c;
        self.len += 1;
    }
    fn position(&self, c: CoreId) -> Option<usize> {
        self.items[..self.len].iter().position(|&x| x == c)
    }
    fn heap_children(&self, index: usize) -> CoreSet {
        let mut set = CoreSet::EMPTY;
        for child in [2 * index + 1, 2 * index + 2] {
            if child < self.len {
                set.insert(self.items[child]);
            }
        }
        set
    }
}

impl Topology {
    /// A topology of consecutive clusters with the given sizes (e.g. `&[4, 4]`
    /// for two sockets of four cores). Sizes of zero are skipped.
    ///
    /// # Panics
    ///
    /// If the total exceeds [`MAX_CORES`] or is zero.
    pub fn from_clusters(sizes: &[usize]) -> Topology {
        let mut cluster = [0u8; MAX_CORES];
        let mut cores = 0usize;
        let mut clusters = 0u8;
        for &size in sizes.iter().filter(|&&s| s > 0) {
            assert!(cores + size <= MAX_CORES, "too many cores");
            for slot in &mut cluster[cores..cores + size] {
                *slot = clusters;
            }
            cores += size;
            clusters += 1;
        }
        assert!(cores > 0, "no cores");
        Topology { cluster, cores: cores as u8, clusters }
    }

    /// One flat cluster of `n` cores.
    pub fn flat(n: usize) -> Topology {
        Topology::from_clusters(&[n])
    }

    /// Number of cores.
    pub fn cores(&self) -> usize {
        self.cores as usize
    }

    /// All cores.
    pub fn all(&self) -> CoreSet {
        CoreSet::first_n(self.cores())
    }

    /// The cluster `core` belongs to.
    pub fn cluster_of(&self, core: CoreId) -> u8 {
        self.cluster[core.index()]
    }

    /// Live members of `cluster`, its leader first (the root for the root's
    /// cluster, else the lowest live member).
    fn members(&self, cluster: u8, root: CoreId, live: CoreSet) -> CoreList {
        let mut list = CoreList::new();
        if self.cluster_of(root) == cluster {
            list.push(root);
        }
        for c in live.iter().filter(|&c| c.index() < self.cores()) {
            if self.cluster_of(c) == cluster && c != root {
                list.push(c);
            }
        }
        list
    }

    /// The leaders of all clusters with a live member, root's cluster first.
    fn leaders(&self, root: CoreId, live: CoreSet) -> CoreList {
        let mut list = CoreList::new();
        list.push(root);
        for k in 0..self.clusters {
            if k == self.cluster_of(root) {
                continue;
            }
            let members = self.members(k, root, live);
            if members.len > 0 {
                list.push(members.items[0]);
            }
        }
        list
    }

    /// The children of `node` in the broadcast tree rooted at `root` over the
    /// `live` cores (`root` counts as live). Empty if `node` is not live.
    pub fn children(&self, root: CoreId, live: CoreSet, node: CoreId) -> CoreSet {
        let mut live = live;
        live.insert(root);
        if !live.contains(node) || node.index() >= self.cores() {
            return CoreSet::EMPTY;
        }
        let members = self.members(self.cluster_of(node), root, live);
        let Some(index) = members.position(node) else { return CoreSet::EMPTY };
        let mut children = members.heap_children(index);
        if index == 0 {
            let leaders = self.leaders(root, live);
            if let Some(i) = leaders.position(node) {
                children.0 |= leaders.heap_children(i).0;
            }
        }
        children
    }

    /// The depth (in hops) of the broadcast tree rooted at `root` over `live`:
    /// the critical path of one broadcast.
    pub fn depth(&self, root: CoreId, live: CoreSet) -> u32 {
        let mut frontier = CoreSet::single(root);
        let mut seen = frontier;
        let mut depth = 0;
        loop {
            let mut next = CoreSet::EMPTY;
            for node in frontier.iter() {
                next.0 |= self.children(root, live, node).0;
            }
            next.0 &= !seen.0;
            if next.is_empty() {
                return depth;
            }
            seen.0 |= next.0;
            frontier = next;
            depth += 1;
        }
    }

    /// All cores reached by a broadcast from `root` over `live`.
    pub fn reached(&self, root: CoreId, live: CoreSet) -> CoreSet {
        let mut frontier = CoreSet::single(root);
        let mut seen = frontier;
        while !frontier.is_empty() {
            let mut next = CoreSet::EMPTY;
            for node in frontier.iter() {
                next.0 |= self.children(root, live, node).0;
            }
            next.0 &= !seen.0;
            seen.0 |= next.0;
            frontier = next;
        }
        seen
    }
}
