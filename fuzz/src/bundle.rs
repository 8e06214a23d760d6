//! The fuzz targets of the bundle files: `manifest_json`, `valid_bin` and
//! `bundle_bytes`, and the fixed manifests `valid_bin` checks against.
//!
//! Compiled into those targets on its own (`#[path]`) and into the `tabnas-fuzz` library
//! with the other targets (`run` in `lib.rs`).

use std::path::Path;
use std::sync::LazyLock;

use tabnas_bundle::{
    build_model, encode_model, mean_loss, Bundle, CategoricalInput, DenseNames, GraphNames,
    InputSchema, LossKind, Manifest, NumericInput, Provenance, ReferenceLoss, SupernetWeights,
    TaskSpec, ValidSet, MANIFEST_FORMAT,
};

/// `manifest.json`. A manifest that checks gives its search space and the sizes derived
/// from it without panics or overflow, and survives a JSON round trip.
pub fn manifest_json(data: &[u8]) -> bool {
    let Ok(manifest) = serde_json::from_slice::<Manifest>(data) else {
        return false;
    };
    if manifest.check().is_err() {
        return false;
    }
    exercise_manifest(&manifest);
    let json = serde_json::to_vec(&manifest).expect("a checked manifest serializes");
    let again: Manifest =
        serde_json::from_slice(&json).expect("a checked manifest's JSON parses again");
    again.check().expect("a checked manifest checks again");
    assert_eq!(
        again, manifest,
        "a checked manifest survives a JSON round trip"
    );
    true
}

fn exercise_manifest(m: &Manifest) {
    let space = m
        .search_space()
        .expect("a checked manifest has a search space");
    let max = m.max_widths();
    assert_eq!(max.len(), space.num_layers());
    let min: Vec<usize> = m
        .space
        .iter()
        .map(|w| w.iter().copied().min().unwrap_or(0) as usize)
        .collect();
    for widths in [&max, &min] {
        assert!(m.dense_params(widths) > 0);
        assert_eq!(m.dims_for(widths).len(), widths.len() + 1);
        SupernetWeights::check_widths(m, widths).expect("extreme widths are in the space");
    }
    assert!(m.dense_params(&min) <= m.dense_params(&max));
    assert_eq!(m.supernet_dims(), m.dims_for(&max));
    let offsets = m.inputs.embedding_offsets();
    assert_eq!(offsets.len(), m.inputs.categorical.len());
    let rows = m.inputs.embedding_rows();
    assert!(offsets
        .iter()
        .all(|&o| o >= 0 && (o as usize) < rows.max(1)));
    assert!(m.inputs.dense_width() > 0);
}

/// `valid.bin`, checked against one of [`valid_manifests`] (picked by the first byte).
/// A file that decodes re-encodes to the same bytes, and its labels give a finite mean
/// loss for all-zero outputs.
pub fn valid_bin(data: &[u8]) -> bool {
    let Some((&pick, bytes)) = data.split_first() else {
        return false;
    };
    // Built once: allocations are what costs most under the address sanitizer.
    static MANIFESTS: LazyLock<[Manifest; 3]> = LazyLock::new(valid_manifests);
    let manifest = &MANIFESTS[pick as usize % MANIFESTS.len()];
    let Ok(valid) = ValidSet::decode(bytes, manifest) else {
        return false;
    };
    exercise_valid(&valid, manifest);
    assert_eq!(
        valid.encode(),
        bytes,
        "a decoded valid.bin re-encodes to its bytes"
    );
    true
}

fn exercise_valid(valid: &ValidSet, m: &Manifest) {
    assert!(valid.rows > 0);
    assert_eq!(valid.labels.len(), valid.rows);
    assert_eq!(valid.numeric.len(), valid.rows * m.inputs.numeric.len());
    assert_eq!(
        valid.categorical.len(),
        valid.rows * m.inputs.categorical.len()
    );
    assert_eq!(valid.numeric_width(), m.inputs.numeric.len());
    assert_eq!(valid.categorical_width(), m.inputs.categorical.len());
    let width = m.task.outputs as usize;
    let zeros = vec![0.0f32; valid.rows * width];
    let loss = mean_loss(m.task.loss, &zeros, &valid.labels, width, None)
        .expect("zero outputs have a loss against decoded labels");
    assert!(loss.is_finite(), "loss {loss} of zero outputs");
}

