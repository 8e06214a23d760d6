//! The packed configuration of one search, as a board receives it.
//!
//! Wire form: one format-version byte ([`SearchConfig::FORMAT_VERSION`]) followed by the
//! postcard encoding of [`SearchConfig`]. [`SearchConfig::decode`] is the one checked
//! path from bytes: it rejects unknown versions, truncated or malformed bytes, and any
//! configuration a search could not run with, naming the field at fault.

use core::fmt;

use serde::{Deserialize, Serialize};

use super::packed::{self, Framing};
use crate::cost::{CostError, FfnFlops, FfnParams, FfnShape, NatsSizeMacs};
use crate::search::{SearchSettings, SettingsError};
use crate::space::{SearchSpace, SpaceError};

/// The resource that the target limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Resource {
    /// Parameter count of an FFN ([`FfnParams`]).
    Params(FfnShape),
    /// FLOPs of an FFN ([`FfnFlops`]).
    Flops(FfnShape),
    /// Multiply-accumulates of the NATS-Bench size space ([`NatsSizeMacs`]; the paper's
    /// "FLOPs").
    NatsMacs(NatsSizeMacs),
    /// Latency in microseconds from a latency table measured on the device.
    LatencyUs,
}

impl Resource {
    /// The analytic cost model, if the resource has one (latency needs a measured table).
    pub fn analytic_params(&self) -> Option<FfnParams> {
        match *self {
            Self::Params(shape) => Some(FfnParams(shape)),
            _ => None,
        }
    }

    /// The FFN FLOPs model, if that is the resource.
    pub fn analytic_flops(&self) -> Option<FfnFlops> {
        match *self {
            Self::Flops(shape) => Some(FfnFlops(shape)),
            _ => None,
        }
    }
}

/// Everything a board needs to run one search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// The search space.
    pub space: SearchSpace,
    /// What the target limits.
    pub resource: Resource,
    /// The limit, in the resource's unit.
    pub target: f64,
    /// Reward, P(V) mode and N, learning rate, baseline momentum, quality map.
    pub settings: SearchSettings,
    /// RL steps to run.
    pub steps: u32,
    /// Seed of the search's random number generator.
    pub seed: u64,
}

/// Why a packed configuration was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No bytes at all.
    Empty,
    /// The first byte names a format this build does not read.
    UnknownVersion {
        /// The version byte found.
        found: u8,
    },
    /// The bytes are not a postcard-encoded configuration (truncated or corrupt).
    Malformed,
    /// Bytes left over after the configuration.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// The output buffer is too small to encode into.
    BufferTooSmall,
    /// The `space` field is invalid.
    Space(SpaceError),
    /// The `target` field is not a finite positive number.
    Target,
    /// The `steps` field is zero.
    NoSteps,
    /// The `settings` field is invalid.
    Settings(SettingsError),
    /// The `resource` cannot price the `space`.
    Resource(CostError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "search config: no bytes"),
            Self::UnknownVersion { found } => write!(
                f,
                "search config: format version {found}, this build reads version {}",
                SearchConfig::FORMAT_VERSION
            ),
            Self::Malformed => write!(f, "search config: bytes are truncated or corrupt"),
            Self::TrailingBytes { count } => {
                write!(
                    f,
                    "search config: {count} unexpected bytes after the configuration"
                )
            }
            Self::BufferTooSmall => write!(f, "search config: output buffer too small"),
            Self::Space(e) => write!(f, "search config field `space`: {e}"),
            Self::Target => write!(
                f,
                "search config field `target`: must be a finite positive number"
            ),
            Self::NoSteps => write!(f, "search config field `steps`: must be at least 1"),
            Self::Settings(e) => write!(f, "search config field `settings`: {e}"),
            Self::Resource(e) => write!(f, "search config field `resource`: {e}"),
        }
    }
}

impl core::error::Error for ConfigError {}

impl SearchConfig {
    /// Version byte written in front of the postcard payload.
    pub const FORMAT_VERSION: u8 = 1;

    /// An upper bound on the encoded size of any valid configuration.
    pub const MAX_ENCODED_LEN: usize = 2048;

    /// The paper's Criteo search: 3 layers, the 41,153-parameter limit, rejection with
    /// Monte-Carlo N = 256, lr 0.05, 2,000 steps, seed 0.
    pub fn criteo_example() -> Self {
        use crate::paper::{criteo_space, CRITEO_REFERENCE_PARAMS, CRITEO_SHAPE};
        Self {
            // Three layers of the paper's widths are within every capacity.
            space: criteo_space(3).unwrap_or_else(|_| unreachable!()),
            resource: Resource::Params(CRITEO_SHAPE),
            target: CRITEO_REFERENCE_PARAMS as f64,
            settings: SearchSettings::rejection(
                crate::search::PvMode::MonteCarlo { samples: 256 },
                0.05,
            ),
            steps: 2000,
            seed: 0,
        }
    }

