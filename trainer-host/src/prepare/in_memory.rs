//! A source read whole into memory: loaded, split by seed, checked, fitted on the
//! training rows and encoded split by split.

use super::checks::{check_split, SplitCounts};
use super::{check_columns, DataSource, PrepareError, PrepareOptions, Prepared};
use crate::data::{split_rows, PreprocessOptions, Preprocessing, RawTable, Split, Task};
use crate::supernet::{Rows, TrainRows};

/// Prepares `source` read whole (see [`prepare`](super::prepare)); the options' sizes
/// are already checked.
pub(super) fn prepare_in_memory(
    source: &DataSource,
    options: PrepareOptions,
) -> Result<Prepared, PrepareError> {
    let (table, note) = source.load(options.max_rows).map_err(PrepareError::Load)?;
    check_columns(
        &source.name(),
        table.numeric_names.len() + table.categorical_names.len(),
    )?;
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
    check_split(&source.name(), &split_counts(&table, rows, &split))?;
    let preprocessing = Preprocessing::fit(
        &table,
        &split.train,
        PreprocessOptions {
            buckets: options.buckets,
        },
    );
    let encoder = Encoder {
        name: source.name(),
        table: &table,
        preprocessing: &preprocessing,
    };
    if let Some(c) = preprocessing.unscalable_column() {
        return Err(encoder.scale(c));
    }
    Ok(Prepared {
        name: source.name(),
        task: table.task.clone(),
        embedding_dim: options.embedding_dim,
        train: TrainRows::Memory(encoder.encode(&split.train)?),
        valid: encoder.encode(&split.valid)?,
        test: encoder.encode(&split.test)?,
        preprocessing,
        notes: note.into_iter().collect(),
    })
}

/// What the split checks need of the first `rows` rows of `table` split as `split`.
fn split_counts(table: &RawTable, rows: usize, split: &Split) -> SplitCounts {
    // A column with no value at all is refused by the CSV loader (a Criteo file keeps its
    // fixed columns: one that is always empty is the constant input 0). One whose values
    // all fell outside the training rows would be standardised on nothing.
    // Rows with a property, in all and in training.
    let counts = |has: &dyn Fn(usize) -> bool| {
        let all = (0..rows).filter(|&r| has(r)).count();
        (all, split.train.iter().filter(|&&r| has(r)).count())
    };
    let classes = match &table.task {
        Task::Binary { positive, negative } => [(0.0, negative), (1.0, positive)]
            .into_iter()
            .map(|(value, class)| {
                let (all, train) = counts(&|r| table.labels[r] == value);
                (class.clone(), all, train)
            })
            .collect(),
        _ => Vec::new(),
    };
    let numeric = (table.numeric_names.iter().enumerate())
        .map(|(c, column)| {
            let (all, train) = counts(&|r| !table.numeric_row(r)[c].is_nan());
            (column.clone(), all, train)
        })
        .collect();
    SplitCounts {
        parts: [split.train.len(), split.valid.len(), split.test.len()],
        classes,
        numeric,
    }
}

/// Encodes rows of a table with the preprocessing fitted on its training rows.
struct Encoder<'a> {
    /// The source's name, for errors.
    name: String,
    table: &'a RawTable,
    preprocessing: &'a Preprocessing,
}

impl Encoder<'_> {
    /// The error of numeric column `c`, whose values overflow when standardised.
    fn scale(&self, c: usize) -> PrepareError {
        PrepareError::Scale {
            name: self.name.clone(),
            column: self.table.numeric_names[c].clone(),
        }
    }

    /// The model's rows of `idx`; every numeric input is finite.
    fn encode(&self, idx: &[usize]) -> Result<Rows, PrepareError> {
        let width = self.table.numeric_names.len();
        let e = self.preprocessing.encode(self.table, idx);
        if let Some(at) = e.numeric.iter().position(|x| !x.is_finite()) {
            return Err(self.scale(at % width));
        }
        Ok(Rows {
            rows: idx.len(),
            numeric_width: width,
            categorical_width: self.table.categorical_names.len(),
            numeric: e.numeric,
            categorical: e.categorical,
            labels: e.labels,
        })
    }
}
