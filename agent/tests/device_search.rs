//! The device search on the committed demo bundle: with the deterministic fake probe
//! (exact expectations) and with real tract measurements (the answer meets the target
//! when measured again).

use tabnas_agent::latency_table::TableFile;
use tabnas_agent::{
    measure, run_device_search, DeviceResult, DeviceSearchOptions, FakeProbe, TractProbe,
};
use tabnas_bundle::{decode_model, Bundle, NetShape};
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::search::{PvMode, SearchSettings};

/// Tests here run one at a time: the real-measurement test must not share the CPU with
/// the others.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn options(target_us: Option<f64>, steps: u32) -> DeviceSearchOptions {
    DeviceSearchOptions {
        target_us,
        settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 256 }, 0.05),
        steps,
        seed: 7,
        protocol: MeasurementProtocol::default(),
        calibration_children: 12,
        checkpoint_every: 50,
        max_tightenings: 3,
        quality_batch: 256,
        quality_cache: 4096,
    }
}

fn run(
    bundle: &Bundle,
    probe: &mut dyn tabnas_agent::LatencyProbe,
    o: &DeviceSearchOptions,
    dir: &std::path::Path,
) -> DeviceResult {
    run_device_search(bundle, probe, o, dir, false, &mut |_| {}).unwrap()
}

/// Fake latency = 5 us per network + 0.001 us per multiply-accumulate. The per-call
/// cost (identity network) is 5, so a block of `i x o` enters the table as `i*o/1000`,
/// the stem as 5, and a whole child costs `5 + MACs/1000`: the calibration must come
/// out as the identity and predict every child exactly.
#[test]
fn fake_probe_gives_exact_tables_and_a_deterministic_answer() {
    let _serial = serial();
    let bundle =
        Bundle::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("defaults/higgs-demo"))
            .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let o = options(Some(12.0), 300);
    let mut probe = FakeProbe::new(5.0, 0.001);
    let r = run(&bundle, &mut probe, &o, &tmp.path().join("a"));
    let table: TableFile =
        serde_json::from_slice(&std::fs::read(tmp.path().join("a/latency_table.json")).unwrap())
            .unwrap();
    assert_eq!(table.blocks.len(), 10 + 100 + 100 + 10);
    for b in &table.blocks {
        let expected = (b.inputs * b.outputs) as f64 / 1000.0;
        assert!((b.latency_us - expected).abs() < 1e-9, "{b:?}");
        assert!((b.measured_us - 5.0 - expected).abs() < 1e-9, "{b:?}");
        assert!(b.cv < 1e-12);
    }
    assert_eq!(table.overhead_us, 5.0);
    assert_eq!(table.call_us, 5.0);
    // The core's table stores blocks as f32: exact up to f32 rounding (1e-7 relative).
    assert!(
        (table.calibration.scale - 1.0).abs() < 1e-6,
        "{:?}",
        table.calibration
    );
    assert!(
        table.calibration.offset_us.abs() < 1e-4,
        "{:?}",
        table.calibration
    );
    let report = table.report.unwrap();
    assert!(report.holdout_mape < 1e-6 && report.points.len() == 12);

    // The answer: feasible, predicted exactly, cheapest check possible.
    let macs: usize = [
        28,
        r.architecture[0] as usize,
        r.architecture[1] as usize,
        r.architecture[2] as usize,
        1,
    ]
    .windows(2)
    .map(|w| w[0] * w[1])
    .sum();
    let expected_us = 5.0 + macs as f64 / 1000.0;
    assert!((r.latency_us - expected_us).abs() < 1e-9);
    assert!((r.predicted_latency_us - expected_us).abs() < 1e-4);
    assert!(r.feasible && r.latency_us <= 12.0);
    assert!(r.tightenings.is_empty());
    // Zero spread: it stops at the first sample size whose 95% order-statistic bound
    // exists (7 timed runs for the median), after the 10 warm-up runs.
    assert_eq!(r.decision.runs, 10 + 7);
    assert_eq!(r.decision.fixed_runs, 60);
    assert_eq!(r.trace.len(), 300);
    assert_eq!(r.fastest.0, vec![8, 8, 8]);
    assert!(r
        .trace
        .iter()
        .all(|p| p.pv.is_some() || p.kind != tabnas_core::search::StepKind::Updated));
    // The result's child file is the sliced child.
    let best = decode_model(&std::fs::read(tmp.path().join("a/best.onnx")).unwrap()).unwrap();
    let w: Vec<usize> = r.architecture.iter().map(|&x| x as usize).collect();
    assert_eq!(best, bundle.child_model(&w).unwrap());

    // Same seed, same bundle, same table: the same search.
    let again = run(
        &bundle,
        &mut FakeProbe::new(5.0, 0.001),
        &o,
        &tmp.path().join("b"),
    );
    assert_eq!(again.architecture, r.architecture);
    assert_eq!(again.trace, r.trace);
    assert_eq!(again.validation_loss, r.validation_loss);
}

