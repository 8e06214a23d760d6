//! What a device search reports: the per-step trace points, the tightenings, the phase
//! timings and `result.json` ([`DeviceResult`]). Plain serde structs; nothing here
//! measures or decides.

use serde::{Deserialize, Serialize};

use super::run_folder::StepPoint;
use crate::latency_table::TableFile;
use crate::measure::{Decision, Measurement};
use crate::Environment;
use tabnas_core::cost::Calibration;
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
}

/// The table part of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    /// Blocks measured in this run.
    pub measured_blocks: usize,
    /// Blocks reused from the run folder.
    pub reused_blocks: usize,
    /// Fixed overhead.
    pub overhead_us: f64,
    /// Calibration.
    pub calibration: Calibration,
    /// Held-out mean absolute percentage error.
    pub holdout_mape: f64,
    /// Held-out worst error.
    pub holdout_max_error_us: f64,
}

impl TableSummary {
    /// The summary of `file` after a run that measured `measured` blocks and reused
    /// `reused`.
    pub fn of(file: &TableFile, measured: usize, reused: usize) -> Self {
        let report = file.report.as_ref();
        Self {
            measured_blocks: measured,
            reused_blocks: reused,
            overhead_us: file.overhead_us,
            calibration: file.calibration,
            holdout_mape: report.map_or(f64::NAN, |r| r.holdout_mape),
            holdout_max_error_us: report.map_or(f64::NAN, |r| r.holdout_max_error_us),
        }
    }
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
    /// Predicted latency (calibrated table).
    pub predicted_latency_us: f64,
    /// Its probability under the final controller.
    pub probability: f64,
    /// The full measurement (distribution of the timed runs).
    pub latency: Measurement,
    /// The sequential feasibility check that preceded it.
    pub decision: Decision,
    /// The protocol.
    pub protocol: MeasurementProtocol,
    /// Fastest child and its predicted latency.
    pub fastest: (Vec<u32>, f64),
    /// Tightenings.
    pub tightenings: Vec<Tightening>,
    /// Controller steps (P(V) trace).
    pub trace: Vec<StepPoint>,
    /// Controller settings.
    pub settings: SearchSettings,
    /// Seed.
    pub seed: u64,
    /// Steps run.
    pub steps: u32,
    /// Machine and software.
    pub environment: Environment,
    /// The latency table.
    pub table: TableSummary,
    /// Quality cache hits and misses.
    pub quality_cache: (u64, u64),
    /// Phase wall times.
    pub timings: Timings,
}
