//! The error of every data loader: what went wrong, and where.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::presets::Preset;

/// The role a column was given when it was named in the options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnRole {
    /// The label column.
    Label,
    /// A categorical column.
    Categorical,
    /// A column to drop.
    Ignored,
}

impl fmt::Display for ColumnRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Label => "label",
            Self::Categorical => "categorical",
            Self::Ignored => "ignored",
        })
    }
}

/// A data file could not be used. Every variant names the file, and the line and the
/// column where one is known; the message reads `file[:line][: field `column`]: what`.
#[derive(Debug)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened.
    Open {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// A line could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The system's reason.
        source: io::Error,
    },
    /// The CSV reader rejected the file (for example, text that is not UTF-8).
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line, if the reader knows it.
        line: Option<u64>,
        /// The reader's reason.
        source: csv::Error,
    },
    /// A dataset preset's file is not in the data cache.
    NotFetched {
        /// The file that is missing.
        path: PathBuf,
        /// The preset.
        preset: Preset,
        /// The data cache it was looked for in.
        cache: PathBuf,
    },
    /// The file has no line at all.
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A delimited file has a header (or blank lines) but no data row.
    NoDataRows {
        /// The file.
        path: PathBuf,
    },
    /// A Criteo-format file has no row.
    NoRows {
        /// The file.
        path: PathBuf,
    },
    /// Columns are named but the file has no header row.
    NamesNeedHeader {
        /// The file.
        path: PathBuf,
    },
    /// A column given by index is beyond the file's columns.
    NoSuchColumn {
        /// The file.
        path: PathBuf,
        /// What the column was to be.
        role: ColumnRole,
        /// The 0-based index given.
        index: usize,
        /// Columns the file has.
        columns: usize,
    },
    /// A column given by name is not in the header.
    NotInHeader {
        /// The file.
        path: PathBuf,
        /// What the column was to be.
        role: ColumnRole,
        /// The name given.
        name: String,
        /// The header's names.
        header: Vec<String>,
    },
    /// A row has another number of fields than the first row.
    FieldCount {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Fields of the first row.
        expected: usize,
        /// Fields of this row.
        found: usize,
    },
    /// A Criteo row does not have the format's 40 tab-separated fields.
    CriteoFieldCount {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Fields of this row.
        found: usize,
    },
    /// The label field of a row is missing.
    MissingLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The label column.
        column: String,
    },
    /// A numeric field is not a finite number.
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The column.
        column: String,
        /// The field's text.
        text: String,
    },
    /// A Criteo integer field is not an integer.
    NotAnInteger {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The column (`I1` .. `I13`).
        column: String,
        /// The field's text.
        text: String,
    },
    /// A Criteo label is neither `0` nor `1`.
    NotZeroOrOne {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The label's text.
        text: String,
    },
    /// A regression label is not a finite number.
    LabelNotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The label column.
        column: String,
        /// The label's text.
        text: String,
    },
    /// A binary task has a third distinct label.
    ThirdLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The label column.
        column: String,
        /// The third label.
        label: String,
        /// The two labels seen before it (boxed: the error stays small).
        seen: Box<[String; 2]>,
    },
    /// The positive label given never occurs.
    PositiveNotFound {
        /// The file.
        path: PathBuf,
        /// The positive label given.
        positive: String,
        /// The labels that occur.
        labels: Vec<String>,
    },
    /// No label at all.
    NoLabels {
        /// The file.
        path: PathBuf,
    },
    /// A multiclass task with fewer than two classes.
    TooFewClasses {
        /// The file.
        path: PathBuf,
        /// Distinct labels found.
        found: usize,
    },
}

impl DataError {
    /// The file at fault.
    pub fn path(&self) -> &Path {
        match self {
            Self::Open { path, .. }
            | Self::Read { path, .. }
            | Self::Csv { path, .. }
            | Self::NotFetched { path, .. }
            | Self::Empty { path }
            | Self::NoDataRows { path }
            | Self::NoRows { path }
            | Self::NamesNeedHeader { path }
            | Self::NoSuchColumn { path, .. }
            | Self::NotInHeader { path, .. }
            | Self::FieldCount { path, .. }
            | Self::CriteoFieldCount { path, .. }
            | Self::MissingLabel { path, .. }
            | Self::NotANumber { path, .. }
            | Self::NotAnInteger { path, .. }
            | Self::NotZeroOrOne { path, .. }
            | Self::LabelNotANumber { path, .. }
            | Self::ThirdLabel { path, .. }
            | Self::PositiveNotFound { path, .. }
            | Self::NoLabels { path }
            | Self::TooFewClasses { path, .. } => path,
        }
    }

