//! Property tests of the packed board configuration ([`BoardConfig`]) in the "Problem"
//! pattern: each problem is a struct with an [`Arbitrary`] strategy and a `check` that
//! compares the code with a plain reference written here ([`reference_error`], the
//! validation rules one by one, and [`reference_decode`], the framing by hand).
//!
//! * [`ConfigProblem`]: any configuration (most fields valid, some broken) is judged by
//!   `validate` exactly as the reference judges it, and round-trips encode -> decode
//!   when it is valid.
//! * [`MutationProblem`]: a valid configuration's bytes, truncated, with a byte changed
//!   or with a byte appended, decode as the reference says: a truncation or an appended
//!   byte is always refused, a changed byte gives either a configuration that passes
//!   `validate` or a named error; never a panic.
//! * [`BytesProblem`]: arbitrary bytes never panic and decode as the reference says.

use heapless::String;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::formats::board::{BoardConfig, BoardError, BoardSearch, BoardService};
use tabnas_core::formats::measurement::{MeasurementProtocol, MeasurementProtocolError, Statistic};
use tabnas_core::pv::PvError;
use tabnas_core::reward::{QualityMap, Reward};
use tabnas_core::search::{PvMode, SearchSettings, SettingsError};
use tabnas_core::target::LatencyTarget;

/// Fixed case count and seed: the same cases on every run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x7AB_BA5E),
        // The seed is fixed, so a failure reproduces without a regression file.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------
// The reference.

/// The error `BoardConfig::validate` must give, rule by rule in its documented order.
fn reference_error(c: &BoardConfig) -> Option<BoardError> {
    use MeasurementProtocolError as P;
    if c.name.is_empty() || c.name.chars().any(|ch| ch.is_control()) {
        return Some(BoardError::Name);
    }
    let m = &c.measurement;
    let protocol = if !(1..=10_000).contains(&m.repeats) {
        Some(P::Repeats)
    } else if !(1..=4_096).contains(&m.batch) {
        Some(P::Batch)
    } else if !(1..=1_024).contains(&m.threads) {
        Some(P::Threads)
    } else if !(m.max_cv.is_finite() && m.max_cv > 0.0) {
        Some(P::MaxCv)
    } else if m.noise_budget_ms > 3_600_000 {
        Some(P::NoiseBudget)
    } else if !(m.confidence > 0.5 && m.confidence < 1.0) {
        Some(P::Confidence)
    } else if m.min_repeats == 0 || m.min_repeats > m.repeats {
        Some(P::MinRepeats)
    } else if !(m.stable_tolerance > 0.0 && m.stable_tolerance < 1.0) {
        Some(P::StableTolerance)
    } else if !(1..=10_000_000).contains(&m.min_sample_us) {
        Some(P::MinSample)
    } else if m.warmup_ms > 600_000 {
        Some(P::WarmupMs)
    } else if m.warmup > 10_000 {
        Some(P::Warmup)
    } else {
        None
    };
    if let Some(e) = protocol {
        return Some(BoardError::Measurement(e));
    }
    let s = &c.search;
    if !(1..=1_000_000).contains(&s.steps) {
        return Some(BoardError::Steps);
    }
    if !(3..=10_000).contains(&s.calibration_children) {
        return Some(BoardError::CalibrationChildren);
    }
    if !(1..=65_536).contains(&s.quality_batch) || !(1..=1_000_000).contains(&s.quality_cache) {
        return Some(BoardError::Quality);
    }
    if !(s.max_model_error > 0.0 && s.max_model_error < 1.0) {
        return Some(BoardError::ModelError);
    }
    if !(1..=64).contains(&s.candidates) {
        return Some(BoardError::Candidates);
    }
    if s.checkpoint_every == 0 {
        return Some(BoardError::CheckpointEvery);
    }
    if s.max_direct_children > 100_000 {
        return Some(BoardError::DirectChildren);
    }
    let st = &s.settings;
    let settings = if !(st.learning_rate > 0.0 && st.learning_rate <= 1.0) {
        Some(SettingsError::LearningRate)
    } else if !(st.baseline_momentum >= 0.0 && st.baseline_momentum < 1.0) {
        Some(SettingsError::BaselineMomentum)
    } else if st.reward.beta().is_some_and(|b| !(0.0..=1e6).contains(&b)) {
        Some(SettingsError::Beta)
    } else {
        // The board's probe space has one architecture, so exact P(V) is always fine.
        match (st.reward, st.pv) {
            (Reward::Rejection, PvMode::MonteCarlo { samples: 0 }) => {
                Some(SettingsError::Pv(PvError::NoSamples))
            }
            (Reward::Rejection, PvMode::MonteCarlo { samples })
                if samples as usize > DEFAULT_MC_CAPACITY =>
            {
                Some(SettingsError::Pv(PvError::TooManySamples {
                    requested: samples as usize,
                    capacity: DEFAULT_MC_CAPACITY,
                }))
            }
            _ => None,
        }
    };
    if let Some(e) = settings {
        return Some(BoardError::Settings(e));
    }
    if c.service.serial_port.is_some() && c.service.baud == 0 {
        return Some(BoardError::Baud);
    }
    let text_ok = |t: &str| !t.is_empty() && !t.chars().any(|ch| ch.is_control());
    if c.service
        .serial_port
        .as_deref()
        .is_some_and(|p| !text_ok(p))
    {
        return Some(BoardError::SerialPort);
    }
    if c.service
        .http_listen
        .as_deref()
        .is_some_and(|a| a.parse::<std::net::SocketAddr>().is_err())
    {
        return Some(BoardError::HttpListen);
    }
    None
}

