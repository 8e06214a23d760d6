//! Encoded rows and seeded mini-batches drawn from them.

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
