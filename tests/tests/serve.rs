//! `tabnas-agent serve` as users reach it: over a pseudo-terminal (the serial protocol)
//! and HTTP, with `tabnas device` and with hostile bytes; the OpenAPI document checked
//! against the running server; requests without the token change nothing; 8 clients
//! polling for 30 s during a search leave its answer equal to an unloaded run's; and a
//! hardware-in-the-loop `tabnas search --latency-from` against a served board.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tabnas_core::protocol::frame::{encode, read_content};
use tabnas_core::protocol::{Event, FrameReader, Request, Response};
use tabnas_test_support::{
    binaries, run, serve_agent as serve, write_linear_csv, write_token_file, Run, SLOW_PROFILE,
};

fn device(args: &[&str]) -> Run {
    let (tabnas, _) = binaries();
    let mut all = vec!["device"];
    all.extend_from_slice(args);
    run(tabnas.to_str().expect("UTF-8 path"), &all)
}

fn get(url: &str) -> (u16, Vec<u8>) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let r = agent.get(url).call().expect("the agent answers");
    let status = r.status().as_u16();
    let mut body = Vec::new();
    r.into_body()
        .into_reader()
        .read_to_end(&mut body)
        .expect("body");
    (status, body)
}

fn post(url: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut req = agent.post(url).header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let r = req.send(body).expect("the agent answers");
    let status = r.status().as_u16();
    let text = r.into_body().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

fn wait_done(url: &str) -> Value {
    let started = Instant::now();
    loop {
        let (_, body) = get(&format!("{url}/status"));
        let status = json(&body);
        match status["status"]["phase"].as_str() {
            Some("Done") => return status,
            Some("Failed") => panic!("the served search failed: {status}"),
            _ => {}
        }
        assert!(started.elapsed() < Duration::from_secs(600), "{status}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A small bundle trained on generated rows, space 8,16,32 x 2.
fn small_bundle(dir: &Path) -> (PathBuf, PathBuf) {
    let (tabnas, _) = binaries();
    let csv = dir.join("rows.csv");
    write_linear_csv(&csv, 300);
    let out = dir.join("trained");
    let Run { ok, stderr, .. } = run(
        tabnas.to_str().unwrap(),
        &[
            "search",
            "--csv",
            csv.to_str().unwrap(),
            "--header",
            "--label",
            "y",
            "--space",
            "8,16,32;8,16,32",
            "--target",
            "100000",
            "--steps",
            "40",
            "--batch",
            "32",
            "--valid-batch",
            "32",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(ok, "tabnas search: {stderr}");
    (csv, out.join("bundle"))
}

fn token_file(dir: &Path) -> (PathBuf, String) {
    let token = "test-token-0123456789abcdef";
    (write_token_file(dir, token), token.to_string())
}

fn frame(id: u32, r: &Request<'_>) -> Vec<u8> {
    let mut buf = [0u8; tabnas_core::protocol::MAX_ENCODED_FRAME_LEN];
    let n = encode(id, r, &mut buf).unwrap();
    buf[..n].to_vec()
}

/// Reads answers from `port` until `count` came or 10 s passed.
fn answers(port: &mut dyn serialport::SerialPort, count: usize) -> Vec<(u32, String)> {
    let mut reader = FrameReader::new();
    let mut got = Vec::new();
    let started = Instant::now();
    let mut buf = [0u8; 256];
    while got.len() < count && started.elapsed() < Duration::from_secs(10) {
        let n = match port.read(&mut buf) {
            Ok(n) => n,
            Err(_) => continue,
        };
        for &b in &buf[..n] {
            if let Some(Event::Frame(c)) = reader.push(b) {
                let (id, r): (u32, Response<'_>) = read_content(c).expect("a valid answer");
                let name = match r {
                    Response::Error { code, .. } => format!("{code:?}"),
                    Response::Status(_) => "Status".into(),
                    Response::Best(_) => "Best".into(),
                    other => format!("{other:?}"),
                };
                got.push((id, name));
            }
        }
    }
    got
}

#[test]
fn serial_and_http_serve_the_same_answer_and_survive_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, bundle) = small_bundle(tmp.path());
    let (token_path, token) = token_file(tmp.path());
    let served = serve(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--fake-latency",
        "--serial",
        "pty",
        "--token-file",
        token_path.to_str().unwrap(),
        "--start",
        "--run-dir",
        tmp.path().join("runs").to_str().unwrap(),
    ]);
    let url = served.url.clone();
    let pty = served.pty.clone().expect("a pty");
    wait_done(&url);

    // The same best architecture and ONNX over both transports.
    let http_best = device(&["--http", &url, "best"]);
    let serial_best = device(&["--serial", &pty, "best"]);
    assert!(
        http_best.ok && serial_best.ok,
        "{}{}",
        http_best.stderr,
        serial_best.stderr
    );
    assert_eq!(
        json(http_best.stdout.as_bytes()),
        json(serial_best.stdout.as_bytes())
    );
    let (a, b) = (tmp.path().join("a.onnx"), tmp.path().join("b.onnx"));
    assert!(device(&["--http", &url, "fetch-onnx", "--out", a.to_str().unwrap()]).ok);
    assert!(device(&["--serial", &pty, "fetch-onnx", "--out", b.to_str().unwrap()]).ok);
    let onnx = std::fs::read(&a).unwrap();
    assert!(onnx.len() > 1000);
    assert_eq!(onnx, std::fs::read(&b).unwrap());
    assert_eq!(get(&format!("{url}/best.onnx")).1, onnx);
    let table = device(&["--serial", &pty, "table"]);
    assert!(table.ok, "{}", table.stderr);
    assert_eq!(
        json(table.stdout.as_bytes()),
        json(&get(&format!("{url}/latency-table")).1)
    );

    // The second implementation (Python, from docs/protocol.md alone) asks the agent.
    let peer = Command::new("python3")
        .arg(tabnas_test_support::repo_root().join("tests/python/tabnas_protocol.py"))
        .args(["ask", &pty, "Info", "Best", "table"])
        .output()
        .expect("python3 runs the Python peer");
    assert!(
        peer.status.success(),
        "{}",
        String::from_utf8_lossy(&peer.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(peer.stdout)
        .unwrap()
        .lines()
        .map(|l| json(l.as_bytes()))
        .collect();
    assert_eq!(lines[0]["message"]["Info"]["board"], "host", "{lines:?}");
    let http_best = json(http_best.stdout.as_bytes());
    assert_eq!(
        lines[1]["message"]["Best"]["summary"]["widths"],
        http_best["summary"]["widths"]
    );
    assert_eq!(
        lines[2]["table"]["total"],
        json(&get(&format!("{url}/latency-table")).1)["total"]
    );

    // Hostile bytes on the serial line: each is answered or dropped, then service goes on.
    let mut port = serialport::new(&pty, 115_200)
        .timeout(Duration::from_millis(50))
        .open()
        .expect("the pty opens");
    port.write_all(&[0xff, 0x13, 0x00]).unwrap(); // not COBS
    port.write_all(&vec![0x07; 3000]).unwrap(); // oversized ...
    port.write_all(&[0x00]).unwrap(); // ... up to its delimiter
    let mut bad_version = frame(4, &Request::Status);
    bad_version[1] ^= 0x02;
    port.write_all(&bad_version).unwrap();
    let half = frame(5, &Request::Best);
    port.write_all(&half[..half.len() / 2]).unwrap(); // a peer vanishing mid-frame
    port.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    port.write_all(&frame(6, &Request::Status)).unwrap();
    port.write_all(&frame(7, &Request::Best)).unwrap();
    let got = answers(port.as_mut(), 5);
    let expected: Vec<(u32, String)> = [
        (0, "Malformed"),
        (0, "TooLarge"),
        (0, "UnknownVersion"),
        (6, "Status"),
        (7, "Best"),
    ]
    .iter()
    .map(|(i, n)| (*i, n.to_string()))
    .collect();
    assert_eq!(got, expected);
    drop(port);
    assert!(
        device(&["--serial", &pty, "status"]).ok,
        "serving after the attack"
    );

    // Without the token, nothing changes; with it, a measurement is made.
    let (_, before) = get(&format!("{url}/status"));
    for (path, body) in [
        ("stop", "{}"),
        ("search", "{}"),
        ("measure", r#"{"widths":[8,8]}"#),
    ] {
        for t in [None, Some("wrong-token-0123456789")] {
            let (status, answer) = post(&format!("{url}/{path}"), t, body.as_bytes());
            assert_eq!(status, 401, "{path}: {answer}");
        }
    }
    let no_token = device(&["--http", &url, "stop"]);
    assert!(
        !no_token.ok && no_token.stderr.contains("401"),
        "{}",
        no_token.stderr
    );
    assert_eq!(json(&get(&format!("{url}/status")).1), json(&before));
    let (status, answer) = post(
        &format!("{url}/measure"),
        Some(&token),
        br#"{"widths":[8,16]}"#,
    );
    assert_eq!(status, 200, "{answer}");
    assert!(answer["record"]["latency_us"].as_f64().unwrap() > 0.0);
    let (status, answer) = post(
        &format!("{url}/measure"),
        Some(&token),
        br#"{"widths":[9,16]}"#,
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("not in the space"),
        "{answer}"
    );
    let (status, answer) = post(&format!("{url}/measure"), Some(&token), b"{\"widths\":");
    assert_eq!(status, 400, "{answer}");
    assert_eq!(get(&format!("{url}/nothing-here")).0, 404);

    // The OpenAPI document against the server: every GET answers with a documented
    // status and JSON bodies carry the documented required fields.
    let doc = json(&get(&format!("{url}/openapi.json")).1);
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let Some(op) = ops.get("get") else { continue };
        let (status, body) = get(&format!("{url}{path}"));
        let documented = &op["responses"][status.to_string()];
        assert!(
            documented.is_object(),
            "GET {path}: undocumented status {status}"
        );
        let Some(schema) = documented["content"]["application/json"]["schema"].as_object() else {
            continue;
        };
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => Value::Object(schema.clone()),
        };
        let body = json(&body);
        for field in schema["required"].as_array().into_iter().flatten() {
            let field = field.as_str().unwrap();
            assert!(
                body.get(field).is_some(),
                "GET {path}: no `{field}` in {body}"
            );
        }
    }
}

/// Steps of the load test's search: far more than 30 s of them on any machine we use
/// (30,000 once ended within the 30 s on an idle 2-core machine).
const LOAD_STEPS: &str = "200000";

#[test]
fn eight_clients_polling_for_30_s_leave_the_answer_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, agent) = binaries();
    let profile = tmp.path().join("slow.toml");
    std::fs::write(&profile, SLOW_PROFILE).unwrap();
    // The unloaded run, in parallel with the loaded one (no HTTP load on it; sharing the
    // CPU changes its time, not its answer).
    let unloaded = tmp.path().join("unloaded");
    let unloaded_run = {
        let (agent, profile, unloaded) = (agent.clone(), profile.clone(), unloaded.clone());
        std::thread::spawn(move || {
            run(
                agent.to_str().unwrap(),
                &[
                    "search",
                    "--profile",
                    profile.to_str().unwrap(),
                    "--fake-latency",
                    "--steps",
                    LOAD_STEPS,
                    "--seed",
                    "3",
                    "--out",
                    unloaded.to_str().unwrap(),
                    "--quiet",
                ],
            )
        })
    };

    let (token_path, token) = token_file(tmp.path());
    let served = serve(&[
        "--profile",
        profile.to_str().unwrap(),
        "--fake-latency",
        "--token-file",
        token_path.to_str().unwrap(),
        "--run-dir",
        tmp.path().join("runs").to_str().unwrap(),
    ]);
    let url = served.url.clone();
    let (status, answer) = post(
        &format!("{url}/search"),
        Some(&token),
        format!(r#"{{"steps": {LOAD_STEPS}, "seed": 3}}"#).as_bytes(),
    );
    assert_eq!(status, 202, "{answer}");
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let slowest_us = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..8)
        .map(|i| {
            let (url, stop, requests, errors, slowest_us) = (
                url.clone(),
                stop.clone(),
                requests.clone(),
                errors.clone(),
                slowest_us.clone(),
            );
            std::thread::spawn(move || {
                let paths = ["/status", "/trace", "/best", "/info"];
                let mut k = i;
                while !stop.load(Ordering::Relaxed) {
                    let path = paths[k % paths.len()];
                    k += 1;
                    let t = Instant::now();
                    let (status, body) = get(&format!("{url}{path}"));
                    slowest_us.fetch_max(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                    requests.fetch_add(1, Ordering::Relaxed);
                    // /best is 404 until a feasible child was evaluated; all else 200.
                    let ok = status == 200 || (path == "/best" && status == 404);
                    if !ok || serde_json::from_slice::<Value>(&body).is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(30));
    let at_30_s = json(&get(&format!("{url}/status")).1);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let n = requests.load(Ordering::Relaxed);
    eprintln!(
        "load test: 8 clients, 30 s, {n} requests ({:.0}/s), {} errors, slowest {:.1} ms; \
         the search at 30 s: {}",
        n as f64 / 30.0,
        errors.load(Ordering::Relaxed),
        slowest_us.load(Ordering::Relaxed) as f64 / 1e3,
        at_30_s["status"]
    );
    assert_ne!(
        at_30_s["status"]["phase"], "Done",
        "the search ended before the 30 s of polling; raise LOAD_STEPS"
    );
    assert_eq!(errors.load(Ordering::Relaxed), 0);
    assert!(n > 1000, "only {n} requests in 30 s");
    wait_done(&url);
    let Run { ok, stderr, .. } = unloaded_run.join().unwrap();
    assert!(ok, "{stderr}");
    let expected = json(&std::fs::read(unloaded.join("result.json")).unwrap());
    let best = json(&get(&format!("{url}/best")).1);
    let widths = |v: &Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        widths(&best["best"]["summary"]["widths"]),
        widths(&expected["architecture"])
    );
    let loss = best["best"]["summary"]["validation_loss"].as_f64().unwrap();
    assert!((loss - expected["validation_loss"].as_f64().unwrap()).abs() < 1e-6);
    // The served run's files hold the same answer.
    let served_result = json(&std::fs::read(tmp.path().join("runs/search/result.json")).unwrap());
    assert_eq!(served_result["architecture"], expected["architecture"]);
}

#[test]
fn hardware_in_the_loop_search_limits_the_boards_latency() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, bundle) = small_bundle(tmp.path());
    let (token_path, _) = token_file(tmp.path());
    let served = serve(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--fake-latency",
        "--token-file",
        token_path.to_str().unwrap(),
        "--run-dir",
        tmp.path().join("runs").to_str().unwrap(),
    ]);
    // Without the token, a table that is not measured yet is not measured now.
    let (status, answer) = get(&format!("{}/latency-table", served.url));
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&answer));
    assert!(String::from_utf8_lossy(&answer).contains("with the token"));
    let measured = device(&[
        "--http",
        &served.url,
        "--token-file",
        token_path.to_str().unwrap(),
        "table",
    ]);
    assert!(measured.ok, "{}", measured.stderr);
    let table = json(&get(&format!("{}/latency-table", served.url)).1);
    assert_eq!(table, json(measured.stdout.as_bytes()));
    assert!(table["total"].as_u64().unwrap() > 0);
    let (tabnas, _) = binaries();
    let search = |space: &str, target: &str, extra: &[&str], out: &Path| {
        let mut args = vec![
            "search",
            "--csv",
            csv.to_str().unwrap(),
            "--header",
            "--label",
            "y",
            "--space",
            space,
            "--latency-from",
            &served.url,
            "--target",
            target,
            "--steps",
            "60",
            "--batch",
            "32",
            "--valid-batch",
            "32",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        args.extend_from_slice(extra);
        run(tabnas.to_str().unwrap(), &args)
    };
    let token = ["--token-file", token_path.to_str().unwrap()];
    for (mode, extra, measurements) in [
        ("table", &[][..], table["total"].as_u64().unwrap()),
        (
            "measured",
            &["--latency-mode", "measured", token[0], token[1]][..],
            9,
        ),
    ] {
        let out = tmp.path().join(mode);
        let Run { ok, stdout, stderr } = search("8,16,32;8,16,32", "5.5", extra, &out);
        assert!(ok, "{mode}: {stdout}{stderr}");
        let result = json(&std::fs::read(out.join("result.json")).unwrap());
        assert_eq!(result["resource"], "latency-us");
        let source = &result["latency_source"];
        assert_eq!(source["board"], "host", "{source}");
        assert!(
            source["runtime"].as_str().unwrap().starts_with("fake"),
            "{source}"
        );
        assert_eq!(source["mode"], mode);
        assert_eq!(source["measurements"], measurements, "{source}");
        assert_eq!(source["device"].as_str().unwrap(), served.url);
        assert!(result["feasible"].as_bool().unwrap(), "{result}");
        assert!(result["cost"].as_f64().unwrap() <= 5.5, "{result}");
    }
    // Measuring on the board changes its state, so it needs the token.
    let Run { ok, stderr, .. } = search(
        "8,16,32;8,16,32",
        "5.5",
        &["--latency-mode", "measured"],
        &tmp.path().join("no-token"),
    );
    assert!(!ok && stderr.contains("401"), "{stderr}");
    // Another network than the board's is refused, naming both.
    let Run { ok, stderr, .. } = search("8,16;8,16", "5.5", &[], &tmp.path().join("other"));
    assert!(
        !ok && stderr.contains("the board (host) measures"),
        "{stderr}"
    );
}

#[test]
fn an_agent_without_a_token_refuses_every_change_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let served = serve(&[
        "--fake-latency",
        "--run-dir",
        tmp.path().join("runs").to_str().unwrap(),
    ]);
    for (path, body) in [
        ("stop", "{}"),
        ("search", "{}"),
        ("measure", r#"{"widths":[8,8,8]}"#),
    ] {
        for t in [None, Some("any-token-0123456789abcdef")] {
            let (status, answer) = post(&format!("{}/{path}", served.url), t, body.as_bytes());
            assert_eq!(status, 403, "{path}: {answer}");
            assert!(
                answer["error"].as_str().unwrap().contains("--token-file"),
                "{answer}"
            );
        }
    }
    let status = json(&get(&format!("{}/status", served.url)).1);
    assert_eq!(status["status"]["phase"], "Idle", "{status}");
    assert_eq!(status["searches"], 0);
}
