//! Bad bundles get errors that name the file, field or initializer at fault; a good one
//! loads and round-trips.

use std::path::Path;

use prost::Message;
use tabnas_bundle::*;

fn manifest() -> Manifest {
    Manifest {
        format: MANIFEST_FORMAT,
        name: "tiny".into(),
        task: TaskSpec {
            loss: LossKind::BinaryCrossEntropy,
            outputs: 1,
            labels: vec!["no".into(), "yes".into()],
        },
        inputs: InputSchema {
            numeric: vec![
                NumericInput {
                    name: "a".into(),
                    log1p: false,
                    mean: 0.0,
                    std: 1.0,
                },
                NumericInput {
                    name: "b".into(),
                    log1p: true,
                    mean: 1.0,
                    std: 2.0,
                },
            ],
            categorical: vec![CategoricalInput {
                name: "c".into(),
                buckets: 3,
            }],
            embedding_dim: 2,
            hash: "fnv1a64".into(),
        },
        space: vec![vec![2, 4], vec![1, 3]],
        graph: GraphNames {
            numeric_input: "numeric".into(),
            categorical_input: Some("categorical".into()),
            output: "output".into(),
            embedding: Some("embedding".into()),
            embedding_offsets: Some("embedding.offsets".into()),
            hidden: vec![
                DenseNames {
                    weight: "h1.w".into(),
                    bias: "h1.b".into(),
                },
                DenseNames {
                    weight: "h2.w".into(),
                    bias: "h2.b".into(),
                },
            ],
            head: DenseNames {
                weight: "head.w".into(),
                bias: "head.b".into(),
            },
        },
        training: Provenance {
            dataset: "generated".into(),
            rows: [1, 1, 1],
            seed: 0,
            steps: 0,
            batch: 1,
            learning_rate: 0.0,
            command: "test".into(),
            producer: "test".into(),
        },
        references: vec![],
    }
}

fn weights(m: &Manifest) -> SupernetWeights {
    let mut k = 0.0f32;
    let mut next = || {
        k += 1.0;
        (k * 0.37).sin()
    };
    SupernetWeights {
        embedding: (0..6).map(|_| next()).collect(),
        layers: m
            .supernet_dims()
            .into_iter()
            .map(|(i, o)| Dense {
                inputs: i,
                outputs: o,
                weight: (0..i * o).map(|_| next()).collect(),
                bias: (0..o).map(|_| next()).collect(),
            })
            .collect(),
    }
}

fn valid() -> ValidSet {
    ValidSet {
        rows: 2,
        numeric: vec![0.5, -1.0, 2.0, 0.0],
        categorical: vec![0, 2],
        labels: vec![1.0, 0.0],
    }
}

fn good_bundle(dir: &Path) {
    let m = manifest();
    Bundle::write(dir, &m, &weights(&m), &valid()).unwrap();
}

fn load_err(dir: &Path) -> String {
    Bundle::load(dir).unwrap_err().to_string()
}

#[test]
fn a_good_bundle_loads_and_slices() {
    let tmp = tempfile::tempdir().unwrap();
    good_bundle(tmp.path());
    let b = Bundle::load(tmp.path()).unwrap();
    assert_eq!(b.weights, weights(&manifest()));
    assert_eq!(b.valid, valid());
    assert_eq!(b.hash.len(), 64);
    let child = b.weights.child(&b.manifest, &[2, 1]).unwrap();
    assert_eq!(
        child
            .layers
            .iter()
            .map(|d| (d.inputs, d.outputs))
            .collect::<Vec<_>>(),
        vec![(4, 2), (2, 1), (1, 1)]
    );
    // Leading units: row r of the child's first layer is the first 2 values of row r.
    let w = &b.weights.layers[0];
    assert_eq!(child.layers[0].weight[2..4], w.weight[4..6]);
    let err = b
        .weights
        .child(&b.manifest, &[3, 1])
        .unwrap_err()
        .to_string();
    assert!(err.contains("layer 1 can be one of [2, 4]"), "{err}");
    let net = TractNet::new(&b.child_model(&[4, 3]).unwrap(), &b.manifest, 2).unwrap();
    assert!(net.loss(&b.valid, &b.manifest).unwrap().is_finite());
}

#[test]
fn missing_and_corrupt_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let err = load_err(tmp.path());
    assert!(err.contains("manifest.json"), "{err}");

    good_bundle(tmp.path());
    std::fs::write(
        tmp.path().join("manifest.json"),
        b"{\"format\": 1,\n \"name\": ",
    )
    .unwrap();
    let err = load_err(tmp.path());
    assert!(
        err.contains("manifest.json: not a bundle manifest") && err.contains("line 2"),
        "{err}"
    );

    good_bundle(tmp.path());
    std::fs::write(tmp.path().join("supernet.onnx"), b"").unwrap();
    let err = load_err(tmp.path());
    assert!(err.contains("supernet.onnx: is empty"), "{err}");
    std::fs::write(tmp.path().join("supernet.onnx"), b"\xff\xff\xff garbage").unwrap();
    let err = load_err(tmp.path());
    assert!(err.contains("supernet.onnx: is not an ONNX model"), "{err}");
}

