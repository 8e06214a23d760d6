//! Encoded rows and seeded mini-batches drawn from them in memory, and the summary of
//! their labels (a [`RowFile`](super::RowFile) draws the same batches from a file).

use ndarray::Array2;
use rand_core::Rng;

/// Model inputs and labels of a set of rows (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// Number of rows.
    pub rows: usize,
    /// Numeric columns per row.
    pub numeric_width: usize,
    /// Categorical columns per row.
    pub categorical_width: usize,
    /// `rows x numeric_width` values.
    pub numeric: Vec<f32>,
    /// `rows x categorical_width` bucket ids.
    pub categorical: Vec<i64>,
    /// `rows` labels.
    pub labels: Vec<f32>,
}

/// One mini-batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `[rows, numeric]`.
    pub numeric: Array2<f32>,
    /// `rows x categorical` bucket ids.
    pub categorical: Vec<i64>,
    /// Labels.
    pub labels: Vec<f32>,
}

impl Batch {
    /// Rows in the batch.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }
}

impl Rows {
    /// The batch of the given row indices.
    pub fn gather(&self, idx: &[usize]) -> Batch {
        let (nw, cw) = (self.numeric_width, self.categorical_width);
        let mut numeric = Vec::with_capacity(idx.len() * nw);
        let mut categorical = Vec::with_capacity(idx.len() * cw);
        let mut labels = Vec::with_capacity(idx.len());
        for &r in idx {
            numeric.extend_from_slice(&self.numeric[r * nw..(r + 1) * nw]);
            categorical.extend_from_slice(&self.categorical[r * cw..(r + 1) * cw]);
            labels.push(self.labels[r]);
        }
        Batch {
            numeric: Array2::from_shape_vec((idx.len(), nw), numeric)
                .expect("gathered exactly rows x numeric values"),
            categorical,
            labels,
        }
    }

    /// Rows `start..end` as one batch.
    pub fn range(&self, start: usize, end: usize) -> Batch {
        let idx: Vec<usize> = (start..end.min(self.rows)).collect();
        self.gather(&idx)
    }

    /// `size` rows drawn uniformly with replacement.
    pub fn sample<R: Rng + ?Sized>(&self, size: usize, rng: &mut R) -> Batch {
        let idx: Vec<usize> = (0..size)
            .map(|_| (rng.next_u64() % self.rows as u64) as usize)
            .collect();
        self.gather(&idx)
    }
}

/// What the constant predictor and the class checks need of a split's labels: their
/// number, their sum and the count of each class index (labels that are small
/// non-negative integers), gathered without keeping the labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSummary {
    /// Labels seen.
    pub rows: u64,
    /// Their sum.
    pub sum: f64,
    /// Rows per class index (`counts[k]`: labels equal to `k`).
    pub counts: Vec<u64>,
}

impl LabelSummary {
    /// Class indices counted (labels at or above, never a class, are only summed).
    const MAX_COUNTED: usize = crate::data::MAX_CLASSES;

    /// The summary of `labels`.
    pub fn of(labels: &[f32]) -> Self {
        let mut s = Self::default();
        for &y in labels {
            s.push(y);
        }
        s
    }

    /// Adds one label.
    pub fn push(&mut self, y: f32) {
        self.rows += 1;
        self.sum += y as f64;
        if y >= 0.0 && y.fract() == 0.0 && (y as usize) < Self::MAX_COUNTED {
            let k = y as usize;
            if self.counts.len() <= k {
                self.counts.resize(k + 1, 0);
            }
            self.counts[k] += 1;
        }
    }

    /// Rows of class `k`.
    pub fn count(&self, k: usize) -> u64 {
        self.counts.get(k).copied().unwrap_or(0)
    }
}
