//! What each fuzz target does with its input, and the seed inputs of each target.
//!
//! The targets' bodies are [`formats`] and [`bundle`]; each fuzz target in
//! `fuzz_targets/` compiles the one it needs on its own (so the core targets do not link
//! tract, whose size would slow libFuzzer down). This library, with [`run`] and
//! [`seeds`], is compiled into `agent/bundle/tests/fuzz_replay.rs`, which replays every
//! committed seed (`fuzz/corpus/<target>/`) and every saved crash
//! (`fuzz/regressions/<target>/`) through the same functions in the ordinary test suite.
//! A target's function must not panic on any input: decoding may fail with a typed
//! error, and whatever decodes must satisfy the invariants asserted there (it re-encodes,
//! and the cheap functions derived from it neither panic nor overflow).

#[path = "bundle.rs"]
pub mod bundle;
#[path = "formats.rs"]
pub mod formats;
#[path = "http.rs"]
pub mod http;

use bundle::valid_manifests;
use tabnas_bundle::{
    build_model, encode_model, Dense, LossKind, Manifest, SupernetWeights, ValidSet,
};
use tabnas_core::cost::{FfnShape, NatsSizeMacs};
use tabnas_core::formats::board::{BoardSearch, BoardService};
use tabnas_core::formats::{BoardConfig, MeasurementProtocol, Resource, SearchConfig, Statistic};
use tabnas_core::reward::{QualityMap, Reward};
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_core::space::SearchSpace;

/// The fuzz targets, by name (`fuzz_targets/<name>.rs`, `fuzz/corpus/<name>/`).
pub const TARGETS: [&str; 7] = [
    "search_config",
    "board_config",
    "protocol_frame",
    "http_body",
    "manifest_json",
    "valid_bin",
    "bundle_bytes",
];

/// Runs `data` through the target called `target`; true if it was accepted (decoded
/// and checked).
///
/// # Panics
/// On an unknown target name, or where the target finds a bug.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "search_config" => formats::search_config(data),
        "board_config" => formats::board_config(data),
        "protocol_frame" => formats::protocol_frame(data),
        "http_body" => http::http_body(data),
        "manifest_json" => bundle::manifest_json(data),
        "valid_bin" => bundle::valid_bin(data),
        "bundle_bytes" => bundle::bundle_bytes(data),
        _ => panic!("unknown fuzz target {target:?}"),
    }
}

/// Joins three files into a `bundle_bytes` input (each of the first two under 64 KiB).
pub fn join_bundle(manifest: &[u8], onnx: &[u8], valid: &[u8]) -> Vec<u8> {
    let len = |b: &[u8]| u16::try_from(b.len()).expect("under 64 KiB").to_le_bytes();
    [&len(manifest)[..], &len(onnx), manifest, onnx, valid].concat()
}

/// Deterministic weights of the supernet of `m`.
pub fn small_weights(m: &Manifest) -> SupernetWeights {
    let mut k = 0.0f32;
    let mut next = || {
        k += 1.0;
        (k * 0.37).sin()
    };
    let emb = if m.inputs.categorical.is_empty() {
        0
    } else {
        m.inputs.embedding_rows() * m.inputs.embedding_dim as usize
    };
    SupernetWeights {
        embedding: (0..emb).map(|_| next()).collect(),
        layers: m
            .supernet_dims()
            .into_iter()
            .map(|(i, o)| Dense {
                inputs: i,
                outputs: o,
                weight: (0..i * o).map(|_| next()).collect(),
                bias: (0..o).map(|_| next()).collect(),
            })
            .collect(),
    }
}

/// Two (or three) validation rows that suit `m`.
pub fn small_valid(m: &Manifest, rows: usize) -> ValidSet {
    let n_num = m.inputs.numeric.len();
    let n_cat = m.inputs.categorical.len();
    ValidSet {
        rows,
        numeric: (0..rows * n_num).map(|i| i as f32 * 0.5 - 1.0).collect(),
        categorical: (0..rows * n_cat)
            .map(|i| (i as i64) % m.inputs.categorical[i % n_cat].buckets as i64)
            .collect(),
        labels: (0..rows)
            .map(|r| match m.task.loss {
                LossKind::MeanSquaredError => r as f32 * 1.5 - 0.25,
                _ => (r as u32 % m.task.outputs.max(2)) as f32,
            })
            .collect(),
    }
}

