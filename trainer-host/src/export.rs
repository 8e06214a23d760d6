//! Bundles from trained supernets, and stand-alone child ONNX files from bundles.
//!
//! The ONNX graph, the slicing and the file formats are the bundle crate's
//! ([`tabnas_bundle`], `docs/formats.md`); this module only fills the manifest from what
//! the trainer knows (data, preprocessing, training provenance, reference losses).

use std::fmt;
use std::path::{Path, PathBuf};

use tabnas_bundle::{
    build_model, encode_model, Bundle, BundleError, DenseNames, GraphNames, Manifest, Provenance,
    ReferenceLoss, TaskSpec, ValidSet, MANIFEST_FORMAT,
};

use crate::prepare::Prepared;
use crate::supernet::{Rows, Supernet};

/// Why a bundle or a child could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExportError {
    /// The bundle could not be written.
    Bundle {
        /// Its folder.
        dir: PathBuf,
        /// Why.
        source: BundleError,
    },
    /// The widths are not a child of the bundle, or its graph could not be built.
    Child {
        /// The hidden widths asked for.
        widths: Vec<usize>,
        /// Why.
        source: BundleError,
    },
    /// The child's file could not be written.
    Write {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bundle { dir, .. } => {
                write!(f, "cannot write the bundle to {}", dir.display())
            }
            Self::Child { widths, .. } => write!(f, "cannot export the child {widths:?}"),
            Self::Write { path, .. } => write!(f, "cannot write {}", path.display()),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bundle { source, .. } | Self::Child { source, .. } => Some(source),
            Self::Write { source, .. } => Some(source),
        }
    }
}

/// The graph names every tabnas bundle uses.
pub fn standard_names(layers: usize, categorical: bool) -> GraphNames {
    GraphNames {
        numeric_input: "numeric".into(),
        categorical_input: categorical.then(|| "categorical".into()),
        output: "output".into(),
        embedding: categorical.then(|| "embedding".into()),
        embedding_offsets: categorical.then(|| "embedding.offsets".into()),
        hidden: (1..=layers)
            .map(|i| DenseNames {
                weight: format!("hidden{i}.weight"),
                bias: format!("hidden{i}.bias"),
            })
            .collect(),
        head: DenseNames {
            weight: "head.weight".into(),
            bias: "head.bias".into(),
        },
    }
}

/// The validation rows as `valid.bin` content (at most `max_rows` of them).
pub fn valid_set(rows: &Rows, max_rows: usize) -> ValidSet {
    let n = rows.rows.min(max_rows.max(1));
    ValidSet {
        rows: n,
        numeric: rows.numeric[..n * rows.numeric_width].to_vec(),
        categorical: rows.categorical[..n * rows.categorical_width].to_vec(),
        labels: rows.labels[..n].to_vec(),
    }
}

/// The manifest of a supernet trained on `data`.
pub fn manifest_for(
    name: &str,
    data: &Prepared,
    supernet: &Supernet,
    training: Provenance,
    references: Vec<ReferenceLoss>,
) -> Manifest {
    let spec = supernet.spec();
    let (loss, outputs) = data.loss_and_outputs();
    Manifest {
        format: MANIFEST_FORMAT,
        name: name.into(),
        task: TaskSpec {
            loss,
            outputs: outputs as u32,
            labels: data.label_names(),
        },
        inputs: data.input_schema(),
        space: spec.space.clone(),
        graph: standard_names(spec.space.len(), !spec.buckets.is_empty()),
        training,
        references,
    }
}

/// Writes the bundle of `supernet` to `dir`; returns its hash.
pub fn write_bundle(
    dir: &Path,
    manifest: &Manifest,
    supernet: &Supernet,
    valid: &ValidSet,
) -> Result<String, ExportError> {
    Bundle::write(dir, manifest, &supernet.to_weights(), valid).map_err(|source| {
        ExportError::Bundle {
            dir: dir.to_path_buf(),
            source,
        }
    })
}

/// Writes the child of `bundle` with hidden `widths` as a stand-alone ONNX file,
/// replacing `out` atomically and never writing through a link planted under its name.
pub fn write_child(bundle: &Bundle, widths: &[usize], out: &Path) -> Result<(), ExportError> {
    let child = |source| ExportError::Child {
        widths: widths.to_vec(),
        source,
    };
    let weights = bundle
        .weights
        .child(&bundle.manifest, widths)
        .map_err(child)?;
    let model = build_model(&bundle.manifest, &weights).map_err(child)?;
    tabnas_bundle::files::write_atomic(out, &encode_model(&model)).map_err(|source| {
        ExportError::Write {
            path: out.to_path_buf(),
            source,
        }
    })
}
