//! The error of every data loader: what went wrong, and where. Where it is is said
//! here; what went wrong, in the words of `message`.

mod message;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::criteo_form::CriteoForm;
use super::presets::Preset;
use super::quote::Quoted;
use super::task::LabelKind;

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
    /// A numeric column to clip at 0 and take `ln(1 + x)` of (`--log1p`).
    Log1p,
}

impl fmt::Display for ColumnRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Label => "label",
            Self::Categorical => "categorical",
            Self::Ignored => "ignored",
            Self::Log1p => "log1p",
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
    /// A line is longer than the loaders accept ([`MAX_LINE_BYTES`](super::MAX_LINE_BYTES)): the file is
    /// refused before the line is held in memory (a file without line breaks, such as
    /// `/dev/zero`, ends here).
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The most bytes a line may have.
        limit: usize,
    },
    /// A delimited record (a quoted field spanning lines) is longer than
    /// [`MAX_LINE_BYTES`](super::MAX_LINE_BYTES).
    RecordTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line where the record starts.
        line: u64,
        /// The most bytes a record may have.
        limit: usize,
    },
    /// Input columns with no value in any row: every field is missing.
    NoValues {
        /// The file.
        path: PathBuf,
        /// The columns, in file order.
        columns: Vec<String>,
        /// Data rows of the file.
        rows: usize,
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
    /// The header names two columns alike (names identify columns in flags and in the
    /// bundle's manifest).
    DuplicateHeader {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
        /// 0-based positions of the first two columns with it.
        columns: [usize; 2],
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
        /// Whether a field of the row holds a line break (a quoted field running over
        /// lines, as an unclosed quote makes one).
        spans_lines: bool,
    },
    /// A Criteo row does not have its form's field count.
    CriteoFieldCount {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The form the file was read in (told from its first line).
        form: CriteoForm,
        /// Fields of that form (40 raw; the header's count for Kaggle).
        expected: usize,
        /// Fields of this row.
        found: usize,
    },
    /// A Criteo file in the Kaggle CSV form whose header lacks a column.
    CriteoHeader {
        /// The file.
        path: PathBuf,
        /// The column it lacks (`Label`, `I1`, ..., `C26`).
        missing: String,
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
    /// One column was given two roles (for example the label and `--ignore`).
    TwoRoles {
        /// The file.
        path: PathBuf,
        /// The column's name.
        column: String,
        /// The role it had.
        first: ColumnRole,
        /// The role it was also given.
        second: ColumnRole,
    },
    /// A binary or multiclass task whose label column holds a single class.
    OneClass {
        /// The file.
        path: PathBuf,
        /// The label column.
        column: String,
        /// The task asked for.
        kind: LabelKind,
        /// The one label every row has.
        class: String,
    },
    /// A multiclass task with more classes than a head may have.
    TooManyClasses {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first label too many.
        line: u64,
        /// The label column.
        column: String,
        /// Distinct labels found when reading stopped (the first one too many).
        found: usize,
        /// The most allowed.
        max: usize,
    },
}

impl DataError {
    /// The file at fault.
    pub fn path(&self) -> &Path {
        match self {
            Self::Open { path, .. }
            | Self::Read { path, .. }
            | Self::LineTooLong { path, .. }
            | Self::RecordTooLong { path, .. }
            | Self::NoValues { path, .. }
            | Self::Csv { path, .. }
            | Self::NotFetched { path, .. }
            | Self::Empty { path }
            | Self::NoDataRows { path }
            | Self::NoRows { path }
            | Self::NamesNeedHeader { path }
            | Self::DuplicateHeader { path, .. }
            | Self::NoSuchColumn { path, .. }
            | Self::NotInHeader { path, .. }
            | Self::FieldCount { path, .. }
            | Self::CriteoFieldCount { path, .. }
            | Self::CriteoHeader { path, .. }
            | Self::MissingLabel { path, .. }
            | Self::NotANumber { path, .. }
            | Self::NotAnInteger { path, .. }
            | Self::NotZeroOrOne { path, .. }
            | Self::LabelNotANumber { path, .. }
            | Self::ThirdLabel { path, .. }
            | Self::PositiveNotFound { path, .. }
            | Self::NoLabels { path }
            | Self::TooFewClasses { path, .. }
            | Self::TwoRoles { path, .. }
            | Self::OneClass { path, .. }
            | Self::TooManyClasses { path, .. } => path,
        }
    }

    /// The 1-based line at fault, if the problem is on one line.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Csv { line, .. } => *line,
            Self::Read { line, .. }
            | Self::LineTooLong { line, .. }
            | Self::RecordTooLong { line, .. }
            | Self::FieldCount { line, .. }
            | Self::CriteoFieldCount { line, .. }
            | Self::MissingLabel { line, .. }
            | Self::NotANumber { line, .. }
            | Self::NotAnInteger { line, .. }
            | Self::NotZeroOrOne { line, .. }
            | Self::LabelNotANumber { line, .. }
            | Self::ThirdLabel { line, .. }
            | Self::TooManyClasses { line, .. } => Some(*line),
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
            | Self::ThirdLabel { column, .. }
            | Self::OneClass { column, .. }
            | Self::TooManyClasses { column, .. } => Some(column),
            Self::NotZeroOrOne { .. } => Some("label"),
            _ => None,
        }
    }

    /// What is wrong, without the file, line and field: one clause per variant, the
    /// longer ones worded in [`message`].
    fn problem(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { .. } => f.write_str("cannot open"),
            Self::Read { .. } => f.write_str("cannot read"),
            Self::LineTooLong { limit, .. } => message::line_too_long(f, *limit),
            Self::RecordTooLong { limit, .. } => message::record_too_long(f, *limit),
            Self::NoValues { columns, rows, .. } => message::no_values(f, columns, *rows),
            Self::Csv { .. } => f.write_str("malformed delimited text"),
            Self::NotFetched { preset, cache, .. } => message::not_fetched(f, *preset, cache),
            Self::Empty { .. } => f.write_str("file is empty"),
            Self::NoDataRows { .. } => f.write_str("no data rows"),
            Self::NoRows { .. } => f.write_str("no rows"),
            Self::NamesNeedHeader { .. } => f.write_str("columns given by name need a header row"),
            Self::DuplicateHeader { name, columns, .. } => {
                message::duplicate_header(f, name, columns)
            }
            Self::NoSuchColumn {
                role,
                index,
                columns,
                ..
            } => message::no_such_column(f, *role, *index, *columns),
            Self::NotInHeader {
                role, name, header, ..
            } => message::not_in_header(f, *role, name, header),
            Self::FieldCount {
                expected,
                found,
                spans_lines,
                ..
            } => message::field_count(f, *expected, *found, *spans_lines),
            Self::CriteoFieldCount {
                form,
                expected,
                found,
                ..
            } => message::criteo_field_count(f, *form, *expected, *found),
            Self::CriteoHeader { missing, .. } => message::criteo_header(f, missing),
            Self::MissingLabel { .. } => f.write_str("label is missing"),
            Self::NotANumber { text, .. } => message::not_a_number(f, text),
            Self::NotAnInteger { text, .. } => write!(f, "{} is not an integer", Quoted(text)),
            Self::NotZeroOrOne { text, .. } => write!(f, "{} is not 0 or 1", Quoted(text)),
            Self::LabelNotANumber { text, .. } => message::label_not_a_number(f, text),
            Self::ThirdLabel { label, seen, .. } => message::third_label(f, label, seen),
            Self::PositiveNotFound {
                positive, labels, ..
            } => message::positive_not_found(f, positive, labels),
            Self::NoLabels { .. } => f.write_str("no labels"),
            Self::TooFewClasses { found, .. } => {
                write!(f, "multiclass task needs at least 2 classes, found {found}")
            }
            Self::TwoRoles {
                column,
                first,
                second,
                ..
            } => message::two_roles(f, column, *first, *second),
            Self::OneClass { kind, class, .. } => message::one_class(f, *kind, class),
            Self::TooManyClasses { found, max, .. } => message::too_many_classes(f, *found, *max),
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
            write!(f, ": field {}", Quoted(field))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::QUOTE_CHARS;

    /// Every variant that quotes input text, with 10 MB of it: the message stays short.
    #[test]
    fn a_huge_text_never_makes_a_huge_message() {
        let huge = "7".repeat(10_000_000);
        let path = || PathBuf::from("f.csv");
        let many: Vec<String> = (0..1000).map(|i| format!("{i}{}", &huge[..1000])).collect();
        let errors = [
            DataError::NotInHeader {
                path: path(),
                role: ColumnRole::Label,
                name: huge.clone(),
                header: many.clone(),
            },
            DataError::MissingLabel {
                path: path(),
                line: 2,
                column: huge.clone(),
            },
            DataError::NotANumber {
                path: path(),
                line: 2,
                column: huge.clone(),
                text: huge.clone() + "x",
            },
            DataError::NotANumber {
                path: path(),
                line: 2,
                column: "c".into(),
                text: huge.clone(),
            },
            DataError::NotAnInteger {
                path: path(),
                line: 2,
                column: "I1".into(),
                text: huge.clone(),
            },
            DataError::NotZeroOrOne {
                path: path(),
                line: 2,
                text: huge.clone(),
            },
            DataError::LabelNotANumber {
                path: path(),
                line: 2,
                column: huge.clone(),
                text: huge.clone(),
            },
            DataError::ThirdLabel {
                path: path(),
                line: 2,
                column: huge.clone(),
                label: huge.clone(),
                seen: Box::new([huge.clone(), huge.clone()]),
            },
            DataError::PositiveNotFound {
                path: path(),
                positive: huge.clone(),
                labels: many.clone(),
            },
            DataError::TwoRoles {
                path: path(),
                column: huge.clone(),
                first: ColumnRole::Label,
                second: ColumnRole::Ignored,
            },
            DataError::OneClass {
                path: path(),
                column: huge.clone(),
                kind: LabelKind::Binary,
                class: huge.clone(),
            },
            DataError::TooManyClasses {
                line: 7,
                path: path(),
                column: huge.clone(),
                found: 70_000,
                max: 65_536,
            },
            DataError::NoValues {
                path: path(),
                columns: many,
                rows: 3,
            },
        ];
        for e in errors {
            let text = e.to_string();
            assert!(text.len() < 2000, "{} bytes: {}", text.len(), &text[..200]);
            assert!(!text.contains(&"7".repeat(QUOTE_CHARS + 1)), "{text}");
        }
    }
}
