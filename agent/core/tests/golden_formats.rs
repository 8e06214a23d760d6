//! Golden bytes of every packed format of the core: [`SearchConfig`] (one config per
//! [`Resource`] variant, plus the paper's Criteo example), [`BoardConfig`] and the
//! [`MeasurementProtocol`] it carries.
//!
//! **If a test here fails, you changed the wire format**: bump the type's
//! `FORMAT_VERSION`, update `docs/formats.md`, and only then regenerate the expected
//! bytes (`cargo test -p tabnas-core --test golden_formats -- --nocapture` prints what
//! the code now writes). The expected bytes were generated once from the code and checked
//! by hand against the layout: one version byte, then postcard (varint integers, f64
//! little-endian, enum variants as a varint tag, `Option` as 0/1 then the value, strings
//! and sequences as a varint length then the items).

use heapless::String;
use tabnas_core::cost::{FfnShape, NatsSizeMacs};
use tabnas_core::formats::board::{BoardConfig, BoardError, BoardSearch, BoardService};
use tabnas_core::formats::measurement::{MeasurementProtocol, Statistic};
use tabnas_core::formats::search_config::{ConfigError, Resource, SearchConfig};
use tabnas_core::reward::{QualityMap, Reward};
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_core::space::SearchSpace;

const MC_CAPACITY: usize = 4096;

/// `SearchConfig::criteo_example()`: version 1; space (3 layers of 20 varint widths);
/// `Params` (tag 0) with input 1027, output 1, biases; target 41153.0 (f64 LE); rejection
/// (tag 0), Monte Carlo (tag 1) N = 256, lr 0.05, momentum 0.9, `OneMinusLoss`; steps 2000;
/// seed 0.
const CRITEO: [u8; 135] = [
    0x01, 0x03, 0x14, 0x08, 0x10, 0x18, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x01, 0x90, 0x01,
    0xa0, 0x01, 0xb0, 0x01, 0xc0, 0x01, 0xd0, 0x01, 0xe0, 0x01, 0xf0, 0x01, 0x80, 0x02, 0x80, 0x03,
    0x80, 0x04, 0x14, 0x08, 0x10, 0x18, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x01, 0x90, 0x01,
    0xa0, 0x01, 0xb0, 0x01, 0xc0, 0x01, 0xd0, 0x01, 0xe0, 0x01, 0xf0, 0x01, 0x80, 0x02, 0x80, 0x03,
    0x80, 0x04, 0x14, 0x08, 0x10, 0x18, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x01, 0x90, 0x01,
    0xa0, 0x01, 0xb0, 0x01, 0xc0, 0x01, 0xd0, 0x01, 0xe0, 0x01, 0xf0, 0x01, 0x80, 0x02, 0x80, 0x03,
    0x80, 0x04, 0x00, 0x83, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x20, 0x18, 0xe4, 0x40, 0x00,
    0x01, 0x80, 0x02, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xa9, 0x3f, 0xcd, 0xcc, 0xcc, 0xcc, 0xcc,
    0xcc, 0xec, 0x3f, 0x00, 0xd0, 0x0f, 0x00,
];

/// [`params_config`]: `Params` (resource tag 0), exact P(V) (tag 0), `NegLoss`, seed
/// 0x0102030405060708 (a 9-byte varint).
const PARAMS: [u8; 49] = [
    0x01, 0x02, 0x02, 0x02, 0x03, 0x01, 0x04, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x4a, 0x93, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x3f, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xe0, 0x3f, 0x01, 0xac, 0x02, 0x88, 0x8e, 0x98, 0xa8, 0xc0, 0xe0, 0x80, 0x81,
    0x01,
];

/// [`flops_config`]: `Flops` (resource tag 1), `Abs { beta: 2.0 }` (reward tag 1), Monte
/// Carlo N = 300.
const FLOPS: [u8; 59] = [
    0x01, 0x02, 0x02, 0x02, 0x03, 0x01, 0x04, 0x01, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x4a, 0x93, 0x40, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0xac, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, 0x01,
    0xac, 0x02, 0x88, 0x8e, 0x98, 0xa8, 0xc0, 0xe0, 0x80, 0x81, 0x01,
];

/// [`nats_config`]: `NatsMacs` (resource tag 2) with CIFAR-100 (resolution 32, 100 classes)
/// over 5 layers, `MnasSoft { beta: 0.07 }` (reward tag 2), exact P(V).
const NATS: [u8; 66] = [
    0x01, 0x05, 0x02, 0x08, 0x10, 0x02, 0x08, 0x10, 0x02, 0x08, 0x10, 0x02, 0x08, 0x10, 0x02, 0x08,
    0x10, 0x02, 0x20, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4a, 0x93, 0x40, 0x02, 0xec, 0x51, 0xb8,
    0x1e, 0x85, 0xeb, 0xb1, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x3f, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, 0x01, 0xac, 0x02, 0x88, 0x8e, 0x98, 0xa8, 0xc0, 0xe0, 0x80,
    0x81, 0x01,
];

