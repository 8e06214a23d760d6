//! From a data source to model-ready rows: load, split by seed, fit the preprocessing on
//! the training rows, encode every split, and describe the inputs for the manifest.
//!
//! A table is read whole into memory; a Criteo or CSV file with a spill folder is read in
//! two streaming passes instead (`streamed.rs`): its training rows go to a row file, so a
//! file larger than memory can be trained on (`stream.rs` visits the rows of either
//! format, `snapshot.rs` tells a file that changed between the passes, `reservoir.rs`
//! samples the evaluation rows); `in_memory.rs` is the other path. Both check their
//! split alike (`checks.rs`); `error.rs` says what can go wrong.

mod checks;
mod error;
mod in_memory;
mod reservoir;
mod snapshot;
mod stream;
mod streamed;

use std::path::PathBuf;

use tabnas_bundle::{
    CategoricalInput, InputSchema, LossKind, NumericInput, MAX_BUCKETS, MAX_WIDTH,
};

use crate::data::{
    read_criteo, read_csv, CsvOptions, DataError, Preprocessing, Preset, RawTable, Task,
};
use crate::supernet::{LabelSummary, Rows, TrainRows};

pub use error::PrepareError;
use stream::Stream;
pub use streamed::Spill;

/// Where the rows come from.
#[derive(Debug, Clone)]
pub enum DataSource {
    /// A real dataset of `docs/data.md`, from the data cache.
    Preset {
        /// Which one.
        preset: Preset,
        /// The data cache (`--data-dir`).
        cache: PathBuf,
    },
    /// A CSV file.
    Csv {
        /// The file.
        path: PathBuf,
        /// How to read it.
        options: CsvOptions,
        /// Read it in two streaming passes, keeping the training rows in a row file in
        /// this folder (see [`Spill`]); else read it whole.
        spill: Option<Spill>,
    },
    /// A file in Criteo's tab-separated format.
    Criteo {
        /// The file.
        path: PathBuf,
        /// Read it in two streaming passes, keeping the training rows in a row file in
        /// this folder (see [`Spill`]); else read it whole.
        spill: Option<Spill>,
    },
}

impl DataSource {
    /// A short name for reports and manifests.
    pub fn name(&self) -> String {
        match self {
            Self::Preset { preset, .. } => preset.name().to_string(),
            Self::Csv { path, .. } | Self::Criteo { path, .. } => path.display().to_string(),
        }
    }

    /// The file to read in two streaming passes and its spill folder, when the source
    /// has one (else it is read whole).
    fn stream(&self) -> Option<(Stream<'_>, &Spill)> {
        match self {
            Self::Criteo {
                path,
                spill: Some(spill),
            } => Some((Stream::Criteo(path), spill)),
            Self::Csv {
                path,
                options: csv,
                spill: Some(spill),
            } => Some((Stream::Csv(path, csv), spill)),
            _ => None,
        }
    }

    /// The rows (reading stops after `max_rows` where the loader can stop early), and a
    /// note of what the loader saw when there is a choice (Criteo's form).
    fn load(&self, max_rows: Option<usize>) -> Result<(RawTable, Option<String>), DataError> {
        match self {
            Self::Preset { preset, cache } => Ok((preset.load_rows(cache, max_rows)?, None)),
            Self::Csv { path, options, .. } => {
                let options = CsvOptions {
                    max_rows,
                    ..options.clone()
                };
                Ok((read_csv(path, &options)?, None))
            }
            Self::Criteo { path, .. } => {
                let (table, form) = read_criteo(path, max_rows)?;
                Ok((table, Some(format!("read {} in {form}", path.display()))))
            }
        }
    }
}

/// How to split and encode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrepareOptions {
    /// Fraction of rows for validation (controller rewards, `valid.bin`).
    pub valid_fraction: f64,
    /// Fraction of rows for the test split.
    pub test_fraction: f64,
    /// Seed of the split.
    pub seed: u64,
    /// Buckets per categorical column.
    pub buckets: u32,
    /// Embedding size per categorical column.
    pub embedding_dim: u32,
    /// Keep at most this many rows (the first ones), if given.
    pub max_rows: Option<usize>,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        Self {
            valid_fraction: 0.15,
            test_fraction: 0.15,
            seed: 0,
            buckets: 1000,
            embedding_dim: 8,
            max_rows: None,
        }
    }
}

/// Encoded splits and everything the manifest needs about them.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Dataset name.
    pub name: String,
    /// The task with its label mapping.
    pub task: Task,
    /// Fitted preprocessing.
    pub preprocessing: Preprocessing,
    /// Embedding size per categorical column.
    pub embedding_dim: u32,
    /// Training rows (in a row file when the source was streamed).
    pub train: TrainRows,
    /// Validation rows.
    pub valid: Rows,
    /// Test rows.
    pub test: Rows,
    /// What the loader saw that a person should know (the Criteo form read).
    pub notes: Vec<String>,
}

