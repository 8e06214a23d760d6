//! Why a comparison could not finish.

use std::fmt;

use crate::host_search::HostSearchError;
use crate::reference::ReferenceError;

/// Why a comparison could not finish.
#[derive(Debug)]
#[non_exhaustive]
pub enum CompareError {
    /// A method's search failed.
    Search {
        /// The method.
        method: String,
        /// Why.
        source: HostSearchError,
    },
    /// A stand-alone training failed.
    Reference(ReferenceError),
    /// No beta, or one that is not finite and non-negative.
    Beta {
        /// The betas given.
        betas: Vec<f64>,
    },
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Search { method, .. } => write!(f, "the search with {method} failed"),
            Self::Reference(_) => f.write_str("a stand-alone training failed"),
            Self::Beta { betas } => write!(
                f,
                "the beta sweep needs at least one finite non-negative beta, got {betas:?}"
            ),
        }
    }
}

impl std::error::Error for CompareError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Search { source, .. } => Some(source),
            Self::Reference(e) => Some(e),
            Self::Beta { .. } => None,
        }
    }
}

impl CompareError {
    /// The error of `method`'s search.
    pub(super) fn search(method: &str) -> impl FnOnce(HostSearchError) -> Self {
        let method = method.to_string();
        move |source| Self::Search { method, source }
    }
}
