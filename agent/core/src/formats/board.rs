//! The packed board configuration: measurement protocol, search settings and service
//! settings of one board, as the no_std core decodes it (a version byte, then postcard).
//!
//! [`BoardConfig::decode`] is the one checked path: after it succeeds every field is
//! usable (the protocol validates, the search settings validate, names fit their
//! buffers). The TOML profiles in `firmware-config/` are packed into this form by
//! `tabnas-agent config pack`.

use core::fmt;

use heapless::String;
use serde::{Deserialize, Serialize};

use super::measurement::{MeasurementProtocol, MeasurementProtocolError};
use super::packed::{self, Framing};
use crate::capacity::DEFAULT_MC_CAPACITY;
use crate::search::{SearchSettings, SettingsError};
use crate::space::SearchSpace;
use crate::target::LatencyTarget;

/// Search settings of a board.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoardSearch {
    /// Default latency target in microseconds (derived from the space when absent).
    pub target_us: Option<LatencyTarget>,
    /// Controller settings.
    pub settings: SearchSettings,
    /// RL steps.
    pub steps: u32,
    /// Seed.
    pub seed: u64,
    /// Children measured end to end to calibrate the latency table (at least 3).
    pub calibration_children: u16,
    /// Steps between checkpoints.
    pub checkpoint_every: u32,
    /// Tightenings allowed when the answer misses the target on the device.
    pub max_tightenings: u8,
    /// Rows per quality inference.
    pub quality_batch: u32,
    /// Losses kept in the quality cache.
    pub quality_cache: u32,
    /// The largest held-out error (mean absolute percentage, a fraction) a latency
    /// model may have to be used.
    pub max_model_error: f64,
    /// A space of at most this many children is also measured child by child, and that
    /// measurement competes with the fitted models.
    pub max_direct_children: u32,
    /// The most probable feasible children evaluated for the answer (1: the paper's
    /// answer, the most probable one).
    pub candidates: u8,
}

/// Upper bounds of the search settings: they keep a run's memory (trace, quality cache,
/// direct measurements) and time sane, and are checked wherever settings enter (a packed
/// profile, a TOML profile, command-line flags).
pub mod limits {
    /// Most RL steps of one run.
    pub const MAX_STEPS: u32 = 1_000_000;
    /// Most children measured to calibrate the latency model.
    pub const MAX_CALIBRATION_CHILDREN: u16 = 10_000;
    /// Most rows per quality inference.
    pub const MAX_QUALITY_BATCH: u32 = 65_536;
    /// Most losses in the quality cache.
    pub const MAX_QUALITY_CACHE: u32 = 1_000_000;
    /// Largest space measured child by child.
    pub const MAX_DIRECT_CHILDREN: u32 = 100_000;
    /// Most candidates evaluated for the answer.
    pub const MAX_CANDIDATES: u8 = 64;
    /// Largest latency target, in microseconds (1000 s).
    pub const MAX_TARGET_US: f64 = crate::target::LatencyTarget::MAX_US;
}
use limits::*;

impl BoardSearch {
    /// Checks every field against its bounds ([`limits`]) and the controller settings.
    pub fn validate(&self) -> Result<(), BoardError> {
        if !(1..=MAX_STEPS).contains(&self.steps) {
            return Err(BoardError::Steps);
        }
        if !(3..=MAX_CALIBRATION_CHILDREN).contains(&self.calibration_children) {
            return Err(BoardError::CalibrationChildren);
        }
        if !(1..=MAX_QUALITY_BATCH).contains(&self.quality_batch)
            || !(1..=MAX_QUALITY_CACHE).contains(&self.quality_cache)
        {
            return Err(BoardError::Quality);
        }
        if !(self.max_model_error > 0.0 && self.max_model_error < 1.0) {
            return Err(BoardError::ModelError);
        }
        if !(1..=MAX_CANDIDATES).contains(&self.candidates) {
            return Err(BoardError::Candidates);
        }
        if self.checkpoint_every == 0 {
            return Err(BoardError::CheckpointEvery);
        }
        if self.max_direct_children > MAX_DIRECT_CHILDREN {
            return Err(BoardError::DirectChildren);
        }
        // The space is the bundle's; a one-architecture space checks everything else.
        let probe = SearchSpace::uniform(1, &[1]).map_err(|_| BoardError::Malformed)?;
        self.settings
            .validate(&probe, DEFAULT_MC_CAPACITY)
            .map_err(BoardError::Settings)
    }
}

