//! The two file forms of Criteo's rows (see the `criteo` loader), which a loader and its
//! errors name.

use std::fmt;

/// Which of Criteo's two file forms a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriteoForm {
    /// Tab-separated, no header, 40 fields.
    Raw,
    /// Comma-separated with a header naming `Id`, `Label`, `I1`..`I13`, `C1`..`C26`.
    Kaggle,
}

impl fmt::Display for CriteoForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Raw => "Criteo's raw form (tab-separated, no header)",
            Self::Kaggle => "Criteo's Kaggle CSV form (header, Id column, commas)",
        })
    }
}