#[test]
fn inconsistent_manifests_name_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    good_bundle(tmp.path());
    let write = |m: &Manifest| {
        std::fs::write(
            tmp.path().join("manifest.json"),
            serde_json::to_vec(m).unwrap(),
        )
        .unwrap()
    };
    let mut m = manifest();
    m.space[1] = vec![0, 3];
    write(&m);
    assert!(load_err(tmp.path()).contains("`space[1]`"));
    let mut m = manifest();
    m.space[0] = vec![2, 1 << 20];
    write(&m);
    assert!(load_err(tmp.path()).contains("`space[0]`"));
    let mut m = manifest();
    m.inputs.categorical[0].buckets = u32::MAX;
    write(&m);
    assert!(load_err(tmp.path()).contains("`inputs.categorical`"));
    let mut m = manifest();
    m.graph.hidden.pop();
    write(&m);
    assert!(load_err(tmp.path()).contains("`graph.hidden`"));
    let mut m = manifest();
    m.task.outputs = 2;
    write(&m);
    assert!(load_err(tmp.path()).contains("`task.outputs`"));
    let mut m = manifest();
    m.format = 9;
    write(&m);
    assert!(load_err(tmp.path()).contains("`format` is 9"));
    let mut m = manifest();
    m.graph.head.bias = "h1.w".into();
    write(&m);
    assert!(load_err(tmp.path()).contains("\"h1.w\" is used twice"));
    // A name the ONNX writer uses for its own nodes would clash in the child graph.
    let mut m = manifest();
    m.graph.head.bias = "hidden1.add".into();
    write(&m);
    let err = load_err(tmp.path());
    assert!(
        err.contains("\"hidden1.add\", a name the ONNX writer"),
        "{err}"
    );
    // Every width is allowed, but the supernet they make is too large for a board.
    let mut m = manifest();
    m.space = vec![vec![65_536], vec![65_536], vec![65_536]];
    write(&m);
    let err = load_err(tmp.path());
    assert!(
        err.contains("space") && err.contains("at most 268435456 (2^28)"),
        "{err}"
    );
}

fn edit_model(dir: &Path, edit: impl FnOnce(&mut tract_onnx::pb::ModelProto)) {
    let path = dir.join("supernet.onnx");
    let mut model = decode_model(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut model);
    std::fs::write(&path, model.encode_to_vec()).unwrap();
}

#[test]
fn missing_or_mismatched_initializers_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    good_bundle(tmp.path());
    edit_model(tmp.path(), |m| {
        m.graph
            .as_mut()
            .unwrap()
            .initializer
            .retain(|t| t.name != "h2.w")
    });
    let err = load_err(tmp.path());
    assert!(err.contains("no initializer `h2.w`"), "{err}");

    good_bundle(tmp.path());
    edit_model(tmp.path(), |m| {
        let t = m
            .graph
            .as_mut()
            .unwrap()
            .initializer
            .iter_mut()
            .find(|t| t.name == "h1.w")
            .unwrap();
        t.dims = vec![4, 3];
    });
    let err = load_err(tmp.path());
    assert!(
        err.contains("initializer `h1.w` is Float [4, 3]; the manifest implies Float [4, 4]"),
        "{err}"
    );

    good_bundle(tmp.path());
    edit_model(tmp.path(), |m| {
        let t = m
            .graph
            .as_mut()
            .unwrap()
            .initializer
            .iter_mut()
            .find(|t| t.name == "head.b")
            .unwrap();
        t.raw_data.truncate(2);
    });
    let err = load_err(tmp.path());
    assert!(err.contains("`head.b`"), "{err}");

    // Non-finite weights are refused at load, naming the file, the tensor and the index.
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        good_bundle(tmp.path());
        edit_model(tmp.path(), |m| {
            let t = m
                .graph
                .as_mut()
                .unwrap()
                .initializer
                .iter_mut()
                .find(|t| t.name == "h2.w")
                .unwrap();
            t.raw_data[4..8].copy_from_slice(&bad.to_le_bytes());
        });
        let err = load_err(tmp.path());
        assert!(
            err.contains("supernet.onnx initializer `h2.w` holds")
                && err.contains("at index 1")
                && err.contains("must be finite"),
            "{err}"
        );
    }
    // And a bundle with them is never written.
    let m = manifest();
    let mut w = weights(&m);
    w.layers[0].bias[0] = f32::NAN;
    let err = Bundle::write(&tmp.path().join("nan"), &m, &w, &valid())
        .unwrap_err()
        .to_string();
    assert!(err.contains("must be finite"), "{err}");
}

#[test]
fn bad_validation_files_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    good_bundle(tmp.path());
    let path = tmp.path().join("valid.bin");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    let err = load_err(tmp.path());
    assert!(
        err.contains("valid.bin: is 57 bytes; 2 rows of this schema take 60"),
        "{err}"
    );
    std::fs::write(&path, b"PK\x03\x04").unwrap();
    assert!(load_err(tmp.path()).contains("no TNVB header"));
    let mut v = valid();
    v.categorical[1] = 3;
    std::fs::write(&path, v.encode()).unwrap();
    let err = load_err(tmp.path());
    assert!(
        err.contains("row 1, categorical column 0: bucket 3 is outside 0..3"),
        "{err}"
    );
    let mut v = valid();
    v.labels[0] = 0.5;
    std::fs::write(&path, v.encode()).unwrap();
    assert!(load_err(tmp.path()).contains("row 0: label 0.5"));
}
