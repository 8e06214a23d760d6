//! `tabnas-agent search | measure | config` as a user runs them: a killed search resumed
//! ends where an uninterrupted one ends; bad bundles and profiles get named errors.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn agent(args: &[&str]) -> (bool, String, String) {
    let r = tabnas_test_support::run(env!("CARGO_BIN_EXE_tabnas-agent"), args);
    (r.ok, r.stdout, r.stderr)
}

fn result(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("result.json")).unwrap()).unwrap()
}

fn checkpoint_step(dir: &Path) -> Option<(u64, bool)> {
    let bytes = std::fs::read(dir.join("checkpoint.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some((v["step"].as_u64()?, v["done"].as_bool()?))
}

/// Kills a search with SIGKILL after its first checkpoints, resumes it, and compares with
/// an uninterrupted run of the same seed (fake latency, so every number is exact).
#[test]
fn a_killed_search_resumes_to_the_uninterrupted_result() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let args = |out: &Path, steps: &str| {
        vec![
            "search".to_string(),
            "--fake-latency".into(),
            "--target-us".into(),
            "10".into(),
            "--steps".into(),
            steps.into(),
            "--seed".into(),
            "3".into(),
            "--out".into(),
            out.display().to_string(),
            "--quiet".into(),
        ]
    };
    let mut killed_at = None;
    for (attempt, steps) in ["20000", "60000", "150000"].into_iter().enumerate() {
        let part = tmp.path().join(format!("part{attempt}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_tabnas-agent"))
            .args(args(&part, steps))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Some((step, false)) = checkpoint_step(&part) {
                if step >= 200 {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        match checkpoint_step(&part) {
            // Killed mid-way only if the answer was not written yet (checkpoints are at
            // most once a second, so a short search may reach its last step first).
            Some((step, false)) if !part.join("result.json").exists() => {
                killed_at = Some((part, steps, step));
                break;
            }
            _ => continue, // finished before the kill: try a longer search
        }
    }
    let (part, steps, step) = killed_at.expect("could not kill a search mid-way");
    assert!(!part.join("result.json").exists());
    let (ok, stdout, stderr) = agent(
        &args(&part, steps)
            .iter()
            .map(|s| s.as_str())
            .chain(["--resume"])
            .collect::<Vec<_>>(),
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(&format!("resuming at step {step}")),
        "{stdout}"
    );
    let (ok, _, stderr) = agent(
        &args(&whole, steps)
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
    );
    assert!(ok, "{stderr}");
    let (a, b) = (result(&whole), result(&part));
    for key in [
        "architecture",
        "latency_us",
        "validation_loss",
        "probability",
        "trace",
        "steps",
    ] {
        assert_eq!(a[key], b[key], "{key} differs after resume");
    }
}

#[test]
fn bad_bundles_and_profiles_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let out = out.to_str().unwrap();
    let (ok, _, e) = agent(&["search", "--bundle", "/nonexistent/bundle", "--out", out]);
    assert!(
        !ok && e.contains("/nonexistent/bundle/manifest.json"),
        "{e}"
    );
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[board]\nname = \"b\"\n[measurement]\nrepeets = 3\n").unwrap();
    let (ok, _, e) = agent(&["search", "--profile", bad.to_str().unwrap(), "--out", out]);
    assert!(
        !ok && e.contains("bad.toml") && e.contains("repeets"),
        "{e}"
    );
    std::fs::write(
        &bad,
        "[board]\nname = \"b\"\n[measurement]\nrepeats = 5\nmin_repeats = 9\n",
    )
    .unwrap();
    let (ok, _, e) = agent(&["config", "pack", bad.to_str().unwrap(), "--out", out]);
    assert!(!ok && e.contains("measurement.min_repeats"), "{e}");
    let packed = tmp.path().join("board.bin");
    std::fs::write(&packed, [1u8, 200, 3]).unwrap();
    let (ok, _, e) = agent(&["config", "show", packed.to_str().unwrap()]);
    assert!(
        !ok && e.contains("board.bin is not a usable packed board profile"),
        "{e}"
    );
    let (ok, _, e) = agent(&["search", "--fake-latency", "--target-us", "1", "--out", out]);
    assert!(!ok && e.contains("fastest achievable"), "{e}");
    let empty = tmp.path().join("empty");
    let (ok, _, e) = agent(&[
        "search",
        "--fake-latency",
        "--out",
        empty.to_str().unwrap(),
        "--resume",
    ]);
    assert!(!ok && e.contains("has no checkpoint"), "{e}");
    let (ok, _, e) = agent(&["measure", "--fake-latency", "--widths", "8-9-8"]);
    assert!(!ok && e.contains("layer 2 can be one of"), "{e}");
}

#[test]
fn profiles_pack_and_show_through_the_core_decoder() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in ["host", "raspberry-pi-4", "beaglebone-black"] {
        let toml = repo.join(format!("firmware-config/{name}.toml"));
        let bin = tmp.path().join(format!("{name}.bin"));
        let (ok, stdout, e) = agent(&[
            "config",
            "pack",
            toml.to_str().unwrap(),
            "--out",
            bin.to_str().unwrap(),
        ]);
        assert!(ok, "{e}");
        assert!(stdout.contains(name), "{stdout}");
        let (ok, from_bin, e) = agent(&["config", "show", bin.to_str().unwrap()]);
        assert!(ok, "{e}");
        let (ok, from_toml, _) = agent(&["config", "show", toml.to_str().unwrap()]);
        assert!(ok);
        assert_eq!(from_bin, from_toml);
        // A packed profile drives a search like its TOML (the board profiles pin CPUs
        // that this machine may not have, so only the host profile runs here).
        if name != "host" {
            continue;
        }
        let (ok, _, e) = agent(&[
            "search",
            "--profile",
            bin.to_str().unwrap(),
            "--fake-latency",
            "--steps",
            "20",
            "--out",
            tmp.path().join(format!("run-{name}")).to_str().unwrap(),
            "--quiet",
        ]);
        assert!(ok, "{name}: {e}");
    }
}

