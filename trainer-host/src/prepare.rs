//! From a data source to model-ready rows: load, split by seed, fit the preprocessing on
//! the training rows, encode every split, and describe the inputs for the manifest.

use std::fmt;
use std::path::PathBuf;

use tabnas_bundle::{CategoricalInput, InputSchema, LossKind, NumericInput};

use crate::data::{
    read_criteo, read_csv, split_rows, CsvOptions, DataError, PreprocessOptions, Preprocessing,
    Preset, RawTable, SplitError, Task,
};
use crate::supernet::Rows;

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
    },
    /// A file in Criteo's tab-separated format.
    Criteo {
        /// The file.
        path: PathBuf,
    },
}

impl DataSource {
    /// A short name for reports and manifests.
    pub fn name(&self) -> String {
        match self {
            Self::Preset { preset, .. } => preset.name().to_string(),
            Self::Csv { path, .. } | Self::Criteo { path } => path.display().to_string(),
        }
    }

    fn load(&self) -> Result<RawTable, DataError> {
        match self {
            Self::Preset { preset, cache } => preset.load(cache),
            Self::Csv { path, options } => read_csv(path, options),
            Self::Criteo { path } => read_criteo(path),
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

/// Why data could not be prepared.
#[derive(Debug)]
#[non_exhaustive]
pub enum PrepareError {
    /// Fewer than 2 buckets per categorical column (bucket 0 is for missing values).
    TooFewBuckets {
        /// The buckets asked for.
        buckets: u32,
    },
    /// An embedding size of 0.
    ZeroEmbeddingDim,
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
            Self::ZeroEmbeddingDim => f.write_str("the embedding size must be at least 1"),
            Self::Load(_) => f.write_str("cannot load the data"),
            Self::TooFewRows { name, rows } => write!(
                f,
                "{name} has {rows} usable rows; at least {} are needed to split",
                Self::MIN_ROWS
            ),
            Self::Split(_) => f.write_str("cannot split the rows"),
            Self::EmptyPart { train, valid, test } => write!(
                f,
                "the split leaves an empty part ({train} training, {valid} validation, {test} \
                 test rows); use more rows or larger fractions"
            ),
        }
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
    /// Training rows.
    pub train: Rows,
    /// Validation rows.
    pub valid: Rows,
    /// Test rows.
    pub test: Rows,
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
            numeric: self.train.numeric_width,
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

/// Loads `source` and prepares it.
pub fn prepare(source: &DataSource, options: PrepareOptions) -> Result<Prepared, PrepareError> {
    if options.buckets < 2 {
        return Err(PrepareError::TooFewBuckets {
            buckets: options.buckets,
        });
    }
    if options.embedding_dim == 0 {
        return Err(PrepareError::ZeroEmbeddingDim);
    }
    let table = source.load().map_err(PrepareError::Load)?;
    let rows = options.max_rows.unwrap_or(usize::MAX).min(table.rows());
    if rows < PrepareError::MIN_ROWS {
        return Err(PrepareError::TooFewRows {
            name: source.name(),
            rows,
        });
    }
    let split = split_rows(
        rows,
        options.valid_fraction,
        options.test_fraction,
        options.seed,
    )
    .map_err(PrepareError::Split)?;
    if split.valid.is_empty() || split.test.is_empty() || split.train.is_empty() {
        return Err(PrepareError::EmptyPart {
            train: split.train.len(),
            valid: split.valid.len(),
            test: split.test.len(),
        });
    }
    let log1p = matches!(source, DataSource::Criteo { .. });
    let preprocessing = Preprocessing::fit(
        &table,
        &split.train,
        PreprocessOptions {
            log1p,
            buckets: options.buckets,
        },
    );
    let encode = |idx: &[usize]| {
        let e = preprocessing.encode(&table, idx);
        Rows {
            rows: idx.len(),
            numeric_width: table.numeric_names.len(),
            categorical_width: table.categorical_names.len(),
            numeric: e.numeric,
            categorical: e.categorical,
            labels: e.labels,
        }
    };
    Ok(Prepared {
        name: source.name(),
        task: table.task.clone(),
        embedding_dim: options.embedding_dim,
        train: encode(&split.train),
        valid: encode(&split.valid),
        test: encode(&split.test),
        preprocessing,
    })
}