fn search_configs() -> Vec<(&'static str, SearchConfig)> {
    let criteo = SearchConfig::criteo_example();
    let toy = SearchConfig {
        space: SearchSpace::uniform(2, &[2, 3, 4]).expect("toy space"),
        resource: Resource::Flops(FfnShape {
            input: 2,
            output: 1,
            biases: true,
        }),
        target: 30.0,
        settings: SearchSettings {
            reward: Reward::Abs { beta: 2.0 },
            pv: PvMode::Exact,
            learning_rate: 0.1,
            baseline_momentum: 0.9,
            quality: QualityMap::NegLoss,
        },
        steps: 100,
        seed: 42,
    };
    let nats = SearchConfig {
        space: SearchSpace::uniform(5, &[8, 16, 24, 32, 40, 48, 56, 64]).expect("nats space"),
        resource: Resource::NatsMacs(NatsSizeMacs::CIFAR100),
        target: 1.2e8,
        settings: SearchSettings {
            reward: Reward::MnasSoft { beta: 0.07 },
            ..SearchSettings::rejection(PvMode::MonteCarlo { samples: 4096 }, 0.05)
        },
        steps: 500,
        seed: u64::MAX,
    };
    let latency = SearchConfig {
        space: SearchSpace::new(&[&[1], &[65_536, 7], &[100_000]]).expect("latency space"),
        resource: Resource::LatencyUs,
        target: 250.0,
        settings: SearchSettings {
            reward: Reward::MnasHard { beta: 0.5 },
            ..SearchSettings::rejection(PvMode::Exact, 1e-3)
        },
        steps: 1,
        seed: 1,
    };
    vec![
        ("criteo", criteo),
        ("toy-flops", toy),
        ("nats-macs", nats),
        ("latency", latency),
    ]
}

fn board_configs() -> Vec<(&'static str, BoardConfig)> {
    let mut host = BoardConfig {
        name: Default::default(),
        measurement: MeasurementProtocol::default(),
        search: BoardSearch {
            target_us: None,
            settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 256 }, 0.05),
            steps: 500,
            seed: 0,
            calibration_children: 24,
            checkpoint_every: 25,
            max_tightenings: 3,
            quality_batch: 256,
            quality_cache: 4096,
            max_model_error: 0.05,
            max_direct_children: 4096,
            candidates: 8,
        },
        service: BoardService {
            serial_port: None,
            baud: 115_200,
            http_listen: Default::default(),
        },
    };
    host.name.push_str("host").expect("short name");
    let listen = host.service.http_listen.insert(Default::default());
    listen.push_str("127.0.0.1:8080").expect("short address");
    let mut serial = host.clone();
    serial.name.clear();
    serial
        .name
        .push_str("beaglebone-black")
        .expect("short name");
    let port = serial.service.serial_port.insert(Default::default());
    port.push_str("/dev/ttyGS0").expect("short port");
    serial.service.http_listen = None;
    serial.measurement = MeasurementProtocol {
        statistic: Statistic::P95,
        pin_cpu: Some(3),
        threads: 2,
        batch: 16,
        ..MeasurementProtocol::default()
    };
    serial.search.target_us = tabnas_core::target::LatencyTarget::new(1500.0).ok();
    serial.search.settings = SearchSettings {
        reward: Reward::Abs { beta: 1.0 },
        ..SearchSettings::rejection(PvMode::Exact, 0.1)
    };
    vec![("host", host), ("serial", serial)]
}

