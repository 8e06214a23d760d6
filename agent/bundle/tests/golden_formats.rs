//! Golden bytes of the bundle's own formats: `valid.bin` ([`ValidSet`]) and the JSON of
//! `manifest.json` ([`Manifest`], whose serde field names are the contract).
//!
//! **If a test here fails, you changed a wire format**: bump the format version
//! (`valid.bin`'s header version, or [`MANIFEST_FORMAT`] for the manifest), update
//! `docs/formats.md`, and only then regenerate the expected values (the failure message
//! prints what the code now writes). The expected values were generated once from the
//! code and checked by hand against the documented layouts.

use tabnas_bundle::*;

/// `valid.bin` of [`valid`] under [`manifest`], section by section: all little-endian.
#[rustfmt::skip]
const VALID: [u8; 60] = [
    // Header: magic `TNVB`, u32 version 1, u32 rows 2, u32 numeric columns 2, u32
    // categorical columns 1.
    0x54, 0x4e, 0x56, 0x42,
    0x01, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00,
    // rows x numeric f32, row-major: 0.5, -1.0 | 2.0, 0.0.
    0x00, 0x00, 0x00, 0x3f,
    0x00, 0x00, 0x80, 0xbf,
    0x00, 0x00, 0x00, 0x40,
    0x00, 0x00, 0x00, 0x00,
    // rows x categorical i64 bucket ids: 0 | 2.
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    // rows f32 labels: 1.0 | 0.0.
    0x00, 0x00, 0x80, 0x3f,
    0x00, 0x00, 0x00, 0x00,
];

/// `manifest.json` of [`manifest`] as [`Bundle::write`] writes it (pretty-printed).
const MANIFEST_JSON: &str = r#"{
  "format": 1,
  "name": "golden",
  "task": {
    "loss": "binary-cross-entropy",
    "outputs": 1,
    "labels": [
      "no",
      "yes"
    ]
  },
  "inputs": {
    "numeric": [
      {
        "name": "age",
        "log1p": false,
        "mean": 38.5,
        "std": 13.25
      },
      {
        "name": "income",
        "log1p": true,
        "mean": 9.5,
        "std": 1.5
      }
    ],
    "categorical": [
      {
        "name": "city",
        "buckets": 3
      }
    ],
    "embedding_dim": 2,
    "hash": "fnv1a64"
  },
  "space": [
    [
      2,
      4
    ],
    [
      1,
      3
    ]
  ],
  "graph": {
    "numeric_input": "numeric",
    "categorical_input": "categorical",
    "output": "logit",
    "embedding": "embedding",
    "embedding_offsets": "embedding.offsets",
    "hidden": [
      {
        "weight": "h1.w",
        "bias": "h1.b"
      },
      {
        "weight": "h2.w",
        "bias": "h2.b"
      }
    ],
    "head": {
      "weight": "head.w",
      "bias": "head.b"
    }
  },
  "training": {
    "dataset": "adult.csv",
    "rows": [
      100,
      20,
      30
    ],
    "seed": 7,
    "steps": 1000,
    "batch": 64,
    "learning_rate": 0.125,
    "command": "tabnas train adult.csv",
    "producer": "tabnas 0.1.0"
  },
  "references": [
    {
      "widths": [
        4,
        3
      ],
      "params": 39,
      "loss": 0.5,
      "method": "shared-weights",
      "split": "validation"
    }
  ]
}"#;

/// A small manifest that uses every field: two numeric columns (one with `log1p`), one
/// categorical column, two hidden layers, a reference loss.
fn manifest() -> Manifest {
    Manifest {
        format: MANIFEST_FORMAT,
        name: "golden".into(),
        task: TaskSpec {
            loss: LossKind::BinaryCrossEntropy,
            outputs: 1,
            labels: vec!["no".into(), "yes".into()],
        },
        inputs: InputSchema {
            numeric: vec![
                NumericInput {
                    name: "age".into(),
                    log1p: false,
                    mean: 38.5,
                    std: 13.25,
                },
                NumericInput {
                    name: "income".into(),
                    log1p: true,
                    mean: 9.5,
                    std: 1.5,
                },
            ],
            categorical: vec![CategoricalInput {
                name: "city".into(),
                buckets: 3,
            }],
            embedding_dim: 2,
            hash: "fnv1a64".into(),
        },
        space: vec![vec![2, 4], vec![1, 3]],
        graph: GraphNames {
            numeric_input: "numeric".into(),
            categorical_input: Some("categorical".into()),
            output: "logit".into(),
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
            dataset: "adult.csv".into(),
            rows: [100, 20, 30],
            seed: 7,
            steps: 1000,
            batch: 64,
            learning_rate: 0.125,
            command: "tabnas train adult.csv".into(),
            producer: "tabnas 0.1.0".into(),
        },
        references: vec![ReferenceLoss {
            widths: vec![4, 3],
            params: 39,
            loss: 0.5,
            method: "shared-weights".into(),
            split: "validation".into(),
        }],
    }
}

/// Two rows of two numeric and one categorical column, binary labels.
fn valid() -> ValidSet {
    ValidSet {
        rows: 2,
        numeric: vec![0.5, -1.0, 2.0, 0.0],
        categorical: vec![0, 2],
        labels: vec![1.0, 0.0],
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("0x{b:02x}, ")).collect()
}