/// [`latency_config`]: `LatencyUs` (resource tag 3, no payload), `MnasHard { beta: 0.5 }`
/// (reward tag 3), Monte Carlo N = 5.
const LATENCY: [u8; 55] = [
    0x01, 0x02, 0x02, 0x02, 0x03, 0x01, 0x04, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4a, 0x93, 0x40,
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xd0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, 0x01, 0xac, 0x02, 0x88, 0x8e,
    0x98, 0xa8, 0xc0, 0xe0, 0x80, 0x81, 0x01,
];

/// [`board`]: version 3; name `pi4`; the protocol ([`PROTOCOL`]); target 7.5 us (`Some`),
/// rejection with Monte Carlo N = 256, steps 500, seed 42, calibration 24, checkpoints
/// every 25, 3 tightenings, quality batch 256 and cache 4096, model error 0.05, direct
/// children 2048, 8 candidates; serial port `/dev/ttyGS0` at 115200 baud, no HTTP.
const BOARD: [u8; 113] = [
    0x03, 0x03, 0x70, 0x69, 0x34, 0xfa, 0x01, 0x0a, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xa9, 0x3f,
    0x96, 0x01, 0xac, 0x02, 0x01, 0x01, 0x02, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0,
    0x3f, 0xb0, 0xea, 0x01, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0xee, 0x3f, 0x05, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x1e, 0x40, 0x00, 0x01, 0x80, 0x02, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99,
    0xa9, 0x3f, 0xcd, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xec, 0x3f, 0x00, 0xf4, 0x03, 0x2a, 0x18, 0x19,
    0x03, 0x80, 0x02, 0x80, 0x20, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xa9, 0x3f, 0x80, 0x10, 0x08,
    0x01, 0x0b, 0x2f, 0x64, 0x65, 0x76, 0x2f, 0x74, 0x74, 0x79, 0x47, 0x53, 0x30, 0x80, 0x84, 0x07,
    0x00,
];

/// The postcard bytes of [`board`]`().measurement` (the `MeasurementProtocol`), as they
/// appear in [`BOARD`] after the name: warmup_ms 250, warmup 10, stable_tolerance 0.05,
/// min_sample_us 150, repeats 300, `P95` (tag 1), batch 1, 2 threads, pinned to CPU 3,
/// max_cv 0.25, noise budget 30,000 ms, confidence 0.95, min_repeats 5.
const PROTOCOL: [u8; 40] = [
    0xfa, 0x01, 0x0a, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xa9, 0x3f, 0x96, 0x01, 0xac, 0x02, 0x01,
    0x01, 0x02, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x3f, 0xb0, 0xea, 0x01, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0xee, 0x3f, 0x05,
];

fn small(resource: Resource, space: SearchSpace, reward: Reward, pv: PvMode) -> SearchConfig {
    SearchConfig {
        space,
        resource,
        target: 1234.5,
        settings: SearchSettings {
            reward,
            pv,
            learning_rate: 0.25,
            baseline_momentum: 0.5,
            quality: QualityMap::NegLoss,
        },
        steps: 300,
        seed: 0x0102_0304_0506_0708,
    }
}

fn ffn() -> FfnShape {
    FfnShape {
        input: 10,
        output: 2,
        biases: false,
    }
}

/// Widths `2 | 3` then `4`.
fn two_layers() -> SearchSpace {
    SearchSpace::new(&[&[2, 3], &[4]]).unwrap()
}

fn params_config() -> SearchConfig {
    small(
        Resource::Params(ffn()),
        two_layers(),
        Reward::Rejection,
        PvMode::Exact,
    )
}

fn flops_config() -> SearchConfig {
    small(
        Resource::Flops(ffn()),
        two_layers(),
        Reward::Abs { beta: 2.0 },
        PvMode::MonteCarlo { samples: 300 },
    )
}

fn nats_config() -> SearchConfig {
    small(
        Resource::NatsMacs(NatsSizeMacs::CIFAR100),
        SearchSpace::uniform(5, &[8, 16]).unwrap(),
        Reward::MnasSoft { beta: 0.07 },
        PvMode::Exact,
    )
}

fn latency_config() -> SearchConfig {
    small(
        Resource::LatencyUs,
        two_layers(),
        Reward::MnasHard { beta: 0.5 },
        PvMode::MonteCarlo { samples: 5 },
    )
}

