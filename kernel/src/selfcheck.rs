//! The boot self-check's verdicts: which cores came up, and which SGIs of
//! the all-to-all mesh arrived (pure, so it is tested on the host).

use core::fmt;

/// The `sgi:` console line for a mesh among the cores in `online` (bit i =
/// core i), where `received[j]` holds the senders core j saw.
pub struct MeshReport<'a> {
    /// Cores that took part.
    pub online: u64,
    /// Per receiver, the senders it saw (indexed by core number).
    pub received: &'a [u64],
}

impl MeshReport<'_> {
    /// Every (sender, receiver) pair that is missing.
    pub fn missing(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let cores = |mask: u64| (0..64).filter(move |i| mask & (1 << i) != 0);
        cores(self.online).flat_map(move |receiver| {
            let seen = self.received.get(receiver).copied().unwrap_or(0);
            cores(self.online)
                .filter(move |&sender| sender != receiver && seen & (1 << sender) == 0)
                .map(move |sender| (sender, receiver))
        })
    }

    /// Whether every pair arrived.
    pub fn ok(&self) -> bool {
        self.missing().next().is_none()
    }
}

impl fmt::Display for MeshReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.online.count_ones();
        if self.ok() {
            return write!(f, "sgi: {n}x{n} mesh ok");
        }
        write!(f, "sgi: mesh FAILED missing=")?;
        for (k, (sender, receiver)) in self.missing().enumerate() {
            if k > 0 {
                write!(f, ",")?;
            }
            write!(f, "{sender}->{receiver}")?;
        }
        Ok(())
    }
}

/// How the secondaries were started, for `method=` in the boot line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StartMethods {
    /// Started through PSCI over `hvc`.
    pub psci_hvc: bool,
    /// Started through PSCI over `smc`.
    pub psci_smc: bool,
    /// Released from a spin table.
    pub spin_table: bool,
}

impl StartMethods {
    /// `psci-hvc`, `psci-smc`, `spin-table`, `mixed` or `none`.
    pub fn name(&self) -> &'static str {
        match (self.psci_hvc, self.psci_smc, self.spin_table) {
            (false, false, false) => "none",
            (true, false, false) => "psci-hvc",
            (false, true, false) => "psci-smc",
            (false, false, true) => "spin-table",
            _ => "mixed",
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn full_mesh_is_ok() {
        let received = [0b110, 0b101, 0b011];
        let report = MeshReport { online: 0b111, received: &received };
        assert_eq!(report.to_string(), "sgi: 3x3 mesh ok");
    }

    #[test]
    fn single_core_is_one_by_one() {
        let report = MeshReport { online: 1, received: &[0] };
        assert_eq!(report.to_string(), "sgi: 1x1 mesh ok");
    }

    #[test]
    fn missing_pairs_are_listed_sender_first() {
        let received = [0b110, 0b001, 0b001];
        let report = MeshReport { online: 0b111, received: &received };
        assert_eq!(report.to_string(), "sgi: mesh FAILED missing=2->1,1->2");
    }

    #[test]
    fn offline_cores_are_not_expected() {
        let received = [0b100, 0, 0b001];
        let report = MeshReport { online: 0b101, received: &received };
        assert!(report.ok());
    }

    #[test]
    fn method_names() {
        assert_eq!(StartMethods::default().name(), "none");
        assert_eq!(StartMethods { psci_hvc: true, ..Default::default() }.name(), "psci-hvc");
        assert_eq!(StartMethods { psci_smc: true, spin_table: true, ..Default::default() }.name(), "mixed");
    }
}
