//! Board profiles in TOML (`firmware-config/*.toml`) and their conversion to the core's
//! packed [`BoardConfig`]. Unknown keys are errors (a typo must not silently fall back
//! to a default); every error names the key or field at fault.

use heapless::String as HString;

use serde::Deserialize;

use std::fmt;
use tabnas_core::formats::board::{BoardConfig, BoardSearch, BoardService};
use tabnas_core::formats::measurement::{MeasurementProtocol, Statistic};
use tabnas_core::reward::RewardKind;
use tabnas_core::search::{PvKind, SearchSettings};

use tabnas_core::formats::board::BoardError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    board: BoardToml,
    #[serde(default)]
    measurement: MeasurementToml,
    #[serde(default)]
    search: SearchToml,
    #[serde(default)]
    service: ServiceToml,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardToml {
    name: String,
    #[allow(dead_code)]
    #[serde(default)]
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MeasurementToml {
    warmup_ms: u32,
    warmup: u32,
    stable_tolerance: f64,
    min_sample_us: u32,
    repeats: u32,
    statistic: Statistic,
    batch: u32,
    threads: u16,
    pin_cpu: Option<u16>,
    max_cv: f64,
    noise_budget_ms: u32,
    /// Read only to say what replaced it.
    max_attempts: Option<u32>,
    confidence: f64,
    min_repeats: u32,
}

impl Default for MeasurementToml {
    fn default() -> Self {
        let p = MeasurementProtocol::default();
        Self {
            warmup_ms: p.warmup_ms,
            warmup: p.warmup,
            stable_tolerance: p.stable_tolerance,
            min_sample_us: p.min_sample_us,
            repeats: p.repeats,
            statistic: p.statistic,
            batch: p.batch,
            threads: p.threads,
            pin_cpu: p.pin_cpu,
            max_cv: p.max_cv,
            noise_budget_ms: p.noise_budget_ms,
            max_attempts: None,
            confidence: p.confidence,
            min_repeats: p.min_repeats,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SearchToml {
    target_us: Option<tabnas_core::target::LatencyTarget>,
    reward: RewardKind,
    pv: PvKind,
    n: u16,
    beta: f64,
    learning_rate: f64,
    steps: u32,
    seed: u64,
    calibration_children: u16,
    checkpoint_every: u32,
    max_tightenings: u8,
    quality_batch: u32,
    quality_cache: u32,
    max_model_error: f64,
    max_direct_children: u32,
    candidates: u8,
}

impl Default for SearchToml {
    fn default() -> Self {
        Self {
            target_us: None,
            reward: RewardKind::Rejection,
            pv: PvKind::Mc,
            n: 256,
            beta: 2.0,
            learning_rate: 0.05,
            steps: 500,
            seed: 0,
            calibration_children: 36,
            checkpoint_every: 25,
            max_tightenings: 3,
            quality_batch: 256,
            quality_cache: 4096,
            max_model_error: 0.05,
            max_direct_children: 4096,
            candidates: 8,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ServiceToml {
    serial_port: Option<String>,
    baud: u32,
    http_listen: Option<String>,
    token_file: Option<String>,
}

impl Default for ServiceToml {
    fn default() -> Self {
        Self {
            serial_port: None,
            baud: 115_200,
            http_listen: None,
            token_file: None,
        }
    }
}

fn short<const N: usize>(
    profile: &str,
    field: &'static str,
    s: &str,
) -> Result<HString<N>, ProfileError> {
    HString::try_from(s).map_err(|_| ProfileError::TooLong {
        profile: profile.to_string(),
        field,
        max_bytes: N,
    })
}

/// Parses and validates a TOML profile; `source` names it in errors.
pub fn parse_profile(source: &str, text: &str) -> Result<BoardConfig, ProfileError> {
    let p: Profile = toml::from_str(text).map_err(|e| ProfileError::Toml {
        profile: source.to_string(),
        source: e,
    })?;
    let m = p.measurement;
    if m.max_attempts.is_some() {
        return Err(ProfileError::Replaced {
            profile: source.to_string(),
            key: "measurement.max_attempts",
            by: "a noisy network now gets more samples until it is as precise as max_cv \
                 asks, within measurement.noise_budget_ms (milliseconds, default 30000)",
        });
    }
    let s = p.search;
    let mut settings = SearchSettings::rejection(s.pv.with_samples(s.n), s.learning_rate);
    settings.reward = s.reward.with_beta(s.beta);
    let config = BoardConfig {
        name: short(source, "board.name", &p.board.name)?,
        measurement: MeasurementProtocol {
            warmup_ms: m.warmup_ms,
            warmup: m.warmup,
            stable_tolerance: m.stable_tolerance,
            min_sample_us: m.min_sample_us,
            repeats: m.repeats,
            statistic: m.statistic,
            batch: m.batch,
            threads: m.threads,
            pin_cpu: m.pin_cpu,
            max_cv: m.max_cv,
            noise_budget_ms: m.noise_budget_ms,
            confidence: m.confidence,
            min_repeats: m.min_repeats,
        },
        search: BoardSearch {
            target_us: s.target_us,
            settings,
            steps: s.steps,
            seed: s.seed,
            calibration_children: s.calibration_children,
            checkpoint_every: s.checkpoint_every,
            max_tightenings: s.max_tightenings,
            quality_batch: s.quality_batch,
            quality_cache: s.quality_cache,
            max_model_error: s.max_model_error,
            max_direct_children: s.max_direct_children,
            candidates: s.candidates,
        },
        service: BoardService {
            serial_port: p
                .service
                .serial_port
                .as_deref()
                .map(|v| short(source, "service.serial_port", v))
                .transpose()?,
            baud: p.service.baud,
            http_listen: p
                .service
                .http_listen
                .as_deref()
                .map(|v| short(source, "service.http_listen", v))
                .transpose()?,
        },
    };
    // `search.beta` is checked even when the profile's reward has none: a flag may ask
    // for a penalty reward and take it (see [`profile_beta`]).
    let beta_ok = (0.0..=tabnas_core::search::MAX_BETA).contains(&s.beta);
    let checked = if beta_ok {
        config.validate()
    } else {
        Err(tabnas_core::formats::board::BoardError::Settings(
            tabnas_core::search::SettingsError::Beta,
        ))
    };
    checked.map_err(|e| ProfileError::Invalid {
        profile: source.to_string(),
        source: e,
    })?;
    Ok(config)
}

/// The service settings a TOML profile has beyond the packed form (which a
/// microcontroller reads and does not need them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceExtras {
    /// `service.token_file`: the bearer token's file for HTTP requests that change
    /// something (relative to the profile).
    pub token_file: Option<std::path::PathBuf>,
}

/// The [`ServiceExtras`] of a TOML profile that [`parse_profile`] accepted.
pub fn service_extras(text: &str) -> ServiceExtras {
    toml::from_str::<Profile>(text).map_or_else(
        |_| ServiceExtras::default(),
        |p| ServiceExtras {
            token_file: p.service.token_file.map(Into::into),
        },
    )
}

/// The `search.beta` of a TOML profile that [`parse_profile`] accepted (2.0 when the
/// key is absent): the penalty strength of `--reward abs | mnas-*` when the profile's
/// own reward has none.
pub fn profile_beta(text: &str) -> f64 {
    toml::from_str::<Profile>(text).map_or(SearchToml::default().beta, |p| p.search.beta)
}

/// A TOML board profile that cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProfileError {
    /// Not TOML, an unknown key, or a value of the wrong type.
    Toml {
        /// The profile's name (its path, or what it is).
        profile: String,
        /// The TOML parser's message (it names the key and line).
        source: toml::de::Error,
    },
    /// A text field is longer than the packed form holds.
    TooLong {
        /// The profile.
        profile: String,
        /// The key.
        field: &'static str,
        /// The most bytes it may have.
        max_bytes: usize,
    },
    /// The values do not form a usable board configuration.
    Invalid {
        /// The profile.
        profile: String,
        /// Which field and why.
        source: BoardError,
    },
    /// A key of an older profile format that another key replaced.
    Replaced {
        /// The profile.
        profile: String,
        /// The old key.
        key: &'static str,
        /// What replaced it, and how to set it.
        by: &'static str,
    },
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Toml { profile, source } => write!(f, "{profile}: {source}"),
            Self::TooLong {
                profile,
                field,
                max_bytes,
            } => write!(f, "{profile}: {field} is longer than {max_bytes} bytes"),
            Self::Invalid { profile, source } => write!(f, "{profile}: {source}"),
            Self::Replaced { profile, key, by } => {
                write!(f, "{profile}: {key} is no longer read: {by}")
            }
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for ProfileError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_parses() {
        let c = parse_profile("host.toml", include_str!("../defaults/host.toml")).unwrap();
        assert_eq!(c.name.as_str(), "host");
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse_profile(
            "x.toml",
            "[board]\nname = \"b\"\n[measurement]\nrepeat = 3\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("x.toml") && e.contains("repeat"), "{e}");
        let e = parse_profile(
            "x.toml",
            "[board]\nname = \"b\"\n[measurement]\nstatistic = \"p99\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("p99"), "{e}");
        let e = parse_profile("x.toml", "[board]\nname = \"b\"\n[search]\nsteps = 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("search.steps"), "{e}");
        let e = parse_profile(
            "x.toml",
            "[board]\nname = \"b\"\n[measurement]\nconfidence = 2.0\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("measurement.confidence"), "{e}");
        let e = parse_profile("x.toml", "[search]\nsteps = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("board"), "{e}");
        let e = parse_profile(
            "x.toml",
            "[board]\nname = \"b\"\n[search]\nlearning_rate = -1.0\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("search:"), "{e}");
    }
}
