//! The exported ONNX files compute what the trainer computes.
//!
//! For a binary, a multiclass and a regression task with categorical columns (rows
//! generated here; this checks mechanics, not learning): a short host search trains a
//! supernet, its bundle is written and loaded back through the agent's checked loader,
//! and tract's outputs for the supernet and for sliced children equal the trainer's own
//! forward pass within 1e-5. The same files then go to Python's `onnx.checker` and
//! `onnxruntime` (installed by `scripts/pyvenv.sh` in a venv beside the build cache).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use tabnas_test_support::{python, repo_root};

use tabnas_bundle::{decode_model, Bundle, Provenance, TractNet};
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_trainer::data::{ColumnRef, CsvOptions, LabelKind};
use tabnas_trainer::export::{manifest_for, valid_set, write_bundle, write_child};
use tabnas_trainer::host_search::{run_host_search, HostResource, HostSearchOptions};
use tabnas_trainer::prepare::{prepare, DataSource, PrepareOptions, Prepared};
use tabnas_trainer::supernet::Supernet;

const TOLERANCE: f32 = 1e-5;

/// 300 rows: 3 numeric columns (one with missing values), 2 categorical, a label.
fn write_rows(path: &Path, kind: LabelKind) {
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(f, "x1,x2,color,x3,shape,y").unwrap();
    for r in 0..300u32 {
        let a = ((r * 37) % 101) as f32 / 10.0;
        let b = ((r * 13) % 7) as f32 - 3.0;
        let c = if r % 17 == 0 {
            String::new()
        } else {
            format!("{}", (r * 7) % 23)
        };
        let color = ["red", "green", "blue", ""][(r % 4) as usize];
        let shape = ["circle", "square", "triangle"][(r % 3) as usize];
        let y = match kind {
            LabelKind::Binary => if a + b > 5.0 { "yes" } else { "no" }.to_string(),
            LabelKind::Multiclass => {
                ["u", "v", "w"][((a + b).abs() as u32 % 3) as usize].to_string()
            }
            LabelKind::Regression => format!("{}", a * 0.5 - b),
        };
        writeln!(f, "{a},{b},{color},{c},{shape},{y}").unwrap();
    }
}

fn trained(dir: &Path, kind: LabelKind) -> (Prepared, Supernet, PathBuf) {
    let csv = dir.join("rows.csv");
    write_rows(&csv, kind);
    let mut options = CsvOptions::new(ColumnRef::Name("y".into()), kind);
    options.header = true;
    options.categorical = vec![ColumnRef::Name("color".into()), ColumnRef::Index(4)];
    let data = prepare(
        &DataSource::Csv {
            path: csv,
            options,
            spill: None,
        },
        PrepareOptions {
            buckets: 11,
            embedding_dim: 3,
            ..PrepareOptions::default()
        },
    )
    .unwrap();
    let search = HostSearchOptions {
        space: vec![vec![4, 8, 16], vec![2, 4, 8]],
        resource: HostResource::Params,
        target: 200.0,
        settings: SearchSettings::rejection(PvMode::Exact, 0.1),
        steps: 80,
        warmup_fraction: 0.25,
        batch: 32,
        valid_batch: 32,
        learning_rate: 1e-2,
        seed: 3,
        snapshots: 5,
        guards: tabnas_trainer::host_search::Guards::default(),
        latency: None,
    };
    let run = run_host_search(&data, &search, |_, _, _| {}).unwrap();
    let provenance = Provenance {
        dataset: data.name.clone(),
        rows: [data.train.rows(), data.valid.rows, data.test.rows],
        seed: 3,
        steps: 80,
        batch: 32,
        learning_rate: 1e-2,
        command: "onnx_export test".into(),
        producer: "test".into(),
    };
    let manifest = manifest_for("test", &data, &run.supernet, provenance, vec![]);
    let bundle = dir.join("bundle");
    write_bundle(
        &bundle,
        &manifest,
        &run.supernet,
        &valid_set(&data.valid, 1000),
    )
    .unwrap();
    (data, run.supernet, bundle)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[derive(serde::Serialize)]
struct Case {
    model: String,
    rows: usize,
    numeric: Vec<f32>,
    n_num: usize,
    categorical: Vec<i64>,
    n_cat: usize,
    expected: Vec<f32>,
    outputs: usize,
    tolerance: f32,
}

#[test]
fn tract_and_onnxruntime_match_the_trainer_on_supernet_and_children() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for (k, kind) in [
        LabelKind::Binary,
        LabelKind::Multiclass,
        LabelKind::Regression,
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tmp.path().join(format!("task{k}"));
        std::fs::create_dir_all(&dir).unwrap();
        let (data, supernet, bundle_dir) = trained(&dir, kind);
        let bundle = Bundle::load(&bundle_dir).unwrap();
        let valid = &bundle.valid;
        let trainer_batch = data.valid.range(0, valid.rows);
        for widths in [vec![16, 8], vec![4, 2], vec![8, 4]] {
            let expected = supernet.forward(&trainer_batch, &widths);
            let expected = expected.as_slice().unwrap();
            // Through the bundle's slicing (the agent's path) ...
            let model = if widths == [16, 8] {
                decode_model(&std::fs::read(bundle_dir.join("supernet.onnx")).unwrap()).unwrap()
            } else {
                bundle.child_model(&widths).unwrap()
            };
            // ... at a batch that does not divide the rows (the last batch is padded).
            let net = TractNet::new(&model, &bundle.manifest, 16).unwrap();
            let got = net
                .predict(&valid.numeric, &valid.categorical, valid.rows)
                .unwrap();
            let diff = max_abs_diff(&got, expected);
            assert!(
                diff <= TOLERANCE,
                "{kind:?} {widths:?}: tract differs by {diff}"
            );
            // ... and through a stand-alone child file (`tabnas export --child`).
            let file = dir.join(format!("child-{}-{}.onnx", widths[0], widths[1]));
            write_child(&bundle, &widths, &file).unwrap();
            let from_file = decode_model(&std::fs::read(&file).unwrap()).unwrap();
            let got = TractNet::new(&from_file, &bundle.manifest, valid.rows)
                .unwrap()
                .predict(&valid.numeric, &valid.categorical, valid.rows)
                .unwrap();
            assert!(max_abs_diff(&got, expected) <= TOLERANCE);
            cases.push(Case {
                model: file.display().to_string(),
                rows: valid.rows,
                numeric: valid.numeric.clone(),
                n_num: valid.numeric_width(),
                categorical: valid.categorical.clone(),
                n_cat: valid.categorical_width(),
                expected: expected.to_vec(),
                outputs: bundle.manifest.task.outputs as usize,
                tolerance: TOLERANCE,
            });
        }
        // The supernet file itself as well.
        let expected = supernet.forward(&trainer_batch, &[16, 8]);
        cases.push(Case {
            model: bundle_dir.join("supernet.onnx").display().to_string(),
            rows: valid.rows,
            numeric: valid.numeric.clone(),
            n_num: valid.numeric_width(),
            categorical: valid.categorical.clone(),
            n_cat: valid.categorical_width(),
            expected: expected.as_slice().unwrap().to_vec(),
            outputs: bundle.manifest.task.outputs as usize,
            tolerance: TOLERANCE,
        });
    }
    python_crosscheck(tmp.path(), &cases);
}

