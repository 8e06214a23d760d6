//! `tabnas search`, `reference` and `export` as a user runs them on a CSV file: the run
//! folder's files, a deterministic result for a seed, and clear errors on bad input.

use std::io::Write;
use std::path::Path;

use tabnas_test_support::{run, Run};

const TABNAS: &str = env!("CARGO_BIN_EXE_tabnas");

fn write_csv(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(f, "a,b,kind,label").unwrap();
    for r in 0..400u32 {
        let a = ((r * 31) % 97) as f32 / 9.7 - 5.0;
        let b = ((r * 17) % 13) as f32 - 6.0;
        let kind = ["x", "y", "z"][(r % 3) as usize];
        let label = if a * b + (r % 3) as f32 > 0.0 {
            "pos"
        } else {
            "neg"
        };
        writeln!(f, "{a},{b},{kind},{label}").unwrap();
    }
}

fn search_args<'a>(csv: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "search",
        "--csv",
        csv,
        "--header",
        "--label",
        "label",
        "--positive",
        "pos",
        "--categorical",
        "kind",
        "--buckets",
        "8",
        "--embedding-dim",
        "2",
        "--space",
        "4,8,16;2,4,8",
        "--target",
        "150",
        "--steps",
        "120",
        "--batch",
        "32",
        "--valid-batch",
        "32",
        "--lr",
        "0.01",
        "--rl-lr",
        "0.1",
        "--pv",
        "exact",
        "--seed",
        "5",
        "--out",
        out,
        "--quiet",
    ]
}

#[test]
fn search_writes_result_plot_and_a_loadable_bundle_deterministically() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("rows.csv");
    write_csv(&csv);
    let csv = csv.to_str().unwrap();
    let mut results = Vec::new();
    for folder in ["run1", "run2"] {
        let out = tmp.path().join(folder);
        let Run { ok, stdout, stderr } = run(TABNAS, &search_args(csv, out.to_str().unwrap()));
        assert!(ok, "{stderr}");
        assert!(stdout.contains("found ["), "{stdout}");
        let result: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("result.json")).unwrap()).unwrap();
        for key in [
            "architecture",
            "cost",
            "validation_loss",
            "trace",
            "distributions",
        ] {
            assert!(!result[key].is_null(), "result.json lacks {key}");
        }
        assert_eq!(result["feasible"], true);
        assert!(result["cost"].as_f64().unwrap() <= 150.0);
        assert_eq!(
            result["trace"].as_array().unwrap().len(),
            90,
            "one point per controller step"
        );
        let svg = std::fs::read_to_string(out.join("trace.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("P(V)"));
        for panel in [
            "controller reward and baseline",
            "layer 1: probability of each width",
            "layer 2: probability of each width",
        ] {
            assert!(svg.contains(panel), "trace.svg lacks {panel}");
        }
        // Every legend entry is in the legend column, right of the 700-pixel plots.
        for entry in ["P(V)", "baseline", "child validation loss (right)"] {
            let at = svg.find(&format!(">\n{entry}\n</text>")).unwrap();
            let x = svg[..at].rsplit("<text x=\"").next().unwrap();
            let x: u32 = x[..x.find('"').unwrap()].parse().unwrap();
            assert!(x >= 700, "{entry} at x = {x}");
        }
        for f in ["supernet.onnx", "manifest.json", "valid.bin"] {
            assert!(out.join("bundle").join(f).exists(), "bundle lacks {f}");
        }
        results.push((
            result["architecture"].clone(),
            result["validation_loss"].clone(),
        ));
    }
    assert_eq!(results[0], results[1], "same seed, same result");

    // Export: a child file and a re-exported bundle.
    let bundle = tmp.path().join("run1/bundle");
    let child = tmp.path().join("child.onnx");
    let Run { ok, stdout, stderr } = run(
        TABNAS,
        &[
            "export",
            "--bundle",
            bundle.to_str().unwrap(),
            "--child",
            "8-4",
            "--out",
            child.to_str().unwrap(),
        ],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("child [8, 4]") && child.exists(),
        "{stdout}"
    );
    let Run { ok, stderr, .. } = run(
        TABNAS,
        &[
            "export",
            "--bundle",
            bundle.to_str().unwrap(),
            "--child",
            "5-4",
            "--out",
            child.to_str().unwrap(),
        ],
    );
    assert!(
        !ok && stderr.contains("layer 1 can be one of [4, 8, 16]"),
        "{stderr}"
    );
    let copy = tmp.path().join("copy");
    let Run { ok, stderr, .. } = run(
        TABNAS,
        &[
            "export",
            "--bundle",
            bundle.to_str().unwrap(),
            "--out",
            copy.to_str().unwrap(),
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        std::fs::read(bundle.join("supernet.onnx")).unwrap(),
        std::fs::read(copy.join("supernet.onnx")).unwrap()
    );

    // Reference: stand-alone training reports a test loss per architecture.
    let Run { ok, stdout, stderr } = run(
        TABNAS,
        &[
            "reference",
            "--csv",
            csv,
            "--header",
            "--label",
            "label",
            "--positive",
            "pos",
            "--categorical",
            "kind",
            "--arch",
            "8-4",
            "--arch",
            "16-8",
            "--steps",
            "50",
            "--json",
        ],
    );
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let refs = v["references"].as_array().unwrap();
    assert_eq!(refs.len(), 2);
    // Dense input: 2 numeric + 1 categorical x 8 embedding values (the default) = 10.
    assert_eq!(refs[0]["params"], (10 * 8 + 8) + (8 * 4 + 4) + (4 + 1));
    assert!(refs[1]["test_loss"].as_f64().unwrap().is_finite());
}

/// Not on a terminal (the test pipes standard error), a search prints progress lines;
/// two runs that differ only in `--out` (and `--quiet`) write bundles of one hash.
#[test]
fn progress_lines_off_a_terminal_and_a_hash_of_the_content_only() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("rows.csv");
    write_csv(&csv);
    let csv = csv.to_str().unwrap();
    let mut hashes = Vec::new();
    for (folder, quiet) in [("a", false), ("b", true)] {
        let out = tmp.path().join(folder);
        let mut args = search_args(csv, out.to_str().unwrap());
        if !quiet {
            args.retain(|a| *a != "--quiet");
        }
        let Run { ok, stdout, stderr } = run(TABNAS, &args);
        assert!(ok, "{stderr}");
        let lines = stdout
            .lines()
            .filter(|l| l.starts_with("search step "))
            .count();
        if quiet {
            assert_eq!(lines, 0, "{stdout}");
        } else {
            assert!(stdout.contains("search step 1/120 (1%"), "{stdout}");
            assert!(stdout.contains("search step 120/120 (100%"), "{stdout}");
        }
        let manifest = std::fs::read_to_string(out.join("bundle/manifest.json")).unwrap();
        assert!(
            !manifest.contains(out.to_str().unwrap()) && !manifest.contains("--out"),
            "{manifest}"
        );
        let hash = stdout.split("(sha256 ").nth(1).unwrap()[..16].to_string();
        hashes.push(hash);
    }
    assert_eq!(hashes[0], hashes[1]);
}

