//! The wire protocol against a second implementation written from `docs/protocol.md`
//! alone (`tests/python/tabnas_protocol.py`, Python's standard library): every request
//! and response the Rust side frames is read there to the same values, and every request
//! the Python side frames is read here to the same request. Needs `python3` on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use tabnas_core::protocol::frame::{encode, read_content};
use tabnas_core::protocol::*;

fn peer() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/tabnas_protocol.py")
}

fn python(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(peer())
        .args(args)
        .output()
        .expect("python3 on PATH runs the second implementation");
    assert!(
        out.status.success(),
        "tabnas_protocol.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn frame<T: serde::Serialize>(id: u32, message: &T) -> Vec<u8> {
    let mut buf = [0u8; MAX_ENCODED_FRAME_LEN];
    let n = encode(id, message, &mut buf).expect("frame encodes");
    buf[..n].to_vec()
}

/// Writes the frames to one stream file and returns what the Python peer read from it.
fn python_reads(kind: &str, frames: &[Vec<u8>]) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("{kind}s.bin"));
    std::fs::write(&path, frames.concat()).expect("stream written");
    python(&["decode", kind, path.to_str().expect("UTF-8 path")])
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn widths(w: &[u16]) -> WireWidths {
    WireWidths::from_slice(w).expect("few layers")
}

#[test]
fn python_reads_every_request_rust_frames() {
    let config = [9u8, 8, 7];
    let requests = [
        Request::Status,
        Request::Best,
        Request::BestOnnx { offset: 70_000 },
        Request::LatencyTable { first: 300 },
        Request::Measure {
            widths: widths(&[512, 8, 1]),
        },
        Request::StartSearch { config: &config },
        Request::Stop,
        Request::Info,
    ];
    let frames: Vec<_> = (10..).zip(&requests).map(|(id, r)| frame(id, r)).collect();
    let expected = [
        json!("Status"),
        json!("Best"),
        json!({"BestOnnx": {"offset": 70000}}),
        json!({"LatencyTable": {"first": 300}}),
        json!({"Measure": {"widths": [512, 8, 1]}}),
        json!({"StartSearch": {"config": [9, 8, 7]}}),
        json!("Stop"),
        json!("Info"),
    ];
    let got = python_reads("request", &frames);
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for ((g, e), id) in got.iter().zip(&expected).zip(10..) {
        assert_eq!(g["id"], json!(id));
        assert_eq!(&g["message"], e);
    }
}

