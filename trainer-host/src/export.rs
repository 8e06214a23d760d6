//! Bundles from trained supernets, and stand-alone child ONNX files from bundles.
//!
//! The ONNX graph, the slicing and the file formats are the agent's
//! ([`tabnas_agent::bundle`]); this module only fills the manifest from what the trainer
//! knows (data, preprocessing, training provenance, reference losses).

use std::path::Path;

use anyhow::{Context, Result};
use tabnas_agent::bundle::{
    build_model, encode_model, Bundle, DenseNames, GraphNames, Manifest, Provenance, ReferenceLoss,
    TaskSpec, ValidSet, MANIFEST_FORMAT,
};

use crate::prepare::Prepared;
use crate::supernet::{Rows, Supernet};

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
) -> Result<String> {
    Bundle::write(dir, manifest, &supernet.to_weights(), valid)
        .with_context(|| format!("cannot write the bundle to {}", dir.display()))
}

/// Writes the child of `bundle` with hidden `widths` as a stand-alone ONNX file.
pub fn write_child(bundle: &Bundle, widths: &[usize], out: &Path) -> Result<()> {
    let weights = bundle.weights.child(&bundle.manifest, widths)?;
    let model = build_model(&bundle.manifest, &weights)?;
    std::fs::write(out, encode_model(&model))
        .with_context(|| format!("cannot write {}", out.display()))
}
