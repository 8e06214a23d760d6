//! Why a toy request or sweep cannot run. Each variant names the value at fault; the
//! messages speak of settings, not of command-line flags (the `tabnas toy` command words
//! them as its flags).

use std::fmt;

use tabnas_core::reward::RewardKind;
use tabnas_core::search::SettingsError;

/// A toy request or sweep that cannot run.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ToyError {
    /// A penalty strength was given to the rejection reward, which has none.
    BetaWithRejection {
        /// The strength given.
        beta: f64,
    },
    /// A Monte-Carlo sample count was given with exact P(V).
    SamplesWithExactPv {
        /// The count given.
        n: u16,
    },
    /// A P(V) mode or sample count was given to a reward that does not compute P(V).
    PvWithoutRejection {
        /// The reward.
        reward: RewardKind,
    },
    /// The controller's learning rate is not a finite positive number.
    LearningRate {
        /// The rate given.
        learning_rate: f64,
    },
    /// Zero seeds.
    ZeroSeeds,
    /// Zero steps per run.
    ZeroSteps,
    /// A penalty strength that is negative or not finite.
    Beta {
        /// The strength given.
        beta: f64,
    },
    /// The seeds `first_seed .. first_seed + seeds` overflow a 64-bit seed.
    SeedOverflow {
        /// The first seed.
        first_seed: u64,
        /// The number of seeds.
        seeds: u32,
    },
    /// The core refused the settings (for example, a sample count its buffer cannot hold).
    Settings(SettingsError),
    /// A sweep over beta with a reward that has no penalty.
    SweepBetaWithoutPenalty {
        /// The reward.
        reward: RewardKind,
    },
    /// A sweep over N without the rejection reward and Monte-Carlo P(V).
    SweepNWithoutMc,
    /// Zero samples drawn from each final policy.
    ZeroDraws,
    /// A swept sample count that is not a whole number from 1 to 65535.
    SampleCount {
        /// The value given.
        value: f64,
    },
}

impl fmt::Display for ToyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BetaWithRejection { beta } => write!(
                f,
                "beta = {beta} does not apply to the rejection reward (it has no penalty to tune)"
            ),
            Self::SamplesWithExactPv { n } => write!(
                f,
                "N = {n} Monte-Carlo samples only apply to Monte-Carlo P(V), not exact P(V)"
            ),
            Self::PvWithoutRejection { reward } => write!(
                f,
                "P(V) settings only apply to the rejection reward, not {reward}"
            ),
            Self::LearningRate { learning_rate } => write!(
                f,
                "the controller's learning rate must be a finite positive number, got \
                 {learning_rate}"
            ),
            Self::ZeroSeeds => f.write_str("at least 1 seed is needed"),
            Self::ZeroSteps => f.write_str("a run needs at least 1 step"),
            Self::Beta { beta } => {
                write!(f, "beta must be a finite non-negative number, got {beta}")
            }
            Self::SeedOverflow { first_seed, seeds } => {
                write!(f, "{seeds} seeds from {first_seed} overflow a 64-bit seed")
            }
            Self::Settings(_) => f.write_str("the search settings cannot be used"),
            Self::SweepBetaWithoutPenalty { reward } => write!(
                f,
                "a sweep over beta needs a reward with a penalty (abs, mnas-soft, mnas-hard), \
                 not {reward}"
            ),
            Self::SweepNWithoutMc => {
                f.write_str("a sweep over N needs the rejection reward with Monte-Carlo P(V)")
            }
            Self::ZeroDraws => {
                f.write_str("at least 1 sample must be drawn from each final policy")
            }
            Self::SampleCount { value } => write!(
                f,
                "a sample count N must be a whole number from 1 to {}, got {value}",
                u16::MAX
            ),
        }
    }
}

impl std::error::Error for ToyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Settings(e) => Some(e),
            _ => None,
        }
    }
}
