//! The error of every data loader: what went wrong, and where.

use std::fmt::{self, Write as _};
use std::io;
use std::path::{Path, PathBuf};

use super::label::LabelKind;
use super::presets::Preset;

/// Text that is a number written with digits, but too large for the `f32` the model
/// computes in (`1e39`, `1e400`; not `inf` or `nan`).
fn beyond_f32(text: &str) -> bool {
    text.parse::<f64>().is_ok_and(|x| {
        x.is_finite() || (x.is_infinite() && !text.to_ascii_lowercase().contains("inf"))
    })
}

/// Most characters of input text (a field, a label, a column name) that an error quotes.
pub const QUOTE_CHARS: usize = 80;

/// Most texts of a list (a header's names, the labels) that an error quotes.
pub const QUOTE_ITEMS: usize = 8;

/// Input text as an error quotes it: in backticks, with control characters escaped (the
/// message stays on one line) and cut after [`QUOTE_CHARS`] characters, followed by `…`
/// and the text's whole length. One huge field never makes a huge message.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('`')?;
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(QUOTE_CHARS) {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                f.write_char(c)?;
            }
        }
        if chars.next().is_some() {
            write!(f, "…` ({} characters)", self.0.chars().count())
        } else {
            f.write_char('`')
        }
    }
}

/// At most [`QUOTE_ITEMS`] texts of a list, each [`Quoted`], then how many more there are.
#[derive(Debug, Clone, Copy)]
pub struct QuotedList<'a>(pub &'a [String]);

impl fmt::Display for QuotedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, text) in self.0.iter().take(QUOTE_ITEMS).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", Quoted(text))?;
        }
        match self.0.len().saturating_sub(QUOTE_ITEMS) {
            0 => Ok(()),
            more => write!(f, " and {more} more"),
        }
    }
}

