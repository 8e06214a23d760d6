//! The `tabnas toy` command as a user runs it: the three invocations of the issue, with
//! `--json`, and clear errors with a failing exit status on bad flags.

use tabnas_test_support::{run, Run};

const TABNAS: &str = env!("CARGO_BIN_EXE_tabnas");

fn final_counts(args: &[&str]) -> serde_json::Map<String, serde_json::Value> {
    let Run { ok, stdout, stderr } = run(TABNAS, args);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let counts = v["final"].as_object().expect("`final` object").clone();
    let total: u64 = counts.values().map(|c| c.as_u64().unwrap()).sum();
    assert_eq!(total, 100, "{stdout}");
    counts
}

fn count(m: &serde_json::Map<String, serde_json::Value>, arch: &str) -> u64 {
    m[arch].as_u64().unwrap()
}

#[test]
fn issue_invocations_print_final_architecture_counts() {
    let exact = final_counts(&[
        "toy",
        "--reward",
        "rejection",
        "--pv",
        "exact",
        "--seeds",
        "100",
        "--json",
    ]);
    assert!(count(&exact, "4-2") >= 55, "{exact:?}");
    let mc = final_counts(&[
        "toy",
        "--reward",
        "rejection",
        "--pv",
        "mc",
        "--n",
        "5",
        "--seeds",
        "100",
        "--json",
    ]);
    assert!(count(&mc, "4-2") >= 55, "{mc:?}");
    let abs = final_counts(&[
        "toy", "--reward", "abs", "--beta", "2", "--seeds", "100", "--json",
    ]);
    assert!(count(&abs, "3-3") >= 50, "{abs:?}");
}

#[test]
fn table_and_sweep_outputs() {
    let Run { ok, stdout, .. } = run(TABNAS, &["toy", "--seeds", "10"]);
    assert!(ok);
    assert!(stdout.contains("layer 1 = 4") && stdout.contains("ended on the optimum 4-2"));
    let Run { ok, stdout, stderr } = run(
        TABNAS,
        &[
            "toy", "--reward", "abs", "--sweep", "beta", "--values", "0,5", "--seeds", "5",
            "--json",
        ],
    );
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["sweep"], "beta");
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    assert!(v["rows"][1]["feasible_found"].as_f64().unwrap() <= 1.0);
}

#[test]
fn bad_flags_fail_with_a_named_error() {
    for (args, expect) in [
        (
            vec!["toy", "--reward", "rejection", "--beta", "1"],
            "--beta",
        ),
        (vec!["toy", "--pv", "mc", "--n", "0"], "at least one sample"),
        (vec!["toy", "--pv", "mc", "--n", "9999"], "buffer holds"),
        (vec!["toy", "--seeds", "0"], "--seeds"),
        (vec!["toy", "--values", "1,2"], "--values needs --sweep"),
        (vec!["toy", "--reward", "nonsense"], "invalid value"),
    ] {
        let Run { ok, stderr, .. } = run(TABNAS, &args);
        assert!(!ok, "{args:?} should fail");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
}