/// A whole bundle from bytes: `[u16 LE manifest length][u16 LE supernet length]`, the
/// `manifest.json` bytes, the `supernet.onnx` bytes, and the rest is `valid.bin`
/// (lengths past the end are cut). A bundle that loads builds its largest and smallest
/// children, and its supernet written again loads again.
pub fn bundle_bytes(data: &[u8]) -> bool {
    let (manifest, onnx, valid) = split_bundle(data);
    let dir = Path::new("fuzz");
    let Ok(bundle) = Bundle::from_parts(dir, manifest, onnx, valid) else {
        return false;
    };
    let m = &bundle.manifest;
    exercise_manifest(m);
    exercise_valid(&bundle.valid, m);
    assert_eq!(bundle.hash.len(), 64);
    let max = m.max_widths();
    let min: Vec<usize> = m
        .space
        .iter()
        .map(|w| w.iter().copied().min().unwrap_or(0) as usize)
        .collect();
    for widths in [&max, &min] {
        bundle
            .child_model(widths)
            .expect("a loaded bundle builds its children");
    }
    let onnx_again = encode_model(
        &build_model(m, &bundle.weights).expect("a loaded bundle rebuilds its supernet"),
    );
    Bundle::from_parts(dir, manifest, &onnx_again, valid)
        .expect("a loaded bundle's rebuilt supernet loads");
    true
}

/// Splits a `bundle_bytes` input into its three files.
pub fn split_bundle(data: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let len = |at: usize| {
        data.get(at..at + 2)
            .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let (m_len, o_len) = (len(0), len(2));
    let rest = data.get(4..).unwrap_or(&[]);
    let (manifest, rest) = rest.split_at(m_len.min(rest.len()));
    let (onnx, valid) = rest.split_at(o_len.min(rest.len()));
    (manifest, onnx, valid)
}

fn numeric(name: &str) -> NumericInput {
    NumericInput {
        name: name.into(),
        log1p: false,
        mean: 0.5,
        std: 2.0,
    }
}

fn dense(tag: &str) -> DenseNames {
    DenseNames {
        weight: format!("{tag}.weight"),
        bias: format!("{tag}.bias"),
    }
}

/// A small manifest: `loss` with `outputs`, two numeric columns, `categorical` columns
/// of 3 and 5 buckets (0 to 2 of them), and the hidden-layer `space`.
pub fn small_manifest(
    loss: LossKind,
    outputs: u32,
    categorical: usize,
    space: &[&[u32]],
) -> Manifest {
    let categorical: Vec<CategoricalInput> = [3, 5]
        .iter()
        .take(categorical)
        .enumerate()
        .map(|(i, &buckets)| CategoricalInput {
            name: format!("c{i}"),
            buckets,
        })
        .collect();
    let cat = !categorical.is_empty();
    Manifest {
        format: MANIFEST_FORMAT,
        name: "fuzz".into(),
        task: TaskSpec {
            loss,
            outputs,
            labels: (0..outputs.max(2)).map(|i| format!("l{i}")).collect(),
        },
        inputs: InputSchema {
            numeric: vec![
                numeric("a"),
                NumericInput {
                    log1p: true,
                    ..numeric("b")
                },
            ],
            categorical,
            embedding_dim: 2,
            hash: "fnv1a64".into(),
        },
        space: space.iter().map(|w| w.to_vec()).collect(),
        graph: GraphNames {
            numeric_input: "numeric".into(),
            categorical_input: cat.then(|| "categorical".into()),
            output: "output".into(),
            embedding: cat.then(|| "embedding".into()),
            embedding_offsets: cat.then(|| "embedding.offsets".into()),
            hidden: (0..space.len()).map(|i| dense(&format!("h{i}"))).collect(),
            head: dense("head"),
        },
        training: Provenance {
            dataset: "fuzz".into(),
            rows: [8, 2, 2],
            seed: 7,
            steps: 10,
            batch: 4,
            learning_rate: 0.01,
            command: "fuzz seeds".into(),
            producer: "tabnas-fuzz".into(),
        },
        references: vec![ReferenceLoss {
            widths: space.iter().map(|w| w[0]).collect(),
            params: 42,
            loss: 0.5,
            method: "shared-weights".into(),
            split: "valid".into(),
        }],
    }
}

/// The manifests `valid_bin` checks against: numeric-only regression, binary with
/// categorical columns, and three classes with one categorical column.
pub fn valid_manifests() -> [Manifest; 3] {
    [
        small_manifest(LossKind::MeanSquaredError, 1, 0, &[&[2, 3]]),
        small_manifest(LossKind::BinaryCrossEntropy, 1, 2, &[&[2, 4], &[1, 3]]),
        small_manifest(LossKind::SoftmaxCrossEntropy, 3, 1, &[&[3]]),
    ]
}
