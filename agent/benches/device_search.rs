//! Device-search benchmarks on the committed demo bundle, measured on this machine
//! (a bench binary: it prints one JSON object per part).
//!
//! 1. `phases`: wall time of a full search split into table building, quality
//!    evaluation, RL and verification.
//! 2. `decisions`: timed runs per sequential feasibility decision against the fixed
//!    10 warm-up + 50 repeat protocol, for children at targets 10% and 3% either side of
//!    their measured median, and how often the verdict agrees with the fixed protocol's.
//! 3. `runtimes`: tract vs ONNX Runtime latency of the same children (with
//!    `--features ort` and `ORT_DYLIB_PATH` set; skipped otherwise).
//!
//! `cargo bench -p tabnas-agent --bench device_search [--features ort]`

use tabnas_agent::{decide, measure, run_device_search, DeviceSearchOptions, TractProbe};
use tabnas_bundle::{Bundle, NetShape};
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::rng::search_rng;
use tabnas_core::search::{PvMode, SearchSettings};

#[cfg(feature = "ort")]
use tabnas_agent::LatencyProbe;

fn children(bundle: &Bundle, n: usize) -> Vec<Vec<usize>> {
    let mut rng = search_rng(11);
    (0..n)
        .map(|_| {
            bundle
                .manifest
                .space
                .iter()
                .map(|w| w[(rand_core::Rng::next_u32(&mut rng) as usize) % w.len()] as usize)
                .collect()
        })
        .collect()
}

fn main() {
    let bundle =
        Bundle::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("defaults/higgs-demo"))
            .expect("demo bundle");
    let shape = NetShape::of(&bundle.manifest);
    let protocol = MeasurementProtocol::default();

    // 1. Phases of a full search.
    let dir = tempfile::tempdir().expect("temp dir");
    let options = DeviceSearchOptions {
        target_us: None,
        settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 256 }, 0.05),
        steps: 500,
        seed: 0,
        protocol,
        calibration_children: 24,
        checkpoint_every: 25,
        max_tightenings: 3,
        quality_batch: 256,
        quality_cache: 4096,
    };
    let t = std::time::Instant::now();
    let r = run_device_search(
        &bundle,
        &mut TractProbe::default(),
        &options,
        dir.path(),
        false,
        &mut |_| {},
    )
    .expect("search");
    let total = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"part": "phases", "steps": 500, "total_s": total,
            "table_s": r.timings.table_s, "quality_s": r.timings.quality_s, "rl_s": r.timings.rl_s,
            "verify_s": r.timings.verify_s, "quality_misses": r.quality_cache.1,
            "table_holdout_mape": r.table.holdout_mape, "answer": r.architecture,
            "latency_us": r.latency_us, "target_us": r.target_us})
    );

    // 2. Sequential decisions vs the fixed protocol.
    let mut probe = TractProbe::default();
    let kids = children(&bundle, 30);
    let (mut runs, mut fixed, mut agree, mut n) = (0u64, 0u64, 0u64, 0u64);
    for w in &kids {
        let model = bundle.child_model(w).expect("child");
        let reference = measure(&mut probe, &model, shape, &protocol).expect("measure");
        for factor in [0.9, 0.97, 1.03, 1.1] {
            let target = reference.latency_us * factor;
            let d = decide(&mut probe, &model, shape, &protocol, target).expect("decide");
            let full = measure(&mut probe, &model, shape, &protocol).expect("measure");
            runs += d.runs as u64;
            fixed += d.fixed_runs as u64;
            agree += (d.feasible == (full.latency_us <= target)) as u64;
            n += 1;
        }
    }
    println!(
        "{}",
        serde_json::json!({"part": "decisions", "decisions": n,
            "mean_runs": runs as f64 / n as f64, "fixed_runs": fixed as f64 / n as f64,
            "runs_saved": 1.0 - runs as f64 / fixed as f64,
            "agreement_with_fixed_protocol": agree as f64 / n as f64})
    );

    // 3. tract vs ONNX Runtime.
    #[cfg(feature = "ort")]
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(lib) => {
            let mut ort =
                tabnas_agent::OrtProbe::new(std::path::Path::new(&lib), 1).expect("onnxruntime");
            let mut rows = Vec::new();
            for w in kids.iter().take(10).chain([&vec![256, 256, 256]]) {
                let model = bundle.child_model(w).expect("child");
                let a = measure(&mut probe, &model, shape, &protocol).expect("tract");
                let b = measure(&mut ort, &model, shape, &protocol).expect("ort");
                rows.push(serde_json::json!({"widths": w, "tract_us": a.latency_us, "onnxruntime_us": b.latency_us}));
            }
            println!(
                "{}",
                serde_json::json!({"part": "runtimes", "runtime": ort.runtime(), "children": rows})
            );
        }
        None => println!(
            "{}",
            serde_json::json!({"part": "runtimes", "skipped": "set ORT_DYLIB_PATH"})
        ),
    }
    #[cfg(not(feature = "ort"))]
    println!(
        "{}",
        serde_json::json!({"part": "runtimes", "skipped": "build with --features ort"})
    );
}
