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

/// Search settings of a board.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoardSearch {
    /// Default latency target in microseconds (derived from the space when absent).
    pub target_us: Option<f64>,
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
    /// `board.name` is empty.
    Name,
    /// A `measurement` field.
    Measurement(MeasurementProtocolError),
    /// `search.target_us` is not a positive number.
    Target,
    /// `search.steps` is 0.
    Steps,
    /// `search.calibration_children` is below 3.
    CalibrationChildren,
    /// `search.quality_batch` or `search.quality_cache` is 0.
    Quality,
    /// `search.max_model_error` is not in (0, 1).
    ModelError,
    /// `search.candidates` is 0.
    Candidates,
    /// A controller setting of `search`.
    Settings(SettingsError),
    /// `service.baud` is 0 while a serial port is given.
    Baud,
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
            Self::Name => write!(f, "board.name must not be empty"),
            Self::Measurement(e) => write!(f, "{e}"),
            Self::Target => write!(f, "search.target_us must be a positive number"),
            Self::Steps => write!(f, "search.steps must be at least 1"),
            Self::CalibrationChildren => {
                write!(f, "search.calibration_children must be at least 3")
            }
            Self::Quality => write!(
                f,
                "search.quality_batch and search.quality_cache must be at least 1"
            ),
            Self::ModelError => write!(f, "search.max_model_error must be in (0, 1)"),
            Self::Candidates => write!(f, "search.candidates must be at least 1"),
            Self::Settings(e) => write!(f, "search: {e}"),
            Self::Baud => write!(f, "service.baud must be positive with a serial port"),
        }
    }
}

impl core::error::Error for BoardError {}

impl BoardConfig {
    /// Version byte in front of the postcard payload.
    /// Version 2 added the measurement protocol's warm-up and sampling fields and the
    /// search's model-error limit, direct-measurement limit and candidates.
    pub const FORMAT_VERSION: u8 = 2;
    /// An upper bound on the encoded size.
    pub const MAX_ENCODED_LEN: usize = 512;

    /// Checks every field.
    pub fn validate(&self) -> Result<(), BoardError> {
        if self.name.is_empty() {
            return Err(BoardError::Name);
        }
        self.measurement
            .validate()
            .map_err(BoardError::Measurement)?;
        let s = &self.search;
        if let Some(t) = s.target_us {
            if !(t.is_finite() && t > 0.0) {
                return Err(BoardError::Target);
            }
        }
        if s.steps == 0 {
            return Err(BoardError::Steps);
        }
        if s.calibration_children < 3 {
            return Err(BoardError::CalibrationChildren);
        }
        if s.quality_batch == 0 || s.quality_cache == 0 {
            return Err(BoardError::Quality);
        }
        if !(s.max_model_error > 0.0 && s.max_model_error < 1.0) {
            return Err(BoardError::ModelError);
        }
        if s.candidates == 0 {
            return Err(BoardError::Candidates);
        }
        // The space is the bundle's; a one-architecture space checks everything else.
        let probe = SearchSpace::uniform(1, &[1]).map_err(|_| BoardError::Malformed)?;
        s.settings
            .validate(&probe, DEFAULT_MC_CAPACITY)
            .map_err(BoardError::Settings)?;
        if self.service.serial_port.is_some() && self.service.baud == 0 {
            return Err(BoardError::Baud);
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
            "measurement.repeats must be at least 1"
        );
        let mut c = host();
        c.search.calibration_children = 2;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("calibration_children"));
        let mut c = host();
        c.search.target_us = Some(-1.0);
        assert!(c.validate().unwrap_err().to_string().contains("target_us"));
    }
}
