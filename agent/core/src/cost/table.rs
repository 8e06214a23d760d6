//! A per-layer latency table: the latency of every (layer, in-width, out-width) block of
//! an FFN, a fixed overhead, and an affine calibration against end-to-end measurements.
//!
//! Block `b` of an `L`-layer space is the dense layer feeding hidden layer `b`
//! (`b = 0` reads the fixed input) and block `L` is the head (fixed output). A block is
//! indexed by the *choice indices* of its two ends; an end that is fixed has the single
//! index 0. Entries start unmeasured (`NaN`); an architecture that uses an unmeasured
//! block costs `NaN` and is therefore infeasible until the block is measured.
//! The predicted cost is `scale * (overhead + sum of blocks) + offset`.

use core::fmt;

use serde::{Deserialize, Serialize};

use super::{CostError, CostModel};
use crate::capacity::{MAX_CHOICES, MAX_LAYERS};
use crate::controller::Shape;
use crate::space::{Architecture, SearchSpace};

/// Affine correction from table sums to measured end-to-end latency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Multiplier of the raw table sum.
    pub scale: f64,
    /// Added after scaling, in microseconds.
    pub offset_us: f64,
}

impl Calibration {
    /// No correction.
    pub const IDENTITY: Self = Self {
        scale: 1.0,
        offset_us: 0.0,
    };

    /// Least-squares fit of `measured = scale * predicted + offset` over
    /// `(predicted, measured)` pairs. `None` if fewer than two distinct predictions or a
    /// non-finite value make the fit undetermined.
    pub fn fit(pairs: impl IntoIterator<Item = (f64, f64)> + Clone) -> Option<Self> {
        let (mut n, mut sx, mut sy) = (0.0, 0.0, 0.0);
        for (x, y) in pairs.clone() {
            if !x.is_finite() || !y.is_finite() {
                return None;
            }
            n += 1.0;
            sx += x;
            sy += y;
        }
        if n < 2.0 {
            return None;
        }
        let (mx, my) = (sx / n, sy / n);
        let (mut sxx, mut sxy) = (0.0, 0.0);
        for (x, y) in pairs {
            sxx += (x - mx) * (x - mx);
            sxy += (x - mx) * (y - my);
        }
        if sxx <= 1e-12 * (1.0 + mx * mx) {
            return None;
        }
        let scale = sxy / sxx;
        Some(Self {
            scale,
            offset_us: my - scale * mx,
        })
    }

    /// Applies the correction to a raw table sum.
    pub fn apply(&self, raw_us: f64) -> f64 {
        self.scale * raw_us + self.offset_us
    }
}

/// Why a latency table entry could not be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableError {
    /// Block index past the head block.
    NoSuchBlock {
        /// Block asked for.
        block: usize,
    },
    /// A choice index outside the block's ends.
    ChoiceOutOfRange {
        /// Block asked for.
        block: usize,
    },
    /// A latency that is negative or not finite.
    BadLatency {
        /// Block asked for.
        block: usize,
    },
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoSuchBlock { block } => write!(f, "latency table has no block {block}"),
            Self::ChoiceOutOfRange { block } => {
                write!(f, "choice index out of range for latency block {block}")
            }
            Self::BadLatency { block } => write!(
                f,
                "latency for block {block} must be a finite, non-negative number of microseconds"
            ),
        }
    }
}

impl core::error::Error for TableError {}

/// Per-block latencies in microseconds for one search space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyTable {
    shape: Shape,
    overhead_us: f64,
    blocks: [[[f32; MAX_CHOICES]; MAX_CHOICES]; MAX_LAYERS + 1],
    calibration: Calibration,
}

impl LatencyTable {
    /// An unmeasured table for `space` with the given fixed overhead.
    pub fn new(space: &SearchSpace, overhead_us: f64) -> Self {
        Self {
            shape: Shape::of(space),
            overhead_us,
            blocks: [[[f32::NAN; MAX_CHOICES]; MAX_CHOICES]; MAX_LAYERS + 1],
            calibration: Calibration::IDENTITY,
        }
    }

    /// Number of blocks (`layers + 1`, the last being the head).
    pub fn num_blocks(&self) -> usize {
        self.shape.layers() + 1
    }

    /// Number of (in, out) choice indices of `block`.
    pub fn block_dims(&self, block: usize) -> (usize, usize) {
        let layers = self.shape.layers();
        let d_in = if block == 0 {
            1
        } else {
            self.shape.choices(block - 1)
        };
        let d_out = if block == layers {
            1
        } else {
            self.shape.choices(block)
        };
        (d_in, d_out)
    }

    /// Records the latency of one block.
    pub fn set(
        &mut self,
        block: usize,
        in_choice: usize,
        out_choice: usize,
        latency_us: f64,
    ) -> Result<(), TableError> {
        if block >= self.num_blocks() {
            return Err(TableError::NoSuchBlock { block });
        }
        let (d_in, d_out) = self.block_dims(block);
        if in_choice >= d_in || out_choice >= d_out {
            return Err(TableError::ChoiceOutOfRange { block });
        }
        if !latency_us.is_finite() || latency_us < 0.0 {
            return Err(TableError::BadLatency { block });
        }
        self.blocks[block][in_choice][out_choice] = latency_us as f32;
        Ok(())
    }

    /// The recorded latency of one block (`NaN` if unmeasured).
    pub fn get(&self, block: usize, in_choice: usize, out_choice: usize) -> f64 {
        self.blocks[block][in_choice][out_choice] as f64
    }

