//! Why a host search could not run or finish: each variant names the setting or the
//! step at fault.

use std::fmt;

use tabnas_bundle::LossError;
use tabnas_core::feasibility::FeasibilityError;
use tabnas_core::search::{SettingsError, StepError};
use tabnas_core::space::SpaceError;

use super::MAX_STEPS;
use crate::supernet::{RowFileError, SizeError};

/// Why a host search could not run or finish.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HostSearchError {
    /// The candidate widths are not a search space.
    Space(SpaceError),
    /// Zero steps.
    ZeroSteps,
    /// More steps than [`MAX_STEPS`].
    TooManySteps {
        /// The steps given.
        steps: u32,
    },
    /// The supernet or a batch would be too large to allocate.
    Size(SizeError),
    /// A latency target without the board's latencies.
    NoLatencyTable,
    /// A warm-up fraction outside `[0, 1)`.
    Warmup {
        /// The fraction given.
        warmup_fraction: f64,
    },
    /// A training or validation batch size of 0.
    ZeroBatch {
        /// Training batch size given.
        batch: usize,
        /// Validation batch size given.
        valid_batch: usize,
    },
    /// A shared-weight learning rate that is not a finite positive number.
    LearningRate {
        /// The rate given.
        learning_rate: f32,
    },
    /// The target cannot be used with this space and resource.
    Target {
        /// The target given.
        target: f64,
        /// Why.
        source: FeasibilityError,
    },
    /// The controller settings cannot be used with this space.
    Settings(SettingsError),
    /// A training step produced a loss that cannot be computed (the weights diverged).
    Training {
        /// The step (1-based).
        step: u32,
        /// Why.
        source: LossError,
    },
    /// The validation loss of a controller step could not be computed.
    Validation {
        /// The step (1-based).
        step: u32,
        /// Why.
        source: LossError,
    },
    /// A controller step failed.
    Controller {
        /// The step (1-based).
        step: u32,
        /// Why.
        source: StepError,
    },
    /// A training batch could not be read from the row file.
    Rows {
        /// The step (1-based).
        step: u32,
        /// Why.
        source: RowFileError,
    },
    /// The found architecture's loss could not be computed.
    Evaluation {
        /// Which rows: `validation` or `test`.
        split: &'static str,
        /// Why.
        source: LossError,
    },
}

impl fmt::Display for HostSearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Space(_) => f.write_str("invalid search space"),
            Self::ZeroSteps => f.write_str("a search needs at least 1 step"),
            Self::TooManySteps { steps } => write!(
                f,
                "a search may have at most {MAX_STEPS} steps, got {steps}"
            ),
            Self::Size(_) => f.write_str("the search does not fit in memory"),
            Self::NoLatencyTable => f.write_str(
                "a latency target needs the board's latencies: give --latency-from DEVICE",
            ),
            Self::Warmup { warmup_fraction } => write!(
                f,
                "the warm-up fraction must be in [0, 1), got {warmup_fraction}"
            ),
            Self::ZeroBatch { batch, valid_batch } => write!(
                f,
                "batch sizes must be at least 1, got {batch} (training) and {valid_batch} \
                 (validation)"
            ),
            Self::LearningRate { learning_rate } => write!(
                f,
                "the shared weights' learning rate must be a finite positive number, got \
                 {learning_rate}"
            ),
            Self::Target { target, .. } => write!(f, "target {target} cannot be used"),
            Self::Settings(_) => f.write_str("invalid controller settings"),
            Self::Training { step, .. } => write!(f, "training step {step} diverged"),
            Self::Validation { step, .. } => write!(f, "validation loss at step {step}"),
            Self::Controller { step, .. } => write!(f, "controller step {step} failed"),
            Self::Rows { step, .. } => write!(f, "cannot read the training batch of step {step}"),
            Self::Evaluation { split, .. } => {
                write!(
                    f,
                    "cannot evaluate the found architecture on the {split} split"
                )
            }
        }
    }
}

impl std::error::Error for HostSearchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Space(e) => Some(e),
            Self::Size(e) => Some(e),
            Self::Target { source, .. } => Some(source),
            Self::Settings(e) => Some(e),
            Self::Training { source, .. }
            | Self::Validation { source, .. }
            | Self::Evaluation { source, .. } => Some(source),
            Self::Controller { source, .. } => Some(source),
            Self::Rows { source, .. } => Some(source),
            _ => None,
        }
    }
}
