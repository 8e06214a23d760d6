//! The one error type of bundle loading and writing; every variant names the file or
//! the manifest field at fault.

use std::fmt;
use std::path::PathBuf;

/// What is wrong with a bundle.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BundleError {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        problem: String,
    },
    /// `manifest.json` is not valid JSON of the manifest's shape.
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's reason (with line and column).
        problem: String,
    },
    /// A manifest field is inconsistent.
    Manifest {
        /// The field.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// `supernet.onnx` is not a usable ONNX model.
    Onnx {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// An initializer the manifest names is not in the model.
    MissingInitializer {
        /// Its name.
        name: String,
    },
    /// An initializer has the wrong shape or element type.
    InitializerMismatch {
        /// Its name.
        name: String,
        /// What the manifest implies.
        expected: String,
        /// What the model has.
        found: String,
    },
    /// `valid.bin` does not fit the manifest.
    Valid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// Widths that are not an architecture of the bundle's space.
    Widths {
        /// The widths asked for.
        widths: Vec<usize>,
        /// Why they do not fit.
        problem: String,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, problem } => write!(f, "{}: {problem}", path.display()),
            Self::Json { path, problem } => {
                write!(f, "{}: not a bundle manifest: {problem}", path.display())
            }
            Self::Manifest { field, problem } => write!(f, "manifest field `{field}` {problem}"),
            Self::Onnx { path, problem } => write!(f, "{}: {problem}", path.display()),
            Self::MissingInitializer { name } => {
                write!(
                    f,
                    "supernet.onnx has no initializer `{name}` named by the manifest"
                )
            }
            Self::InitializerMismatch {
                name,
                expected,
                found,
            } => write!(
                f,
                "supernet.onnx initializer `{name}` is {found}; the manifest implies {expected}"
            ),
            Self::Valid { path, problem } => write!(f, "{}: {problem}", path.display()),
            Self::Widths { widths, problem } => write!(f, "widths {widths:?}: {problem}"),
        }
    }
}

impl std::error::Error for BundleError {}