/// Runs `onnx.checker` and `onnxruntime` on every case, in the venv's Python
/// ([`python`]: `$TABNAS_PYTHON` or one made by `scripts/pyvenv.sh`; without Python or a
/// package index the check is skipped with a message, except under CI).
fn python_crosscheck(dir: &Path, cases: &[Case]) {
    let Some(python) = python() else { return };
    let mut paths = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let p = dir.join(format!("case{i}.json"));
        std::fs::write(&p, serde_json::to_vec(case).unwrap()).unwrap();
        paths.push(p);
    }
    let out = Command::new(&python)
        .arg(repo_root().join("scripts/onnx_crosscheck.py"))
        .args(&paths)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "onnx.checker / onnxruntime disagree:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), cases.len(), "{stdout}");
}

/// The committed demo bundle (real HIGGS rows): tract's outputs for the supernet and a
/// child equal the trainer's forward pass on weights read back from the ONNX file, and
/// the agent's validation loss equals the trainer's.
#[test]
fn committed_demo_bundle_matches_the_trainer() {
    use tabnas_trainer::supernet::{Rows, SupernetSpec};
    let dir = repo_root().join("models/higgs-demo");
    let bundle = Bundle::load(&dir).unwrap();
    let spec = SupernetSpec::from_manifest(&bundle.manifest);
    let supernet = Supernet::from_weights(spec, &bundle.weights, 1e-3).unwrap();
    let v = &bundle.valid;
    let rows = Rows {
        rows: v.rows,
        numeric_width: v.numeric_width(),
        categorical_width: v.categorical_width(),
        numeric: v.numeric.clone(),
        categorical: v.categorical.clone(),
        labels: v.labels.clone(),
    };
    let batch = rows.range(0, rows.rows);
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for widths in [
        bundle.manifest.max_widths(),
        vec![64, 32, 32],
        vec![8, 256, 16],
    ] {
        let expected = supernet.forward(&batch, &widths);
        let expected = expected.as_slice().unwrap();
        let net =
            TractNet::new(&bundle.child_model(&widths).unwrap(), &bundle.manifest, 256).unwrap();
        let got = net.predict(&v.numeric, &v.categorical, v.rows).unwrap();
        let diff = max_abs_diff(&got, expected);
        assert!(diff <= TOLERANCE, "{widths:?}: tract differs by {diff}");
        let agent_loss = net.loss(v, &bundle.manifest).unwrap();
        let trainer_loss = supernet.loss(&rows, &widths, 1024).unwrap();
        assert!(
            (agent_loss - trainer_loss).abs() < 1e-5,
            "{agent_loss} vs {trainer_loss}"
        );
        let file = tmp.path().join(format!("child{}.onnx", cases.len()));
        write_child(&bundle, &widths, &file).unwrap();
        cases.push(Case {
            model: file.display().to_string(),
            rows: v.rows,
            numeric: v.numeric.clone(),
            n_num: v.numeric_width(),
            categorical: vec![],
            n_cat: 0,
            expected: expected.to_vec(),
            outputs: 1,
            tolerance: TOLERANCE,
        });
    }
    python_crosscheck(tmp.path(), &cases);
}
