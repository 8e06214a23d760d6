//! `valid.bin`: the validation rows a bundle carries for on-device quality.
//!
//! Format (all little-endian): magic `TNVB`, `u32` version (1), `u32` rows, `u32`
//! numeric columns, `u32` categorical columns; then `rows x numeric` f32 values (already
//! preprocessed), `rows x categorical` i64 bucket ids, `rows` f32 labels (0/1 for
//! binary, the class index for multiclass, the value for regression). [`ValidSet::decode`]
//! checks every count, bucket id and label against the manifest.

use std::fmt;

use crate::{LossKind, Manifest};

/// First four bytes of a `valid.bin`.
pub const VALID_MAGIC: &[u8; 4] = b"TNVB";
const VERSION: u32 = 1;
const HEADER: usize = 20;

/// Validation rows, model inputs already encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSet {
    /// Number of rows.
    pub rows: usize,
    /// `rows x n_num` values.
    pub numeric: Vec<f32>,
    /// `rows x n_cat` bucket ids.
    pub categorical: Vec<i64>,
    /// `rows` labels.
    pub labels: Vec<f32>,
}

impl ValidSet {
    /// Number of numeric columns.
    pub fn numeric_width(&self) -> usize {
        self.numeric.len().checked_div(self.rows).unwrap_or(0)
    }

    /// Number of categorical columns.
    pub fn categorical_width(&self) -> usize {
        self.categorical.len().checked_div(self.rows).unwrap_or(0)
    }

    /// Serializes to the format in the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            HEADER + 4 * self.numeric.len() + 8 * self.categorical.len() + 4 * self.rows,
        );
        out.extend_from_slice(VALID_MAGIC);
        for v in [
            VERSION,
            self.rows as u32,
            self.numeric_width() as u32,
            self.categorical_width() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend(self.numeric.iter().flat_map(|x| x.to_le_bytes()));
        out.extend(self.categorical.iter().flat_map(|x| x.to_le_bytes()));
        out.extend(self.labels.iter().flat_map(|x| x.to_le_bytes()));
        out
    }

    /// Parses and checks `bytes` against `manifest`.
    pub fn decode(bytes: &[u8], manifest: &Manifest) -> Result<Self, ValidError> {
        if bytes.get(..4) != Some(VALID_MAGIC.as_slice()) {
            return Err(ValidError::BadMagic {
                found: bytes[..bytes.len().min(4)].to_vec(),
            });
        }
        if bytes.len() < HEADER {
            return Err(ValidError::ShortHeader {
                found_bytes: bytes.len(),
            });
        }
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let (version, rows, n_num, n_cat) = (word(4), word(8), word(12), word(16));
        if version != VERSION {
            return Err(ValidError::UnsupportedVersion { found: version });
        }
        if rows == 0 {
            return Err(ValidError::NoRows);
        }
        for (field, file, manifest) in [
            ("numeric", n_num, manifest.inputs.numeric.len()),
            ("categorical", n_cat, manifest.inputs.categorical.len()),
        ] {
            if file as usize != manifest {
                return Err(ValidError::ColumnCount {
                    field,
                    file,
                    manifest,
                });
            }
        }
        // At most 2^32 rows of 2^16 columns of 8 bytes: no overflow in u64.
        let need = HEADER as u64 + rows as u64 * (4 * n_num as u64 + 8 * n_cat as u64 + 4);
        if bytes.len() as u64 != need {
            return Err(ValidError::Length {
                rows,
                expected_bytes: need,
                found_bytes: bytes.len() as u64,
            });
        }
        let (rows, n_num, n_cat) = (rows as usize, n_num as usize, n_cat as usize);
        let (numeric, rest) = bytes[HEADER..].split_at(4 * rows * n_num);
        let (categorical, labels) = rest.split_at(8 * rows * n_cat);
        let numeric: Vec<f32> = numeric
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let categorical: Vec<i64> = categorical
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        let labels: Vec<f32> = labels
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = numeric.iter().position(|x| !x.is_finite()) {
            return Err(ValidError::NonFinite {
                row: i / n_num,
                column: i % n_num,
                value: numeric[i],
            });
        }
        for (i, &bucket) in categorical.iter().enumerate() {
            let buckets = manifest.inputs.categorical[i % n_cat].buckets;
            if !(0..buckets as i64).contains(&bucket) {
                return Err(ValidError::BucketOutOfRange {
                    row: i / n_cat,
                    column: i % n_cat,
                    bucket,
                    buckets,
                });
            }
        }
        let task = manifest.task.loss;
        let outputs = manifest.task.outputs as f32;
        for (row, &value) in labels.iter().enumerate() {
            let ok = match task {
                LossKind::BinaryCrossEntropy => value == 0.0 || value == 1.0,
                LossKind::SoftmaxCrossEntropy => {
                    value >= 0.0 && value < outputs && value.fract() == 0.0
                }
                LossKind::MeanSquaredError => value.is_finite(),
            };
            if !ok {
                return Err(ValidError::BadLabel { row, value, task });
            }
        }
        Ok(Self {
            rows,
            numeric,
            categorical,
            labels,
        })
    }
}