/// A representative board: every `Option` set but one, a non-default statistic.
fn board() -> BoardConfig {
    BoardConfig {
        name: String::try_from("pi4").unwrap(),
        measurement: MeasurementProtocol {
            warmup_ms: 250,
            warmup: 10,
            stable_tolerance: 0.05,
            min_sample_us: 150,
            repeats: 300,
            statistic: Statistic::P95,
            batch: 1,
            threads: 2,
            pin_cpu: Some(3),
            max_cv: 0.25,
            noise_budget_ms: 30_000,
            confidence: 0.95,
            min_repeats: 5,
        },
        search: BoardSearch {
            target_us: Some(tabnas_core::target::LatencyTarget::new(7.5).unwrap()),
            settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 256 }, 0.05),
            steps: 500,
            seed: 42,
            calibration_children: 24,
            checkpoint_every: 25,
            max_tightenings: 3,
            quality_batch: 256,
            quality_cache: 4096,
            max_model_error: 0.05,
            max_direct_children: 2048,
            candidates: 8,
        },
        service: BoardService {
            serial_port: Some(String::try_from("/dev/ttyGS0").unwrap()),
            baud: 115_200,
            http_listen: None,
        },
    }
}

fn search_configs() -> [(&'static str, SearchConfig, &'static [u8]); 5] {
    [
        ("criteo_example", SearchConfig::criteo_example(), &CRITEO),
        ("params", params_config(), &PARAMS),
        ("flops", flops_config(), &FLOPS),
        ("nats", nats_config(), &NATS),
        ("latency", latency_config(), &LATENCY),
    ]
}

fn hex(bytes: &[u8]) -> std::string::String {
    bytes.iter().map(|b| format!("0x{b:02x}, ")).collect()
}

/// If this fails you changed the wire format of `SearchConfig`: bump
/// `SearchConfig::FORMAT_VERSION` and update `docs/formats.md`.
#[test]
fn search_config_bytes_are_pinned() {
    let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
    for (name, config, golden) in search_configs() {
        let bytes = config.encode(&mut buf).unwrap();
        assert_eq!(
            &bytes[..],
            golden,
            "{name}: the encoding changed; it now is [{}]",
            hex(bytes)
        );
        assert_eq!(bytes[0], SearchConfig::FORMAT_VERSION, "{name}");
    }
}

/// If this fails you changed the wire format of `SearchConfig`: bump
/// `SearchConfig::FORMAT_VERSION` and update `docs/formats.md`.
#[test]
fn search_config_golden_bytes_decode() {
    for (name, config, golden) in search_configs() {
        assert_eq!(
            SearchConfig::decode(golden, MC_CAPACITY),
            Ok(config),
            "{name}"
        );
    }
}

/// If this fails you changed the wire format of `BoardConfig` or `MeasurementProtocol`:
/// bump `BoardConfig::FORMAT_VERSION` and update `docs/formats.md`.
#[test]
fn board_config_bytes_are_pinned() {
    let mut buf = [0u8; BoardConfig::MAX_ENCODED_LEN];
    let bytes = board().encode(&mut buf).unwrap();
    assert_eq!(
        &bytes[..],
        &BOARD,
        "the encoding changed; it now is [{}]",
        hex(bytes)
    );
    assert_eq!(BoardConfig::decode(&BOARD), Ok(board()));
}

/// If this fails you changed the wire format of `MeasurementProtocol` (and so of
/// `BoardConfig`): bump `BoardConfig::FORMAT_VERSION` and update `docs/formats.md`.
#[test]
fn measurement_protocol_bytes_are_pinned() {
    let mut buf = [0u8; 64];
    let bytes = postcard::to_slice(&board().measurement, &mut buf).unwrap();
    assert_eq!(
        &bytes[..],
        &PROTOCOL,
        "the encoding changed; it now is [{}]",
        hex(bytes)
    );
    // Inside the board blob it follows the version byte and the name (`3 p i 4`).
    assert_eq!(&BOARD[5..5 + PROTOCOL.len()], &PROTOCOL);
    let (decoded, rest): (MeasurementProtocol, _) = postcard::take_from_bytes(&PROTOCOL).unwrap();
    assert!(rest.is_empty());
    assert_eq!(decoded, board().measurement);
    assert_eq!(decoded.validate(), Ok(()));
}

/// If this fails the version byte is no longer checked, or `FORMAT_VERSION` changed
/// without new golden bytes (update `docs/formats.md`).
#[test]
fn other_version_bytes_are_rejected() {
    assert_eq!(SearchConfig::FORMAT_VERSION, 1);
    assert_eq!(BoardConfig::FORMAT_VERSION, 3);
    for found in [0u8, 2, 4, 0x7f, 0xff] {
        for (name, _, golden) in search_configs() {
            let mut bytes = golden.to_vec();
            bytes[0] = found;
            assert_eq!(
                SearchConfig::decode(&bytes, MC_CAPACITY),
                Err(ConfigError::UnknownVersion { found }),
                "{name}"
            );
        }
        let mut bytes = BOARD.to_vec();
        bytes[0] = found;
        assert_eq!(
            BoardConfig::decode(&bytes),
            Err(BoardError::UnknownVersion { found })
        );
    }
    // Version 1 and 2 board configurations (before the warm-up and model fields, before
    // the noise budget) are refused.
    for found in [1u8, 2] {
        let mut bytes = BOARD.to_vec();
        bytes[0] = found;
        assert_eq!(
            BoardConfig::decode(&bytes),
            Err(BoardError::UnknownVersion { found })
        );
    }
}