/// How the board serves results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardService {
    /// Serial device (e.g. `/dev/ttyGS0`), if served over serial.
    pub serial_port: Option<String<64>>,
    /// Serial baud rate.
    pub baud: u32,
    /// `address:port` to serve HTTP on, if any.
    pub http_listen: Option<String<64>>,
}

/// One board's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardConfig {
    /// Board name.
    pub name: String<32>,
    /// Measurement protocol.
    pub measurement: MeasurementProtocol,
    /// Search settings.
    pub search: BoardSearch,
    /// Service settings.
    pub service: BoardService,
}

/// Why a board configuration was refused; each variant names its field.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum BoardError {
    /// No bytes.
    Empty,
    /// Unknown format version byte.
    UnknownVersion {
        /// The byte found.
        found: u8,
    },
    /// Truncated or corrupt bytes.
    Malformed,
    /// Bytes after the configuration.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// The output buffer is too small.
    BufferTooSmall,
    /// `board.name` is empty or holds a control character.
    Name,
    /// A `measurement` field.
    Measurement(MeasurementProtocolError),
    /// `search.steps` is not in `1..=MAX_STEPS`.
    Steps,
    /// `search.calibration_children` is not in `3..=MAX_CALIBRATION_CHILDREN`.
    CalibrationChildren,
    /// `search.quality_batch` or `search.quality_cache` is outside its bounds.
    Quality,
    /// `search.max_model_error` is not in (0, 1).
    ModelError,
    /// `search.candidates` is not in `1..=MAX_CANDIDATES`.
    Candidates,
    /// `search.checkpoint_every` is 0.
    CheckpointEvery,
    /// `search.max_direct_children` is above `MAX_DIRECT_CHILDREN`.
    DirectChildren,
    /// A controller setting of `search`.
    Settings(SettingsError),
    /// `service.baud` is 0 while a serial port is given.
    Baud,
    /// `service.serial_port` is empty or holds a control character.
    SerialPort,
    /// `service.http_listen` is not an `address:port` (`127.0.0.1:8080`, `[::1]:8080`).
    HttpListen,
}

impl fmt::Display for BoardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "board config: no bytes"),
            Self::UnknownVersion { found } => write!(
                f,
                "board config: format version {found}, this build reads {}",
                BoardConfig::FORMAT_VERSION
            ),
            Self::Malformed => write!(f, "board config: bytes are truncated or corrupt"),
            Self::TrailingBytes { count } => {
                write!(f, "board config: {count} unexpected bytes at the end")
            }
            Self::BufferTooSmall => write!(f, "board config: output buffer too small"),
            Self::Name => write!(
                f,
                "board.name must be non-empty text without control characters"
            ),
            Self::Measurement(e) => write!(f, "{e}"),
            Self::Steps => write!(f, "search.steps must be in 1..={MAX_STEPS}"),
            Self::CalibrationChildren => write!(
                f,
                "search.calibration_children must be in 3..={MAX_CALIBRATION_CHILDREN}"
            ),
            Self::Quality => write!(
                f,
                "search.quality_batch must be in 1..={MAX_QUALITY_BATCH} and \
                 search.quality_cache in 1..={MAX_QUALITY_CACHE}"
            ),
            Self::ModelError => write!(f, "search.max_model_error must be in (0, 1)"),
            Self::Candidates => write!(f, "search.candidates must be in 1..={MAX_CANDIDATES}"),
            Self::CheckpointEvery => write!(f, "search.checkpoint_every must be at least 1"),
            Self::DirectChildren => write!(
                f,
                "search.max_direct_children must be at most {MAX_DIRECT_CHILDREN}"
            ),
            Self::Settings(e) => write!(f, "search: {e}"),
            Self::Baud => write!(f, "service.baud must be positive with a serial port"),
            Self::SerialPort => write!(
                f,
                "service.serial_port must be a non-empty device path without control characters"
            ),
            Self::HttpListen => write!(
                f,
                "service.http_listen must be an address:port such as 127.0.0.1:8080"
            ),
        }
    }
}

impl core::error::Error for BoardError {}

impl BoardConfig {
    /// Version byte in front of the postcard payload.
    /// Version 2 added the measurement protocol's warm-up and sampling fields and the
    /// search's model-error limit, direct-measurement limit and candidates; version 3
    /// replaced the protocol's `max_attempts` by `noise_budget_ms`.
    pub const FORMAT_VERSION: u8 = 3;
    /// An upper bound on the encoded size.
    pub const MAX_ENCODED_LEN: usize = 512;

