//! What a device search runs with: [`DeviceSearchOptions`], built from a board profile
//! and the user's [`SearchOverrides`] by one path ([`SearchOverrides::apply`]) for the
//! command line, the HTTP service and the wire protocol, so every way in checks the same
//! bounds and names the same field.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tabnas_core::formats::board::limits::{MAX_CANDIDATES, MAX_STEPS};
use tabnas_core::formats::board::{BoardConfig, BoardError, BoardSearch};
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::reward::RewardKind;
use tabnas_core::search::{PvMode, SearchSettings, MAX_BETA};
use tabnas_core::target::LatencyTarget;

/// What a device search runs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceSearchOptions {
    /// Latency target (derived from the space when absent).
    pub target_us: Option<LatencyTarget>,
    /// Controller settings.
    pub settings: SearchSettings,
    /// RL steps.
    pub steps: u32,
    /// Seed of the controller and the calibration sample.
    pub seed: u64,
    /// Measurement protocol.
    pub protocol: MeasurementProtocol,
    /// Children measured end to end to calibrate the table.
    pub calibration_children: usize,
    /// Steps between checkpoints.
    pub checkpoint_every: u32,
    /// Tightenings allowed before giving up.
    pub max_tightenings: u32,
    /// Rows per quality inference.
    pub quality_batch: usize,
    /// Losses the quality cache keeps.
    pub quality_cache: usize,
    /// The largest held-out error a latency model may have to be used.
    pub max_model_error: f64,
    /// A space of at most this many children is also measured child by child, and that
    /// measurement competes with the fitted models.
    pub max_direct_children: u64,
    /// Most probable feasible children evaluated for the answer (1: the paper's).
    pub candidates: usize,
}

/// Checkpoints are at least this far apart (besides the first and the last), so that
/// their flushes stay a small share of a run of fast steps; a kill loses at most this
/// much work.
pub const MIN_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

impl DeviceSearchOptions {
    /// The search `profile` describes (its target, settings, steps, seed, measurement
    /// protocol and limits).
    pub fn from_profile(profile: &BoardConfig) -> Self {
        let s = &profile.search;
        Self {
            target_us: s.target_us,
            settings: s.settings,
            steps: s.steps,
            seed: s.seed,
            protocol: profile.measurement,
            calibration_children: s.calibration_children as usize,
            checkpoint_every: s.checkpoint_every,
            max_tightenings: s.max_tightenings as u32,
            quality_batch: s.quality_batch as usize,
            quality_cache: s.quality_cache as usize,
            max_model_error: s.max_model_error,
            max_direct_children: s.max_direct_children as u64,
            candidates: s.candidates as usize,
        }
    }

    /// The limits the latency model is chosen under.
    pub fn model_limits(&self) -> crate::latency_table::ModelLimits {
        crate::latency_table::ModelLimits {
            children: self.calibration_children,
            max_error: self.max_model_error,
            max_direct_children: self.max_direct_children,
            seed: self.seed,
        }
    }

    /// Checks every option against the bounds a board profile has
    /// ([`tabnas_core::formats::board::limits`] and the protocol's); a value too large
    /// for the profile's field is out of bounds.
    pub fn validate(&self) -> Result<(), BoardError> {
        self.protocol.validate().map_err(BoardError::Measurement)?;
        let sat16 = |v: usize| u16::try_from(v).unwrap_or(u16::MAX);
        let sat32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let sat8 = |v: usize| u8::try_from(v).unwrap_or(u8::MAX);
        BoardSearch {
            target_us: self.target_us,
            settings: self.settings,
            steps: self.steps,
            seed: self.seed,
            calibration_children: sat16(self.calibration_children),
            checkpoint_every: self.checkpoint_every,
            max_tightenings: u8::try_from(self.max_tightenings).unwrap_or(u8::MAX),
            quality_batch: sat32(self.quality_batch),
            quality_cache: sat32(self.quality_cache),
            max_model_error: self.max_model_error,
            max_direct_children: u32::try_from(self.max_direct_children).unwrap_or(u32::MAX),
            candidates: sat8(self.candidates),
        }
        .validate()
    }
}

/// Changes to a profile's search that a user asks for, from flags, a request body or a
/// packed search configuration: each given field replaces the profile's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchOverrides {
    /// The latency target.
    pub target: Option<LatencyTarget>,
    /// Whole controller settings (a packed search configuration carries them).
    pub settings: Option<SearchSettings>,
    /// The reward kind; without `beta` it takes the profile's penalty strength.
    pub reward: Option<RewardKind>,
    /// The penalty strength; alone it re-weights the profile's own reward.
    pub beta: Option<f64>,
    /// Monte-Carlo samples N (the paper's N; flag `--n`); 0 means exact P(V).
    pub n: Option<u16>,
    /// RL steps.
    pub steps: Option<u32>,
    /// Seed.
    pub seed: Option<u64>,
    /// Candidates checked for the answer.
    pub candidates: Option<u8>,
}

/// An override outside its bounds; [`OverrideError::field`] names it the way the
/// profile does (`steps`, `candidates`, `beta`), so each way in can say it its way.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OverrideError {
    /// `steps` is not in `1..=MAX_STEPS`.
    Steps {
        /// The value given.
        given: u32,
    },
    /// `candidates` is not in `1..=MAX_CANDIDATES`.
    Candidates {
        /// The value given.
        given: u8,
    },
    /// `beta` is not in `[0, MAX_BETA]`.
    Beta {
        /// The value given.
        given: f64,
    },
    /// The options as a whole are outside a profile's bounds.
    Options(BoardError),
}

