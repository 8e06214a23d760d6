//! Latencies measured on a board, the cost model of a latency target
//! ([`HostResource::LatencyUs`](super::HostResource::LatencyUs)), and who measured them.

use tabnas_core::cost::CostModel;
use tabnas_core::space::{Architecture, SearchSpace};

/// Latencies measured on a board: the cost model of
/// [`HostResource::LatencyUs`](super::HostResource::LatencyUs), and what the result
/// records about who measured them.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceLatency {
    /// The board's latencies over this search's space.
    pub costs: std::sync::Arc<BoardCosts>,
    /// Who measured them.
    pub source: LatencySource,
}

/// A board's latencies of a space's children.
#[derive(Debug, Clone, PartialEq)]
pub enum BoardCosts {
    /// Its calibrated block table: a child's latency is predicted from its blocks.
    Table(Box<tabnas_core::cost::LatencyTable>),
    /// Every child measured end to end on the board: microseconds by the space's dense
    /// index.
    Children(Vec<f64>),
}

impl CostModel for BoardCosts {
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64 {
        match self {
            Self::Table(t) => t.cost(space, arch),
            Self::Children(us) => us
                .get(space.index_of(arch) as usize)
                .copied()
                .unwrap_or(f64::NAN),
        }
    }

    fn unit(&self) -> &'static str {
        "us"
    }
}

/// Which board, profile and runtime measured a search's latencies, and how.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LatencySource {
    /// How the board was reached (`http://...`, a serial path).
    pub device: String,
    /// The board profile's name.
    pub board: String,
    /// The runtime that measured.
    pub runtime: String,
    /// The board's bundle hash (first 16 hex digits).
    pub bundle: String,
    /// `table`: the board's calibrated block table fetched once; `measured`: every
    /// child measured end to end on the board (a table of children).
    pub mode: String,
    /// Entries fetched, or children measured.
    pub measurements: usize,
}
