//! Preprocessing fitted on the training rows and recorded for the bundle manifest, so
//! the agent (or any runtime) turns raw rows into exactly the model's inputs.
//!
//! Numeric column: `x -> ln(1 + max(x, 0))` if the table marks it
//! ([`RawTable::numeric_log1p`]), then `(x - mean) / std`;
//! a missing value becomes 0 (the training mean). Categorical column: a missing value is
//! bucket 0; any other text is bucket `1 + fnv1a64(utf8 bytes) % (buckets - 1)`, so
//! unseen categories need no vocabulary and still land in a valid bucket.

use serde::{Deserialize, Serialize};

use super::table::RawTable;

/// FNV-1a, 64-bit, of `bytes` (the categorical hash; stable across platforms).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Fitted transform of one numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericColumn {
    /// Column name.
    pub name: String,
    /// Clip at 0 and take `ln(1 + x)` before standardising.
    pub log1p: bool,
    /// Mean of the (transformed) training values.
    pub mean: f32,
    /// Standard deviation of the (transformed) training values (1 if constant).
    pub std: f32,
}

/// Hashing of one categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalColumn {
    /// Column name.
    pub name: String,
    /// Number of buckets, including bucket 0 for missing values.
    pub buckets: u32,
}

/// The running sums a numeric column's fit needs, one value at a time (a stream of rows
/// fits the same column as a table of them).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NumericStats {
    n: f64,
    sum: f64,
    squares: f64,
}

impl NumericStats {
    /// Adds a raw value (NaN, a missing value, is skipped).
    pub fn push(&mut self, x: f32, log1p: bool) {
        if !x.is_nan() {
            let v = transform(x, log1p) as f64;
            self.n += 1.0;
            self.sum += v;
            self.squares += v * v;
        }
    }

    /// Values added (missing ones not counted).
    pub fn count(&self) -> u64 {
        self.n as u64
    }

    /// The fitted column: mean and standard deviation of the values (0 and 1 without
    /// values; a standard deviation of 1 for a constant column).
    pub fn column(&self, name: &str, log1p: bool) -> NumericColumn {
        let n = self.n;
        let mean = if n > 0.0 { self.sum / n } else { 0.0 };
        let var = if n > 0.0 {
            (self.squares / n - mean * mean).max(0.0)
        } else {
            0.0
        };
        let std = var.sqrt();
        NumericColumn {
            name: name.to_string(),
            log1p,
            mean: mean as f32,
            std: if std > 1e-12 { std as f32 } else { 1.0 },
        }
    }
}

/// All column transforms, in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// Numeric inputs, in order.
    pub numeric: Vec<NumericColumn>,
    /// Categorical inputs, in order.
    pub categorical: Vec<CategoricalColumn>,
    /// The categorical hash (`fnv1a64`).
    pub hash: String,
}

/// Choices made when fitting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PreprocessOptions {
    /// Buckets per categorical column (at least 2).
    pub buckets: u32,
}

/// Model inputs of a set of rows (the bundle's input contract).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Encoded {
    /// `rows x numeric` f32 values.
    pub numeric: Vec<f32>,
    /// `rows x categorical` bucket ids.
    pub categorical: Vec<i64>,
    /// Labels.
    pub labels: Vec<f32>,
}

