//! Results a user can trust, on small generated data: the constant predictor's loss
//! beside every result, warnings (printed and in `result.json`) when the answer is no
//! better than it, when validation loss rose, when the search did not converge or most
//! samples were rejected; `reference` chooses on validation loss, early-stops, and keeps
//! the split and initialisation seeds apart.

use std::fmt::Write as _;
use std::path::Path;

use tabnas_test_support::{run, Run};

const TABNAS: &str = env!("CARGO_BIN_EXE_tabnas");

/// `rows` rows of 12 noise columns and a label that is noise too (a hash of the row
/// number): nothing generalises, and a wide network memorises its training rows.
fn noise_csv(path: &Path, rows: u64) {
    let mut text = String::new();
    for r in 0..rows {
        let h = |k: u64| {
            let mut x = (r * 16 + k).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            x ^= x >> 29;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x ^ (x >> 32)
        };
        for k in 0..12 {
            write!(text, "{:.3},", (h(k) % 1000) as f64 / 500.0 - 1.0).unwrap();
        }
        writeln!(text, "{}", h(15) % 2).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// A learnable task: the label is the sign of a + b.
fn signal_csv(path: &Path, rows: u32) {
    let mut text = String::from("a,b,y\n");
    for r in 0..rows {
        let a = ((r * 37) % 101) as f32 / 50.0 - 1.0;
        let b = ((r * 53) % 89) as f32 / 44.0 - 1.0;
        writeln!(text, "{a},{b},{}", u8::from(a + b > 0.0)).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

fn result_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("result.json")).unwrap()).unwrap()
}

fn warnings(v: &serde_json::Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_answer_that_learnt_nothing_is_flagged_beside_the_constant_predictor() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("noise.csv");
    noise_csv(&csv, 300);
    let out = tmp.path().join("run");
    let Run { ok, stdout, stderr } = run(
        TABNAS,
        &[
            "search",
            "--csv",
            csv.to_str().unwrap(),
            "--label",
            "12",
            "--space",
            "64,128;64,128",
            "--target",
            "1e9",
            "--steps",
            "400",
            "--batch",
            "32",
            "--valid-batch",
            "45",
            "--lr",
            "0.01",
            "--eval-every",
            "25",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("constant predictor (the training prior): validation loss 0.69"),
        "{stdout}"
    );
    let v = result_json(&out);
    let w = warnings(&v);
    assert!(
        w.iter()
            .any(|w| w.contains("no better than the constant predictor's")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.starts_with("validation loss has been rising")),
        "{w:?}"
    );
    assert!(
        stdout.contains("warning: the answer's validation loss"),
        "{stdout}"
    );
    let constant = v["constant_loss"]["validation"].as_f64().unwrap();
    assert!((0.65..0.75).contains(&constant), "{constant}");
    // The bundle holds the lowest-validation weights: a step before the last.
    let weights_step = v["weights_step"].as_u64().unwrap();
    assert!(weights_step < 400, "{weights_step}");
    assert!(v["validation_curve"].as_array().unwrap().len() >= 10);

    // Early stopping ends the search when validation loss stops improving.
    let out = tmp.path().join("run-stop");
    let Run { ok, stdout, stderr } = run(
        TABNAS,
        &[
            "search",
            "--csv",
            csv.to_str().unwrap(),
            "--label",
            "12",
            "--space",
            "64,128;64,128",
            "--target",
            "1e9",
            "--steps",
            "400",
            "--batch",
            "32",
            "--lr",
            "0.01",
            "--eval-every",
            "25",
            "--patience",
            "3",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(ok, "{stderr}");
    let v = result_json(&out);
    let stopped = v["stopped_at"].as_u64().expect("early-stopped");
    assert!(stopped < 400, "{stopped}");
    assert!(
        stdout.contains(&format!("early-stopped at step {stopped}")),
        "{stdout}"
    );
}

#[test]
fn a_tight_target_reports_rejections_and_convergence() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("signal.csv");
    signal_csv(&csv, 400);
    let common = |out: &Path, resamples: &'static str| {
        let out = out.to_str().unwrap().to_string();
        let csv = csv.to_str().unwrap().to_string();
        let args: Vec<String> = [
            "search",
            "--csv",
            &csv,
            "--header",
            "--label",
            "y",
            "--space",
            "4,8,16,32,64;4,8,16,32,64",
            "--target",
            "40",
            "--steps",
            "60",
            "--warmup",
            "0.5",
            "--batch",
            "32",
            "--max-resamples",
            resamples,
            "--out",
            &out,
            "--quiet",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(TABNAS, &args)
    };
    // Target 40 admits only 4-4 ((2+1)*4 + (4+1)*4 + 5 = 37): 1 of 25 architectures.
    let Run { ok, stdout, stderr } = common(&tmp.path().join("none"), "0");
    assert!(ok, "{stderr}");
    let v = result_json(&tmp.path().join("none"));
    let share = v["rejected_share"].as_f64().unwrap();
    assert!(share > 0.8, "{share}");
    assert_eq!(v["converged"], false);
    let w = warnings(&v);
    assert!(w.iter().any(|w| w.contains("has not converged")), "{w:?}");
    assert!(
        w.iter()
            .any(|w| w.contains("% of the controller's samples broke the target")),
        "{w:?}"
    );
    assert!(stdout.contains("(NOT converged)"), "{stdout}");
    // With resampling, every step ends in an update: each trace point is evaluated.
    let Run { ok, stderr, .. } = common(&tmp.path().join("resampled"), "1000");
    assert!(ok, "{stderr}");
    let v = result_json(&tmp.path().join("resampled"));
    let trace = v["trace"].as_array().unwrap();
    assert_eq!(trace.len(), 30);
    assert!(trace.iter().all(|p| p["kind"] != "rejected"), "{trace:?}");
    assert!(trace
        .iter()
        .any(|p| p["rejected_before"].as_u64().unwrap() > 0));
}

#[test]
fn reference_chooses_on_validation_with_seeds_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("signal.csv");
    signal_csv(&csv, 400);
    let reference = |extra: &[&str]| {
        let mut args = vec![
            "reference",
            "--csv",
            csv.to_str().unwrap(),
            "--header",
            "--label",
            "y",
            "--arch",
            "2",
            "--arch",
            "16-16",
            "--batch",
            "32",
            "--lr",
            "0.01",
            "--json",
        ];
        args.extend_from_slice(extra);
        let Run { ok, stdout, stderr } = run(TABNAS, &args);
        assert!(ok, "{stderr}");
        serde_json::from_str::<serde_json::Value>(stdout.trim()).unwrap()
    };
    let v = reference(&["--steps", "20", "--eval-every", "10"]);
    let refs = v["references"].as_array().unwrap();
    let best = refs
        .iter()
        .min_by(|a, b| {
            let l = |r: &serde_json::Value| r["validation_loss"].as_f64().unwrap();
            l(a).total_cmp(&l(b))
        })
        .unwrap();
    assert_eq!(v["best_on_validation"], best["widths"]);
    assert!(v["constant_loss"]["test"].as_f64().unwrap() > 0.6);
    // 20 steps are too few: at least one was still improving, and says so.
    assert!(refs.iter().any(|r| r["still_improving"] == true));
    assert!(warnings(&v)
        .iter()
        .any(|w| w.contains("still improving at its last step")));
    // Early stopping: patience 2 ends a long run before its 3,000 steps.
    let v = reference(&["--steps", "3000", "--eval-every", "10", "--patience", "2"]);
    for r in v["references"].as_array().unwrap() {
        assert!(r["trained_steps"].as_u64().unwrap() < 3000, "{r}");
        assert_eq!(r["still_improving"], false);
    }
    // The split seed alone moves the constant predictor's loss (another test split); the
    // initialisation seed alone does not.
    let base = reference(&["--steps", "10", "--split-seed", "1", "--init-seed", "1"]);
    let init = reference(&["--steps", "10", "--split-seed", "1", "--init-seed", "2"]);
    let split = reference(&["--steps", "10", "--split-seed", "2", "--init-seed", "1"]);
    assert_eq!(base["constant_loss"], init["constant_loss"]);
    assert_ne!(base["constant_loss"], split["constant_loss"]);
    assert_ne!(
        base["references"][1]["validation_loss"],
        init["references"][1]["validation_loss"]
    );
}