    /// The 1-based line at fault, if the problem is on one line.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Csv { line, .. } => *line,
            Self::Read { line, .. }
            | Self::FieldCount { line, .. }
            | Self::CriteoFieldCount { line, .. }
            | Self::MissingLabel { line, .. }
            | Self::NotANumber { line, .. }
            | Self::NotAnInteger { line, .. }
            | Self::NotZeroOrOne { line, .. }
            | Self::LabelNotANumber { line, .. }
            | Self::ThirdLabel { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The column at fault, if the problem is in one field.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::MissingLabel { column, .. }
            | Self::NotANumber { column, .. }
            | Self::NotAnInteger { column, .. }
            | Self::LabelNotANumber { column, .. }
            | Self::ThirdLabel { column, .. } => Some(column),
            Self::NotZeroOrOne { .. } => Some("label"),
            _ => None,
        }
    }

    /// What is wrong, without the file, line and field.
    fn problem(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { .. } => f.write_str("cannot open"),
            Self::Read { .. } => f.write_str("cannot read"),
            Self::Csv { .. } => f.write_str("malformed delimited text"),
            Self::NotFetched { preset, cache, .. } => write!(
                f,
                "not found; fetch it with `python3 scripts/fetch_data.py {} --dir {}`",
                preset.name(),
                cache.display()
            ),
            Self::Empty { .. } => f.write_str("file is empty"),
            Self::NoDataRows { .. } => f.write_str("no data rows"),
            Self::NoRows { .. } => f.write_str("no rows"),
            Self::NamesNeedHeader { .. } => f.write_str("columns given by name need a header row"),
            Self::NoSuchColumn {
                role,
                index,
                columns,
                ..
            } => write!(
                f,
                "{role} column {index} does not exist (the file has {columns} columns)"
            ),
            Self::NotInHeader {
                role, name, header, ..
            } => write!(f, "{role} column `{name}` is not in the header {header:?}"),
            Self::FieldCount {
                expected, found, ..
            } => write!(f, "expected {expected} fields, found {found}"),
            Self::CriteoFieldCount { found, .. } => write!(
                f,
                "expected {} tab-separated fields, found {found}",
                1 + super::CRITEO_INT_FIELDS + super::CRITEO_CAT_FIELDS
            ),
            Self::MissingLabel { .. } => f.write_str("label is missing"),
            Self::NotANumber { text, .. } => write!(
                f,
                "`{text}` is not a finite number (declare the column categorical, or add the \
                 text to the missing markers)"
            ),
            Self::NotAnInteger { text, .. } => write!(f, "`{text}` is not an integer"),
            Self::NotZeroOrOne { text, .. } => write!(f, "`{text}` is not 0 or 1"),
            Self::LabelNotANumber { text, .. } => {
                write!(f, "label `{text}` is not a finite number")
            }
            Self::ThirdLabel { label, seen, .. } => write!(
                f,
                "third distinct label `{label}` in a binary task (already saw `{}` and `{}`)",
                seen[0], seen[1]
            ),
            Self::PositiveNotFound {
                positive, labels, ..
            } => write!(
                f,
                "positive label `{positive}` never occurs; labels are {labels:?}"
            ),
            Self::NoLabels { .. } => f.write_str("no labels"),
            Self::TooFewClasses { found, .. } => {
                write!(f, "multiclass task needs at least 2 classes, found {found}")
            }
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path().display())?;
        if let Some(line) = self.line() {
            write!(f, ":{line}")?;
        }
        if let Some(field) = self.field() {
            write!(f, ": field `{field}`")?;
        }
        f.write_str(": ")?;
        self.problem(f)
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open { source, .. } | Self::Read { source, .. } => Some(source),
            Self::Csv { source, .. } => Some(source),
            _ => None,
        }
    }
}
