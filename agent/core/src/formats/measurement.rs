//! The latency measurement protocol: what is run, how often, and which statistic of the
//! timings is the latency. Every measurement records the protocol it used. Part of the
//! core (no_std) because the packed board configuration carries it;
//! [`MeasurementProtocol::validate`] is its one checked path.

use core::fmt;

use serde::{Deserialize, Serialize};

/// A protocol field that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MeasurementProtocolError {
    /// `repeats` is 0.
    Repeats,
    /// `batch` is 0.
    Batch,
    /// `threads` is 0.
    Threads,
    /// `max_cv` is not a positive number.
    MaxCv,
    /// `max_attempts` is 0.
    MaxAttempts,
    /// `confidence` is not in (0.5, 1).
    Confidence,
    /// `min_repeats` is not in `1..=repeats`.
    MinRepeats,
    /// `stable_tolerance` is not in (0, 1).
    StableTolerance,
    /// `min_sample_us` is 0.
    MinSample,
}

impl fmt::Display for MeasurementProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Repeats => "measurement.repeats must be at least 1",
            Self::Batch => "measurement.batch must be at least 1",
            Self::Threads => "measurement.threads must be at least 1",
            Self::MaxCv => "measurement.max_cv must be a positive number",
            Self::MaxAttempts => "measurement.max_attempts must be at least 1",
            Self::Confidence => "measurement.confidence must be in (0.5, 1)",
            Self::MinRepeats => "measurement.min_repeats must be in 1..=repeats",
            Self::StableTolerance => "measurement.stable_tolerance must be in (0, 1)",
            Self::MinSample => "measurement.min_sample_us must be at least 1",
        })
    }
}

impl core::error::Error for MeasurementProtocolError {}

/// Which statistic of the timed runs is "the latency".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Statistic {
    /// The median (robust to interrupts; the default).
    Median,
    /// The 95th percentile (tail latency).
    P95,
    /// The mean.
    Mean,
}

impl Statistic {
    /// The quantile it stands for (the mean is treated as the median for confidence
    /// bounds).
    pub fn quantile(&self) -> f64 {
        match self {
            Self::Median | Self::Mean => 0.5,
            Self::P95 => 0.95,
        }
    }
}

/// How to measure one network (`agent/src/measure.rs` in the repository says how each
/// field is used, and what was taken from criterion, Google Benchmark and TFLite).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeasurementProtocol {
    /// Milliseconds the first measurement of a process spends warming the machine up
    /// (cold caches, lazy allocation, CPU frequency) before anything is timed.
    pub warmup_ms: u32,
    /// At most this many warm-up samples per network (never fewer than 3); fewer when
    /// three consecutive samples agree within `stable_tolerance`.
    pub warmup: u32,
    /// Relative agreement of three consecutive warm-up samples that ends a network's
    /// warm-up.
    pub stable_tolerance: f64,
    /// A sample times enough consecutive inferences to last at least this many
    /// microseconds (single inferences for the p95 statistic).
    pub min_sample_us: u32,
    /// Timed samples per network.
    pub repeats: u32,
    /// The statistic reported.
    pub statistic: Statistic,
    /// Rows per inference.
    pub batch: u32,
    /// Inference threads (tract runs one; recorded for ONNX Runtime).
    pub threads: u16,
    /// Pin the measuring thread to this CPU, if given.
    pub pin_cpu: Option<u16>,
    /// A measurement whose coefficient of variation exceeds this is measured again, and
    /// refused if it stays above after `max_attempts`.
    pub max_cv: f64,
    /// Attempts before a noisy measurement is refused.
    pub max_attempts: u32,
    /// Feasibility decisions stop as soon as a confidence bound at this level is on
    /// one side of the target.
    pub confidence: f64,
    /// Timed samples before a sequential decision may stop.
    pub min_repeats: u32,
}

impl Default for MeasurementProtocol {
    fn default() -> Self {
        Self {
            warmup_ms: 300,
            warmup: 20,
            stable_tolerance: 0.03,
            min_sample_us: 200,
            repeats: 30,
            statistic: Statistic::Median,
            batch: 1,
            threads: 1,
            pin_cpu: None,
            max_cv: 0.25,
            max_attempts: 3,
            confidence: 0.95,
            min_repeats: 5,
        }
    }
}

impl MeasurementProtocol {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), MeasurementProtocolError> {
        if self.repeats == 0 {
            return Err(MeasurementProtocolError::Repeats);
        }
        if self.batch == 0 {
            return Err(MeasurementProtocolError::Batch);
        }
        if self.threads == 0 {
            return Err(MeasurementProtocolError::Threads);
        }
        if !(self.max_cv.is_finite() && self.max_cv > 0.0) {
            return Err(MeasurementProtocolError::MaxCv);
        }
        if self.max_attempts == 0 {
            return Err(MeasurementProtocolError::MaxAttempts);
        }
        if !(self.confidence > 0.5 && self.confidence < 1.0) {
            return Err(MeasurementProtocolError::Confidence);
        }
        if self.min_repeats == 0 || self.min_repeats > self.repeats {
            return Err(MeasurementProtocolError::MinRepeats);
        }
        if !(self.stable_tolerance > 0.0 && self.stable_tolerance < 1.0) {
            return Err(MeasurementProtocolError::StableTolerance);
        }
        if self.min_sample_us == 0 {
            return Err(MeasurementProtocolError::MinSample);
        }
        Ok(())
    }
}
