//! `tabnas search --out R` owns R: one run at a time (the error names the holder, a lock
//! left by a dead run is taken over with a note), earlier runs are moved to
//! `R/previous-N/` and never overwritten, and nothing is written through a link planted
//! in R. Bad flags and labels are refused, naming the flag or the file, before R is
//! touched.

use std::io::Write;
use std::path::Path;

use tabnas_bundle::files::{RunLock, LOCK_FILE};
use tabnas_test_support::{run, Run};

const TABNAS: &str = env!("CARGO_BIN_EXE_tabnas");

fn write_csv(path: &Path, label: impl Fn(u32, f32) -> String) {
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(f, "a,b,y").unwrap();
    for r in 0..120u32 {
        let a = ((r * 31) % 97) as f32 / 9.7 - 5.0;
        let b = ((r * 17) % 13) as f32 - 6.0;
        writeln!(f, "{a},{b},{}", label(r, a + b)).unwrap();
    }
}

fn search(csv: &Path, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "search",
        "--csv",
        csv.to_str().unwrap(),
        "--header",
        "--label",
        "y",
        "--space",
        "4,8",
        "--target",
        "1000",
        "--steps",
        "20",
        "--batch",
        "16",
        "--valid-batch",
        "16",
        "--pv",
        "exact",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run(TABNAS, &args)
}

fn good_csv(dir: &Path) -> std::path::PathBuf {
    let csv = dir.join("rows.csv");
    write_csv(&csv, |_, s| ((s > 0.0) as u8).to_string());
    csv
}

#[test]
fn earlier_runs_are_moved_to_previous_folders_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = good_csv(tmp.path());
    let out = tmp.path().join("R");
    let first = search(&csv, &out, &["--seed", "1"]);
    assert!(first.ok, "{}", first.stderr);
    assert!(!first.stdout.contains("previous-"), "{}", first.stdout);
    let first_result = std::fs::read(out.join("result.json")).unwrap();
    let first_onnx = std::fs::read(out.join("bundle/supernet.onnx")).unwrap();
    for (n, seed) in [(1, "2"), (2, "3")] {
        let again = search(&csv, &out, &["--seed", seed]);
        assert!(again.ok, "{}", again.stderr);
        let previous = out.join(format!("previous-{n}"));
        assert!(
            again.stdout.contains(&format!(
                "note: {} held an earlier run; moved its result.json, trace.svg, bundle to {}",
                out.display(),
                previous.display()
            )),
            "{}",
            again.stdout
        );
        for f in [
            "result.json",
            "trace.svg",
            "bundle/manifest.json",
            "bundle/valid.bin",
        ] {
            assert!(previous.join(f).is_file(), "previous-{n} lacks {f}");
        }
    }
    assert_eq!(
        std::fs::read(out.join("previous-1/result.json")).unwrap(),
        first_result
    );
    assert_eq!(
        std::fs::read(out.join("previous-1/bundle/supernet.onnx")).unwrap(),
        first_onnx
    );
    assert_ne!(
        std::fs::read(out.join("result.json")).unwrap(),
        first_result
    );
    // The lock file of a run that finished is empty: nothing to recover.
    assert_eq!(std::fs::read(out.join(LOCK_FILE)).unwrap(), b"");
}