/// One stream frame of every request and response.
fn protocol_frames() -> Vec<Vec<u8>> {
    use tabnas_core::protocol::frame::encode;
    use tabnas_core::protocol::*;
    let widths = WireWidths::from_slice(&[64, 32]).expect("two layers");
    let summary = BestSummary {
        widths: widths.clone(),
        latency_us: 12.5,
        validation_loss: 0.5,
    };
    let record = MeasurementRecord {
        latency_us: 12.5,
        samples: 30,
        cv: 0.1,
    };
    let mut config = [0u8; SearchConfig::MAX_ENCODED_LEN];
    let config = SearchConfig::criteo_example()
        .encode(&mut config)
        .expect("example encodes");
    let onnx = [7u8; 100];
    let entry = TableEntry {
        block: 0,
        in_choice: 0,
        out_choice: 1,
        latency_us: 3.0,
    };
    let requests = [
        Request::Status,
        Request::Best,
        Request::BestOnnx { offset: 100 },
        Request::LatencyTable { first: 0 },
        Request::Measure {
            widths: widths.clone(),
        },
        Request::StartSearch { config },
        Request::Stop,
    ];
    let responses = [
        Response::Status(Status {
            phase: Phase::Searching,
            step: 10,
            steps: 100,
            target_us: 40.0,
            best: Some(summary.clone()),
        }),
        Response::Best(Best {
            summary,
            record: Some(record),
            onnx_bytes: 100,
        }),
        Response::OnnxChunk {
            offset: 0,
            total: 100,
            bytes: &onnx,
        },
        Response::TableChunk(TableChunk {
            first: 0,
            total: 1,
            overhead_us: 1.0,
            scale: 1.0,
            offset_us: 0.0,
            entries: [entry][..].try_into().expect("one entry"),
        }),
        Response::Measured { widths, record },
        Response::Started { steps: 100 },
        Response::Stopped { step: 5 },
        Response::Error {
            code: ErrorCode::Busy,
            detail: "a search runs".try_into().expect("short"),
        },
    ];
    let mut out = Vec::new();
    let mut buf = [0u8; MAX_ENCODED_FRAME_LEN];
    for (id, r) in (0..).zip(&requests) {
        let n = encode(id, r, &mut buf).expect("seed frame encodes");
        out.push(buf[..n].to_vec());
    }
    for (id, r) in (1000..).zip(&responses) {
        let n = encode(id, r, &mut buf).expect("seed frame encodes");
        out.push(buf[..n].to_vec());
    }
    out
}

/// One seed input of a target.
pub struct Seed {
    /// File name under `fuzz/corpus/<target>/`.
    pub name: String,
    /// The input.
    pub bytes: Vec<u8>,
    /// Whether the target accepts it (a valid encoding) or refuses it (a damaged one).
    pub accepted: bool,
}

fn seed(name: impl Into<String>, bytes: Vec<u8>, accepted: bool) -> Seed {
    Seed {
        name: name.into(),
        bytes,
        accepted,
    }
}

