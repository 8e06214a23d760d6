//! Crash safety of a run folder: a search killed with SIGKILL at seeded random instants
//! (while it loads, measures, cuts its trace back on resume, steps and checkpoints),
//! again and again, then resumed to the end, gives exactly the result of an
//! uninterrupted search with the same seed: the same answer and the same trace, byte for
//! byte. No attempt may fail by itself: every one either is killed or finishes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small measurement protocol so that the latency table is quick in a debug build;
/// the search itself is long enough to be killed mid-way many times.
const PROFILE: &str = r#"
[board]
name = "crash-test"
[measurement]
repeats = 7
min_repeats = 5
warmup = 3
warmup_ms = 10
[search]
max_direct_children = 0
calibration_children = 12
"#;

/// Steps of the search: a few seconds in either build, so that kills land before, at
/// and between checkpoints (at most one a second).
const STEPS: &str = if cfg!(debug_assertions) {
    "60000"
} else {
    "400000"
};

/// Kills that must land on a live process.
const KILLS: usize = 20;

fn args(profile: &Path, out: &Path) -> Vec<String> {
    [
        "search",
        "--profile",
        &profile.display().to_string(),
        "--fake-latency",
        "--target-us",
        "10",
        "--steps",
        STEPS,
        "--seed",
        "7",
        "--out",
        &out.display().to_string(),
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn agent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tabnas-agent"))
}

/// The parts of `result.json` that a seed fixes (timings and cache counts do not).
fn answer(dir: &Path) -> serde_json::Value {
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("result.json")).unwrap()).unwrap();
    let keys = [
        "architecture",
        "latency_us",
        "target_us",
        "validation_loss",
        "probability",
        "paper_answer",
        "candidates",
        "steps",
        "tightenings",
        "predicted_latency_us",
    ];
    serde_json::Value::Object(keys.iter().map(|k| (k.to_string(), r[k].clone())).collect())
}

/// The step of the run folder's checkpoint (0 without one).
fn checkpoint_step(dir: &Path) -> u64 {
    std::fs::read(dir.join("checkpoint.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["step"].as_u64())
        .unwrap_or(0)
}

/// xorshift64*: the kill instants, fixed by the seed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[test]
fn searches_killed_at_random_instants_resume_to_the_uninterrupted_result() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("crash.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    let whole = tmp.path().join("whole");
    let t0 = Instant::now();
    let out = agent().args(args(&profile, &whole)).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let whole_ms = t0.elapsed().as_millis() as u64;
    eprintln!("uninterrupted run: {:.1} s", whole_ms as f64 / 1e3);
    // Rounds of kills, each resumed to the end and compared, until enough kills landed
    // (a fast machine may finish a round by itself before its share of kills).
    let mut rng = 0x5EED_C0FF_EE00_0001u64;
    let mut kills = 0;
    let started = Instant::now();
    let mut round = 0;
    while kills < KILLS {
        round += 1;
        let crashed = tmp.path().join(format!("crashed{round}"));
        let (k, attempts) = kill_repeatedly(&profile, &crashed, KILLS - kills, whole_ms, &mut rng);
        kills += k;
        eprintln!(
            "round {round}: {k} kills in {attempts} attempts ({:.1} s so far); checkpoint at \
             step {}",
            started.elapsed().as_secs_f64(),
            checkpoint_step(&crashed)
        );
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "{kills} kills in 15 minutes"
        );
        resume_gives_the_whole_run(
            &profile,
            &crashed,
            &whole,
            &format!("round {round}, {k} kills"),
        );
        // A resume never moves the run aside, and no temporary is left behind.
        let names: Vec<String> = std::fs::read_dir(&crashed)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with("previous-") || n.ends_with(".tmp")),
            "{names:?}"
        );
    }
}

fn trace(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("trace.jsonl")).unwrap()
}