/// What `BoardConfig::decode` must return: the framing (version byte, postcard, nothing
/// after) by hand, then [`reference_error`].
fn reference_decode(bytes: &[u8]) -> Result<BoardConfig, BoardError> {
    let Some((&found, payload)) = bytes.split_first() else {
        return Err(BoardError::Empty);
    };
    if found != BoardConfig::FORMAT_VERSION {
        return Err(BoardError::UnknownVersion { found });
    }
    let (config, rest): (BoardConfig, _) =
        postcard::take_from_bytes(payload).map_err(|_| BoardError::Malformed)?;
    if !rest.is_empty() {
        return Err(BoardError::TrailingBytes { count: rest.len() });
    }
    match reference_error(&config) {
        Some(e) => Err(e),
        None => Ok(config),
    }
}

fn encode(c: &BoardConfig) -> Vec<u8> {
    let mut buf = [0u8; BoardConfig::MAX_ENCODED_LEN];
    c.encode(&mut buf).unwrap().to_vec()
}

/// Decodes `bytes` (a panic fails the case) and compares with the reference; an
/// accepted configuration must validate and round-trip.
fn check_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    let decoded = BoardConfig::decode(bytes);
    prop_assert_eq!(&decoded, &reference_decode(bytes));
    if let Ok(c) = decoded {
        prop_assert_eq!(c.validate(), Ok(()));
        prop_assert_eq!(BoardConfig::decode(&encode(&c)), Ok(c));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Strategies: valid configurations, and edits that set one field to a value at or
// beyond the edge of its rule.

fn text<const N: usize>(max_chars: usize) -> impl Strategy<Value = String<N>> {
    prop_oneof![
        proptest::string::string_regex(&format!("[ -~]{{0,{max_chars}}}")).unwrap(),
        proptest::string::string_regex(&format!("\\PC{{0,{}}}", max_chars / 4)).unwrap(),
    ]
    .prop_map(|s| String::try_from(s.as_str()).unwrap())
}

/// In `min..=max` (valid), both edges included; `Edit` goes past them.
fn bounded_u32(min: u32, max: u32) -> impl Strategy<Value = u32> {
    prop_oneof![1 => Just(min), 1 => Just(max), 6 => min..=max]
}

fn protocol() -> impl Strategy<Value = MeasurementProtocol> {
    let statistic = prop_oneof![
        Just(Statistic::Median),
        Just(Statistic::P95),
        Just(Statistic::Mean)
    ];
    (
        (bounded_u32(0, 10_000), bounded_u32(1, 10_000), statistic),
        (bounded_u32(1, 4_096), 1u16..=1_024, any::<Option<u16>>()),
        (
            1e-3f64..10.0,
            bounded_u32(0, 3_600_000),
            0.500_001f64..0.999_999,
        ),
        any::<Index>(),
        (
            bounded_u32(0, 600_000),
            1e-4f64..0.9999,
            bounded_u32(1, 10_000_000),
        ),
    )
        .prop_map(
            |(
                (warmup, repeats, statistic),
                (batch, threads, pin_cpu),
                (max_cv, noise_budget_ms, confidence),
                min_at,
                (warmup_ms, stable_tolerance, min_sample_us),
            )| MeasurementProtocol {
                warmup_ms,
                warmup,
                stable_tolerance,
                min_sample_us,
                repeats,
                statistic,
                batch,
                threads,
                pin_cpu,
                max_cv,
                noise_budget_ms,
                confidence,
                // In 1..=repeats.
                min_repeats: 1 + min_at.index(repeats.min(1 << 20) as usize) as u32,
            },
        )
}

fn settings() -> impl Strategy<Value = SearchSettings> {
    let reward = (0..4usize, 0.0f64..10.0).prop_map(|(kind, beta)| match kind {
        0 => Reward::Rejection,
        1 => Reward::Abs { beta },
        2 => Reward::MnasSoft { beta },
        _ => Reward::MnasHard { beta },
    });
    let pv = prop_oneof![
        Just(PvMode::Exact),
        (1u16..=DEFAULT_MC_CAPACITY as u16).prop_map(|samples| PvMode::MonteCarlo { samples })
    ];
    let quality = prop_oneof![Just(QualityMap::OneMinusLoss), Just(QualityMap::NegLoss)];
    (reward, pv, 1e-6f64..1.0, 0.0f64..0.999, quality).prop_map(
        |(reward, pv, learning_rate, baseline_momentum, quality)| SearchSettings {
            reward,
            pv,
            learning_rate,
            baseline_momentum,
            quality,
        },
    )
}

fn board_search() -> impl Strategy<Value = BoardSearch> {
    (
        (
            proptest::option::of(0.01f64..1e6),
            settings(),
            bounded_u32(1, 1_000_000),
            any::<u64>(),
        ),
        (
            prop_oneof![Just(3u16), 3u16..=10_000],
            bounded_u32(1, u32::MAX),
            any::<u8>(),
        ),
        (bounded_u32(1, 65_536), bounded_u32(1, 1_000_000)),
        (1e-4f64..0.9999, bounded_u32(0, 100_000), 1u8..=64),
    )
        .prop_map(
            |(
                (target_us, settings, steps, seed),
                (calibration_children, checkpoint_every, max_tightenings),
                (quality_batch, quality_cache),
                (max_model_error, max_direct_children, candidates),
            )| BoardSearch {
                max_model_error,
                max_direct_children,
                candidates,
                target_us: target_us.map(|t| LatencyTarget::new(t).unwrap()),
                settings,
                steps,
                seed,
                calibration_children,
                checkpoint_every,
                max_tightenings,
                quality_batch,
                quality_cache,
            },
        )
}

/// A listening address: IPv4 or IPv6 with a port.
fn socket_addr() -> impl Strategy<Value = String<64>> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, port)| { std::net::SocketAddr::from((ip, port)).to_string() }),
        (any::<[u16; 8]>(), any::<u16>())
            .prop_map(|(ip, port)| { std::net::SocketAddr::from((ip, port)).to_string() }),
    ]
    .prop_map(|s| String::try_from(s.as_str()).unwrap())
}