/// If this fails you changed the wire format of `valid.bin`: bump its header version
/// (`valid.rs`) and update `docs/formats.md`.
#[test]
fn valid_bin_bytes_are_pinned() {
    let bytes = valid().encode();
    assert_eq!(
        bytes,
        VALID,
        "the encoding changed; it now is [{}]",
        hex(&bytes)
    );
    assert_eq!(&VALID[..4], VALID_MAGIC);
    assert_eq!(ValidSet::decode(&VALID, &manifest()), Ok(valid()));
}

/// If this fails the version in `valid.bin`'s header is no longer checked, or it changed
/// without new golden bytes (update `docs/formats.md`).
#[test]
fn valid_bin_other_versions_are_rejected() {
    for found in [0u32, 2, 0x0100, u32::MAX] {
        let mut bytes = VALID.to_vec();
        bytes[4..8].copy_from_slice(&found.to_le_bytes());
        let err = ValidSet::decode(&bytes, &manifest()).unwrap_err();
        assert_eq!(err, ValidError::UnsupportedVersion { found });
        assert!(
            err.to_string().contains(&format!("version {found}")),
            "{err}"
        );
    }
}

/// If this fails you changed the JSON of the manifest (a field renamed, added, removed
/// or reordered, or an enum spelled differently): bump `MANIFEST_FORMAT` and update
/// `docs/formats.md`.
#[test]
fn manifest_json_is_pinned() {
    let text = serde_json::to_string_pretty(&manifest()).unwrap();
    assert_eq!(
        text, MANIFEST_JSON,
        "the manifest's JSON changed; it now is\n{text}"
    );
    let parsed: Manifest = serde_json::from_str(MANIFEST_JSON).unwrap();
    assert_eq!(parsed, manifest());
    parsed.check().unwrap();
}

/// If this fails the manifest's optional fields changed: `task.labels` and `references`
/// may be left out (empty), `graph`'s categorical names may be `null`. Bump
/// `MANIFEST_FORMAT` and update `docs/formats.md` if that was meant.
#[test]
fn manifest_json_optional_fields() {
    let mut value: serde_json::Value = serde_json::from_str(MANIFEST_JSON).unwrap();
    let object = value.as_object_mut().unwrap();
    object.remove("references");
    object["task"].as_object_mut().unwrap().remove("labels");
    let parsed: Manifest = serde_json::from_value(value).unwrap();
    let mut expected = manifest();
    expected.references.clear();
    expected.task.labels.clear();
    assert_eq!(parsed, expected);
    // Every other field is required: without it (or under another name) the text is not
    // a manifest.
    let names = [
        "format",
        "name",
        "task",
        "loss",
        "outputs",
        "inputs",
        "numeric",
        "log1p",
        "mean",
        "std",
        "categorical",
        "buckets",
        "embedding_dim",
        "hash",
        "space",
        "graph",
        "numeric_input",
        "output",
        "hidden",
        "weight",
        "bias",
        "head",
        "training",
        "dataset",
        "rows",
        "seed",
        "steps",
        "batch",
        "learning_rate",
        "command",
        "producer",
    ];
    for name in names {
        let quoted = format!("\"{name}\":");
        assert!(MANIFEST_JSON.contains(&quoted), "{name}");
        let renamed = MANIFEST_JSON.replace(&quoted, &format!("\"{name}_renamed\":"));
        assert!(
            serde_json::from_str::<Manifest>(&renamed).is_err(),
            "renaming `{name}` still parses"
        );
    }
    // The optional fields parse under another name, but not to the same manifest.
    for name in [
        "labels",
        "references",
        "categorical_input",
        "embedding",
        "embedding_offsets",
    ] {
        let quoted = format!("\"{name}\":");
        assert!(MANIFEST_JSON.contains(&quoted), "{name}");
        let renamed = MANIFEST_JSON.replace(&quoted, &format!("\"{name}_renamed\":"));
        let parsed: Manifest = serde_json::from_str(&renamed).unwrap();
        assert_ne!(parsed, manifest(), "renaming `{name}` changes nothing");
    }
}

/// If this fails [`Bundle::write`] no longer writes the pinned `manifest.json` and
/// `valid.bin`: bump the format versions and update `docs/formats.md`.
#[test]
fn bundle_write_writes_the_pinned_files() {
    let m = manifest();
    let mut k = 0.0f32;
    let mut next = || {
        k += 1.0;
        (k * 0.37).sin()
    };
    let weights = SupernetWeights {
        embedding: (0..m.inputs.embedding_rows() * m.inputs.embedding_dim as usize)
            .map(|_| next())
            .collect(),
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
    };
    let tmp = tempfile::tempdir().unwrap();
    Bundle::write(tmp.path(), &m, &weights, &valid()).unwrap();
    let json = std::fs::read_to_string(tmp.path().join(MANIFEST_FILE)).unwrap();
    assert_eq!(json, MANIFEST_JSON);
    assert_eq!(std::fs::read(tmp.path().join(VALID_FILE)).unwrap(), VALID);
    let loaded = Bundle::load(tmp.path()).unwrap();
    assert_eq!(loaded.manifest, m);
    assert_eq!(loaded.valid, valid());
}
