//! Across the crates: the trainer trains a supernet on a CSV with categorical columns and
//! exports a bundle; the agent loads it, searches it under a latency target with the
//! deterministic fake probe, and writes `best.onnx`; that file computes what the
//! trainer's own forward pass computes for the found architecture (within 1e-5), and the
//! agent's validation loss equals the trainer's.

use std::io::Write;

use tabnas_agent::{run_device_search, DeviceSearchOptions, FakeProbe};
use tabnas_bundle::{decode_model, Bundle, Provenance, TractNet};
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_trainer::data::{ColumnRef, CsvOptions, LabelKind};
use tabnas_trainer::export::{manifest_for, valid_set, write_bundle};
use tabnas_trainer::host_search::{run_host_search, HostResource, HostSearchOptions};
use tabnas_trainer::prepare::{prepare, DataSource, PrepareOptions};

#[test]
fn trainer_bundle_agent_search_and_best_child_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("rows.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    writeln!(f, "x,city,y,label").unwrap();
    for r in 0..600u32 {
        let x = ((r * 29) % 83) as f32 / 8.3 - 5.0;
        let y = ((r * 11) % 17) as f32 - 8.0;
        let city = ["oslo", "lima", "pune", "", "kyiv"][(r % 5) as usize];
        let label = if x * 0.7 + y * 0.2 + (r % 5) as f32 * 0.3 > 0.5 {
            1
        } else {
            0
        };
        writeln!(f, "{x},{city},{y},{label}").unwrap();
    }
    drop(f);
    let mut options = CsvOptions::new(ColumnRef::Name("label".into()), LabelKind::Binary);
    options.header = true;
    options.categorical = vec![ColumnRef::Name("city".into())];
    let data = prepare(
        &DataSource::Csv {
            path: csv,
            options,
            spill: None,
        },
        PrepareOptions {
            buckets: 16,
            embedding_dim: 4,
            ..PrepareOptions::default()
        },
    )
    .unwrap();
    let host = HostSearchOptions {
        space: vec![vec![4, 8, 16, 32], vec![4, 8, 16]],
        resource: HostResource::Params,
        target: 400.0,
        settings: SearchSettings::rejection(PvMode::Exact, 0.1),
        steps: 300,
        warmup_fraction: 0.25,
        batch: 64,
        valid_batch: 64,
        learning_rate: 5e-3,
        seed: 2,
        snapshots: 5,
        guards: tabnas_trainer::host_search::Guards::default(),
        latency: None,
    };
    let run = run_host_search(&data, &host, |_, _, _| {}).unwrap();
    let provenance = Provenance {
        dataset: data.name.clone(),
        rows: [data.train.rows(), data.valid.rows, data.test.rows],
        seed: 2,
        steps: 300,
        batch: 64,
        learning_rate: 5e-3,
        command: "e2e".into(),
        producer: "test".into(),
    };
    let manifest = manifest_for("e2e", &data, &run.supernet, provenance, vec![]);
    let bundle_dir = tmp.path().join("bundle");
    write_bundle(
        &bundle_dir,
        &manifest,
        &run.supernet,
        &valid_set(&data.valid, 10_000),
    )
    .unwrap();

    // The agent side: a search under a fake latency target.
    let bundle = Bundle::load(&bundle_dir).unwrap();
    let agent_options = DeviceSearchOptions {
        target_us: Some(tabnas_core::target::LatencyTarget::new(5.5).unwrap()),
        settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 64 }, 0.1),
        steps: 200,
        seed: 4,
        protocol: MeasurementProtocol::default(),
        calibration_children: 6,
        checkpoint_every: 50,
        max_tightenings: 2,
        quality_batch: 64,
        quality_cache: 64,
        max_model_error: 0.05,
        max_direct_children: 4096,
        candidates: 8,
    };
    let out = tmp.path().join("run");
    let result = run_device_search(
        &bundle,
        &mut FakeProbe::new(5.0, 0.001),
        &agent_options,
        &out,
        false,
        &mut |_| {},
    )
    .unwrap();
    assert!(result.feasible && result.latency_us <= 5.5);

    // best.onnx computes what the trainer computes for that architecture.
    let widths: Vec<usize> = result.architecture.iter().map(|&w| w as usize).collect();
    let best = decode_model(&std::fs::read(out.join("best.onnx")).unwrap()).unwrap();
    let v = &bundle.valid;
    let net = TractNet::new(&best, &bundle.manifest, 32).unwrap();
    let got = net.predict(&v.numeric, &v.categorical, v.rows).unwrap();
    let expected = run.supernet.forward(&data.valid.range(0, v.rows), &widths);
    let diff = got
        .iter()
        .zip(expected.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(diff <= 1e-5, "best.onnx differs from the trainer by {diff}");
    let trainer_loss = run.supernet.loss(&data.valid, &widths, 1024).unwrap();
    assert!((result.validation_loss - trainer_loss).abs() < 1e-5);
}
