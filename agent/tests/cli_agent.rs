//! The `tabnas-agent` binary as a user on a board runs it.

fn agent(args: &[&str]) -> (bool, String, String) {
    let r = tabnas_test_support::run(env!("CARGO_BIN_EXE_tabnas-agent"), args);
    (r.ok, r.stdout, r.stderr)
}

#[test]
fn toy_smoke_test_reports_a_feasible_architecture() {
    let (ok, stdout, stderr) = agent(&["toy", "--seed", "3"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("ended on") && stdout.contains("(feasible)"),
        "{stdout}"
    );
    let (ok, _, stderr) = agent(&["toy", "--n", "0"]);
    assert!(!ok && stderr.contains("at least one sample"), "{stderr}");
}

#[test]
fn search_config_round_trips_and_bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("criteo.cfg");
    let p = path.to_str().unwrap();
    let (ok, _, stderr) = agent(&["search-config", "example", "--out", p]);
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = agent(&["search-config", "show", p]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["target"], 41153.0);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&path, &bytes).unwrap();
    let (ok, _, stderr) = agent(&["search-config", "show", p]);
    assert!(
        !ok && stderr.contains("criteo.cfg") && stderr.contains("truncated"),
        "{stderr}"
    );
    let (ok, _, stderr) = agent(&["search-config", "show", "/nonexistent.cfg"]);
    assert!(
        !ok && stderr.contains("cannot read /nonexistent.cfg"),
        "{stderr}"
    );
}
