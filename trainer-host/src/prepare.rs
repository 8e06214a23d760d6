//! From a data source to model-ready rows: load, split by seed, fit the preprocessing on
//! the training rows, encode every split, and describe the inputs for the manifest.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use tabnas_agent::bundle::{CategoricalInput, InputSchema, LossKind, NumericInput};

use crate::data::{
    read_criteo, read_csv, split_rows, CsvOptions, PreprocessOptions, Preprocessing, Preset,
    RawTable, Task,
};
use crate::supernet::Rows;

/// Where the rows come from.
#[derive(Debug, Clone)]
pub enum DataSource {
    /// A real dataset of DATA.md, from the data cache.
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

    fn load(&self) -> Result<RawTable> {
        Ok(match self {
            Self::Preset { preset, cache } => preset.load(cache)?,
            Self::Csv { path, options } => read_csv(path, options)?,
            Self::Criteo { path } => read_criteo(path)?,
        })
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
pub fn prepare(source: &DataSource, options: PrepareOptions) -> Result<Prepared> {
    if options.buckets < 2 {
        bail!("--buckets must be at least 2 (bucket 0 is for missing values)");
    }
    let table = source.load()?;
    let rows = options.max_rows.unwrap_or(usize::MAX).min(table.rows());
    if rows < 10 {
        bail!(
            "{} has {} usable rows; at least 10 are needed to split",
            source.name(),
            table.rows()
        );
    }
    let split = split_rows(
        rows,
        options.valid_fraction,
        options.test_fraction,
        options.seed,
    )
    .context("cannot split the rows")?;
    if split.valid.is_empty() || split.test.is_empty() || split.train.is_empty() {
        bail!("the split leaves an empty part; use more rows or larger fractions");
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