    /// Checks every field; `mc_capacity` is the Monte-Carlo buffer the search will use.
    pub fn validate(&self, mc_capacity: usize) -> Result<(), ConfigError> {
        self.space.validate().map_err(ConfigError::Space)?;
        if !(self.target.is_finite() && self.target > 0.0) {
            return Err(ConfigError::Target);
        }
        if self.steps == 0 {
            return Err(ConfigError::NoSteps);
        }
        self.settings
            .validate(&self.space, mc_capacity)
            .map_err(ConfigError::Settings)?;
        use crate::cost::CostModel;
        let priced = match self.resource {
            Resource::Params(shape) => FfnParams(shape).check_space(&self.space),
            Resource::Flops(shape) => FfnFlops(shape).check_space(&self.space),
            Resource::NatsMacs(m) => m.check_space(&self.space),
            Resource::LatencyUs => Ok(()),
        };
        priced.map_err(ConfigError::Resource)?;
        Ok(())
    }

    /// Encodes into `buf`, returning the used prefix.
    pub fn encode<'b>(&self, buf: &'b mut [u8]) -> Result<&'b mut [u8], ConfigError> {
        Ok(packed::encode(self, Self::FORMAT_VERSION, buf)?)
    }

    /// Decodes and validates a packed configuration.
    pub fn decode(bytes: &[u8], mc_capacity: usize) -> Result<Self, ConfigError> {
        let config: Self = packed::decode(bytes, Self::FORMAT_VERSION)?;
        config.validate(mc_capacity)?;
        Ok(config)
    }
}

impl From<Framing> for ConfigError {
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
    use crate::reward::Reward;

    fn criteo_config() -> SearchConfig {
        SearchConfig {
            seed: 0xDEAD_BEEF,
            ..SearchConfig::criteo_example()
        }
    }

    #[test]
    fn round_trips_through_postcard() {
        let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
        for reward in [
            Reward::Rejection,
            Reward::Abs { beta: 2.0 },
            Reward::MnasSoft { beta: 0.07 },
            Reward::MnasHard { beta: 0.07 },
        ] {
            let mut c = criteo_config();
            c.settings.reward = reward;
            let bytes = c.encode(&mut buf).unwrap();
            assert_eq!(bytes[0], SearchConfig::FORMAT_VERSION);
            assert_eq!(SearchConfig::decode(bytes, 4096), Ok(c));
        }
        // The largest space still fits the stated bound.
        let widths: std::vec::Vec<u32> = (100_000..100_032).collect();
        let mut big = criteo_config();
        big.space = SearchSpace::uniform(8, &widths).unwrap();
        big.resource = Resource::LatencyUs;
        assert!(big.encode(&mut buf).is_ok());
    }

    #[test]
    fn bad_bytes_and_fields_are_named() {
        let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
        let c = criteo_config();
        let n = c.encode(&mut buf).unwrap().len();
        assert_eq!(SearchConfig::decode(&[], 4096), Err(ConfigError::Empty));
        let mut wrong = buf;
        wrong[0] = 9;
        assert_eq!(
            SearchConfig::decode(&wrong[..n], 4096),
            Err(ConfigError::UnknownVersion { found: 9 })
        );
        for cut in 1..n {
            assert_eq!(
                SearchConfig::decode(&buf[..cut], 4096),
                Err(ConfigError::Malformed),
                "cut at {cut}"
            );
        }
        assert_eq!(
            SearchConfig::decode(&buf[..n + 2], 4096),
            Err(ConfigError::TrailingBytes { count: 2 })
        );
        assert!(matches!(
            SearchConfig::decode(&buf[..n], 16),
            Err(ConfigError::Settings(_))
        ));
        let mut bad = c.clone();
        bad.target = -3.0;
        let bytes = bad.encode(&mut buf).unwrap();
        assert_eq!(SearchConfig::decode(bytes, 4096), Err(ConfigError::Target));
        let mut bad = c.clone();
        bad.steps = 0;
        let bytes = bad.encode(&mut buf).unwrap();
        assert_eq!(SearchConfig::decode(bytes, 4096), Err(ConfigError::NoSteps));
        let mut bad = c;
        bad.resource = Resource::NatsMacs(NatsSizeMacs::CIFAR100);
        let bytes = bad.encode(&mut buf).unwrap();
        assert!(matches!(
            SearchConfig::decode(bytes, 4096),
            Err(ConfigError::Resource(_))
        ));
        assert_eq!(
            criteo_config().encode(&mut [0u8; 4]),
            Err(ConfigError::BufferTooSmall)
        );
        let msg = std::format!(
            "{}",
            ConfigError::Space(SpaceError::EmptyLayer { layer: 2 })
        );
        assert!(msg.contains("`space`") && msg.contains("layer 2"), "{msg}");
    }
}