#[test]
fn bad_input_gets_a_named_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let out = out.to_str().unwrap();
    let bad = tmp.path().join("bad.csv");
    let bad_s = bad.to_str().unwrap();
    let search_csv = |csv_body: &str, extra: &[&str]| {
        std::fs::write(&bad, csv_body).unwrap();
        let mut args = vec![
            "search", "--csv", bad_s, "--target", "100", "--out", out, "--quiet",
        ];
        args.extend_from_slice(extra);
        let Run { ok, stderr, .. } = run(TABNAS, &args);
        assert!(!ok, "should fail: {csv_body:?}");
        stderr
    };
    let e = search_csv("", &[]);
    assert!(e.contains("bad.csv") && e.contains("empty"), "{e}");
    let e = search_csv("1,2,3\n0,4,5\n1,6\n", &[]);
    assert!(e.contains("bad.csv:3: expected 3 fields, found 2"), "{e}");
    let e = search_csv("1,2\n0,3\n2,4\n", &[]);
    assert!(e.contains("bad.csv") && e.contains("label"), "{e}");
    let e = search_csv("1,2\n0,x\n", &[]);
    assert!(e.contains("bad.csv:2"), "{e}");
    let Run { ok, stderr: e, .. } = run(TABNAS, &["search", "--target", "100", "--out", out]);
    assert!(!ok && e.contains("no data"), "{e}");
    let Run { ok, stderr: e, .. } = run(
        TABNAS,
        &[
            "search",
            "--dataset",
            "higgs",
            "--data-dir",
            "/nonexistent",
            "--target",
            "100",
            "--out",
            out,
        ],
    );
    assert!(!ok && e.contains("scripts/fetch_data.py higgs"), "{e}");
    std::fs::write(&bad, "1,2\n0,3\n".repeat(10)).unwrap();
    let Run { ok, stderr: e, .. } = run(
        TABNAS,
        &[
            "search", "--csv", bad_s, "--space", "4,0", "--target", "100", "--out", out,
        ],
    );
    assert!(!ok && e.contains("at least 1"), "{e}");
    let Run { ok, stderr: e, .. } = run(
        TABNAS,
        &[
            "search", "--csv", bad_s, "--target", "-3", "--out", out, "--quiet",
        ],
    );
    assert!(!ok && e.contains("target"), "{e}");
    let Run { ok, stderr: e, .. } = run(
        TABNAS,
        &[
            "export",
            "--bundle",
            tmp.path().to_str().unwrap(),
            "--out",
            out,
        ],
    );
    assert!(!ok && e.contains("manifest.json"), "{e}");
}

