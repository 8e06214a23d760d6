//! Why a network could not be measured: every variant names the network or the
//! figures at fault, and how to get past it where there is a way.

use std::fmt;

use crate::latency_table::TableFileError;
use crate::probe::ProbeError;
use tabnas_bundle::{BundleError, InferenceError};

/// A network of the bundle that could not be built or measured.
#[derive(Debug)]
#[non_exhaustive]
pub enum MeasureError {
    /// The child, block or stem network could not be built from the bundle.
    Bundle(BundleError),
    /// The probe failed.
    Probe(ProbeError),
    /// The measured blocks do not form a table of the space.
    Table(TableFileError),
    /// The measurement was stopped on request (a signal, or the service's stop).
    Interrupted,
    /// A network's timings stayed too noisy to use.
    TooNoisy {
        /// Which network.
        network: String,
        /// The robust coefficient of variation of all its samples.
        cv: f64,
        /// The protocol's limit.
        max_cv: f64,
        /// Samples taken.
        samples: usize,
        /// Samples the protocol asks for (`repeats`).
        repeats: u32,
        /// Seconds spent on more samples.
        spent_s: f64,
        /// The protocol's budget for them, seconds.
        budget_s: f64,
        /// The machine's noise floor (the reference network's robust CV), when measured.
        noise_floor: Option<f64>,
    },
    /// No latency model predicts held-out children within the limit, and the space is
    /// too large to measure child by child.
    ModelTooInaccurate {
        /// What the best form achieved.
        best: String,
        /// The profile's limit on the held-out error.
        limit: f64,
        /// Children measured end to end.
        children: usize,
        /// Children in the space.
        space: u64,
        /// The largest space measured child by child.
        max_direct_children: u64,
    },
}

impl fmt::Display for MeasureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bundle(e) => write!(f, "{e}"),
            Self::Probe(e) => write!(f, "{e}"),
            Self::Table(e) => write!(f, "{e}"),
            Self::Interrupted => write!(f, "stopped on request while measuring"),
            Self::TooNoisy {
                network,
                cv,
                max_cv,
                samples,
                repeats,
                spent_s,
                budget_s,
                noise_floor,
            } => write!(
                f,
                "{network} stayed too noisy to measure: its timings varied by {:.0}% (robust \
                 coefficient of variation) over {samples} samples, so its median is no more \
                 precise than {repeats} samples varying by {:.0}% would make it \
                 (measurement.max_cv {:.0}%); the noise budget of {budget_s:.1} s for more \
                 samples is spent ({spent_s:.1} s){}; stop other work on this machine, pin the \
                 measurement to a quiet CPU (measurement.pin_cpu), or raise \
                 measurement.noise_budget_ms or measurement.max_cv",
                100.0 * cv,
                100.0 * cv * (*repeats as f64 / (*samples).max(1) as f64).sqrt(),
                100.0 * max_cv,
                noise_floor.map_or(String::new(), |n| format!(
                    "; the machine's noise floor was {:.0}%",
                    100.0 * n
                )),
            ),
            Self::ModelTooInaccurate {
                best,
                limit,
                children,
                space,
                max_direct_children,
            } => write!(
                f,
                "no latency model is accurate enough here: {best} (limit {:.1}%, {children} \
                 children measured), and the space's {space} children are more than \
                 search.max_direct_children ({max_direct_children}) to measure one by one; \
                 raise search.calibration_children, search.max_model_error or \
                 search.max_direct_children, or measure on a quieter machine",
                100.0 * limit
            ),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for MeasureError {}

impl From<BundleError> for MeasureError {
    fn from(e: BundleError) -> Self {
        Self::Bundle(e)
    }
}

impl From<ProbeError> for MeasureError {
    fn from(e: ProbeError) -> Self {
        Self::Probe(e)
    }
}

impl From<InferenceError> for MeasureError {
    fn from(e: InferenceError) -> Self {
        Self::Probe(ProbeError::Inference(e))
    }
}
