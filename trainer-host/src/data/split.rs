//! A deterministic train / validation / test split: a seeded Fisher-Yates shuffle of the
//! row indices (the search core's generator), then consecutive slices.

use std::fmt;

use rand_core::Rng;
use serde::Serialize;
use tabnas_core::rng::search_rng;

/// Row indices of each part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Split {
    /// Training rows.
    pub train: Vec<usize>,
    /// Validation rows (controller rewards; exported as `valid.bin`).
    pub valid: Vec<usize>,
    /// Test rows (final reports).
    pub test: Vec<usize>,
}

/// Why rows cannot be split.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum SplitError {
    /// A fraction is outside `[0, 1)`, or the two leave no rows for training.
    Fractions {
        /// The validation fraction given.
        valid: f64,
        /// The test fraction given.
        test: f64,
    },
    /// Too few rows for a non-empty part of every requested size.
    TooFewRows {
        /// Rows to split.
        rows: usize,
    },
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Fractions { valid, test } => write!(
                f,
                "validation ({valid}) and test ({test}) fractions must be in [0, 1) and leave \
                 rows for training"
            ),
            Self::TooFewRows { rows } => write!(
                f,
                "{rows} rows are too few to split into training, validation and test parts"
            ),
        }
    }
}

impl std::error::Error for SplitError {}

/// Splits `rows` rows; the same seed always gives the same split.
pub fn split_rows(
    rows: usize,
    valid_fraction: f64,
    test_fraction: f64,
    seed: u64,
) -> Result<Split, SplitError> {
    let ok = |f: f64| (0.0..1.0).contains(&f);
    if !ok(valid_fraction) || !ok(test_fraction) || valid_fraction + test_fraction >= 1.0 {
        return Err(SplitError::Fractions {
            valid: valid_fraction,
            test: test_fraction,
        });
    }
    let mut idx: Vec<usize> = (0..rows).collect();
    let mut rng = search_rng(seed);
    for i in (1..rows).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        idx.swap(i, j);
    }
    let n_valid = (rows as f64 * valid_fraction).round() as usize;
    let n_test = (rows as f64 * test_fraction).round() as usize;
    let empty = (valid_fraction > 0.0 && n_valid == 0) || (test_fraction > 0.0 && n_test == 0);
    if empty || rows < n_valid + n_test + 1 {
        return Err(SplitError::TooFewRows { rows });
    }
    let test = idx.split_off(rows - n_test);
    let valid = idx.split_off(rows - n_test - n_valid);
    Ok(Split {
        train: idx,
        valid,
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_disjoint_and_complete() {
        let a = split_rows(1000, 0.1, 0.2, 5).unwrap();
        assert_eq!(a, split_rows(1000, 0.1, 0.2, 5).unwrap());
        assert_ne!(a, split_rows(1000, 0.1, 0.2, 6).unwrap());
        assert_eq!(
            (a.train.len(), a.valid.len(), a.test.len()),
            (700, 100, 200)
        );
        let mut all: Vec<usize> = a
            .train
            .iter()
            .chain(&a.valid)
            .chain(&a.test)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert!(split_rows(10, 0.5, 0.5, 0).is_err());
        assert!(split_rows(10, -0.1, 0.1, 0).is_err());
        assert!(split_rows(1, 0.4, 0.4, 0).is_err());
        assert_eq!(
            split_rows(1, 0.4, 0.4, 0),
            Err(SplitError::TooFewRows { rows: 1 })
        );
        assert_eq!(
            split_rows(10, -0.1, 0.1, 0),
            Err(SplitError::Fractions {
                valid: -0.1,
                test: 0.1
            })
        );
    }
}
