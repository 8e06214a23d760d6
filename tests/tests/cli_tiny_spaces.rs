//! Spaces of any size from one architecture up work end to end through the two
//! commands a user runs: `tabnas search --space 8` (one architecture), `--space 8,16`
//! (two choices for one layer) and `--space 8;16` (two layers, one choice each) write a
//! run folder whose bundle `tabnas-agent search --bundle R/bundle --fake-latency` then
//! searches to a feasible answer from that space.
//!
//! The binaries are built by [`binaries`] (the test support crate says how).

use std::path::Path;

use tabnas_test_support::{binaries, run, write_linear_csv, Run};

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
    write_linear_csv(&csv, 150);
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