#[cfg(unix)]
#[test]
fn links_planted_in_the_folder_are_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = good_csv(tmp.path());
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    let victim_dir = tmp.path().join("victim-dir");
    std::fs::create_dir(&victim_dir).unwrap();
    let out = tmp.path().join("R");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("result.json")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("trace.svg")).unwrap();
    std::os::unix::fs::symlink(&victim_dir, out.join("bundle")).unwrap();
    let r = search(&csv, &out, &[]);
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);
    for f in ["result.json", "trace.svg", "bundle"] {
        let meta = std::fs::symlink_metadata(out.join(f)).unwrap();
        assert!(!meta.file_type().is_symlink(), "{f} is still a link");
        // The planted links were moved aside as links.
        let moved = std::fs::symlink_metadata(out.join("previous-1").join(f)).unwrap();
        assert!(moved.file_type().is_symlink(), "{f}");
    }
    // A link in place of the lock file is refused, and its target left alone.
    let other = tmp.path().join("S");
    std::fs::create_dir(&other).unwrap();
    std::os::unix::fs::symlink(&victim, other.join(LOCK_FILE)).unwrap();
    let r = search(&csv, &other, &[]);
    assert!(!r.ok && r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    // `tabnas export --child` replaces its file, never writing through a link.
    let child = tmp.path().join("child.onnx");
    std::os::unix::fs::symlink(&victim, &child).unwrap();
    let bundle = out.join("bundle");
    let r = run(
        TABNAS,
        &[
            "export",
            "--bundle",
            bundle.to_str().unwrap(),
            "--child",
            "4",
            "--out",
            child.to_str().unwrap(),
        ],
    );
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert!(!std::fs::symlink_metadata(&child)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_held_folder_is_refused_naming_its_holder_and_a_dead_holder_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = good_csv(tmp.path());
    let out = tmp.path().join("R");
    std::fs::create_dir(&out).unwrap();
    let held = RunLock::acquire(&out, "tabnas search by the test").unwrap();
    let r = search(&csv, &out, &[]);
    assert!(!r.ok);
    assert!(
        r.stderr.contains("is in use by another run")
            && r.stderr.contains("tabnas search by the test")
            && r.stderr.contains(&format!("pid {}", std::process::id())),
        "{}",
        r.stderr
    );
    assert!(!out.join("result.json").exists());
    // `tabnas export` into a held folder is refused the same way.
    let r = run(
        TABNAS,
        &[
            "export",
            "--bundle",
            tmp.path().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!r.ok, "{}", r.stdout);
    drop(held);
    // What a run that was killed leaves: its note, without the lock.
    std::fs::write(out.join(LOCK_FILE), "pid 1 on board, tabnas search killed").unwrap();
    let r = search(&csv, &out, &[]);
    assert!(r.ok, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "note: {} was left locked by a run that did not finish (pid 1 on board, tabnas \
             search killed); taking it over",
            out.display()
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_labels_and_flags_are_named_before_the_folder_is_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let good = good_csv(tmp.path());
    let one = tmp.path().join("one.csv");
    write_csv(&one, |_, _| "yes".into());
    let out = tmp.path().join("R");
    let refused = |csv: &Path, extra: &[&str], wanted: &str| {
        let mut args = vec![
            "search",
            "--csv",
            csv.to_str().unwrap(),
            "--header",
            "--label",
            "y",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        if !extra.contains(&"--target") {
            args.extend(["--target", "1000"]);
        }
        args.extend_from_slice(extra);
        let r = run(TABNAS, &args);
        assert!(!r.ok, "{extra:?} should fail");
        assert!(r.stderr.contains(wanted), "{extra:?}: {}", r.stderr);
        assert!(!out.exists(), "{extra:?} touched the run folder");
    };
    refused(
        &one,
        &[],
        "one.csv: field `y`: a binary task needs at least 2 distinct labels, but every row has \
         `yes`",
    );
    refused(
        &one,
        &["--task", "multiclass"],
        "a multiclass task needs at least 2 distinct labels",
    );
    refused(
        &good,
        &["--batch", "0"],
        "--batch must be in 1..=65536, got 0",
    );
    refused(
        &good,
        &["--valid-batch", "70000"],
        "--valid-batch must be in 1..=65536",
    );
    refused(
        &good,
        &["--steps", "0"],
        "--steps must be in 1..=1000000, got 0",
    );
    refused(
        &good,
        &["--lr", "NaN"],
        "--lr must be a finite positive number at most 1",
    );
    refused(
        &good,
        &["--lr", "10"],
        "--lr must be a finite positive number at most 1",
    );
    refused(
        &good,
        &["--warmup", "1"],
        "--warmup must be a fraction in [0, 1)",
    );
    refused(
        &good,
        &["--target", "inf"],
        "--target must be a finite positive number",
    );
    refused(&good, &["--threads", "0"], "--threads must be in 1..=1024");
    refused(
        &good,
        &["--rl-lr", "1e9"],
        "--rl-lr must be a finite positive number",
    );
    refused(
        &good,
        &["--buckets", "4294967295"],
        "--buckets must be in 2..=16777216",
    );
    refused(
        &good,
        &["--space", "4294967295"],
        "widths must be in 1..=65536",
    );
    refused(
        &good,
        &["--space", "65536;65536"],
        "at most 268435456 (2^28) are supported",
    );
    refused(
        &good,
        &["--space", "4096", "--batch", "65536"],
        "use a smaller batch",
    );
    refused(&good, &["--space", ""], "no widths given");
    refused(
        &good,
        &["--reference", "65536-65536"],
        "--reference \"65536-65536\": the supernet would have",
    );
    refused(
        &good,
        &["--widths", "8", "--layers", "99999999999"],
        "--layers must be in 1..=8",
    );
}
