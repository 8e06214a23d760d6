//! Why a saved latency table cannot serve this bundle.

use std::fmt;

/// Why a saved latency table cannot serve this bundle.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TableFileError {
    /// Another format version.
    Format {
        /// The version found.
        found: u32,
    },
    /// It was measured for another search space.
    OtherSpace,
    /// It was measured for another bundle.
    OtherBundle {
        /// Its bundle hash (prefix).
        saved: String,
        /// This bundle's hash (prefix).
        this: String,
    },
    /// It was measured with another measurement protocol.
    OtherProtocol,
    /// It was measured with another runtime, CPU or platform.
    OtherMachine {
        /// What it was measured on.
        saved: String,
        /// What this run measures on.
        this: String,
    },
    /// A block does not fit the space.
    Block {
        /// The block index.
        block: usize,
        /// Why.
        source: tabnas_core::cost::TableError,
    },
}

impl fmt::Display for TableFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Format { found } => write!(
                f,
                "format {found} (this agent reads {})",
                super::TABLE_FORMAT
            ),
            Self::OtherSpace => f.write_str("it was measured for another search space"),
            Self::OtherBundle { saved, this } => {
                write!(f, "it was measured for bundle {saved}, this one is {this}")
            }
            Self::OtherProtocol => f.write_str("it was measured with another measurement protocol"),
            Self::OtherMachine { saved, this } => {
                write!(
                    f,
                    "it was measured with {saved}, this run measures with {this}"
                )
            }
            Self::Block { block, source } => write!(f, "latency table block {block}: {source}"),
        }
    }
}

impl std::error::Error for TableFileError {}