impl OverrideError {
    /// The option at fault, as the profile names it (`None` for the options as a whole).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Steps { .. } => Some("steps"),
            Self::Candidates { .. } => Some("candidates"),
            Self::Beta { .. } => Some("beta"),
            Self::Options(_) => None,
        }
    }
}

impl std::fmt::Display for OverrideError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Steps { given } => write!(f, "must be in 1..={MAX_STEPS}, got {given}"),
            Self::Candidates { given } => {
                write!(f, "must be in 1..={MAX_CANDIDATES}, got {given}")
            }
            Self::Beta { given } => write!(f, "must be in [0, {MAX_BETA}], got {given}"),
            Self::Options(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for OverrideError {}

/// What applying overrides says besides the options: a `beta` the reward ignores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// `beta` was given but the reward kind has no penalty strength.
    pub beta_ignored: Option<RewardKind>,
}

impl SearchOverrides {
    /// The options of `profile`'s search with these changes, checked against the
    /// profile's bounds; `profile_beta` is the penalty strength a reward kind takes
    /// without `beta` (a TOML profile's `search.beta`).
    pub fn apply(
        &self,
        profile: &BoardConfig,
        profile_beta: f64,
    ) -> Result<(DeviceSearchOptions, Applied), OverrideError> {
        if let Some(given) = self.steps.filter(|s| !(1..=MAX_STEPS).contains(s)) {
            return Err(OverrideError::Steps { given });
        }
        if let Some(given) = self
            .candidates
            .filter(|c| !(1..=MAX_CANDIDATES).contains(c))
        {
            return Err(OverrideError::Candidates { given });
        }
        if let Some(given) = self.beta.filter(|b| !(0.0..=MAX_BETA).contains(b)) {
            return Err(OverrideError::Beta { given });
        }
        let mut options = DeviceSearchOptions::from_profile(profile);
        let mut applied = Applied { beta_ignored: None };
        if let Some(s) = self.settings {
            options.settings = s;
        }
        // `beta` alone re-weights the profile's own reward.
        let kind = self
            .reward
            .or_else(|| self.beta.map(|_| options.settings.reward.kind()));
        if let Some(kind) = kind {
            options.settings.reward = kind.with_beta(self.beta.unwrap_or(profile_beta));
            if self.beta.is_some() && options.settings.reward.beta().is_none() {
                applied.beta_ignored = Some(kind);
            }
        }
        if let Some(n) = self.n {
            options.settings.pv = if n == 0 {
                PvMode::Exact
            } else {
                PvMode::MonteCarlo { samples: n }
            };
        }
        options.target_us = self.target.or(options.target_us);
        options.steps = self.steps.unwrap_or(options.steps);
        options.seed = self.seed.unwrap_or(options.seed);
        options.candidates = self.candidates.map_or(options.candidates, usize::from);
        options.validate().map_err(OverrideError::Options)?;
        Ok((options, applied))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabnas_core::formats::board::BoardConfig;

    fn profile() -> BoardConfig {
        crate::profile::parse_profile("host", include_str!("../../../firmware-config/host.toml"))
            .unwrap()
    }

    #[test]
    fn overrides_replace_only_what_they_give() {
        let p = profile();
        let (none, _) = SearchOverrides::default().apply(&p, 2.0).unwrap();
        assert_eq!(none, DeviceSearchOptions::from_profile(&p));
        let o = SearchOverrides {
            target: Some(LatencyTarget::new(12.0).unwrap()),
            steps: Some(7),
            n: Some(0),
            ..Default::default()
        };
        let (got, _) = o.apply(&p, 2.0).unwrap();
        assert_eq!(got.target_us.map(LatencyTarget::us), Some(12.0));
        assert_eq!(got.steps, 7);
        assert_eq!(got.settings.pv, PvMode::Exact);
        assert_eq!(got.seed, none.seed);
    }

    #[test]
    fn out_of_bounds_overrides_name_their_field() {
        let p = profile();
        for (o, field) in [
            (
                SearchOverrides {
                    steps: Some(0),
                    ..Default::default()
                },
                "steps",
            ),
            (
                SearchOverrides {
                    candidates: Some(0),
                    ..Default::default()
                },
                "candidates",
            ),
            (
                SearchOverrides {
                    beta: Some(-1.0),
                    ..Default::default()
                },
                "beta",
            ),
        ] {
            assert_eq!(o.apply(&p, 2.0).unwrap_err().field(), Some(field));
        }
    }

    #[test]
    fn beta_alone_reweights_the_profiles_reward_and_says_when_it_cannot() {
        let p = profile();
        let o = SearchOverrides {
            beta: Some(1.5),
            ..Default::default()
        };
        let (got, applied) = o.apply(&p, 2.0).unwrap();
        assert_eq!(got.settings.reward.kind(), p.search.settings.reward.kind());
        assert_eq!(
            applied.beta_ignored.is_some(),
            p.search.settings.reward.beta().is_none()
        );
        let abs = SearchOverrides {
            reward: Some(RewardKind::Abs),
            ..Default::default()
        };
        let (got, _) = abs.apply(&p, 3.0).unwrap();
        assert_eq!(got.settings.reward.beta(), Some(3.0));
    }
}
