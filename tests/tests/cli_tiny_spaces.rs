//! Spaces of any size from one architecture up work end to end through the two
//! commands a user runs: `tabnas search --space 8` (one architecture), `--space 8,16`
//! (two choices for one layer) and `--space 8;16` (two layers, one choice each) write a
//! run folder whose bundle `tabnas-agent search --bundle R/bundle --fake-latency` then
//! searches to a feasible answer from that space.
//!
//! The binaries belong to other packages of the workspace, so Cargo gives this test no
//! `CARGO_BIN_EXE_*` for them: it builds them once with the Cargo that runs it, into
//! the same target folder and profile (a no-op when they are up to date).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tabnas_test_support::{repo_root, run, Run};

/// `(tabnas, tabnas-agent)`, built for this test's profile.
fn binaries() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        // This test runs as TARGET/PROFILE/deps/cli_tiny_spaces-HASH.
        let exe = std::env::current_exe().expect("the test's own path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("a test binary lives in TARGET/PROFILE/deps");
        let target_dir = profile_dir.parent().expect("TARGET/PROFILE");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(repo_root())
            .args(["build", "--quiet"])
            .args(["-p", "tabnas-trainer", "--bin", "tabnas"])
            .args(["-p", "tabnas-agent", "--bin", "tabnas-agent"])
            .arg("--target-dir")
            .arg(target_dir);
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                build.arg("--release");
            }
            Some(other) => {
                build.args(["--profile", other]);
            }
        }
        let status = build
            .status()
            .unwrap_or_else(|e| panic!("cannot run cargo to build the binaries: {e}"));
        assert!(status.success(), "building tabnas and tabnas-agent failed");
        let exe = |name: &str| profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        (exe("tabnas"), exe("tabnas-agent"))
    })
}

fn write_csv(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(f, "x,z,y").unwrap();
    for r in 0..150u32 {
        let x = ((r * 29) % 83) as f32 / 8.3 - 5.0;
        let z = ((r * 11) % 17) as f32 - 8.0;
        writeln!(f, "{x},{z},{}", (x + 0.3 * z > 0.0) as u8).unwrap();
    }
}

fn json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn widths(v: &serde_json::Value) -> Vec<u64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not widths: {v}"))
        .iter()
        .map(|w| w.as_u64().unwrap())
        .collect()
}

#[test]
fn one_and_two_architecture_spaces_go_from_the_trainer_to_the_agent() {
    let (tabnas, agent) = binaries();
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("rows.csv");
    write_csv(&csv);
    for (space, archs) in [
        ("8", vec![vec![8]]),
        ("8,16", vec![vec![8], vec![16]]),
        ("8;16", vec![vec![8, 16]]),
    ] {
        let dir = tmp
            .path()
            .join(format!("space-{}", space.replace([',', ';'], "_")));
        let (r, r2) = (dir.join("R"), dir.join("R2"));
        let Run { ok, stdout, stderr } = run(
            tabnas.to_str().unwrap(),
            &[
                "search",
                "--csv",
                csv.to_str().unwrap(),
                "--header",
                "--label",
                "y",
                "--space",
                space,
                "--target",
                "1000",
                "--steps",
                "30",
                "--batch",
                "16",
                "--valid-batch",
                "16",
                "--out",
                r.to_str().unwrap(),
                "--quiet",
            ],
        );
        assert!(ok, "tabnas search --space {space}: {stderr}");
        assert!(stdout.contains("feasible"), "{space}: {stdout}");
        let found = widths(&json(&r.join("result.json"))["architecture"]);
        assert!(archs.contains(&found), "{space}: found {found:?}");
        let manifest = json(&r.join("bundle/manifest.json"));
        let layers = manifest["space"].as_array().unwrap().len();
        assert_eq!(layers, archs[0].len(), "{space}");

        let Run { ok, stdout, stderr } = run(
            agent.to_str().unwrap(),
            &[
                "search",
                "--bundle",
                r.join("bundle").to_str().unwrap(),
                "--fake-latency",
                "--steps",
                "20",
                "--out",
                r2.to_str().unwrap(),
                "--quiet",
            ],
        );
        assert!(
            ok,
            "tabnas-agent search on the --space {space} bundle: {stderr}"
        );
        let result = json(&r2.join("result.json"));
        assert_eq!(result["feasible"], true, "{space}: {stdout}");
        let best = widths(&result["architecture"]);
        assert!(archs.contains(&best), "{space}: agent chose {best:?}");
        assert!(r2.join("best.onnx").is_file(), "{space}");
    }
}
