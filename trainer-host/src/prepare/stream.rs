//! A Criteo or CSV file as a stream of rows: its columns, known before the rows are
//! read, and a visit of its rows in either format alike.

use std::path::Path;

use super::PrepareError;
use crate::data::{
    for_each_criteo_row, CriteoForm, CriteoRow, CsvOptions, CsvRow, CsvRows, DataError, LabelKind,
    CRITEO_CAT_FIELDS, CRITEO_INT_FIELDS,
};

/// A file to read in two streaming passes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stream<'a> {
    /// Criteo's format (either form).
    Criteo(&'a Path),
    /// A delimited file read as the options say.
    Csv(&'a Path, &'a CsvOptions),
}

/// The inputs and the label of a stream, known before its rows are read.
pub(super) struct Columns {
    /// Numeric input columns.
    pub(super) numeric: Vec<String>,
    /// Whether each numeric input takes `ln(1 + x)` first.
    pub(super) log1p: Vec<bool>,
    /// Categorical input columns.
    pub(super) categorical: Vec<String>,
    /// The label column.
    pub(super) label: String,
    /// What the labels are.
    pub(super) kind: LabelKind,
    /// Binary tasks: the label text that means 1.
    pub(super) positive: Option<String>,
}

/// One row of either format, borrowed from the line it was read from.
pub(super) struct StreamRow<'r> {
    /// 1-based line in the file.
    pub(super) line: u64,
    /// The label's text.
    pub(super) label: &'r str,
    /// Numeric inputs, NaN where missing.
    pub(super) numeric: &'r [f32],
    /// Categorical inputs, None where missing.
    pub(super) categorical: &'r [Option<&'r str>],
}

impl Stream<'_> {
    /// The file.
    pub(super) fn path(&self) -> &Path {
        match *self {
            Self::Criteo(path) | Self::Csv(path, _) => path,
        }
    }

    /// The columns (a CSV's first record is read to resolve them).
    pub(super) fn columns(&self) -> Result<Columns, DataError> {
        Ok(match *self {
            Self::Criteo(_) => Columns {
                numeric: (1..=CRITEO_INT_FIELDS).map(|k| format!("I{k}")).collect(),
                log1p: vec![true; CRITEO_INT_FIELDS],
                categorical: (1..=CRITEO_CAT_FIELDS).map(|k| format!("C{k}")).collect(),
                label: "label".into(),
                kind: LabelKind::Binary,
                positive: Some("1".into()),
            },
            Self::Csv(path, options) => {
                let layout = CsvRows::open(path, options)?.layout().clone();
                Columns {
                    numeric: layout.numeric_names,
                    log1p: layout.numeric_log1p,
                    categorical: layout.categorical_names,
                    label: layout.label_name,
                    kind: options.label_kind,
                    positive: options.positive.clone(),
                }
            }
        })
    }

    /// Visits at most `max_rows` rows (reading stops there); returns how many, and the
    /// form of a Criteo file.
    pub(super) fn for_each(
        &self,
        max_rows: Option<usize>,
        mut visit: impl FnMut(&StreamRow<'_>) -> Result<(), PrepareError>,
    ) -> Result<(usize, Option<CriteoForm>), PrepareError> {
        match *self {
            Self::Criteo(path) => {
                let (form, rows) = for_each_criteo_row(path, max_rows, |r: &CriteoRow<'_>| {
                    visit(&StreamRow {
                        line: r.line,
                        label: if r.label == 1.0 { "1" } else { "0" },
                        numeric: &r.ints,
                        categorical: &r.cats,
                    })
                })?;
                Ok((rows, Some(form)))
            }
            Self::Csv(path, options) => {
                let options = CsvOptions {
                    max_rows,
                    ..options.clone()
                };
                let rows = CsvRows::open(path, &options)?.for_each(|r: &CsvRow<'_>| {
                    visit(&StreamRow {
                        line: r.line,
                        label: r.label,
                        numeric: r.numeric,
                        categorical: r.categorical,
                    })
                })?;
                Ok((rows, None))
            }
        }
    }
}
