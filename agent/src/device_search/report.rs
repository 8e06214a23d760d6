//! What a device search reports: the per-step trace points, the tightenings, the phase
//! timings and `result.json` ([`DeviceResult`]). Plain serde structs; nothing here
//! measures or decides.

use serde::{Deserialize, Serialize};

use crate::latency_model::ModelChoice;
use crate::latency_table::{TableFile, TableWork};
use crate::load::MachineLoad;
use crate::measure::{Decision, Measurement, NoiseFloor};
use crate::Environment;
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::search::SearchSettings;

/// A tightening after the chosen child missed the target on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tightening {
    /// Step at which it happened.
    pub step: u32,
    /// The child that missed.
    pub widths: Vec<u32>,
    /// Its measured statistic.
    pub measured_us: f64,
    /// The internal target before.
    pub old_target_us: f64,
    /// The internal target after.
    pub new_target_us: f64,
}

/// The answer's prediction checked against its measurement, both the protocol's
/// statistic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictionCheck {
    /// The latency model's prediction.
    pub predicted_us: f64,
    /// The full measurement of the answer.
    pub measured_us: f64,
    /// `(measured - predicted) / predicted`.
    pub error: f64,
    /// The error the model states: its largest relative error on held-out children.
    pub stated_error: f64,
    /// Whether `|error|` is within it (absent when the model held no child out).
    pub within: Option<bool>,
}

impl PredictionCheck {
    /// The check of a prediction against a measurement under a stated error.
    pub fn of(predicted_us: f64, measured_us: f64, stated_error: f64) -> Self {
        let error = (measured_us - predicted_us) / predicted_us;
        Self {
            predicted_us,
            measured_us,
            error,
            stated_error,
            within: stated_error
                .is_finite()
                .then(|| error.abs() <= stated_error),
        }
    }
}

/// Wall time of the phases.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Measuring and calibrating the table.
    pub table_s: f64,
    /// Computing child losses (cache misses).
    pub quality_s: f64,
    /// Controller work and cache hits.
    pub rl_s: f64,
    /// Re-measuring the answer.
    pub verify_s: f64,
    /// Writing checkpoints (trace flush, quality cache, checkpoint), part of `rl_s`.
    pub checkpoint_s: f64,
}

/// The latency-model part of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    /// Blocks measured in this run.
    pub measured_blocks: usize,
    /// Blocks reused from the run folder.
    pub reused_blocks: usize,
    /// Children measured end to end in this run.
    pub measured_children: usize,
    /// Fixed overhead (the stem).
    pub overhead_us: f64,
    /// The runtime's cost of one call.
    pub call_us: f64,
    /// The form used, its held-out error, every form's error, and why.
    pub model: Option<ModelChoice>,
    /// The held-out mean absolute percentage error of the form used (a fraction).
    pub holdout_mape: f64,
    /// The machine's noise floor while the table was measured.
    pub noise_floor: Option<NoiseFloor>,
}

impl TableSummary {
    /// The summary of `file` after `work`.
    pub fn of(file: &TableFile, work: &TableWork) -> Self {
        Self {
            measured_blocks: work.measured_blocks,
            reused_blocks: work.reused_blocks,
            measured_children: work.measured_children,
            overhead_us: file.overhead_us,
            call_us: file.call_us,
            model: file.choice.clone(),
            holdout_mape: file
                .choice
                .as_ref()
                .map_or(f64::NAN, |c| c.score.holdout_mape),
            noise_floor: file.noise_floor,
        }
    }
}

/// A child considered for the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Hidden widths.
    pub widths: Vec<u32>,
    /// Its probability under the final controller.
    pub probability: f64,
    /// Validation loss with the shared weights.
    pub validation_loss: f64,
    /// Predicted latency.
    pub predicted_us: f64,
    /// The sequential decision's latency, if it was checked on the device.
    pub decided_us: Option<f64>,
    /// Whether the device said it meets the target (absent if not checked).
    pub meets_target: Option<bool>,
}

/// `result.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceResult {
    /// Hidden widths of the answer.
    pub architecture: Vec<u32>,
    /// Its measured latency statistic.
    pub latency_us: f64,
    /// The target.
    pub target_us: f64,
    /// Where the target came from.
    pub target_source: String,
    /// True if the measured statistic meets the target.
    pub feasible: bool,
    /// Validation loss with the shared weights.
    pub validation_loss: f64,
    /// Dense parameters.
    pub params: u64,
    /// Predicted latency (the latency model in use).
    pub predicted_latency_us: f64,
    /// Its probability under the final controller.
    pub probability: f64,
    /// How the answer was chosen among the candidates.
    pub answer_rule: String,
    /// The paper's answer: the most probable feasible child (may equal the answer).
    pub paper_answer: Candidate,
    /// The candidates, in order of probability, with what the device said.
    pub candidates: Vec<Candidate>,
    /// The machine's noise floor (a fraction: the reference network's CV).
    pub noise_floor: Option<NoiseFloor>,
    /// The held-out error of the latency model used (a fraction).
    pub model_error: f64,
    /// The full measurement (distribution of the timed samples).
    pub latency: Measurement,
    /// The sequential feasibility check that preceded it.
    pub decision: Decision,
    /// The protocol.
    pub protocol: MeasurementProtocol,
    /// The fastest child measured end to end in this run, and its measured latency.
    pub fastest: (Vec<u32>, f64),
    /// The answer's measured latency against the model's prediction for it.
    #[serde(default)]
    pub prediction: Option<PredictionCheck>,
    /// How busy the machine was: load averages, the noise floor at the start and the
    /// end, the drift, and what noise cost in extra samples.
    #[serde(default)]
    pub load: Option<MachineLoad>,
    /// Tightenings.
    pub tightenings: Vec<Tightening>,
    /// The file in the run folder with one line per controller step (`StepPoint`);
    /// `result.json` stays small however long the run.
    pub trace_file: String,
    /// Controller settings.
    pub settings: SearchSettings,
    /// Seed.
    pub seed: u64,
    /// Steps run.
    pub steps: u32,
    /// Machine and software.
    pub environment: Environment,
    /// The latency model.
    pub table: TableSummary,
    /// Quality cache hits and misses.
    pub quality_cache: (u64, u64),
    /// Phase wall times.
    pub timings: Timings,
}