/// `1 MiB (1048576 bytes)`: a byte limit as a reader of an error wants it.
fn bytes(limit: usize) -> String {
    if limit >= 1 << 20 && limit.is_multiple_of(1 << 20) {
        format!("{} MiB ({limit} bytes)", limit >> 20)
    } else {
        format!("{limit} bytes")
    }
}

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
    /// A line is longer than the loaders accept ([`super::MAX_LINE_BYTES`]): the file is
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
    /// [`super::MAX_LINE_BYTES`].
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
        form: super::CriteoForm,
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

    /// What is wrong, without the file, line and field.
    fn problem(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { .. } => f.write_str("cannot open"),
            Self::Read { .. } => f.write_str("cannot read"),
            Self::LineTooLong { limit, .. } => write!(
                f,
                "line longer than {}, the most a data line may have; is this a text data file?",
                bytes(*limit)
            ),
            Self::RecordTooLong { limit, .. } => write!(
                f,
                "record longer than {} (a quoted field runs over several lines); is a closing \
                 quote missing?",
                bytes(*limit)
            ),
            Self::NoValues { columns, rows, .. } => {
                let one = columns.len() == 1;
                write!(
                    f,
                    "{} {} {} no value in any of the {rows} rows (every field is empty or a \
                     missing marker); drop {} with --ignore, or check --missing and --separator",
                    if one { "column" } else { "columns" },
                    QuotedList(columns),
                    if one { "has" } else { "have" },
                    if one { "it" } else { "them" }
                )
            }
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
            Self::DuplicateHeader { name, columns, .. } => write!(
                f,
                "the header names columns {} and {} alike, {}; rename one (names identify \
                 columns in flags and in the bundle)",
                columns[0],
                columns[1],
                Quoted(name)
            ),
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
            } => write!(
                f,
                "{role} column {} is not in the header ({} column(s): {})",
                Quoted(name),
                header.len(),
                QuotedList(header)
            ),
            Self::FieldCount {
                expected,
                found,
                spans_lines,
                ..
            } => {
                write!(f, "expected {expected} fields, found {found}")?;
                if *spans_lines {
                    f.write_str(
                        " (a quoted field of this row runs over several lines: is a closing \
                         quote missing?)",
                    )?;
                }
                Ok(())
            }
            Self::CriteoFieldCount {
                form: super::CriteoForm::Raw,
                expected,
                found,
                ..
            } => write!(
                f,
                "expected {expected} tab-separated fields (Criteo's raw form), found {found}; \
                 the Kaggle CSV form needs its header line `Id,Label,I1,...,C26`, and another \
                 CSV file is read with --csv"
            ),
            Self::CriteoFieldCount {
                form: super::CriteoForm::Kaggle,
                expected,
                found,
                ..
            } => write!(
                f,
                "expected {expected} comma-separated fields (Criteo's Kaggle CSV form, as its \
                 header names), found {found}"
            ),
            Self::CriteoHeader { missing, .. } => write!(
                f,
                "the Kaggle CSV header has no column {}; Criteo's Kaggle form names Label, \
                 I1..I13 and C1..C26",
                Quoted(missing)
            ),
            Self::MissingLabel { .. } => f.write_str("label is missing"),
            Self::NotANumber { text, .. } if beyond_f32(text) => write!(
                f,
                "{} is beyond the range of 32-bit floats (magnitude at most {:e}); rescale the \
                 column",
                Quoted(text),
                f32::MAX
            ),
            Self::NotANumber { text, .. } => write!(
                f,
                "{} is not a finite number (declare the column categorical, or add the text to \
                 the missing markers)",
                Quoted(text)
            ),
            Self::NotAnInteger { text, .. } => write!(f, "{} is not an integer", Quoted(text)),
            Self::NotZeroOrOne { text, .. } => write!(f, "{} is not 0 or 1", Quoted(text)),
            Self::LabelNotANumber { text, .. } if beyond_f32(text) => write!(
                f,
                "label {} is beyond the range of 32-bit floats (magnitude at most {:e})",
                Quoted(text),
                f32::MAX
            ),
            Self::LabelNotANumber { text, .. } => {
                write!(f, "label {} is not a finite number", Quoted(text))
            }
            Self::ThirdLabel { label, seen, .. } => write!(
                f,
                "third distinct label {} in a binary task (already saw {} and {})",
                Quoted(label),
                Quoted(&seen[0]),
                Quoted(&seen[1])
            ),
            Self::PositiveNotFound {
                positive, labels, ..
            } => write!(
                f,
                "positive label {} never occurs; labels are {}",
                Quoted(positive),
                QuotedList(labels)
            ),
            Self::NoLabels { .. } => f.write_str("no labels"),
            Self::TooFewClasses { found, .. } => {
                write!(f, "multiclass task needs at least 2 classes, found {found}")
            }
            Self::TwoRoles {
                column,
                first,
                second,
                ..
            } => write!(
                f,
                "column {} is {} column and cannot also be {}",
                Quoted(column),
                match first {
                    ColumnRole::Label => "the label",
                    ColumnRole::Categorical => "a categorical",
                    ColumnRole::Ignored => "an ignored",
                    ColumnRole::Log1p => "a log1p",
                },
                match second {
                    ColumnRole::Label => "the label",
                    ColumnRole::Categorical => "categorical",
                    ColumnRole::Ignored => "ignored",
                    ColumnRole::Log1p => "log1p-transformed (only numeric columns can be)",
                }
            ),
            Self::OneClass { kind, class, .. } => write!(
                f,
                "a {kind} task needs at least 2 distinct labels, but every row has {}",
                Quoted(class)
            ),
            Self::TooManyClasses { found, max, .. } => write!(
                f,
                "at least {found} distinct labels; a multiclass task may have at most {max}"
            ),
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

    #[test]
    fn quoted_text_is_cut_after_80_characters_and_kept_on_one_line() {
        assert_eq!(Quoted("a b").to_string(), "`a b`");
        let exact = "é".repeat(QUOTE_CHARS);
        assert_eq!(Quoted(&exact).to_string(), format!("`{exact}`"));
        let long = "é".repeat(QUOTE_CHARS + 1);
        assert_eq!(
            Quoted(&long).to_string(),
            format!("`{}…` (81 characters)", "é".repeat(QUOTE_CHARS))
        );
        assert_eq!(Quoted("a\nb\t\u{0}").to_string(), "`a\\nb\\t\\0`");
        let names: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(QuotedList(&names[..2]).to_string(), "`0`, `1`");
        assert_eq!(
            QuotedList(&names).to_string(),
            "`0`, `1`, `2`, `3`, `4`, `5`, `6`, `7` and 2 more"
        );
        assert_eq!(QuotedList(&[]).to_string(), "");
    }

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
