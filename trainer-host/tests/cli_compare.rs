//! `tabnas compare` on small generated data: every method's answer trained stand-alone,
//! the random baseline, a table, `compare.json` and a plot whose legend is beside it.

use std::fmt::Write as _;

use tabnas_test_support::{run, Run};

const TABNAS: &str = env!("CARGO_BIN_EXE_tabnas");

#[test]
fn compare_runs_every_method_and_writes_table_json_and_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("rows.csv");
    let mut text = String::from("a,b,y\n");
    for r in 0..400u32 {
        let a = ((r * 37) % 101) as f32 / 50.0 - 1.0;
        let b = ((r * 53) % 89) as f32 / 44.0 - 1.0;
        writeln!(text, "{a},{b},{}", u8::from(a * b > 0.0)).unwrap();
    }
    std::fs::write(&csv, text).unwrap();
    // The data flags of every run below.
    let data = [
        "compare",
        "--csv",
        csv.to_str().unwrap(),
        "--header",
        "--label",
        "y",
    ];
    let out = tmp.path().join("cmp");
    let Run { ok, stdout, stderr } = run(
        TABNAS,
        &[
            &data[..],
            &[
                "--space",
                "4,8,16,32;4,8,16",
                "--target",
                "300",
                "--steps",
                "120",
                "--batch",
                "32",
                "--betas",
                "0.5,2",
                "--sample",
                "5",
                "--front-extra",
                "3",
                "--random-children",
                "8",
                "--reference-steps",
                "100",
                "--retrain-seeds",
                "2",
                "--out",
                out.to_str().unwrap(),
            ][..],
        ]
        .concat(),
    );
    assert!(ok, "{stderr}");
    for row in [
        "| test, mean of 2 more seeds (sd) |",
        "| rejection, exact P(V) |",
        "| rejection, Monte-Carlo P(V) (N = 256) |",
        "| abs, beta 0.5 |",
        "| mnas-soft, beta 2 |",
        "| random search, 8 children, shared weights |",
        "random feasible, stand-alone, chosen on validation |",
        "constant predictor: test loss",
        "compute: one search trains the shared weights 120 steps",
        "| rejection, exact P(V), best of ",
        "compute of rejection, exact P(V), best of ",
    ] {
        assert!(stdout.contains(row), "no {row:?} in\n{stdout}");
    }
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("compare.json")).unwrap()).unwrap();
    let found = c["found"].as_array().unwrap();
    // 2 rejection runs and their finalists, 2 rewards x 2 betas, random search.
    assert_eq!(found.len(), 9, "{found:?}");
    for f in found {
        let cost = f["cost"].as_f64().unwrap();
        assert_eq!(f["feasible"].as_bool().unwrap(), cost <= 300.0, "{f}");
        assert!(f["standalone"]["test_loss"].as_f64().unwrap().is_finite());
    }
    for f in &found[..4] {
        assert_eq!(
            f["feasible"], true,
            "rejection never answers infeasibly: {f}"
        );
    }
    // The finalists include the answer: their pick is at least as good on validation,
    // and it cost stand-alone steps.
    for pair in [&found[0..2], &found[2..4]] {
        let (answer, finalists) = (&pair[0], &pair[1]);
        assert!(
            finalists["method"].as_str().unwrap().contains("finalists"),
            "{finalists}"
        );
        let v = |f: &serde_json::Value| f["standalone"]["validation_loss"].as_f64().unwrap();
        assert!(v(finalists) <= v(answer), "{finalists} vs {answer}");
        assert!(finalists["selection_steps"].as_u64().unwrap() > 0);
    }
    let sample = c["sample"].as_array().unwrap();
    assert!(sample.iter().filter(|s| s["feasible"] == true).count() >= 5);
    // Every answer and the baseline's pick retrained once per architecture with the two
    // seeds after the stand-alone one (0); the mean is the losses'.
    let retrained = c["retrained"].as_array().unwrap();
    let widths = |v: &serde_json::Value| v.as_array().unwrap().clone();
    for f in found {
        let w = widths(&f["standalone"]["widths"]);
        let r: Vec<_> = retrained
            .iter()
            .filter(|r| widths(&r["widths"]) == w)
            .collect();
        assert_eq!(r.len(), 1, "{w:?} retrained once: {retrained:?}");
        assert_eq!(r[0]["seeds"], serde_json::json!([1, 2]));
        let losses: Vec<f64> = r[0]["test_losses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let mean = r[0]["mean"].as_f64().unwrap();
        assert!(
            (mean - (losses[0] + losses[1]) / 2.0).abs() < 1e-12,
            "{r:?}"
        );
    }
    let baseline = sample
        .iter()
        .filter(|s| s["feasible"] == true)
        .min_by(|a, b| {
            let v = |s: &serde_json::Value| s["standalone"]["validation_loss"].as_f64().unwrap();
            v(a).total_cmp(&v(b))
        })
        .unwrap();
    let w = widths(&baseline["standalone"]["widths"]);
    assert!(retrained.iter().any(|r| widths(&r["widths"]) == w));
    let svg = std::fs::read_to_string(out.join("compare.svg")).unwrap();
    for entry in [
        "target 300",
        "rejection, exact P(V)",
        "stand-alone sample and its Pareto front",
    ] {
        let at = svg
            .find(&format!(">\n{entry}\n</text>"))
            .unwrap_or_else(|| panic!("{entry}"));
        let x = svg[..at].rsplit("<text x=\"").next().unwrap();
        let x: u32 = x[..x.find('"').unwrap()].parse().unwrap();
        assert!(x >= 640, "{entry} at x = {x}");
    }

    // Under a target nothing meets, no finalists row claims a feasible answer.
    let Run { ok, stdout, stderr } = run(
        TABNAS,
        &[
            &data[..],
            &[
                "--space",
                "4,8,16;4,8",
                "--target",
                "10",
                "--steps",
                "60",
                "--batch",
                "16",
                "--betas",
                "1",
                "--sample",
                "2",
                "--front-extra",
                "1",
                "--random-children",
                "2",
                "--reference-steps",
                "50",
                "--out",
                tmp.path().join("cmp-none").to_str().unwrap(),
            ][..],
        ]
        .concat(),
    );
    assert!(ok, "{stderr}");
    assert!(!stdout.contains("finalists"), "{stdout}");
    assert!(
        stdout.contains("| rejection, exact P(V) | 4-4 | 37 | **no** |"),
        "{stdout}"
    );

    // Bad flags are named.
    let Run { ok, stderr, .. } = run(
        TABNAS,
        &[
            &data[..],
            &[
                "--target",
                "300",
                "--betas",
                "1,nan",
                "--out",
                out.to_str().unwrap(),
            ][..],
        ]
        .concat(),
    );
    assert!(
        !ok && stderr.contains("--betas must be finite non-negative numbers"),
        "{stderr}"
    );
}