/// Why a `valid.bin` was refused; every variant carries the offset, row, column or
/// count at fault.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ValidError {
    /// The file does not start with [`VALID_MAGIC`].
    BadMagic {
        /// Its first (up to four) bytes.
        found: Vec<u8>,
    },
    /// The file ends inside the 20-byte header.
    ShortHeader {
        /// Its length.
        found_bytes: usize,
    },
    /// The header's version is not the one this build reads (1).
    UnsupportedVersion {
        /// The version found.
        found: u32,
    },
    /// The header says 0 rows.
    NoRows,
    /// The header's column count of one kind differs from the manifest's.
    ColumnCount {
        /// `numeric` or `categorical`.
        field: &'static str,
        /// Columns in the file's header.
        file: u32,
        /// Columns in the manifest.
        manifest: usize,
    },
    /// The file's length is not what its header's rows of the manifest's schema take.
    Length {
        /// Rows in the header.
        rows: u32,
        /// Bytes they take, header included.
        expected_bytes: u64,
        /// Bytes of the file.
        found_bytes: u64,
    },
    /// A numeric value is NaN or infinite.
    NonFinite {
        /// Row, from 0.
        row: usize,
        /// Numeric column, from 0.
        column: usize,
        /// The value.
        value: f32,
    },
    /// A bucket id is outside its column's `0..buckets`.
    BucketOutOfRange {
        /// Row, from 0.
        row: usize,
        /// Categorical column, from 0.
        column: usize,
        /// The bucket id.
        bucket: i64,
        /// The column's bucket count.
        buckets: u32,
    },
    /// A label does not fit the task (0/1, a class index below the outputs, or finite).
    BadLabel {
        /// Row, from 0.
        row: usize,
        /// The label.
        value: f32,
        /// The task's loss.
        task: LossKind,
    },
}

impl fmt::Display for ValidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic { found } => write!(
                f,
                "is not a tabnas validation file (no TNVB header; starts with {found:02x?})"
            ),
            Self::ShortHeader { found_bytes } => write!(
                f,
                "is {found_bytes} bytes, shorter than its {HEADER}-byte header"
            ),
            Self::UnsupportedVersion { found } => {
                write!(f, "has format version {found}; this agent reads {VERSION}")
            }
            Self::NoRows => f.write_str("has no rows"),
            Self::ColumnCount {
                field,
                file,
                manifest,
            } => write!(f, "has {file} {field} columns; the manifest has {manifest}"),
            Self::Length {
                rows,
                expected_bytes,
                found_bytes,
            } => write!(
                f,
                "is {found_bytes} bytes; {rows} rows of this schema take {expected_bytes}"
            ),
            Self::NonFinite { row, column, value } => write!(
                f,
                "row {row}, numeric column {column}: value {value} is not finite"
            ),
            Self::BucketOutOfRange {
                row,
                column,
                bucket,
                buckets,
            } => write!(
                f,
                "row {row}, categorical column {column}: bucket {bucket} is outside 0..{buckets}"
            ),
            Self::BadLabel { row, value, task } => {
                write!(f, "row {row}: label {value} does not fit the task {task:?}")
            }
        }
    }
}

impl std::error::Error for ValidError {}
