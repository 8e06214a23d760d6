//! The training split wherever it is kept: in memory ([`Rows`]) or in a [`RowFile`],
//! drawn from alike.

use rand_core::Rng;

use super::batch::{Batch, LabelSummary, Rows};
use super::row_file::{RowFile, RowFileError};

/// The training split: rows in memory, or in a [`RowFile`] for data larger than memory.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainRows {
    /// In memory.
    Memory(Rows),
    /// In a file, read a batch at a time.
    File(RowFile),
}

impl TrainRows {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        match self {
            Self::Memory(r) => r.rows,
            Self::File(f) => f.rows(),
        }
    }

    /// Numeric columns per row.
    pub fn numeric_width(&self) -> usize {
        match self {
            Self::Memory(r) => r.numeric_width,
            Self::File(f) => f.numeric_width(),
        }
    }

    /// The labels' summary.
    pub fn labels(&self) -> LabelSummary {
        match self {
            Self::Memory(r) => LabelSummary::of(&r.labels),
            Self::File(f) => f.labels().clone(),
        }
    }

    /// `size` rows drawn uniformly with replacement (the same rows from the same
    /// generator wherever they are kept).
    pub fn sample<R: Rng + ?Sized>(&self, size: usize, rng: &mut R) -> Result<Batch, RowFileError> {
        match self {
            Self::Memory(r) => Ok(r.sample(size, rng)),
            Self::File(f) => f.sample(size, rng),
        }
    }
}