#[test]
fn targets_below_the_fastest_child_are_refused_with_the_fastest_latency() {
    let _serial = serial();
    let bundle =
        Bundle::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("defaults/higgs-demo"))
            .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let err = run_device_search(
        &bundle,
        &mut FakeProbe::new(5.0, 0.001),
        &options(Some(5.0), 10),
        tmp.path(),
        false,
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    // Fastest: 8-8-8 = 5 + (28*8 + 64 + 64 + 8)/1000 = 5.36 us.
    assert!(
        err.contains("below the fastest child: [8, 8, 8] is predicted at 5.4 us"),
        "{err}"
    );
    assert!(err.contains("fastest achievable"), "{err}");
}

/// Real measurements with tract on this machine, under a target 30% above the measured
/// latency of the median child (so that timer noise on a shared machine cannot push
/// every child over it). The answer was measured under the protocol and met the
/// target; measured again here it must still be within 15% of the target (the two
/// measurements are independent).
#[test]
fn real_measurements_give_an_answer_that_meets_the_target_on_re_measure() {
    let _serial = serial();
    let bundle =
        Bundle::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("defaults/higgs-demo"))
            .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut probe = TractProbe::default();
    let shape = NetShape::of(&bundle.manifest);
    let largest = bundle.child_model(&[256, 256, 256]).unwrap();
    let m = measure(&mut probe, &largest, shape, &MeasurementProtocol::default()).unwrap();
    let r = run(
        &bundle,
        &mut probe,
        &options(Some(1.3 * m.latency_us), 200),
        tmp.path(),
    );
    assert!(
        r.feasible && r.latency_us <= r.target_us,
        "{} > {}",
        r.latency_us,
        r.target_us
    );
    assert_eq!(r.target_source, "given");
    assert_eq!(r.latency.samples_us.len(), 50);
    assert!(r.table.holdout_mape.is_finite());
    let best = decode_model(&std::fs::read(tmp.path().join("best.onnx")).unwrap()).unwrap();
    // Up to three independent re-measurements: a burst from another process can slow
    // one of them, not the child.
    let again = (0..3)
        .map(|_| {
            measure(&mut probe, &best, shape, &MeasurementProtocol::default())
                .unwrap()
                .latency_us
        })
        .fold(f64::INFINITY, f64::min);
    assert!(
        again <= 1.15 * r.target_us,
        "re-measured {again} us against target {} us",
        r.target_us
    );
}

/// A new target on an existing run folder reuses the table (no block is measured again)
/// and the quality cache, and keeps the earlier run's files.
#[test]
fn retargeting_reuses_the_table_and_the_quality_cache() {
    let _serial = serial();
    let bundle =
        Bundle::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("defaults/higgs-demo"))
            .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut probe = FakeProbe::new(5.0, 0.001);
    let first = run(&bundle, &mut probe, &options(Some(12.0), 200), tmp.path());
    assert_eq!(first.table.measured_blocks, 220);
    let loads_before = probe.loads;
    let second = run(&bundle, &mut probe, &options(Some(8.0), 200), tmp.path());
    assert_eq!(second.table.measured_blocks, 0);
    assert_eq!(second.table.reused_blocks, 220);
    // Only the answer was loaded again (decision + full measurement).
    assert_eq!(probe.loads - loads_before, 2);
    assert!(second.quality_cache.0 > 0, "cache hits from the first run");
    assert!(second.latency_us <= 8.0);
    assert!(tmp.path().join("previous-12us/result.json").exists());
}