    /// Checks every field.
    pub fn validate(&self) -> Result<(), BoardError> {
        if self.name.is_empty() || self.name.chars().any(char::is_control) {
            return Err(BoardError::Name);
        }
        self.measurement
            .validate()
            .map_err(BoardError::Measurement)?;
        self.search.validate()?;
        if self.service.serial_port.is_some() && self.service.baud == 0 {
            return Err(BoardError::Baud);
        }
        if let Some(port) = &self.service.serial_port {
            if port.is_empty() || port.chars().any(char::is_control) {
                return Err(BoardError::SerialPort);
            }
        }
        if let Some(addr) = &self.service.http_listen {
            if addr.parse::<core::net::SocketAddr>().is_err() {
                return Err(BoardError::HttpListen);
            }
        }
        Ok(())
    }

    /// Encodes into `buf`, returning the used prefix.
    pub fn encode<'b>(&self, buf: &'b mut [u8]) -> Result<&'b mut [u8], BoardError> {
        Ok(packed::encode(self, Self::FORMAT_VERSION, buf)?)
    }

    /// Decodes and validates a packed configuration.
    pub fn decode(bytes: &[u8]) -> Result<Self, BoardError> {
        let config: Self = packed::decode(bytes, Self::FORMAT_VERSION)?;
        config.validate()?;
        Ok(config)
    }
}

impl From<Framing> for BoardError {
    fn from(f: Framing) -> Self {
        match f {
            Framing::Empty => Self::Empty,
            Framing::UnknownVersion { found } => Self::UnknownVersion { found },
            Framing::Malformed => Self::Malformed,
            Framing::TrailingBytes { count } => Self::TrailingBytes { count },
            Framing::BufferTooSmall => Self::BufferTooSmall,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::PvMode;

    fn host() -> BoardConfig {
        BoardConfig {
            name: String::try_from("host").unwrap(),
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
                http_listen: Some(String::try_from("127.0.0.1:8080").unwrap()),
            },
        }
    }

    #[test]
    fn round_trips_and_rejects_damage() {
        let mut buf = [0u8; BoardConfig::MAX_ENCODED_LEN];
        let bytes = host().encode(&mut buf).unwrap().to_vec();
        assert_eq!(BoardConfig::decode(&bytes).unwrap(), host());
        assert_eq!(BoardConfig::decode(&[]), Err(BoardError::Empty));
        assert_eq!(
            BoardConfig::decode(&[9, 0]),
            Err(BoardError::UnknownVersion { found: 9 })
        );
        for cut in 1..bytes.len() {
            assert!(BoardConfig::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            BoardConfig::decode(&long),
            Err(BoardError::TrailingBytes { count: 1 })
        );
    }

    #[test]
    fn invalid_fields_are_named() {
        let mut c = host();
        c.measurement.repeats = 0;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "measurement.repeats must be in 1..=10000"
        );
        // Upper bounds are named too: they keep memory and time sane on a board.
        for (edit, field) in [
            (
                &(|c: &mut BoardConfig| c.measurement.repeats = u32::MAX) as &dyn Fn(&mut _),
                "repeats",
            ),
            (
                &|c: &mut BoardConfig| c.measurement.batch = u32::MAX,
                "batch",
            ),
            (
                &|c: &mut BoardConfig| c.measurement.warmup = u32::MAX,
                "warmup",
            ),
            (
                &|c: &mut BoardConfig| c.measurement.warmup_ms = u32::MAX,
                "warmup_ms",
            ),
            (&|c: &mut BoardConfig| c.search.steps = u32::MAX, "steps"),
            (
                &|c: &mut BoardConfig| c.search.settings.learning_rate = 1e308,
                "learning rate",
            ),
        ] {
            let mut c = host();
            edit(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        let mut c = host();
        c.search.calibration_children = 2;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("calibration_children"));
        // A bad target cannot be held, so packed bytes carrying one do not decode.
        let mut c = host();
        c.search.target_us = Some(LatencyTarget::new(5.0).unwrap());
        let mut buf = [0u8; 512];
        let n = c.encode(&mut buf).unwrap().len();
        let at = buf[..n]
            .windows(8)
            .position(|w| w == 5.0f64.to_le_bytes())
            .expect("the target's bytes");
        buf[at..at + 8].copy_from_slice(&(-1.0f64).to_le_bytes());
        assert!(BoardConfig::decode(&buf[..n]).is_err());
    }
}
