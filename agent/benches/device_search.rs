//! Device-search benchmarks on the committed demo bundle, measured on this machine
//! (a bench binary: it prints one JSON object per part).
//!
//! 0. `quality`: one quality evaluation split into its stages (building the child's
//!    graph, optimizing it, inference over `valid.bin` on one thread and on every core).
//!    `-- --quality-only` stops after it.
//! 1. `phases`: wall time of a full search split into table building, quality
//!    evaluation, RL and verification.
//!    With it, the held-out error of every latency model form on the same children.
//! 2. `decisions`: timed samples per sequential feasibility decision against the fixed
//!    protocol's `repeats`, for children at targets 10% and 3% either side of their
//!    measured median, and how often the verdict agrees with the fixed protocol's.
//! 3. `runtimes`: tract vs ONNX Runtime latency of the same children (with
//!    `--features ort` and `ORT_DYLIB_PATH` set; skipped otherwise).
//!
//! `cargo bench -p tabnas-agent --bench device_search [--features ort]`

use tabnas_agent::{run_device_search, Bench, DeviceSearchOptions, Net, TractProbe};
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

    // 0. One quality evaluation, stage by stage.
    quality_stages(&bundle);
    if std::env::args().any(|a| a == "--quality-only") {
        return;
    }

    // 1. Phases of a full search.
    let dir = tempfile::tempdir().expect("temp dir");
    let options = DeviceSearchOptions {
        target_us: None,
        settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 256 }, 0.05),
        steps: 500,
        seed: 0,
        protocol,
        calibration_children: 36,
        checkpoint_every: 25,
        max_tightenings: 3,
        quality_batch: 256,
        quality_cache: 4096,
        max_model_error: 0.05,
        max_direct_children: 4096,
        candidates: 8,
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
            "model": r.table.model, "answer": r.architecture,
            "latency_us": r.latency_us, "target_us": r.target_us})
    );

    // 2. Sequential decisions vs the fixed protocol.
    let mut probe = TractProbe::default();
    let kids = children(&bundle, 30);
    {
        let mut bench = Bench::new(&mut probe, protocol, 0);
        let (mut samples, mut fixed, mut agree, mut n) = (0u64, 0u64, 0u64, 0u64);
        for w in &kids {
            let model = bundle.child_model(w).expect("child");
            let net = Net {
                label: "child",
                model: &model,
                shape,
            };
            let reference = bench.measure(net).expect("measure");
            for factor in [0.9, 0.97, 1.03, 1.1] {
                let target = reference.latency_us * factor;
                let d = bench.decide(net, target).expect("decide");
                let full = bench.measure(net).expect("measure");
                samples += d.samples as u64;
                fixed += d.fixed_samples as u64;
                agree += (d.feasible == (full.latency_us <= target)) as u64;
                n += 1;
            }
        }
        println!(
            "{}",
            serde_json::json!({"part": "decisions", "decisions": n,
            "mean_samples": samples as f64 / n as f64, "fixed_samples": fixed as f64 / n as f64,
            "samples_saved": 1.0 - samples as f64 / fixed as f64,
            "agreement_with_fixed_protocol": agree as f64 / n as f64})
        );
    }

    // 3. tract vs ONNX Runtime.
    #[cfg(feature = "ort")]
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(lib) => {
            let mut ort =
                tabnas_agent::OrtProbe::new(std::path::Path::new(&lib), 1).expect("onnxruntime");
            let mut rows = Vec::new();
            let runtime = ort.runtime();
            let mut tract = Bench::new(&mut probe, protocol, 0);
            let mut onnxruntime = Bench::new(&mut ort, protocol, 0);
            for w in kids.iter().take(10).chain([&vec![768, 768, 768]]) {
                let model = bundle.child_model(w).expect("child");
                let net = Net {
                    label: "child",
                    model: &model,
                    shape,
                };
                let a = tract.measure(net).expect("tract");
                let b = onnxruntime.measure(net).expect("ort");
                rows.push(serde_json::json!({"widths": w, "tract_us": a.latency_us, "onnxruntime_us": b.latency_us}));
            }
            println!(
                "{}",
                serde_json::json!({"part": "runtimes", "runtime": runtime, "children": rows})
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

/// Mean milliseconds per child of the stages of a quality evaluation (building the
/// child's graph, optimizing it for the batch, inference and loss over `valid.bin` on
/// one thread and on every core), and whether the two losses agree bit for bit.
fn quality_stages(bundle: &Bundle) {
    use std::time::Instant;
    let kids = children(bundle, 20);
    let batch = 256.min(bundle.valid.rows);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (mut build, mut optimize, mut one, mut all, mut same) = (0.0, 0.0, 0.0, 0.0, true);
    for w in &kids {
        let t = Instant::now();
        let model = bundle.child_model(w).expect("child");
        build += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let net = tabnas_bundle::TractNet::new(&model, &bundle.manifest, batch).expect("net");
        optimize += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let a = net
            .loss_on(&bundle.valid, &bundle.manifest, 1)
            .expect("loss");
        one += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let b = net
            .loss_on(&bundle.valid, &bundle.manifest, cores)
            .expect("loss");
        all += t.elapsed().as_secs_f64();
        same &= a.to_bits() == b.to_bits();
    }
    let ms = |s: f64| 1e3 * s / kids.len() as f64;
    println!(
        "{}",
        serde_json::json!({"part": "quality", "children": kids.len(), "rows": bundle.valid.rows,
            "batch": batch, "build_ms": ms(build), "optimize_ms": ms(optimize),
            "infer_1_thread_ms": ms(one), "cores": cores, "infer_all_cores_ms": ms(all),
            "losses_identical": same})
    );
}