impl Prepared {
    /// Loss and head width for the task.
    pub fn loss_and_outputs(&self) -> (LossKind, usize) {
        match &self.task {
            Task::Binary { .. } => (LossKind::BinaryCrossEntropy, 1),
            Task::Multiclass { classes } => (LossKind::SoftmaxCrossEntropy, classes.len()),
            Task::Regression => (LossKind::MeanSquaredError, 1),
        }
    }

    /// The supernet shape for these inputs and this task over `space`.
    pub fn supernet_spec(&self, space: Vec<Vec<u32>>) -> crate::supernet::SupernetSpec {
        let (loss, outputs) = self.loss_and_outputs();
        crate::supernet::SupernetSpec {
            numeric: self.train.numeric_width(),
            buckets: self
                .preprocessing
                .categorical
                .iter()
                .map(|c| c.buckets)
                .collect(),
            embedding_dim: self.input_schema().embedding_dim as usize,
            space,
            outputs,
            loss,
        }
    }

    /// Label names by index.
    pub fn label_names(&self) -> Vec<String> {
        match &self.task {
            Task::Binary { positive, negative } => vec![negative.clone(), positive.clone()],
            Task::Multiclass { classes } => classes.clone(),
            Task::Regression => Vec::new(),
        }
    }

    /// Classes of a binary or multiclass task that a split has no row of, as
    /// `(split, label)` (`training`, `validation` or `test`). A validation or test split
    /// without a class still gives finite losses; a training split without one means the
    /// model never sees it (for a binary task, [`prepare`] refuses that).
    pub fn missing_classes(&self) -> Vec<(&'static str, String)> {
        let names = self.label_names();
        let mut missing = Vec::new();
        for (split, labels) in [
            ("training", self.train.labels()),
            ("validation", LabelSummary::of(&self.valid.labels)),
            ("test", LabelSummary::of(&self.test.labels)),
        ] {
            missing.extend(
                names
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| labels.count(k) == 0)
                    .map(|(_, n)| (split, n.clone())),
            );
        }
        missing
    }

    /// The manifest's input schema.
    pub fn input_schema(&self) -> InputSchema {
        InputSchema {
            numeric: self
                .preprocessing
                .numeric
                .iter()
                .map(|c| NumericInput {
                    name: c.name.clone(),
                    log1p: c.log1p,
                    mean: c.mean,
                    std: c.std,
                })
                .collect(),
            categorical: self
                .preprocessing
                .categorical
                .iter()
                .map(|c| CategoricalInput {
                    name: c.name.clone(),
                    buckets: c.buckets,
                })
                .collect(),
            embedding_dim: if self.preprocessing.categorical.is_empty() {
                0
            } else {
                self.embedding_dim
            },
            hash: self.preprocessing.hash.clone(),
        }
    }
}

/// Refuses a source without input columns or with more than a bundle may have.
fn check_columns(name: &str, columns: usize) -> Result<(), PrepareError> {
    if columns == 0 {
        return Err(PrepareError::NoInputs {
            name: name.to_string(),
        });
    }
    if columns > MAX_WIDTH as usize {
        return Err(PrepareError::TooManyColumns {
            name: name.to_string(),
            columns,
        });
    }
    Ok(())
}

/// Loads `source` and prepares it: the sizes are checked first, then a source with a
/// spill folder is read in two streaming passes and any other whole.
pub fn prepare(source: &DataSource, options: PrepareOptions) -> Result<Prepared, PrepareError> {
    check_sizes(&options)?;
    match source.stream() {
        Some((stream, spill)) => {
            streamed::check_fractions(&options).map_err(PrepareError::Split)?;
            streamed::prepare_streamed(stream, spill, options)
        }
        None => in_memory::prepare_in_memory(source, options),
    }
}

