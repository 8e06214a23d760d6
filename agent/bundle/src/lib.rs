//! # tabnas-bundle
//!
//! Bundles: the contract between the host trainer and the device agent
//! (`docs/formats.md` in the repository).
//!
//! A bundle is a folder with `supernet.onnx` (the weight-sharing supernet at its largest
//! widths), `manifest.json` ([`Manifest`]) and `valid.bin` ([`ValidSet`]). Loading goes
//! through one checked path, [`Bundle::load`]: after it succeeds the manifest is
//! consistent, every initializer it names exists with the shape it implies, and the
//! validation rows match the input schema. A child network is the same graph with the
//! hidden-layer initializers sliced to its widths ([`SupernetWeights::child`]); that one
//! function serves quality, latency measurement and export.

mod error;
pub mod files;
mod loss;
mod manifest;
mod onnx;
mod runner;
mod valid;
mod weights;

use std::path::{Path, PathBuf};

pub use error::BundleError;
pub use loss::{mean_loss, LossError};
pub use manifest::{
    CategoricalInput, DenseNames, GraphNames, InputSchema, LossKind, Manifest, ManifestError,
    NumericInput, Provenance, ReferenceLoss, TaskSpec, MANIFEST_FORMAT, MAX_BUCKETS,
    MAX_SUPERNET_PARAMS, MAX_WIDTH,
};
pub use onnx::{
    build_model, decode_model, dense_model, encode_model, identity_model, stem_model,
    OnnxDecodeError,
};
pub use runner::{InferenceError, NetShape, TractNet};
pub use valid::{ValidError, ValidSet, VALID_MAGIC};
pub use weights::{Dense, SupernetWeights};

/// File names inside a bundle folder.
pub const SUPERNET_FILE: &str = "supernet.onnx";
/// See [`SUPERNET_FILE`].
pub const MANIFEST_FILE: &str = "manifest.json";
/// See [`SUPERNET_FILE`].
pub const VALID_FILE: &str = "valid.bin";

/// The largest `manifest.json` read.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// The largest `supernet.onnx` read: [`MAX_SUPERNET_PARAMS`] `f32` weights and room for
/// the graph.
pub const MAX_SUPERNET_BYTES: u64 = 4 * MAX_SUPERNET_PARAMS + (16 << 20);
/// The largest `valid.bin` read (256 MiB: about a million rows of 64 columns).
pub const MAX_VALID_BYTES: u64 = 256 << 20;

/// A loaded, checked bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Where it was loaded from.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// The supernet's weights, read from the ONNX initializers.
    pub weights: SupernetWeights,
    /// Validation rows.
    pub valid: ValidSet,
    /// SHA-256 of `supernet.onnx`, `manifest.json` and `valid.bin`, in that order.
    pub hash: String,
}

impl Bundle {
    /// Loads and checks the bundle in `dir`.
    pub fn load(dir: &Path) -> Result<Self, BundleError> {
        let read = |name: &str, limit: u64| {
            let path = dir.join(name);
            files::read_limited(&path, limit).map_err(|source| BundleError::Io { path, source })
        };
        let manifest = read(MANIFEST_FILE, MAX_MANIFEST_BYTES)?;
        let onnx = read(SUPERNET_FILE, MAX_SUPERNET_BYTES)?;
        let valid = read(VALID_FILE, MAX_VALID_BYTES)?;
        Self::from_parts(dir, &manifest, &onnx, &valid)
    }

    /// Checks a bundle given as the bytes of its three files; `dir` names it in errors.
    pub fn from_parts(
        dir: &Path,
        manifest_bytes: &[u8],
        onnx_bytes: &[u8],
        valid_bytes: &[u8],
    ) -> Result<Self, BundleError> {
        let manifest: Manifest =
            serde_json::from_slice(manifest_bytes).map_err(|source| BundleError::Json {
                path: dir.join(MANIFEST_FILE),
                source,
            })?;
        manifest.check()?;
        let model = decode_model(onnx_bytes).map_err(|source| BundleError::Onnx {
            path: dir.join(SUPERNET_FILE),
            source,
        })?;
        let weights = SupernetWeights::from_model(&model, &manifest)?;
        let valid =
            ValidSet::decode(valid_bytes, &manifest).map_err(|source| BundleError::Valid {
                path: dir.join(VALID_FILE),
                source,
            })?;
        let hash = bundle_hash(&[onnx_bytes, manifest_bytes, valid_bytes]);
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            weights,
            valid,
            hash,
        })
    }

    /// Writes a bundle to `dir` (created if needed), each file replaced atomically and
    /// never through a link; returns its hash.
    pub fn write(
        dir: &Path,
        manifest: &Manifest,
        weights: &SupernetWeights,
        valid: &ValidSet,
    ) -> Result<String, BundleError> {
        manifest.check()?;
        weights.check(manifest, &manifest.max_widths())?;
        let io = |path: &Path, source: std::io::Error| BundleError::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let onnx_bytes = encode_model(&build_model(manifest, weights)?);
        let manifest_bytes =
            serde_json::to_vec_pretty(manifest).map_err(|source| BundleError::JsonWrite {
                path: dir.join(MANIFEST_FILE),
                source,
            })?;
        let valid_bytes = valid.encode();
        for (name, bytes) in [
            (SUPERNET_FILE, &onnx_bytes),
            (MANIFEST_FILE, &manifest_bytes),
            (VALID_FILE, &valid_bytes),
        ] {
            let path = dir.join(name);
            files::write_atomic(&path, bytes).map_err(|e| io(&path, e))?;
        }
        Ok(bundle_hash(&[&onnx_bytes, &manifest_bytes, &valid_bytes]))
    }

    /// The ONNX model of the child with hidden `widths`.
    pub fn child_model(&self, widths: &[usize]) -> Result<tract_onnx::pb::ModelProto, BundleError> {
        build_model(&self.manifest, &self.weights.child(&self.manifest, widths)?)
    }
}

fn bundle_hash(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
