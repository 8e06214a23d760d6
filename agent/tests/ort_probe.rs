//! The ONNX Runtime probe (feature `ort`) on the demo bundle: ONNX Runtime loads our
//! children and a device search measured with it meets its target. Needs
//! `ORT_DYLIB_PATH` (scripts/test.sh points it at the venv's onnxruntime); without it the
//! test says so and passes, except under CI.

use std::path::PathBuf;

use tabnas_agent::{run_device_search, Bench, DeviceSearchOptions, LatencyProbe, Net, OrtProbe};
use tabnas_bundle::{Bundle, NetShape};
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::search::{PvMode, SearchSettings};

fn library() -> Option<PathBuf> {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "ORT_DYLIB_PATH is not set under CI"
            );
            eprintln!("ORT_DYLIB_PATH not set: skipping the ONNX Runtime probe test");
            None
        }
    }
}

#[test]
fn onnx_runtime_measures_children_and_drives_a_search() {
    let Some(lib) = library() else { return };
    let bundle =
        Bundle::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("defaults/higgs-demo"))
            .unwrap();
    let mut probe = OrtProbe::new(&lib, 1).unwrap();
    assert!(probe.runtime().starts_with("onnxruntime"));
    let model = bundle.child_model(&[64, 32, 32]).unwrap();
    let shape = NetShape::of(&bundle.manifest);
    let mut bench = Bench::new(&mut probe, MeasurementProtocol::default(), 0);
    let m = bench
        .measure(Net {
            label: "64-32-32",
            model: &model,
            shape,
        })
        .unwrap();
    assert!(m.latency_us > 0.0 && m.samples_us.len() == 30);
    // A target most children meet even on a busy machine: the middle child's, doubled.
    let middle = bundle.child_model(&[128, 128, 128]).unwrap();
    let m_big = bench
        .measure(Net {
            label: "128-128-128",
            model: &middle,
            shape,
        })
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let options = DeviceSearchOptions {
        target_us: Some(tabnas_core::target::LatencyTarget::new(2.0 * m_big.latency_us).unwrap()),
        settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 64 }, 0.05),
        steps: 100,
        seed: 1,
        protocol: MeasurementProtocol::default(),
        calibration_children: 9,
        checkpoint_every: 50,
        max_tightenings: 3,
        quality_batch: 256,
        quality_cache: 1024,
        max_model_error: 0.05,
        max_direct_children: 4096,
        candidates: 4,
    };
    let r = run_device_search(
        &bundle,
        &mut probe,
        &options,
        tmp.path(),
        false,
        &mut |_| {},
    )
    .unwrap();
    assert!(r.feasible && r.latency_us <= r.target_us);
    assert!(r.environment.runtime.starts_with("onnxruntime"));
    let err = OrtProbe::new(std::path::Path::new("/nonexistent/libonnxruntime.so"), 1).unwrap_err();
    assert!(err.to_string().contains("pip install onnxruntime"), "{err}");
}