/// Refuses bucket counts and embedding sizes that a bundle cannot hold.
fn check_sizes(options: &PrepareOptions) -> Result<(), PrepareError> {
    if options.buckets < 2 {
        return Err(PrepareError::TooFewBuckets {
            buckets: options.buckets,
        });
    }
    if options.buckets > MAX_BUCKETS {
        return Err(PrepareError::TooManyBuckets {
            buckets: options.buckets,
        });
    }
    if options.embedding_dim == 0 {
        return Err(PrepareError::ZeroEmbeddingDim);
    }
    if options.embedding_dim > MAX_WIDTH {
        return Err(PrepareError::EmbeddingTooLarge {
            embedding_dim: options.embedding_dim,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ColumnRef, LabelKind};

    fn csv(text: &str) -> (tempfile::NamedTempFile, DataSource) {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        let mut options = CsvOptions::new(ColumnRef::Name("y".into()), LabelKind::Binary);
        options.header = true;
        let source = DataSource::Csv {
            path: f.path().to_path_buf(),
            options,
            spill: None,
        };
        (f, source)
    }

    fn rows(n: usize, row: impl Fn(usize) -> String) -> String {
        std::iter::once("x,y".to_string())
            .chain((0..n).map(row))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn sizes_from_flags_are_bounded() {
        let (_f, source) = csv(&rows(20, |i| format!("{i},{}", i % 2)));
        let with = |buckets, embedding_dim| PrepareOptions {
            buckets,
            embedding_dim,
            ..PrepareOptions::default()
        };
        let e = prepare(&source, with(MAX_BUCKETS + 1, 8)).unwrap_err();
        assert!(matches!(e, PrepareError::TooManyBuckets { .. }), "{e}");
        let e = prepare(&source, with(8, MAX_WIDTH + 1)).unwrap_err();
        assert!(e.to_string().contains("at most 65536"), "{e}");
        prepare(&source, with(MAX_BUCKETS, MAX_WIDTH)).unwrap();
    }

    #[test]
    fn a_model_needs_an_input_column() {
        let (f, mut source) = csv(&rows(20, |i| format!("{i},{}", i % 2)));
        if let DataSource::Csv { options, .. } = &mut source {
            options.ignore = vec![ColumnRef::Name("x".into())];
        }
        let e = prepare(&source, PrepareOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("has no input column: every column is the label or ignored"),
            "{e}"
        );
        drop(f);
    }

    /// About a third of the rows in each split, split by `seed`.
    fn thirds(seed: u64) -> PrepareOptions {
        PrepareOptions {
            valid_fraction: 0.34,
            test_fraction: 0.33,
            seed,
            ..PrepareOptions::default()
        }
    }

    #[test]
    fn a_binary_training_split_needs_both_classes_other_gaps_are_reported() {
        // One positive in 12 rows: most seeds put it outside the 4 training rows.
        let (_f, source) = csv(&rows(12, |i| format!("{i},{}", (i == 5) as u8)));
        let (mut refused, mut kept) = (0, 0);
        for seed in 0..40 {
            match prepare(&source, thirds(seed)) {
                Err(e @ PrepareError::ClassNotInTraining { .. }) => {
                    let text = e.to_string();
                    assert!(
                        text.contains("none of the 4 training rows has the label `1`"),
                        "{text}"
                    );
                    refused += 1;
                }
                Ok(data) => {
                    // The positive is in training, so validation and test lack it.
                    assert_eq!(
                        data.missing_classes(),
                        [("validation", "1".to_string()), ("test", "1".to_string())]
                    );
                    let TrainRows::Memory(train) = &data.train else {
                        panic!("a table is read into memory")
                    };
                    for rows in [train, &data.valid, &data.test] {
                        assert!(rows.numeric.iter().all(|x| x.is_finite()));
                    }
                    kept += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(refused > 0 && kept > 0, "{refused} refused, {kept} kept");
    }

    #[test]
    fn a_numeric_column_needs_a_value_in_the_training_split() {
        // One value in 12 rows: most seeds put it outside the 4 training rows.
        let (_f, source) = csv(&rows(12, |i| {
            format!("{},{}", if i == 5 { "3" } else { "" }, i % 2)
        }));
        let (mut refused, mut kept) = (0, 0);
        for seed in 0..40 {
            match prepare(&source, thirds(seed)) {
                Err(e @ PrepareError::NoTrainingValues { .. }) => {
                    let text = e.to_string();
                    assert!(
                        text.contains(
                            "numeric column `x` has no value in the 4 training rows (the split \
                             put all 1 row(s) with one in validation or test)"
                        ),
                        "{text}"
                    );
                    refused += 1;
                }
                Err(PrepareError::ClassNotInTraining { .. }) => {}
                Ok(data) => {
                    assert!(data.preprocessing.numeric[0].mean == 3.0);
                    kept += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(refused > 0 && kept > 0, "{refused} refused, {kept} kept");
    }

    #[test]
    fn values_that_overflow_when_standardised_are_refused() {
        let (_f, source) = csv(&rows(20, |i| {
            format!("{},{}", if i == 0 { -3.4e38 } else { 3.4e38 }, i % 2)
        }));
        let e = prepare(&source, PrepareOptions::default()).unwrap_err();
        assert!(
            matches!(&e, PrepareError::Scale { column, .. } if column == "x"),
            "{e}"
        );
        assert!(e.to_string().contains("rescale it"), "{e}");
        // Large values of one sign standardise fine.
        let (_f, source) = csv(&rows(20, |i| format!("{}e37,{}", i + 1, i % 2)));
        prepare(&source, PrepareOptions::default()).unwrap();
    }
}