/// A target that no architecture of the space meets: the run is written for inspection
/// (result.json with `feasible: false`, trace.svg, the bundle), then the command fails
/// with exit status 1, naming the target and the smallest architecture's cost.
#[test]
fn an_unreachable_target_writes_the_run_then_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("rows.csv");
    write_csv(&csv);
    let out = tmp.path().join("run");
    let mut args = search_args(csv.to_str().unwrap(), out.to_str().unwrap());
    let at = args.iter().position(|a| *a == "--target").unwrap();
    args[at + 1] = "1";
    let at = args.iter().position(|a| *a == "--steps").unwrap();
    args[at + 1] = "30";
    let output = std::process::Command::new(TABNAS)
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // Dense input: 2 numeric + 1 categorical x 2 embedding values = 4; then 4 -> 2 -> 1.
    let smallest = (4 + 1) * 4 + (4 + 1) * 2 + (2 + 1);
    assert!(
        stderr.contains(&format!(
            "error: no architecture meets --target 1 (params): the smallest, [4, 2], costs \
             {smallest} params; raise --target to at least {smallest} or add smaller widths to \
             --space. Written anyway, for inspection: {} (feasible: false), trace.svg and the \
             bundle {}, whose supernet is valid for a search under another target",
            out.join("result.json").display(),
            out.join("bundle").display()
        )),
        "{stderr}"
    );
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["feasible"], false);
    assert_eq!(result["target"], 1.0);
    assert!(out.join("trace.svg").is_file());
    for f in ["supernet.onnx", "manifest.json", "valid.bin"] {
        assert!(out.join("bundle").join(f).is_file(), "bundle lacks {f}");
    }
}

/// Hostile files end in one short error naming the file and line, quickly and without
/// unbounded memory; a pipe of good rows is read as it streams.
#[test]
fn hostile_files_end_in_short_errors_and_pipes_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let out = out.to_str().unwrap();
    let fails = |args: &[&str]| {
        let mut all = vec!["search", "--target", "100", "--out", out, "--quiet"];
        all.extend_from_slice(args);
        let Run { ok, stderr, .. } = run(TABNAS, &all);
        assert!(!ok, "should fail: {args:?}");
        assert!(stderr.len() < 600, "{} bytes of error", stderr.len());
        stderr
    };
    for flag in ["--csv", "--criteo"] {
        let e = fails(&[flag, "/dev/zero"]);
        assert!(
            e.contains("/dev/zero:1: line longer than 1 MiB (1048576 bytes)"),
            "{e}"
        );
    }
    let bad = tmp.path().join("bad.csv");
    let bad_s = bad.to_str().unwrap();
    // A 10 MB field is a line too long; a 1 MB one is quoted in 80 characters.
    for (len, wanted) in [
        (10_000_000, "bad.csv:3: line longer than 1 MiB".to_string()),
        (
            1_000_000,
            format!(
                "bad.csv:3: field `c1`: `{}…` (1000000 characters) is not a finite number",
                "z".repeat(80)
            ),
        ),
    ] {
        std::fs::write(&bad, format!("1,2\n0,3\n1,{}\n", "z".repeat(len))).unwrap();
        let e = fails(&["--csv", bad_s]);
        assert!(e.contains(&wanted), "{e}");
    }
    // Feature columns with no value at all are named.
    std::fs::write(
        &bad,
        "a,b,y\n,?,0\n?,,1\n".to_string() + &",,0\n,,1\n".repeat(10),
    )
    .unwrap();
    let e = fails(&["--csv", bad_s, "--header", "--label", "y"]);
    assert!(
        e.contains("bad.csv: columns `a`, `b` have no value in any of the 22 rows"),
        "{e}"
    );
    // Good rows through a pipe, written while the search reads them.
    let csv = tmp.path().join("rows.csv");
    write_csv(&csv);
    let rows = std::fs::read(&csv).unwrap();
    let mut args = search_args("/dev/stdin", out);
    let at = args.iter().position(|a| *a == "--steps").unwrap();
    args[at + 1] = "20";
    let mut child = std::process::Command::new(TABNAS)
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for chunk in rows.chunks(1000) {
            stdin.write_all(chunk).unwrap();
        }
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
