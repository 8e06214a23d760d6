//! Spaces of any size from one architecture up work end to end: the trainer exports a
//! bundle whose space holds 1 or 2 architectures, and the agent searches it (the
//! deterministic fake probe), measuring the whole space because it is too small to hold
//! children out of a model fit.

use std::io::Write;

use tabnas_agent::latency_model::ModelForm;
use tabnas_agent::{run_device_search, DeviceSearchOptions, FakeProbe};
use tabnas_bundle::{Bundle, Provenance};
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_trainer::data::{ColumnRef, CsvOptions, LabelKind};
use tabnas_trainer::export::{manifest_for, valid_set, write_bundle};
use tabnas_trainer::host_search::{run_host_search, HostResource, HostSearchOptions};
use tabnas_trainer::prepare::{prepare, DataSource, PrepareOptions};

fn bundle_with_space(dir: &std::path::Path, space: Vec<Vec<u32>>) -> Bundle {
    let csv = dir.join("rows.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    writeln!(f, "x,y,label").unwrap();
    for r in 0..300u32 {
        let x = ((r * 29) % 83) as f32 / 8.3 - 5.0;
        let y = ((r * 11) % 17) as f32 - 8.0;
        writeln!(f, "{x},{y},{}", (x + 0.3 * y > 0.0) as u8).unwrap();
    }
    drop(f);
    let mut options = CsvOptions::new(ColumnRef::Name("label".into()), LabelKind::Binary);
    options.header = true;
    let data = prepare(
        &DataSource::Csv {
            path: csv,
            options,
            spill: None,
        },
        PrepareOptions::default(),
    )
    .unwrap();
    let host = HostSearchOptions {
        space,
        resource: HostResource::Params,
        target: 10_000.0,
        settings: SearchSettings::rejection(PvMode::Exact, 0.1),
        steps: 40,
        warmup_fraction: 0.25,
        batch: 32,
        valid_batch: 32,
        learning_rate: 5e-3,
        seed: 1,
        snapshots: 2,
        guards: tabnas_trainer::host_search::Guards::default(),
        latency: None,
    };
    let run = run_host_search(&data, &host, |_, _, _| {}).unwrap();
    let provenance = Provenance {
        dataset: data.name.clone(),
        rows: [data.train.rows(), data.valid.rows, data.test.rows],
        seed: 1,
        steps: 40,
        batch: 32,
        learning_rate: 5e-3,
        command: "e2e".into(),
        producer: "test".into(),
    };
    let manifest = manifest_for("tiny", &data, &run.supernet, provenance, vec![]);
    let bundle_dir = dir.join("bundle");
    write_bundle(
        &bundle_dir,
        &manifest,
        &run.supernet,
        &valid_set(&data.valid, 1_000),
    )
    .unwrap();
    Bundle::load(&bundle_dir).unwrap()
}

#[test]
fn spaces_of_one_and_two_architectures_search_end_to_end() {
    for (space, children) in [
        (vec![vec![8]], 1usize),
        (vec![vec![8], vec![16]], 1),
        (vec![vec![8, 16]], 2),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let bundle = bundle_with_space(tmp.path(), space.clone());
        let options = DeviceSearchOptions {
            target_us: None,
            settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 16 }, 0.1),
            steps: 20,
            seed: 3,
            protocol: MeasurementProtocol::default(),
            calibration_children: 36,
            checkpoint_every: 10,
            max_tightenings: 2,
            quality_batch: 64,
            quality_cache: 64,
            max_model_error: 0.05,
            // Even where the profile allows no space to be measured whole, one too small
            // to hold children out is.
            max_direct_children: 0,
            candidates: 8,
        };
        let r = run_device_search(
            &bundle,
            &mut FakeProbe::new(5.0, 0.001),
            &options,
            &tmp.path().join("run"),
            false,
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{space:?}: {e}"));
        assert!(r.feasible && r.latency_us <= r.target_us, "{space:?}");
        // The candidates are the feasible ones: at most the whole space.
        assert!((1..=children).contains(&r.candidates.len()), "{space:?}");
        let model = r.table.model.unwrap();
        assert_eq!(model.form, ModelForm::Direct, "{space:?}");
    }
}
