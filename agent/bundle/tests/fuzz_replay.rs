//! The fuzz targets' inputs in the ordinary test suite, without cargo-fuzz: every seed
//! (`fuzz/corpus/<target>/`) and every saved crash (`fuzz/regressions/<target>/`) goes
//! through the same code as the fuzz target (`fuzz/src/lib.rs`, compiled in here), and
//! must not panic. The committed seeds must be the ones the encoders produce today.
//!
//! Regenerate the seeds after a format change:
//! `cargo test -p tabnas-bundle --test fuzz_replay -- --ignored write_seeds`.

#[path = "../../../fuzz/src/lib.rs"]
mod fuzz;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted by name; none if it does not exist.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable input");
            (p, bytes)
        })
        .collect()
}

#[test]
fn seeds_and_regressions_replay_without_panics() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for target in fuzz::TARGETS {
        for kind in ["corpus", "regressions"] {
            for (path, bytes) in files(&fuzz_dir().join(kind).join(target)) {
                replayed += 1;
                if catch_unwind(AssertUnwindSafe(|| fuzz::run(target, &bytes))).is_err() {
                    failures.push(format!("{target}: {}", path.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "inputs that panic: {failures:#?}");
    assert!(
        replayed > 0,
        "no fuzz inputs under {}",
        fuzz_dir().display()
    );
}

#[test]
fn regressions_belong_to_targets() {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join("regressions")) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            path.is_dir() && fuzz::TARGETS.contains(&name),
            "{} is not a folder named after a fuzz target {:?}",
            path.display(),
            fuzz::TARGETS
        );
    }
}

#[test]
fn committed_seeds_are_the_encoders_output() {
    for target in fuzz::TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        let seeds = fuzz::seeds(target);
        assert!(
            seeds.iter().any(|s| s.accepted),
            "{target} has no valid seed"
        );
        for seed in &seeds {
            assert_eq!(
                fuzz::run(target, &seed.bytes),
                seed.accepted,
                "seed {target}/{} should be {}",
                seed.name,
                if seed.accepted { "accepted" } else { "refused" }
            );
            let committed = std::fs::read(dir.join(&seed.name)).unwrap_or_default();
            assert!(
                committed == seed.bytes,
                "fuzz/corpus/{target}/{} is stale; regenerate the seeds with \
                 `cargo test -p tabnas-bundle --test fuzz_replay -- --ignored write_seeds`",
                seed.name
            );
        }
        let names: Vec<String> = files(&dir)
            .into_iter()
            .filter_map(|(p, _)| Some(p.file_name()?.to_str()?.to_string()))
            .collect();
        for name in names {
            assert!(
                seeds.iter().any(|s| s.name == name),
                "fuzz/corpus/{target}/{name} is not a generated seed (grown corpora stay \
                 out of the repository; crashes go to fuzz/regressions/)"
            );
        }
    }
}

#[test]
#[ignore = "writes fuzz/corpus; run after a format change"]
fn write_seeds() {
    for target in fuzz::TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("old seeds removed");
        }
        std::fs::create_dir_all(&dir).expect("seed folder");
        for seed in fuzz::seeds(target) {
            std::fs::write(dir.join(&seed.name), &seed.bytes).expect("seed written");
        }
    }
}
