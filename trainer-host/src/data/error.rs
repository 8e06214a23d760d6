//! The error of every data loader: what went wrong, and where.

use std::fmt;
use std::path::Path;

/// A data file could not be used. The message names the file, and the line and field
/// where one is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    /// The file at fault.
    pub file: String,
    /// 1-based line, if the problem is on one line.
    pub line: Option<u64>,
    /// The column or field at fault, if one.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl DataError {
    /// An error about a whole file.
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Self {
            file: path.display().to_string(),
            line: None,
            field: None,
            message: message.into(),
        }
    }

    /// An error on one line.
    pub fn at(path: &Path, line: u64, message: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            ..Self::file(path, message)
        }
    }

    /// An error in one field of one line.
    pub fn field(
        path: &Path,
        line: u64,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::at(path, line, message)
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for DataError {}
