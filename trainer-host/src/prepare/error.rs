//! Why data could not be prepared: each variant names the source, column or setting at
//! fault.

use std::fmt;

use tabnas_bundle::{MAX_BUCKETS, MAX_WIDTH};

use crate::data::{DataError, Quoted, SplitError};
use crate::supernet::RowFileError;

/// Why data could not be prepared.
#[derive(Debug)]
#[non_exhaustive]
pub enum PrepareError {
    /// Fewer than 2 buckets per categorical column (bucket 0 is for missing values).
    TooFewBuckets {
        /// The buckets asked for.
        buckets: u32,
    },
    /// More than [`MAX_BUCKETS`] buckets per categorical column.
    TooManyBuckets {
        /// The buckets asked for.
        buckets: u32,
    },
    /// An embedding size of 0.
    ZeroEmbeddingDim,
    /// An embedding size above [`MAX_WIDTH`].
    EmbeddingTooLarge {
        /// The size asked for.
        embedding_dim: u32,
    },
    /// Every column is the label or ignored: the model would have no input.
    NoInputs {
        /// The source's name.
        name: String,
    },
    /// More input columns than a bundle may have ([`MAX_WIDTH`]).
    TooManyColumns {
        /// The source's name.
        name: String,
        /// Its input columns.
        columns: usize,
    },
    /// A binary task whose training split has no row of one of the two classes (all of
    /// them fell in the validation and test splits): the model could not learn it.
    ClassNotInTraining {
        /// The source's name.
        name: String,
        /// The label text of the missing class.
        class: String,
        /// Rows with that label in the whole source.
        rows_with_class: usize,
        /// Training rows.
        train: usize,
    },
    /// A numeric column with values, none of them in the training split (all fell in the
    /// validation and test splits): it could not be standardised on the training rows.
    NoTrainingValues {
        /// The source's name.
        name: String,
        /// The column.
        column: String,
        /// Rows with a value in that column.
        rows_with_value: usize,
        /// Training rows.
        train: usize,
    },
    /// A numeric column's values cannot be standardised in 32-bit floats (their mean,
    /// spread or a standardised value overflows).
    Scale {
        /// The source's name.
        name: String,
        /// The column.
        column: String,
    },
    /// The source could not be loaded.
    Load(DataError),
    /// Too few usable rows to split.
    TooFewRows {
        /// The source's name.
        name: String,
        /// Its usable rows.
        rows: usize,
    },
    /// The rows could not be split.
    Split(SplitError),
    /// The training rows of a streamed source could not be kept in a row file.
    Spill {
        /// The source's name.
        name: String,
        /// Why.
        source: RowFileError,
    },
    /// A source to be read in two streaming passes is not a regular file (a pipe, a
    /// terminal): it cannot be read twice.
    NotRegularFile {
        /// The source's name.
        name: String,
    },
    /// A streamed source's second pass found a label its first pass had not seen (it
    /// changed while it was read).
    ChangedLabel {
        /// The source's name.
        name: String,
        /// 1-based line.
        line: u64,
        /// The label's text.
        label: String,
    },
    /// A streamed source's size, modification time or (Unix) inode and status-change time
    /// after its second pass differ from before its first (it was written to, or replaced,
    /// while it was read).
    Modified {
        /// The source's name.
        name: String,
    },
    /// A streamed source had another number of rows on its second pass (it changed while
    /// it was read).
    Changed {
        /// The source's name.
        name: String,
        /// Rows on the first pass.
        first_pass: usize,
        /// Rows on the second.
        second_pass: usize,
    },
    /// The split leaves a part without rows.
    EmptyPart {
        /// Training rows.
        train: usize,
        /// Validation rows.
        valid: usize,
        /// Test rows.
        test: usize,
    },
}

impl PrepareError {
    /// Rows a source needs at least.
    pub const MIN_ROWS: usize = 10;
}

impl fmt::Display for PrepareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewBuckets { buckets } => write!(
                f,
                "categorical columns need at least 2 buckets (bucket 0 is for missing values), \
                 got {buckets}"
            ),
            Self::TooManyBuckets { buckets } => write!(
                f,
                "categorical columns may have at most {MAX_BUCKETS} buckets, got {buckets}"
            ),
            Self::ZeroEmbeddingDim => f.write_str("the embedding size must be at least 1"),
            Self::EmbeddingTooLarge { embedding_dim } => write!(
                f,
                "the embedding size must be at most {MAX_WIDTH}, got {embedding_dim}"
            ),
            Self::NoInputs { name } => write!(
                f,
                "{name} has no input column: every column is the label or ignored"
            ),
            Self::TooManyColumns { name, columns } => write!(
                f,
                "{name} has {columns} input columns; a bundle may have at most {MAX_WIDTH}"
            ),
            Self::ClassNotInTraining {
                name,
                class,
                rows_with_class,
                train,
            } => write!(
                f,
                "{name}: none of the {train} training rows has the label {} (the split put all \
                 {rows_with_class} row(s) with it in validation or test), so the model could \
                 not learn it",
                Quoted(class)
            ),
            Self::NoTrainingValues {
                name,
                column,
                rows_with_value,
                train,
            } => write!(
                f,
                "{name}: numeric column {} has no value in the {train} training rows (the split \
                 put all {rows_with_value} row(s) with one in validation or test), so it cannot \
                 be standardised",
                Quoted(column)
            ),
            Self::Scale { name, column } => write!(
                f,
                "{name}: numeric column {} cannot be standardised in 32-bit floats (its values \
                 are too large); rescale it",
                Quoted(column)
            ),
            Self::Load(_) => f.write_str("cannot load the data"),
            Self::TooFewRows { name, rows } => write!(
                f,
                "{name} has {rows} usable rows; at least {} are needed to split",
                Self::MIN_ROWS
            ),
            Self::Split(_) => f.write_str("cannot split the rows"),
            Self::Spill { name, source } => {
                write!(
                    f,
                    "{name}: cannot keep the training rows in a file: {source}"
                )
            }
            Self::NotRegularFile { name } => write!(
                f,
                "{name} is not a regular file: reading it in two streaming passes \
                 (--spill-dir) needs a file that can be read twice; give a file, or leave out \
                 --spill-dir to read it once into memory"
            ),
            Self::Modified { name } => write!(
                f,
                "{name} changed while it was read: its size, modification time or status \
                 after the second pass differ from before the first; read it again once nothing \
                 writes to it"
            ),
            Self::ChangedLabel { name, line, label } => write!(
                f,
                "{name} changed while it was read: line {line} has the label {}, which the \
                 first pass did not see",
                Quoted(label)
            ),
            Self::Changed {
                name,
                first_pass,
                second_pass,
            } => write!(
                f,
                "{name} changed while it was read: {first_pass} rows on the first pass, \
                 {second_pass} on the second"
            ),
            Self::EmptyPart { train, valid, test } => write!(
                f,
                "the split leaves an empty part ({train} training, {valid} validation, {test} \
                 test rows); use more rows or larger fractions"
            ),
        }
    }
}

impl From<DataError> for PrepareError {
    fn from(e: DataError) -> Self {
        Self::Load(e)
    }
}

impl std::error::Error for PrepareError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Load(e) => Some(e),
            Self::Split(e) => Some(e),
            _ => None,
        }
    }
}