    /// Number of blocks still unmeasured.
    pub fn missing(&self) -> usize {
        (0..self.num_blocks())
            .map(|b| {
                let (di, dout) = self.block_dims(b);
                (0..di)
                    .flat_map(|i| (0..dout).map(move |o| (i, o)))
                    .filter(|&(i, o)| self.blocks[b][i][o].is_nan())
                    .count()
            })
            .sum()
    }

    /// Fixed overhead in microseconds.
    pub fn overhead_us(&self) -> f64 {
        self.overhead_us
    }

    /// Sets the fixed overhead.
    pub fn set_overhead_us(&mut self, overhead_us: f64) {
        self.overhead_us = overhead_us;
    }

    /// The current calibration.
    pub fn calibration(&self) -> Calibration {
        self.calibration
    }

    /// Replaces the calibration.
    pub fn set_calibration(&mut self, calibration: Calibration) {
        self.calibration = calibration;
    }

    /// Uncalibrated prediction: overhead plus the blocks `arch` uses.
    pub fn raw_us(&self, arch: &Architecture) -> f64 {
        let layers = arch.len();
        let mut total = self.overhead_us;
        let mut prev = 0usize;
        for block in 0..=layers {
            let next = if block == layers {
                0
            } else {
                arch.choice(block)
            };
            total += self.blocks[block][prev][next] as f64;
            prev = next;
        }
        total
    }
}

impl CostModel for LatencyTable {
    fn cost(&self, _space: &SearchSpace, arch: &Architecture) -> f64 {
        self.calibration.apply(self.raw_us(arch))
    }

    fn check_space(&self, space: &SearchSpace) -> Result<(), CostError> {
        let other = Shape::of(space);
        if other.layers() != self.shape.layers() {
            return Err(CostError::TableShapeMismatch {
                layer: other.layers().min(self.shape.layers()),
            });
        }
        match (0..other.layers()).find(|&l| other.choices(l) != self.shape.choices(l)) {
            Some(layer) => Err(CostError::TableShapeMismatch { layer }),
            None => Ok(()),
        }
    }

    fn unit(&self) -> &'static str {
        "us"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> SearchSpace {
        SearchSpace::new(&[&[2, 3, 4], &[2, 4]]).unwrap()
    }

    /// A table filled with an exact additive model predicts every architecture exactly.
    #[test]
    fn additive_table_predicts_sums() {
        let space = space();
        let mut t = LatencyTable::new(&space, 5.0);
        assert_eq!(t.missing(), 3 + 3 * 2 + 2);
        let w = |layer: usize, c: usize| space.choices(layer)[c] as f64;
        for o in 0..3 {
            t.set(0, 0, o, 10.0 * w(0, o)).unwrap();
        }
        for i in 0..3 {
            for o in 0..2 {
                t.set(1, i, o, w(0, i) * w(1, o)).unwrap();
            }
        }
        for i in 0..2 {
            t.set(2, i, 0, 0.5 * w(1, i)).unwrap();
        }
        assert_eq!(t.missing(), 0);
        for arch in space.iter() {
            let (a, b) = (space.width(&arch, 0) as f64, space.width(&arch, 1) as f64);
            let expect = 5.0 + 10.0 * a + a * b + 0.5 * b;
            assert!((t.cost(&space, &arch) - expect).abs() < 1e-4);
        }
        t.set_calibration(Calibration {
            scale: 2.0,
            offset_us: 1.0,
        });
        let arch = space.arch_at(0).unwrap();
        assert!((t.cost(&space, &arch) - (2.0 * (5.0 + 20.0 + 4.0 + 1.0) + 1.0)).abs() < 1e-4);
    }

    #[test]
    fn unmeasured_blocks_make_cost_nan() {
        let space = space();
        let t = LatencyTable::new(&space, 0.0);
        assert!(t.cost(&space, &space.arch_at(0).unwrap()).is_nan());
    }

    #[test]
    fn bad_entries_are_refused() {
        let space = space();
        let mut t = LatencyTable::new(&space, 0.0);
        assert_eq!(
            t.set(3, 0, 0, 1.0),
            Err(TableError::NoSuchBlock { block: 3 })
        );
        assert_eq!(
            t.set(0, 1, 0, 1.0),
            Err(TableError::ChoiceOutOfRange { block: 0 })
        );
        assert_eq!(
            t.set(2, 0, 1, 1.0),
            Err(TableError::ChoiceOutOfRange { block: 2 })
        );
        assert_eq!(
            t.set(1, 0, 0, -1.0),
            Err(TableError::BadLatency { block: 1 })
        );
        assert_eq!(
            t.set(1, 0, 0, f64::NAN),
            Err(TableError::BadLatency { block: 1 })
        );
    }

    #[test]
    fn shape_mismatch_is_named() {
        let t = LatencyTable::new(&space(), 0.0);
        let other = SearchSpace::new(&[&[2, 3, 4], &[2, 4, 8]]).unwrap();
        assert_eq!(
            t.check_space(&other),
            Err(CostError::TableShapeMismatch { layer: 1 })
        );
        assert_eq!(t.check_space(&space()), Ok(()));
    }

    #[test]
    fn calibration_fit_recovers_an_affine_map() {
        let pairs = [(10.0, 31.0), (20.0, 51.0), (40.0, 91.0)];
        let c = Calibration::fit(pairs.iter().copied()).unwrap();
        assert!((c.scale - 2.0).abs() < 1e-12 && (c.offset_us - 11.0).abs() < 1e-9);
        assert_eq!(Calibration::fit([(1.0, 2.0)].iter().copied()), None);
        assert_eq!(
            Calibration::fit([(1.0, 2.0), (1.0, 3.0)].iter().copied()),
            None
        );
        assert_eq!(
            Calibration::fit([(1.0, f64::NAN), (2.0, 3.0)].iter().copied()),
            None
        );
    }
}