impl Preprocessing {
    /// Fits on `rows` of `table` (the training rows).
    ///
    /// # Panics
    /// If `options.buckets < 2` or a row index is out of range (callers pass a split).
    pub fn fit(table: &RawTable, rows: &[usize], options: PreprocessOptions) -> Self {
        assert!(
            options.buckets >= 2,
            "need a bucket for missing values and one for values"
        );
        let numeric = table
            .numeric_names
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let log1p = table.numeric_log1p.get(c).copied().unwrap_or(false);
                let mut stats = NumericStats::default();
                for &r in rows {
                    stats.push(table.numeric_row(r)[c], log1p);
                }
                stats.column(name, log1p)
            })
            .collect();
        let categorical = table
            .categorical_names
            .iter()
            .map(|name| CategoricalColumn {
                name: name.clone(),
                buckets: options.buckets,
            })
            .collect();
        Self {
            numeric,
            categorical,
            hash: "fnv1a64".into(),
        }
    }

    /// The first numeric column whose fitted mean or spread is not finite in 32-bit
    /// floats (its values cannot be standardised), if any.
    pub fn unscalable_column(&self) -> Option<usize> {
        self.numeric
            .iter()
            .position(|c| !(c.mean.is_finite() && c.std.is_finite()))
    }

    /// The model input of one numeric value of column `c`.
    pub fn numeric_value(&self, c: usize, x: f32) -> f32 {
        let col = &self.numeric[c];
        if x.is_nan() {
            0.0
        } else {
            (transform(x, col.log1p) - col.mean) / col.std
        }
    }

    /// The bucket of one categorical value of column `c`.
    pub fn bucket(&self, c: usize, value: Option<&str>) -> i64 {
        match value {
            None => 0,
            Some(v) => {
                1 + (fnv1a64(v.as_bytes()) % (self.categorical[c].buckets as u64 - 1)) as i64
            }
        }
    }

    /// Encodes `rows` of `table`.
    pub fn encode(&self, table: &RawTable, rows: &[usize]) -> Encoded {
        let mut out = Encoded {
            numeric: Vec::with_capacity(rows.len() * self.numeric.len()),
            categorical: Vec::with_capacity(rows.len() * self.categorical.len()),
            labels: Vec::with_capacity(rows.len()),
        };
        for &r in rows {
            for (c, &x) in table.numeric_row(r).iter().enumerate() {
                out.numeric.push(self.numeric_value(c, x));
            }
            for (c, v) in table.categorical_row(r).iter().enumerate() {
                out.categorical.push(self.bucket(c, v.as_deref()));
            }
            out.labels.push(table.labels[r]);
        }
        out
    }
}

fn transform(x: f32, log1p: bool) -> f32 {
    if log1p {
        x.max(0.0).ln_1p()
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{read_criteo, Task};
    use std::io::Write;

    #[test]
    fn fnv_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn standardises_on_train_rows_and_hashes_categories() {
        let table = RawTable {
            numeric_names: vec!["x".into()],
            numeric_log1p: vec![false],
            categorical_names: vec!["c".into()],
            numeric: vec![1.0, 3.0, f32::NAN, 100.0],
            categorical: vec![Some("a".into()), None, Some("b".into()), Some("a".into())],
            labels: vec![0.0, 1.0, 0.0, 1.0],
            task: Task::Regression,
        };
        let p = Preprocessing::fit(&table, &[0, 1, 2], PreprocessOptions { buckets: 8 });
        assert_eq!((p.numeric[0].mean, p.numeric[0].std), (2.0, 1.0));
        let e = p.encode(&table, &[0, 1, 2, 3]);
        assert_eq!(e.numeric, [-1.0, 1.0, 0.0, 98.0]);
        assert_eq!(e.categorical[1], 0);
        assert_eq!(e.categorical[0], e.categorical[3]);
        assert!(e.categorical.iter().all(|&b| (0..8).contains(&b)));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Preprocessing>(&json).unwrap(), p);
    }

    #[test]
    fn criteo_integers_are_clipped_and_logged() {
        let text = crate::data::criteo::tests::generated_rows(300, 9);
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let (t, _) = read_criteo(f.path(), None).unwrap();
        let rows: Vec<usize> = (0..t.rows()).collect();
        let p = Preprocessing::fit(&t, &rows, PreprocessOptions { buckets: 40 });
        let e = p.encode(&t, &rows);
        assert_eq!(e.numeric.len(), 300 * 13);
        // Negative integers clip to 0 -> ln(1) = 0, the same input as a literal 0.
        let c = 0;
        assert_eq!(p.numeric_value(c, -2.0), p.numeric_value(c, 0.0));
        let mean: f32 = e.numeric.iter().step_by(13).sum::<f32>() / 300.0;
        assert!(mean.abs() < 0.1, "{mean}");
        assert!(e.categorical.iter().all(|&b| (0..40).contains(&b)));
    }
}
