//! How to read a delimited file: which column is the label, which are categorical,
//! ignored or log-transformed, and what marks a missing field.

use serde::{Deserialize, Serialize};

use super::task::LabelKind;

/// A column by 0-based index or by header name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnRef {
    /// 0-based position.
    Index(usize),
    /// Header name (needs a header row).
    Name(String),
}

impl std::str::FromStr for ColumnRef {
    type Err = std::convert::Infallible;
    /// A number is an index, anything else a name (spaces around it are dropped).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Trimmed as header names are: `--categorical "a, b"` names `b`.
        let s = s.trim();
        Ok(s.parse::<usize>()
            .map(ColumnRef::Index)
            .unwrap_or_else(|_| ColumnRef::Name(s.to_string())))
    }
}

/// How to read a delimited file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Field separator (one byte).
    pub separator: u8,
    /// Whether the first row names the columns.
    pub header: bool,
    /// The label column.
    pub label: ColumnRef,
    /// What the labels are.
    pub label_kind: LabelKind,
    /// Binary tasks: the label text that means 1.
    pub positive: Option<String>,
    /// Columns holding categories.
    pub categorical: Vec<ColumnRef>,
    /// Columns to drop.
    pub ignore: Vec<ColumnRef>,
    /// Numeric columns to clip at 0 and take `ln(1 + x)` of before standardising (as
    /// Criteo's integer columns are).
    pub log1p: Vec<ColumnRef>,
    /// Field texts that mean "missing".
    pub missing: Vec<String>,
    /// Stop reading after this many data rows (`--max-rows`), if given: the rest of the
    /// file is never read.
    pub max_rows: Option<usize>,
}

impl CsvOptions {
    /// Comma-separated, no header, label in column 0, binary, missing = "" or "?".
    pub fn new(label: ColumnRef, label_kind: LabelKind) -> Self {
        Self {
            separator: b',',
            header: false,
            label,
            label_kind,
            positive: None,
            categorical: Vec::new(),
            ignore: Vec::new(),
            log1p: Vec::new(),
            missing: vec![String::new(), "?".to_string()],
            max_rows: None,
        }
    }
}