#[test]
fn python_reads_every_response_rust_frames() {
    let summary = BestSummary {
        widths: widths(&[64, 32]),
        latency_us: 12.5,
        validation_loss: 0.25,
    };
    let record = MeasurementRecord {
        latency_us: 13.0,
        samples: 300,
        cv: 0.5,
    };
    let onnx: Vec<u8> = (0..=255).collect();
    let entries = [
        TableEntry {
            block: 0,
            in_choice: 0,
            out_choice: 3,
            latency_us: 1.5,
        },
        TableEntry {
            block: 2,
            in_choice: 1,
            out_choice: 0,
            latency_us: 0.75,
        },
    ];
    let responses = [
        Response::Status(Status {
            phase: Phase::Verifying,
            step: 1000,
            steps: 1000,
            target_us: 40.0,
            best: Some(summary.clone()),
        }),
        Response::Status(Status {
            phase: Phase::Idle,
            step: 0,
            steps: 0,
            target_us: 0.0,
            best: None,
        }),
        Response::Best(Best {
            summary: summary.clone(),
            record: Some(record),
            onnx_bytes: 256,
        }),
        Response::Best(Best {
            summary,
            record: None,
            onnx_bytes: 0,
        }),
        Response::OnnxChunk {
            offset: 256,
            total: 512,
            bytes: &onnx,
        },
        Response::TableChunk(TableChunk {
            first: 4,
            total: 6,
            overhead_us: 2.0,
            scale: 1.25,
            offset_us: -0.5,
            entries: entries[..].try_into().expect("two entries"),
        }),
        Response::Measured {
            widths: widths(&[8]),
            record,
        },
        Response::Started { steps: 70_000 },
        Response::Stopped { step: 12 },
        Response::Error {
            code: ErrorCode::BadRequest,
            detail: "widths not in the space".try_into().expect("short"),
        },
        Response::Info(BoardInfo {
            board: "raspberry-pi-4".try_into().expect("short"),
            runtime: "tract-onnx 0.23.9".try_into().expect("short"),
            bundle: "0123456789abcdef".try_into().expect("short"),
            input_width: 1027,
            outputs: 1,
            space: [
                LayerChoices::from_slice(&[512, 256]).expect("few"),
                LayerChoices::from_slice(&[8]).expect("few"),
            ]
            .into_iter()
            .collect(),
        }),
    ];
    let frames: Vec<_> = (1..).zip(&responses).map(|(id, r)| frame(id, r)).collect();
    let summary_json = json!({"widths": [64, 32], "latency_us": 12.5, "validation_loss": 0.25});
    let record_json = json!({"latency_us": 13.0, "samples": 300, "cv": 0.5});
    let expected = [
        json!({"Status": {"phase": "Verifying", "step": 1000, "steps": 1000,
                          "target_us": 40.0, "best": summary_json}}),
        json!({"Status": {"phase": "Idle", "step": 0, "steps": 0, "target_us": 0.0,
                          "best": null}}),
        json!({"Best": {"summary": summary_json, "record": record_json, "onnx_bytes": 256}}),
        json!({"Best": {"summary": summary_json, "record": null, "onnx_bytes": 0}}),
        json!({"OnnxChunk": {"offset": 256, "total": 512, "bytes": onnx}}),
        json!({"TableChunk": {"first": 4, "total": 6, "overhead_us": 2.0, "scale": 1.25,
                              "offset_us": -0.5, "entries": [
            {"block": 0, "in_choice": 0, "out_choice": 3, "latency_us": 1.5},
            {"block": 2, "in_choice": 1, "out_choice": 0, "latency_us": 0.75}]}}),
        json!({"Measured": {"widths": [8], "record": record_json}}),
        json!({"Started": {"steps": 70000}}),
        json!({"Stopped": {"step": 12}}),
        json!({"Error": {"code": "BadRequest", "detail": "widths not in the space"}}),
        json!({"Info": {"board": "raspberry-pi-4", "runtime": "tract-onnx 0.23.9",
                        "bundle": "0123456789abcdef", "input_width": 1027, "outputs": 1,
                        "space": [[512, 256], [8]]}}),
    ];
    let got = python_reads("response", &frames);
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for ((g, e), id) in got.iter().zip(&expected).zip(1..) {
        assert_eq!(g["id"], json!(id));
        assert_eq!(&g["message"], e);
    }
}

#[test]
fn rust_reads_every_request_python_frames() {
    let dir = tempfile::tempdir().expect("temp dir");
    python(&["encode", dir.path().to_str().expect("UTF-8 path")]);
    let config = [9u8, 8, 7];
    let expected = [
        ("Status", 7, Request::Status),
        ("Best", 300, Request::Best),
        ("BestOnnx", 1, Request::BestOnnx { offset: 4096 }),
        ("LatencyTable", 2, Request::LatencyTable { first: 128 }),
        (
            "Measure",
            3,
            Request::Measure {
                widths: widths(&[64, 300]),
            },
        ),
        ("StartSearch", 4, Request::StartSearch { config: &config }),
        ("Stop", 5, Request::Stop),
        ("Info", 6, Request::Info),
    ];
    for (name, id, request) in expected {
        let bytes = std::fs::read(dir.path().join(format!("{name}.bin"))).expect(name);
        let mut reader = FrameReader::new();
        let mut read = 0;
        for (i, &b) in bytes.iter().enumerate() {
            match reader.push(b) {
                None => assert!(i + 1 < bytes.len(), "{name}: the frame ends with 0x00"),
                Some(Event::Frame(content)) => {
                    read += 1;
                    let got = read_content::<Request<'_>>(content);
                    assert_eq!(got, Ok((id, request.clone())), "{name}");
                }
                Some(Event::Dropped(e)) => panic!("{name}: dropped ({e})"),
            }
        }
        assert_eq!(read, 1, "{name}: one frame");
    }
}
