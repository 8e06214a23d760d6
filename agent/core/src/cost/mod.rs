//! Resource cost models behind one trait.
//!
//! A [`CostModel`] maps an architecture of a space to a non-negative cost in its own
//! unit (parameters, FLOPs, microseconds). Models that only fit some spaces say so in
//! [`CostModel::check_space`]; a search calls it once before any cost is asked for, so
//! `cost` itself never fails. A cost that cannot be known (a latency block not yet
//! measured) is `NaN`, which the feasibility test treats as infeasible.

mod affine_macs;
mod ffn;
mod nats;
mod table;

use core::fmt;

pub use affine_macs::AffineMacs;
pub use ffn::{FfnFlops, FfnParams, FfnShape};
pub use nats::NatsSizeMacs;
pub use table::{Calibration, LatencyTable, TableError};

use crate::space::{Architecture, SearchSpace};

/// A resource cost of architectures.
pub trait CostModel {
    /// The cost of `arch`, which belongs to `space` (checked by the caller).
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64;

    /// Whether this model can price architectures of `space`.
    fn check_space(&self, _space: &SearchSpace) -> Result<(), CostError> {
        Ok(())
    }

    /// The unit of [`CostModel::cost`] (`params`, `flops`, `us`).
    fn unit(&self) -> &'static str;
}

impl<C: CostModel + ?Sized> CostModel for &C {
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64 {
        (**self).cost(space, arch)
    }
    fn check_space(&self, space: &SearchSpace) -> Result<(), CostError> {
        (**self).check_space(space)
    }
    fn unit(&self) -> &'static str {
        (**self).unit()
    }
}

/// Why a cost model cannot price a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CostError {
    /// The model is defined for a fixed number of layers.
    WrongLayerCount {
        /// Layers the model needs.
        expected: usize,
        /// Layers the space has.
        found: usize,
    },
    /// A latency table was built for a space of another shape.
    TableShapeMismatch {
        /// First layer whose choice count differs (or the layer count, if that differs).
        layer: usize,
    },
    /// An FFN shape has a zero input or output size.
    EmptyFfnEnd,
    /// The cost of the space's most expensive architecture does not fit in 64 bits.
    Overflow,
}

impl fmt::Display for CostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::WrongLayerCount { expected, found } => write!(
                f,
                "cost model needs a space of {expected} layers, the space has {found}"
            ),
            Self::TableShapeMismatch { layer } => write!(
                f,
                "latency table does not match the search space (first difference at layer {layer})"
            ),
            Self::EmptyFfnEnd => {
                write!(f, "the network's input and output sizes must be at least 1")
            }
            Self::Overflow => write!(
                f,
                "the cost of the space's largest architecture does not fit in 64 bits"
            ),
        }
    }
}

impl core::error::Error for CostError {}
