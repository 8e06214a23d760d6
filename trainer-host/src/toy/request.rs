//! One toy experiment and its one check: [`ToyRequest::settings`].

use serde::Serialize;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::reward::RewardKind;
use tabnas_core::search::{PvKind, PvMode, SearchSettings};
use tabnas_core::toy::toy_space;

use super::ToyError;

/// One toy experiment: a reward setting run over a range of seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ToyRequest {
    /// Reward.
    pub reward: RewardKind,
    /// P(V) mode (rejection only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pv: Option<PvKind>,
    /// Monte-Carlo samples (with `pv = mc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u16>,
    /// Penalty strength (non-rejection rewards).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// Adam learning rate of the controller's logits.
    pub learning_rate: f64,
    /// RL steps per run.
    pub steps: u32,
    /// Number of seeds.
    pub seeds: u32,
    /// First seed.
    pub first_seed: u64,
}

impl ToyRequest {
    /// The paper's learning rate for a reward: 0.1 for rejection, 0.05 otherwise.
    pub fn default_learning_rate(reward: RewardKind) -> f64 {
        match reward {
            RewardKind::Rejection => 0.1,
            _ => 0.05,
        }
    }

    /// Default Monte-Carlo sample count.
    pub const DEFAULT_N: u16 = 5;
    /// Default penalty strength.
    pub const DEFAULT_BETA: f64 = 2.0;

    /// A request with every setting the reward does not use removed and every one it
    /// uses filled in (P(V) exact, N = 5, beta = 2 unless given).
    pub fn resolved(mut self) -> Result<Self, ToyError> {
        if self.reward == RewardKind::Rejection {
            if let Some(beta) = self.beta {
                return Err(ToyError::BetaWithRejection { beta });
            }
            match (*self.pv.get_or_insert(PvKind::Exact), self.n) {
                (PvKind::Exact, Some(n)) => return Err(ToyError::SamplesWithExactPv { n }),
                (PvKind::Exact, None) => {}
                (PvKind::Mc, _) => {
                    self.n.get_or_insert(Self::DEFAULT_N);
                }
            }
        } else {
            if self.pv.is_some() || self.n.is_some() {
                return Err(ToyError::PvWithoutRejection {
                    reward: self.reward,
                });
            }
            self.beta.get_or_insert(Self::DEFAULT_BETA);
        }
        Ok(self)
    }

    /// The search settings, after checking every field.
    pub fn settings(&self) -> Result<SearchSettings, ToyError> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(ToyError::LearningRate {
                learning_rate: self.learning_rate,
            });
        }
        let request = self.resolved()?;
        if self.seeds == 0 {
            return Err(ToyError::ZeroSeeds);
        }
        if self.steps == 0 {
            return Err(ToyError::ZeroSteps);
        }
        let beta = request.beta.unwrap_or(0.0);
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(ToyError::Beta { beta });
        }
        if self.first_seed.checked_add(self.seeds as u64).is_none() {
            return Err(ToyError::SeedOverflow {
                first_seed: self.first_seed,
                seeds: self.seeds,
            });
        }
        let pv = request.pv.map_or(PvMode::Exact, |kind| {
            kind.with_samples(request.n.unwrap_or(Self::DEFAULT_N))
        });
        let settings = SearchSettings {
            reward: self.reward.with_beta(beta),
            ..SearchSettings::rejection(pv, self.learning_rate)
        };
        settings
            .validate(&toy_space(), DEFAULT_MC_CAPACITY)
            .map_err(ToyError::Settings)?;
        Ok(settings)
    }

    /// The seeds of the request, `first_seed .. first_seed + seeds` (checked by
    /// [`ToyRequest::settings`]).
    pub(crate) fn seed_range(&self) -> std::ops::Range<u64> {
        self.first_seed..self.first_seed + self.seeds as u64
    }
}