/// Seed inputs of `target`: valid encodings from the real encoders, and a few damaged
/// ones.
pub fn seeds(target: &str) -> Vec<Seed> {
    let mut out = Vec::new();
    match target {
        "search_config" => {
            let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
            for (name, c) in search_configs() {
                let bytes = c.encode(&mut buf).expect("seed encodes").to_vec();
                out.push(seed(format!("{name}.bin"), bytes, true));
            }
            let criteo = out[0].bytes.clone();
            out.extend(damaged(&criteo));
        }
        "board_config" => {
            let mut buf = [0u8; BoardConfig::MAX_ENCODED_LEN];
            for (name, c) in board_configs() {
                let bytes = c.encode(&mut buf).expect("seed encodes").to_vec();
                out.push(seed(format!("{name}.bin"), bytes, true));
            }
            let host = out[0].bytes.clone();
            out.extend(damaged(&host));
        }
        "protocol_frame" => {
            let mut stream = Vec::new();
            for (i, frame) in protocol_frames().into_iter().enumerate() {
                out.push(seed(format!("frame-{i}.bin"), frame.clone(), true));
                stream.extend(frame);
            }
            out.push(seed("all-frames.bin", stream.clone(), true));
            // Not COBS, another version, then a frame cut before its end: nothing reads.
            let mut garbage = vec![0xff, 3, 0, 3, 9, 9, 0];
            let first = &out[0].bytes;
            garbage.extend(&first[..first.len() - 1]);
            out.push(seed("garbage-then-cut.bin", garbage, false));
        }
        "http_body" => {
            let bodies: [(&str, u8, &[u8], bool); 9] = [
                ("measure.json", 0, br#"{"widths": [64, 32, 16]}"#, true),
                ("measure-zero.json", 0, br#"{"widths": [0]}"#, false),
                ("measure-typo.json", 0, br#"{"width": [8]}"#, false),
                (
                    "search.json",
                    1,
                    br#"{"target_us": 40.5, "steps": 500, "seed": 3, "n": 0}"#,
                    true,
                ),
                ("search-empty.json", 1, b"", true),
                ("search-negative.json", 1, br#"{"target_us": -1}"#, false),
                ("device-http.txt", 2, b"http://127.0.0.1:8080/", true),
                ("device-serial.txt", 2, b"/dev/ttyACM0@921600", true),
                ("device-bad.txt", 2, b"/dev/ttyS0@fast", false),
            ];
            for (name, kind, body, accepted) in bodies {
                out.push(seed(name, [&[kind][..], body].concat(), accepted));
            }
        }
        "manifest_json" => {
            for (i, m) in valid_manifests().iter().enumerate() {
                let json = if i == 0 {
                    serde_json::to_vec_pretty(m)
                } else {
                    serde_json::to_vec(m)
                };
                let json = json.expect("seed serializes");
                out.push(seed(format!("manifest-{i}.json"), json, true));
            }
            let mut bad = valid_manifests()[1].clone();
            bad.graph.hidden.pop();
            let json = serde_json::to_vec(&bad).expect("seed serializes");
            out.push(seed("hidden-names-mismatch.json", json, false));
            let first = out[1].bytes.clone();
            out.push(seed(
                "truncated.json",
                first[..first.len() / 2].to_vec(),
                false,
            ));
        }
        "valid_bin" => {
            for (i, m) in valid_manifests().iter().enumerate() {
                let mut bytes = vec![i as u8];
                bytes.extend(small_valid(m, 2 + i).encode());
                out.push(seed(format!("valid-{i}.bin"), bytes, true));
            }
            let mut short = out[1].bytes.clone();
            short.truncate(short.len() - 3);
            out.push(seed("short.bin", short, false));
            // The first bucket id of the binary manifest's file (3 rows of 2 numeric
            // columns, then 3 buckets in the first categorical one), out of range.
            let mut bad_bucket = out[1].bytes.clone();
            bad_bucket[1 + 20 + 4 * 3 * 2] = 9;
            out.push(seed("bad-bucket.bin", bad_bucket, false));
        }
        "bundle_bytes" => {
            for (i, m) in valid_manifests().iter().enumerate() {
                let weights = small_weights(m);
                let onnx = encode_model(&build_model(m, &weights).expect("seed supernet"));
                let json = serde_json::to_vec(m).expect("seed serializes");
                let valid = small_valid(m, 2).encode();
                let bytes = join_bundle(&json, &onnx, &valid);
                out.push(seed(format!("bundle-{i}.bin"), bytes, true));
            }
            let mut cut = out[0].bytes.clone();
            cut.pop();
            out.push(seed("valid-cut.bin", cut, false));
        }
        _ => panic!("unknown fuzz target {target:?}"),
    }
    out
}

/// A wrong version byte, a cut, and a trailing byte.
fn damaged(good: &[u8]) -> Vec<Seed> {
    let mut version = good.to_vec();
    version[0] = version[0].wrapping_add(1);
    let mut trailing = good.to_vec();
    trailing.push(0);
    vec![
        seed("wrong-version.bin", version, false),
        seed("cut.bin", good[..good.len() / 2].to_vec(), false),
        seed("trailing.bin", trailing, false),
    ]
}