/// Starts (then resumes) the search in `crashed` and kills it at seeded instants, up to
/// `wanted` kills or until an attempt finishes the search; returns (kills, attempts).
/// `whole_ms` is how long an uninterrupted search took here.
fn kill_repeatedly(
    profile: &Path,
    crashed: &Path,
    wanted: usize,
    whole_ms: u64,
    rng: &mut u64,
) -> (usize, usize) {
    let mut kills = 0;
    let mut attempts = 0;
    while kills < wanted {
        attempts += 1;
        let stderr = crashed.with_extension(format!("attempt{attempts}.err"));
        let mut a = args(profile, crashed);
        // Once the run has taken its folder (the lock file exists), every attempt
        // resumes it; one killed before its first checkpoint starts over. An attempt
        // killed before it took the folder had not started: the next one starts afresh.
        if crashed.join(".tabnas.lock").exists() {
            a.push("--resume".into());
        }
        let mut child = agent()
            .args(&a)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        // One kill in four within the first 80 ms (start-up), the others anywhere in
        // the first third of an uninterrupted run's time (loading, the lock, cutting the
        // trace back, steps, checkpoints).
        let r = next(rng);
        let delay_ms = if r.is_multiple_of(4) {
            (r >> 8) % 80
        } else {
            (r >> 8) % (whole_ms / 3).max(500)
        };
        std::thread::sleep(Duration::from_millis(delay_ms));
        match child.try_wait().unwrap() {
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
            }
            Some(status) if status.success() => break,
            Some(status) => panic!(
                "attempt {attempts} failed by itself ({status}) after {kills} kills: {}",
                std::fs::read_to_string(&stderr).unwrap()
            ),
        }
    }
    (kills, attempts)
}

/// SIGTERM and SIGINT end a search with a final checkpoint at the step it stopped at and
/// one line saying so (exit status 128 + the signal's number, as a shell reports a
/// process that signal ended); the search resumed from there ends exactly where an
/// uninterrupted one does.
#[test]
fn sigterm_and_sigint_end_a_search_with_a_final_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("crash.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    let whole = tmp.path().join("whole");
    let out = agent().args(args(&profile, &whole)).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (signal, status) in [("TERM", 143), ("INT", 130)] {
        let dir = tmp.path().join(format!("sig{signal}"));
        let stderr = tmp.path().join(format!("sig{signal}.err"));
        let mut child = agent()
            .args(args(&profile, &dir))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        // Signalled once it has stepped (its first checkpoint is at step 0).
        let started = Instant::now();
        while std::fs::read(dir.join("trace.jsonl")).map_or(0, |t| t.len()) < 1000 {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no step in 120 s"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "the search ended early"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let sent = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let code = child.wait().unwrap().code();
        let text = std::fs::read_to_string(&stderr).unwrap();
        assert_eq!(code, Some(status), "SIG{signal}: {text}");
        let line = text.lines().last().unwrap_or_default();
        let prefix = format!("tabnas-agent: SIG{signal}: stopped at step ");
        let step: u64 = line
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("SIG{signal}: {text}"));
        assert!(
            line.ends_with(&format!(
                ", checkpoint saved in {d}; tabnas-agent search --resume --out {d} (with the \
                 same flags) continues it",
                d = dir.display()
            )),
            "{line}"
        );
        // The final checkpoint is at the step it stopped at: nothing was lost.
        assert_eq!(checkpoint_step(&dir), step, "SIG{signal}");
        let traced = std::fs::read_to_string(dir.join("trace.jsonl")).unwrap();
        assert_eq!(traced.lines().count() as u64, step, "SIG{signal}");
        resume_gives_the_whole_run(&profile, &dir, &whole, &format!("SIG{signal}"));
    }
}

/// Resumes the run in `dir` to its end; its answer and trace are those of the run that
/// was never stopped (`whole`).
fn resume_gives_the_whole_run(profile: &Path, dir: &Path, whole: &Path, what: &str) {
    let mut a = args(profile, dir);
    a.push("--resume".into());
    let out = agent().args(&a).output().unwrap();
    assert!(
        out.status.success(),
        "{what}: the resume failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(answer(dir), answer(whole), "{what}");
    assert!(trace(dir) == trace(whole), "{what}: the traces differ");
}