fn service() -> impl Strategy<Value = BoardService> {
    (
        proptest::option::of(text::<64>(64).prop_filter("a device path", |p| !p.is_empty())),
        prop_oneof![Just(1u32), Just(115_200u32), 1..=u32::MAX],
        proptest::option::of(socket_addr()),
    )
        .prop_map(|(serial_port, baud, http_listen)| BoardService {
            serial_port,
            baud,
            http_listen,
        })
}

/// A configuration that passes every rule.
fn valid_board() -> impl Strategy<Value = BoardConfig> {
    (text::<32>(32), protocol(), board_search(), service()).prop_map(
        |(mut name, measurement, search, service)| {
            if name.is_empty() {
                name.push('b').unwrap();
            }
            BoardConfig {
                name,
                measurement,
                search,
                service,
            }
        },
    )
}

/// Values at and beyond the edges of the float rules.
const EDGE_F64: [f64; 8] = [
    0.0,
    -0.0,
    -1.5,
    0.5,
    1.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

/// One field set to a value at or beyond the edge of its rule (it may stay valid).
#[derive(Debug, Clone)]
struct Edit {
    /// Which field (`apply` lists them).
    field: usize,
    /// Which candidate value.
    pick: Index,
}

const EDITED_FIELDS: usize = 28;

impl Edit {
    fn apply(&self, c: &mut BoardConfig) {
        let m = &mut c.measurement;
        let s = &mut c.search;
        let f = EDGE_F64[self.pick.index(EDGE_F64.len())];
        let small = self.pick.index(4) as u32; // 0 (invalid) or an edge value
        match self.field {
            0 => c.name.clear(),
            1 => m.repeats = small,
            2 => m.batch = small,
            3 => m.threads = small as u16,
            4 => m.max_cv = f,
            5 => m.noise_budget_ms = [0, 1, 3_600_000, 3_600_001][self.pick.index(4)],
            6 => m.confidence = f,
            7 => m.min_repeats = [0, 1, m.repeats, m.repeats.saturating_add(1)][self.pick.index(4)],
            // A target cannot hold a bad value: the edge values are kept only when valid.
            8 => s.target_us = LatencyTarget::new(f).ok(),
            9 => s.steps = small,
            10 => s.calibration_children = self.pick.index(5) as u16,
            11 => s.quality_batch = small,
            12 => s.quality_cache = small,
            13 => s.settings.learning_rate = f,
            14 => s.settings.baseline_momentum = f,
            17 => m.stable_tolerance = f,
            18 => m.min_sample_us = small,
            19 => s.max_model_error = f,
            20 => s.candidates = small as u8,
            // Upper edges: the bound itself (valid) or one past it.
            21 => m.repeats = [10_000, 10_001, u32::MAX][self.pick.index(3)],
            22 => m.batch = [4_096, 4_097, u32::MAX][self.pick.index(3)],
            23 => m.warmup_ms = [600_000, 600_001, u32::MAX][self.pick.index(3)],
            24 => m.warmup = [10_000, 10_001, u32::MAX][self.pick.index(3)],
            25 => s.steps = [1_000_000, 1_000_001, u32::MAX][self.pick.index(3)],
            26 => {
                s.checkpoint_every = [0, 1][self.pick.index(2)];
                s.max_direct_children = [100_000, 100_001][self.pick.index(2)];
            }
            27 => match self.pick.index(5) {
                0 => c.name = String::try_from("tab\tname").unwrap(),
                1 => c.service.serial_port = Some(String::new()),
                2 => c.service.serial_port = Some(String::try_from("/dev/tty\n").unwrap()),
                3 => c.service.http_listen = Some(String::try_from("localhost").unwrap()),
                _ => c.service.http_listen = Some(String::try_from("[::1]:8080").unwrap()),
            },
            15 => {
                // Beta only exists for the penalty rewards.
                s.settings.reward = [
                    Reward::Abs { beta: f },
                    Reward::MnasSoft { beta: f },
                    Reward::MnasHard { beta: f },
                ][self.pick.index(3)]
            }
            _ => {
                // Monte-Carlo samples at the edges, for rejection (checked) and another
                // reward (ignored), and the baud with and without a serial port.
                let samples = [
                    0,
                    1,
                    DEFAULT_MC_CAPACITY as u16,
                    DEFAULT_MC_CAPACITY as u16 + 1,
                ];
                s.settings.pv = PvMode::MonteCarlo {
                    samples: samples[self.pick.index(4)],
                };
                if self.pick.index(2) == 0 {
                    s.settings.reward = Reward::Rejection;
                }
                c.service.baud = self.pick.index(3) as u32;
            }
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    (0..EDITED_FIELDS, any::<Index>()).prop_map(|(field, pick)| Edit { field, pick })
}

// ---------------------------------------------------------------------------------
// Problems.

/// A valid configuration with up to three edits (so several broken fields test the
/// order of the rules too).
#[derive(Debug, Clone)]
struct ConfigProblem {
    config: BoardConfig,
}

impl Arbitrary for ConfigProblem {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;

    fn arbitrary_with(_: ()) -> Self::Strategy {
        (valid_board(), proptest::collection::vec(edit(), 0..=3))
            .prop_map(|(mut config, edits)| {
                for e in &edits {
                    e.apply(&mut config);
                }
                Self { config }
            })
            .boxed()
    }
}

impl ConfigProblem {
    fn check(&self) -> Result<(), TestCaseError> {
        let c = &self.config;
        let expected = reference_error(c);
        prop_assert_eq!(c.validate().err(), expected);
        let bytes = encode(c);
        prop_assert!(bytes.len() <= BoardConfig::MAX_ENCODED_LEN);
        prop_assert_eq!(bytes[0], BoardConfig::FORMAT_VERSION);
        match expected {
            None => {
                let decoded = BoardConfig::decode(&bytes);
                prop_assert_eq!(decoded.as_ref(), Ok(c));
                prop_assert_eq!(encode(&decoded.unwrap()), bytes);
            }
            Some(e) => prop_assert_eq!(BoardConfig::decode(&bytes), Err(e)),
        }
        Ok(())
    }
}

/// One change to a valid configuration's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    /// Keep only the first `index(len)` bytes.
    Truncate(Index),
    /// Set one byte.
    Set(Index, u8),
    /// Append one byte.
    Append(u8),
}

#[derive(Debug, Clone)]
struct MutationProblem {
    config: BoardConfig,
    mutation: Mutation,
}

impl Arbitrary for MutationProblem {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;

    fn arbitrary_with(_: ()) -> Self::Strategy {
        let mutation = prop_oneof![
            1 => any::<Index>().prop_map(Mutation::Truncate),
            3 => (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::Set(at, b)),
            1 => any::<u8>().prop_map(Mutation::Append),
        ];
        (valid_board(), mutation)
            .prop_map(|(config, mutation)| Self { config, mutation })
            .boxed()
    }
}

impl MutationProblem {
    fn check(&self) -> Result<(), TestCaseError> {
        let mut bytes = encode(&self.config);
        prop_assert_eq!(BoardConfig::decode(&bytes), Ok(self.config.clone()));
        let len = bytes.len();
        match self.mutation {
            Mutation::Truncate(at) => {
                let cut = at.index(len);
                let expected = if cut == 0 {
                    BoardError::Empty
                } else {
                    BoardError::Malformed
                };
                prop_assert_eq!(BoardConfig::decode(&bytes[..cut]), Err(expected));
            }
            Mutation::Append(b) => {
                bytes.push(b);
                prop_assert_eq!(
                    BoardConfig::decode(&bytes),
                    Err(BoardError::TrailingBytes { count: 1 })
                );
            }
            Mutation::Set(at, b) => {
                bytes[at.index(len)] = b;
                check_bytes(&bytes)?;
            }
        }
        Ok(())
    }
}

/// Arbitrary bytes, half of them behind the right version byte.
#[derive(Debug, Clone)]
struct BytesProblem {
    bytes: Vec<u8>,
}

impl Arbitrary for BytesProblem {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;

    fn arbitrary_with(_: ()) -> Self::Strategy {
        let body = proptest::collection::vec(any::<u8>(), 0..160);
        prop_oneof![
            body.clone(),
            body.prop_map(|mut b| {
                b.insert(0, BoardConfig::FORMAT_VERSION);
                b
            }),
        ]
        .prop_map(|bytes| Self { bytes })
        .boxed()
    }
}

impl BytesProblem {
    fn check(&self) -> Result<(), TestCaseError> {
        check_bytes(&self.bytes)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn configs_validate_and_round_trip_as_the_reference_says(problem in any::<ConfigProblem>()) {
        problem.check()?;
    }

    #[test]
    fn mutated_bytes_are_refused_or_valid(problem in any::<MutationProblem>()) {
        problem.check()?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(problem in any::<BytesProblem>()) {
        problem.check()?;
    }
}
