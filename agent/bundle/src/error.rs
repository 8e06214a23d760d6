//! The one error type of bundle loading and writing; every variant names the file, the
//! manifest field or the initializer at fault, and carries the values that are wrong.
//! The errors of one file's own format ([`ManifestError`], [`ValidError`],
//! [`OnnxDecodeError`]) are wrapped with the file's path and stay reachable through
//! [`std::error::Error::source`].

use std::fmt;
use std::path::PathBuf;

use tract_onnx::pb::tensor_proto::DataType;

use crate::{ManifestError, OnnxDecodeError, ValidError};

/// What is wrong with a bundle.
#[derive(Debug)]
#[non_exhaustive]
pub enum BundleError {
    /// A file or folder could not be read, created or written.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// `manifest.json` is not valid JSON of the manifest's shape.
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's reason (with line and column).
        source: serde_json::Error,
    },
    /// The manifest could not be written as JSON.
    JsonWrite {
        /// The file it was meant for.
        path: PathBuf,
        /// The serializer's reason.
        source: serde_json::Error,
    },
    /// A manifest field is inconsistent ([`ManifestError::field`] names it).
    Manifest(ManifestError),
    /// `supernet.onnx` is not a usable ONNX model.
    Onnx {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: OnnxDecodeError,
    },
    /// A weight of the supernet is NaN or infinite.
    NonFiniteWeight {
        /// The initializer.
        name: String,
        /// Its first non-finite value's index (row-major).
        index: usize,
        /// That value.
        value: f32,
    },
    /// An initializer's size does not fit this machine's address space.
    InitializerTooLarge {
        /// The initializer.
        name: String,
        /// Its dimensions.
        dims: Vec<usize>,
    },
    /// An initializer the manifest names is not in the model.
    MissingInitializer {
        /// Its name.
        name: String,
    },
    /// An initializer has another element type or shape than the manifest implies.
    InitializerShape {
        /// Its name.
        name: String,
        /// The element type the manifest implies.
        expected_type: DataType,
        /// The shape the manifest implies.
        expected_dims: Vec<usize>,
        /// The element type in the model (`Undefined` for an unknown code).
        found_type: DataType,
        /// The shape in the model.
        found_dims: Vec<i64>,
    },
    /// An initializer's typed data has another number of values than its shape.
    InitializerValues {
        /// Its name.
        name: String,
        /// Values its shape holds.
        expected: usize,
        /// Values it has.
        found: usize,
    },
    /// An initializer's raw data has another length than its shape and type need.
    InitializerRawBytes {
        /// Its name.
        name: String,
        /// Bytes its shape and element type take.
        expected_bytes: usize,
        /// Bytes of raw data it has.
        found_bytes: usize,
    },
    /// The embedding-offsets initializer does not hold the manifest's bucket offsets.
    EmbeddingOffsets {
        /// Its name.
        name: String,
        /// The offsets the manifest's bucket counts imply.
        expected: Vec<i64>,
        /// The offsets in the model.
        found: Vec<i64>,
    },
    /// The weights have another number of dense layers than the manifest implies.
    LayerCount {
        /// Hidden layers plus the head, from the manifest.
        expected: usize,
        /// Dense layers of the weights.
        found: usize,
    },
    /// A dense layer of the weights has another shape than the manifest implies.
    LayerShape {
        /// The layer's weight name in the manifest.
        name: String,
        /// `(inputs, outputs)` the manifest implies.
        expected: (usize, usize),
        /// `(inputs, outputs)` the layer claims.
        found: (usize, usize),
        /// Values of its weight.
        weight_values: usize,
        /// Values of its bias.
        bias_values: usize,
    },
    /// The embedding table has another number of values than the manifest implies.
    EmbeddingSize {
        /// Its name in the manifest (empty without categorical columns).
        name: String,
        /// Values implied (`sum of buckets x embedding_dim`, 0 without categoricals).
        expected: usize,
        /// Values found.
        found: usize,
    },
    /// `valid.bin` does not fit the manifest.
    Valid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: ValidError,
    },
    /// Widths with another number of layers than the bundle's space.
    WidthCount {
        /// The widths asked for.
        widths: Vec<usize>,
        /// Hidden layers of the space.
        layers: usize,
    },
    /// A width that is not a choice of its layer.
    WidthChoice {
        /// The widths asked for.
        widths: Vec<usize>,
        /// The layer, counted from 1 (as printed).
        layer: usize,
        /// The choices of that layer.
        choices: Vec<u32>,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Json { path, source } => {
                write!(f, "{}: not a bundle manifest: {source}", path.display())
            }
            Self::JsonWrite { path, source } => write!(
                f,
                "{}: the manifest cannot be written as JSON: {source}",
                path.display()
            ),
            Self::Manifest(e) => write!(f, "{e}"),
            Self::Onnx { path, source } => write!(f, "{}: {source}", path.display()),
            Self::NonFiniteWeight { name, index, value } => write!(
                f,
                "supernet.onnx initializer `{name}` holds {value} at index {index}; a bundle's \
                 weights must be finite (retrain, or export from a checkpoint before the \
                 training diverged)"
            ),
            Self::InitializerTooLarge { name, dims } => write!(
                f,
                "supernet.onnx initializer `{name}` of dims {dims:?} is too large for this \
                 machine"
            ),
            Self::MissingInitializer { name } => {
                write!(
                    f,
                    "supernet.onnx has no initializer `{name}` named by the manifest"
                )
            }
            Self::InitializerShape {
                name,
                expected_type,
                expected_dims,
                found_type,
                found_dims,
            } => write!(
                f,
                "supernet.onnx initializer `{name}` is {found_type:?} {found_dims:?}; the \
                 manifest implies {expected_type:?} {expected_dims:?}"
            ),
            Self::InitializerValues {
                name,
                expected,
                found,
            } => write!(
                f,
                "supernet.onnx initializer `{name}` has {found} values; its shape holds \
                 {expected}"
            ),
            Self::InitializerRawBytes {
                name,
                expected_bytes,
                found_bytes,
            } => write!(
                f,
                "supernet.onnx initializer `{name}` has {found_bytes} bytes of raw data; its \
                 shape takes {expected_bytes}"
            ),
            Self::EmbeddingOffsets {
                name,
                expected,
                found,
            } => write!(
                f,
                "supernet.onnx initializer `{name}` is {found:?}; the manifest implies \
                 {expected:?}"
            ),
            Self::LayerCount { expected, found } => write!(
                f,
                "the weights have {found} dense layers; the manifest's `graph.hidden` and head \
                 imply {expected}"
            ),
            Self::LayerShape {
                name,
                expected: (i, o),
                found: (fi, fo),
                weight_values,
                bias_values,
            } => write!(
                f,
                "layer `{name}` is [{fi}, {fo}] ({weight_values} values) with {bias_values} \
                 bias values; the manifest implies [{i}, {o}] with a [{o}] bias"
            ),
            Self::EmbeddingSize {
                name,
                expected,
                found,
            } => write!(
                f,
                "embedding table `{name}` has {found} values; the manifest implies {expected}"
            ),
            Self::Valid { path, source } => write!(f, "{}: {source}", path.display()),
            Self::WidthCount { widths, layers } => {
                write!(f, "widths {widths:?}: the space has {layers} hidden layers")
            }
            Self::WidthChoice {
                widths,
                layer,
                choices,
            } => write!(
                f,
                "widths {widths:?}: layer {layer} can be one of {choices:?}"
            ),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for BundleError {}

impl From<ManifestError> for BundleError {
    fn from(e: ManifestError) -> Self {
        Self::Manifest(e)
    }
}
