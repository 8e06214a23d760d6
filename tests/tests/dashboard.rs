//! The agent's dashboard in headless Chromium (`tests/dashboard/drive.cjs`, driven with
//! playwright-core): the page loads on the idle agent and starts a search; while it runs
//! the page shows several controller steps,
//! the per-layer policy and the P(V) curve; at the end it shows the answer, the children
//! evaluated (predicted and measured) and the target line; the page logs no errors. The
//! answer on the page is the one `/best` reports. Needs Chromium and playwright-core
//! (`scripts/browser_deps.sh`, which the test command runs: it sets
//! `TABNAS_NODE_MODULES`); without them the test says so and passes, except under CI.

use std::process::Command;

use serde_json::Value;
use tabnas_test_support::{repo_root, serve_agent, under_ci, write_token_file, SLOW_PROFILE};

/// The agent's token in this test.
const TOKEN: &str = "dashboard-test-token-0123456789";

#[test]
fn the_dashboard_renders_updates_and_shows_the_answer() {
    let Some(modules) = std::env::var_os("TABNAS_NODE_MODULES") else {
        assert!(
            !under_ci(),
            "CI must set TABNAS_NODE_MODULES (scripts/browser_deps.sh)"
        );
        eprintln!("skipped: TABNAS_NODE_MODULES is not set (run scripts/browser_deps.sh)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let token = write_token_file(tmp.path(), TOKEN);
    // Every step evaluates its child, so the search lasts seconds, not a fraction of
    // one: the page sees it run.
    let profile = tmp.path().join("slow.toml");
    std::fs::write(&profile, SLOW_PROFILE).unwrap();
    let served = serve_agent(&[
        "--fake-latency",
        "--token-file",
        token.to_str().unwrap(),
        "--profile",
        profile.to_str().unwrap(),
        "--run-dir",
        tmp.path().join("runs").to_str().unwrap(),
    ]);
    let url = served.url.clone();
    let agent_http = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let shot = std::env::var_os("TABNAS_DASHBOARD_SHOT")
        .map(Into::into)
        .unwrap_or_else(|| tmp.path().join("dashboard.png"));
    let out = Command::new("node")
        .arg(repo_root().join("tests/dashboard/drive.cjs"))
        .arg(format!("{url}/"))
        .arg(&shot)
        .env("TABNAS_NODE_MODULES", modules)
        // The page starts the search once it shows the idle agent.
        .env("TABNAS_DASHBOARD_TOKEN", TOKEN)
        .env("TABNAS_DASHBOARD_STEPS", "4000")
        .output()
        .expect("node runs");
    let best: Value = serde_json::from_str(
        &agent_http
            .get(format!("{url}/best"))
            .call()
            .ok()
            .map(|r| r.into_body().read_to_string().unwrap())
            .unwrap_or_default(),
    )
    .unwrap_or(Value::Null);
    drop(served);
    assert!(
        out.status.success(),
        "drive.cjs: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    eprintln!("dashboard: {seen}");
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["idle"], "Idle", "{seen}");
    let running = &seen["running"];
    assert!(
        ["Searching", "Verifying"].contains(&running["phase"].as_str().unwrap()),
        "{seen}"
    );
    assert!(running["policyBars"].as_u64().unwrap() >= 3, "{seen}");
    let done = &seen["done"];
    assert_eq!(done["phase"], "Done", "{seen}");
    assert!(done["pvPaths"].as_u64().unwrap() >= 1, "{seen}");
    assert!(done["predicted"].as_u64().unwrap() >= 1, "{seen}");
    assert!(done["measured"].as_u64().unwrap() >= 1, "{seen}");
    assert_eq!(done["targetLine"], 1, "{seen}");
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot"
    );
    // The page's answer is the agent's.
    let widths: Vec<String> = best["best"]["summary"]["widths"]
        .as_array()
        .map(|a| a.iter().map(|w| w.to_string()).collect())
        .unwrap_or_default();
    let answer = done["answer"].as_str().unwrap();
    assert!(
        answer.starts_with(&format!("Answer: {} ", widths.join("-"))),
        "{answer} vs {best}"
    );
}
