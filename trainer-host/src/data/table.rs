//! A loaded table before preprocessing: numeric columns (NaN = missing), categorical
//! columns (None = missing) and encoded labels, row-major.

use serde::Serialize;

use super::task::Task;

/// Rows of a tabular dataset as read from a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawTable {
    /// Names of the numeric columns.
    pub numeric_names: Vec<String>,
    /// Per numeric column: clip at 0 and take `ln(1 + x)` before standardising (Criteo's
    /// integers; a CSV's `--log1p` columns).
    pub numeric_log1p: Vec<bool>,
    /// Names of the categorical columns.
    pub categorical_names: Vec<String>,
    /// `rows x numeric_names.len()` values, NaN where missing.
    pub numeric: Vec<f32>,
    /// `rows x categorical_names.len()` values, None where missing.
    pub categorical: Vec<Option<String>>,
    /// One label per row: 0/1 (binary), class index (multiclass) or value (regression).
    pub labels: Vec<f32>,
    /// The task and its label names.
    pub task: Task,
}

impl RawTable {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// Numeric values of one row.
    pub fn numeric_row(&self, row: usize) -> &[f32] {
        let n = self.numeric_names.len();
        &self.numeric[row * n..(row + 1) * n]
    }

    /// Categorical values of one row.
    pub fn categorical_row(&self, row: usize) -> &[Option<String>] {
        let n = self.categorical_names.len();
        &self.categorical[row * n..(row + 1) * n]
    }
}
