//! The service's answers without a transport: every request gets its response or the
//! error the protocol names, a search runs in the background and can be stopped
//! (checkpointed, with the phase saying so), and the table is measured once and reused.

use std::time::{Duration, Instant};

use tabnas_agent::profile::parse_profile;
use tabnas_agent::service::Service;
use tabnas_agent::{FakeProbe, LatencyProbe};
use tabnas_bundle::Bundle;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::formats::search_config::{Resource, SearchConfig};
use tabnas_core::protocol::{ErrorCode, Phase, Request, WireWidths};
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_link::{Reply, StartBody};

/// A probe that must not be used: it fails every load.
struct NoProbe;

impl LatencyProbe for NoProbe {
    fn load(
        &mut self,
        _: &tract_onnx::pb::ModelProto,
        _: tabnas_bundle::NetShape,
        _: usize,
    ) -> Result<tabnas_agent::NetId, tabnas_agent::probe::ProbeError> {
        Err(tabnas_agent::probe::ProbeError::NotLoaded)
    }
    fn time(
        &mut self,
        _: tabnas_agent::NetId,
        _: u32,
    ) -> Result<f64, tabnas_agent::probe::ProbeError> {
        Err(tabnas_agent::probe::ProbeError::NotLoaded)
    }
    fn clear(&mut self) {}
    fn runtime(&self) -> String {
        // The fake probe's, so that its saved table is this runtime's.
        FakeProbe::new(5.0, 0.001).runtime()
    }
}

fn service(dir: &std::path::Path) -> Service {
    service_with(dir, Box::new(FakeProbe::new(5.0, 0.001)))
}

fn service_with(dir: &std::path::Path, probe: tabnas_agent::service::SharedProbe) -> Service {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bundle = Bundle::load(&root.join("defaults/higgs-demo")).expect("demo bundle");
    let profile = parse_profile(
        "host.toml",
        &std::fs::read_to_string(root.join("defaults/host.toml")).unwrap(),
    )
    .unwrap();
    Service::new(bundle, profile, probe, dir)
}

fn code(r: Reply) -> ErrorCode {
    match r {
        Reply::Error { code, .. } => code,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn wait_until(s: &Service, done: impl Fn(Phase) -> bool) -> Phase {
    let started = Instant::now();
    loop {
        let phase = s.status().phase;
        if done(phase) {
            return phase;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "{phase:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn requests_before_after_and_during_a_search() {
    let tmp = tempfile::tempdir().unwrap();
    let s = service(tmp.path());
    let info = match s.answer(Request::Info) {
        Reply::Info(i) => i,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (info.board.as_str(), info.input_width, info.outputs),
        ("host", 28, 1)
    );
    assert_eq!(info.space.len(), 3);
    assert_eq!(s.status().phase, Phase::Idle);
    assert_eq!(code(s.answer(Request::Best)), ErrorCode::NoResult);
    assert_eq!(
        code(s.answer(Request::BestOnnx { offset: 0 })),
        ErrorCode::NoResult
    );
    let bad: WireWidths = [64, 33, 64].into_iter().collect();
    assert_eq!(
        code(s.answer(Request::Measure { widths: bad })),
        ErrorCode::BadRequest
    );
    assert_eq!(
        code(s.answer(Request::StartSearch { config: &[1, 2, 3] })),
        ErrorCode::BadRequest
    );
    // A configuration for another resource than latency is refused.
    let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
    let params = SearchConfig::criteo_example();
    let bytes = params.encode(&mut buf).unwrap().to_vec();
    assert_eq!(
        code(s.answer(Request::StartSearch { config: &bytes })),
        ErrorCode::BadRequest
    );

    // The table: not measured for an untrusted peer; measured on the first trusted
    // request, in chunks; read back from the run folder by a restarted agent.
    assert_eq!(
        code(s.answer_as(Request::LatencyTable { first: 0 }, false)),
        ErrorCode::NoResult
    );
    let first = match s.answer(Request::LatencyTable { first: 0 }) {
        Reply::TableChunk(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(first.total, 264);
    assert_eq!(first.entries.len(), 128);
    let t = s.table(false).unwrap();
    assert_eq!(&t.entries[..128], first.entries.as_slice());
    let restarted = service_with(tmp.path(), Box::new(NoProbe));
    assert_eq!(restarted.table(false).unwrap(), t);
    drop(restarted);
    assert_eq!(
        code(s.answer(Request::LatencyTable { first: 265 })),
        ErrorCode::BadRequest
    );
    let good: WireWidths = [64, 32, 64].into_iter().collect();
    match s.answer(Request::Measure {
        widths: good.clone(),
    }) {
        Reply::Measured { widths, record } => {
            assert_eq!(widths, good);
            assert!(record.latency_us > 5.0 && record.samples >= 5);
        }
        other => panic!("{other:?}"),
    }

    // A search from a packed configuration of the bundle's space, stopped at once.
    let space =
        Bundle::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("defaults/higgs-demo"))
            .unwrap()
            .manifest
            .search_space()
            .unwrap();
    let config = SearchConfig {
        space,
        resource: Resource::LatencyUs,
        target: 40.0,
        settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 64 }, 0.05),
        steps: 1_000_000,
        seed: 1,
    };
    config.validate(DEFAULT_MC_CAPACITY).unwrap();
    let bytes = config.encode(&mut buf).unwrap().to_vec();
    assert_eq!(
        s.answer(Request::StartSearch { config: &bytes }),
        Reply::Started { steps: 1_000_000 }
    );
    assert_eq!(
        code(s.answer(Request::StartSearch { config: &bytes })),
        ErrorCode::Busy
    );
    wait_until(&s, |p| p == Phase::Searching);
    assert!(matches!(s.answer(Request::Stop), Reply::Stopped { .. }));
    assert_eq!(wait_until(&s, |p| p != Phase::Searching), Phase::Stopped);
    assert!(tmp.path().join("search/checkpoint.json").exists());

    // A whole search from the profile's settings: its answer and its model.
    let options = s
        .options_for(&StartBody {
            steps: Some(300),
            ..StartBody::default()
        })
        .unwrap();
    assert_eq!(s.start(options).unwrap(), 300);
    assert_eq!(
        wait_until(&s, |p| p == Phase::Done || p == Phase::Failed),
        Phase::Done
    );
    let best = s.best().unwrap();
    let onnx = s.best_onnx().unwrap();
    assert_eq!(best.onnx_bytes as usize, onnx.len());
    assert!(best.record.is_some());
    let chunk = match s.answer(Request::BestOnnx { offset: 2048 }) {
        Reply::OnnxChunk {
            offset,
            total,
            bytes,
        } => (offset, total, bytes),
        other => panic!("{other:?}"),
    };
    assert_eq!(chunk.0, 2048);
    assert_eq!(chunk.1 as usize, onnx.len());
    assert_eq!(chunk.2, onnx[2048..4096]);
    // A restarted agent serves the same answer and model.
    drop(s);
    let s = service_with(tmp.path(), Box::new(NoProbe));
    assert_eq!(s.best().unwrap(), best);
    assert_eq!(s.best_onnx().unwrap(), onnx);
    // The earlier, stopped run was kept aside, not overwritten.
    assert!(std::fs::read_dir(tmp.path().join("search"))
        .unwrap()
        .any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("previous")));
}