#[test]
fn measure_times_one_child_and_decides_sequentially() {
    let (ok, out, e) = agent(&["measure", "--widths", "64-32-32"]);
    assert!(ok, "{e}");
    let json = out.split("\nnoise floor:").next().unwrap();
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["samples_us"].as_array().unwrap().len(), 30);
    assert!(v["calls_per_sample"].as_u64().unwrap() >= 1);
    assert!(out.contains("noise floor: "), "{out}");
    assert!(v["median_us"].as_f64().unwrap() > 0.0);
    let (ok, out, e) = agent(&[
        "measure",
        "--fake-latency",
        "--widths",
        "64-32-32",
        "--target-us",
        "100",
    ]);
    assert!(ok, "{e}");
    assert!(
        out.contains("is within the target 100 us")
            && out.contains("after 7 samples; the fixed protocol takes 30"),
        "{out}"
    );
    for bad in ["0", "-3", "NaN", "inf", "2e9", "fast"] {
        for args in [
            &["measure", "--widths", "64-32-32", "--target-us", bad][..],
            &["search", "--fake-latency", "--target-us", bad][..],
        ] {
            let (ok, _, e) = agent(args);
            let command = args[0];
            let e = e.replace("\n", " ");
            assert!(
                !ok && e.contains("'--target-us <TARGET_US>'")
                    && e.contains("a latency target must be a"),
                "{command} {bad}: {e}"
            );
        }
    }
}

/// Inputs a careless or hostile user gives: endless files are refused before they are
/// read whole, a profile is never packed over itself, a profile's beta reaches a
/// `--reward` flag, and a reader that closes stdout does not end a search.
#[test]
fn hostile_inputs_are_refused_or_survived() {
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (ok, _, e) = agent(&["config", "show", "/dev/zero"]);
    assert!(!ok && e.contains("at most 512 are read"), "{e}");
    let bundle = tmp.path().join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("defaults/higgs-demo");
    for f in ["supernet.onnx", "valid.bin"] {
        std::fs::copy(demo.join(f), bundle.join(f)).unwrap();
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink("/dev/zero", bundle.join("manifest.json")).unwrap();
    let (ok, _, e) = agent(&[
        "measure",
        "--fake-latency",
        "--bundle",
        bundle.to_str().unwrap(),
        "--widths",
        "8-8-8",
    ]);
    assert!(
        !ok && e.contains("manifest.json") && e.contains("read"),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "refused at once"
    );

    let toml = tmp.path().join("p.toml");
    std::fs::write(
        &toml,
        "[board]\nname = \"b\"\n[measurement]\nrepeats = 7\nwarmup_ms = 10\n[search]\n\
         reward = \"rejection\"\nbeta = 5.0\nmax_direct_children = 0\ncalibration_children = 12\n",
    )
    .unwrap();
    let (ok, _, e) = agent(&[
        "config",
        "pack",
        toml.to_str().unwrap(),
        "--out",
        toml.to_str().unwrap(),
    ]);
    assert!(!ok && e.contains("is the profile itself"), "{e}");
    assert!(std::fs::read_to_string(&toml)
        .unwrap()
        .contains("beta = 5.0"));

    // The profile's beta (5) is the strength of a penalty reward asked for by flag.
    let out = tmp.path().join("abs");
    let (ok, _, e) = agent(&[
        "search",
        "--fake-latency",
        "--profile",
        toml.to_str().unwrap(),
        "--reward",
        "abs",
        "--steps",
        "5",
        "--target-us",
        "20",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{e}");
    assert_eq!(result(&out)["settings"]["reward"]["Abs"]["beta"], 5.0);

    // stdout closed at once: the search still finishes and writes its result.
    let out = tmp.path().join("closed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tabnas-agent"))
        .args([
            "search",
            "--fake-latency",
            "--profile",
            toml.to_str().unwrap(),
            "--steps",
            "20",
            "--target-us",
            "12",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert!(child.wait().unwrap().success());
    assert!(out.join("result.json").exists());
}

/// `measure --table` measures at a run's reference speed, and refuses a table it cannot
/// use: a missing file, one that is not a table, one of another bundle.
#[test]
fn measure_at_a_tables_reference_speed() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let (ok, _, e) = agent(&[
        "search",
        "--fake-latency",
        "--quiet",
        "--steps",
        "20",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(ok, "{e}");
    let table = run.join("latency_table.json");
    let measure = |table: &Path| {
        agent(&[
            "measure",
            "--fake-latency",
            "--widths",
            "64-32-32",
            "--table",
            table.to_str().unwrap(),
        ])
    };
    let (ok, out, e) = measure(&table);
    assert!(ok, "{e}");
    assert!(
        out.contains(&format!("(from {})", table.display())),
        "{out}"
    );
    let (ok, _, e) = measure(&tmp.path().join("none.json"));
    assert!(!ok && e.contains("none.json: no such file"), "{e}");
    let (ok, _, e) = measure(&run.join("result.json"));
    assert!(!ok && e.contains("not a file this agent wrote"), "{e}");
    let mut other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&table).unwrap()).unwrap();
    other["bundle_hash"] = "0123abcd".into();
    let other_path = tmp.path().join("other.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let (ok, _, e) = measure(&other_path);
    assert!(
        !ok && e.contains("the table was measured for bundle 0123abcd"),
        "{e}"
    );
}
