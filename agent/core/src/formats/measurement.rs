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
    /// `repeats` is not in `1..=MAX_REPEATS`.
    Repeats,
    /// `batch` is not in `1..=MAX_BATCH`.
    Batch,
    /// `threads` is not in `1..=MAX_THREADS`.
    Threads,
    /// `max_cv` is not a positive number.
    MaxCv,
    /// `noise_budget_ms` is above `MAX_NOISE_BUDGET_MS`.
    NoiseBudget,
    /// `confidence` is not in (0.5, 1).
    Confidence,
    /// `min_repeats` is not in `1..=repeats`.
    MinRepeats,
    /// `stable_tolerance` is not in (0, 1).
    StableTolerance,
    /// `min_sample_us` is not in `1..=MAX_SAMPLE_US`.
    MinSample,
    /// `warmup_ms` is above `MAX_WARMUP_MS`.
    WarmupMs,
    /// `warmup` is above `MAX_WARMUP`.
    Warmup,
}

/// Upper bounds of the protocol's fields: they keep one measurement's memory and time
/// sane on a board (a sample buffer of `repeats` per interleaved network, `batch` rows of
/// activations) and are checked wherever a protocol enters.
pub mod limits {
    /// Most timed samples per network.
    pub const MAX_REPEATS: u32 = 10_000;
    /// Most rows per inference.
    pub const MAX_BATCH: u32 = 4_096;
    /// Most inference threads.
    pub const MAX_THREADS: u16 = 1_024;
    /// Longest time spent measuring noisy networks again, in milliseconds (1 hour).
    pub const MAX_NOISE_BUDGET_MS: u32 = 3_600_000;
    /// Longest sample, in microseconds (10 s).
    pub const MAX_SAMPLE_US: u32 = 10_000_000;
    /// Longest process warm-up, in milliseconds (10 minutes).
    pub const MAX_WARMUP_MS: u32 = 600_000;
    /// Most warm-up samples per network.
    pub const MAX_WARMUP: u32 = 10_000;
}
use limits::*;

impl fmt::Display for MeasurementProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Repeats => write!(f, "measurement.repeats must be in 1..={MAX_REPEATS}"),
            Self::Batch => write!(f, "measurement.batch must be in 1..={MAX_BATCH}"),
            Self::Threads => write!(f, "measurement.threads must be in 1..={MAX_THREADS}"),
            Self::MaxCv => write!(f, "measurement.max_cv must be a positive number"),
            Self::NoiseBudget => write!(
                f,
                "measurement.noise_budget_ms must be at most {MAX_NOISE_BUDGET_MS}"
            ),
            Self::Confidence => write!(f, "measurement.confidence must be in (0.5, 1)"),
            Self::MinRepeats => write!(f, "measurement.min_repeats must be in 1..=repeats"),
            Self::StableTolerance => write!(f, "measurement.stable_tolerance must be in (0, 1)"),
            Self::MinSample => {
                write!(
                    f,
                    "measurement.min_sample_us must be in 1..={MAX_SAMPLE_US}"
                )
            }
            Self::WarmupMs => write!(f, "measurement.warmup_ms must be at most {MAX_WARMUP_MS}"),
            Self::Warmup => write!(f, "measurement.warmup must be at most {MAX_WARMUP}"),
        }
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

/// How to measure one network (`agent/src/measure/` in the repository says how each
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
    /// The precision a measurement must reach: its statistic is as precise as that of
    /// `repeats` samples whose robust coefficient of variation is `max_cv`. Samples
    /// that vary more are met with more samples (precision grows with their square
    /// root), within `noise_budget_ms`.
    pub max_cv: f64,
    /// Milliseconds a set of networks measured together may spend on more samples for
    /// those still too noisy (and a feasibility decision on more samples while still
    /// undecided) before a network is refused as too noisy. 0: no extra samples.
    pub noise_budget_ms: u32,
    /// Feasibility decisions stop as soon as a confidence bound at this level is on
    /// one side of the target.
    pub confidence: f64,
    /// Timed samples before a sequential decision may stop.
    pub min_repeats: u32,
}

impl Default for MeasurementProtocol {
    fn default() -> Self {
        Self {
            warmup_ms: 1000,
            warmup: 20,
            stable_tolerance: 0.03,
            min_sample_us: 200,
            repeats: 30,
            statistic: Statistic::Median,
            batch: 1,
            threads: 1,
            pin_cpu: None,
            max_cv: 0.25,
            noise_budget_ms: 30_000,
            confidence: 0.95,
            min_repeats: 5,
        }
    }
}

impl MeasurementProtocol {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), MeasurementProtocolError> {
        if !(1..=MAX_REPEATS).contains(&self.repeats) {
            return Err(MeasurementProtocolError::Repeats);
        }
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return Err(MeasurementProtocolError::Batch);
        }
        if !(1..=MAX_THREADS).contains(&self.threads) {
            return Err(MeasurementProtocolError::Threads);
        }
        if !(self.max_cv.is_finite() && self.max_cv > 0.0) {
            return Err(MeasurementProtocolError::MaxCv);
        }
        if self.noise_budget_ms > MAX_NOISE_BUDGET_MS {
            return Err(MeasurementProtocolError::NoiseBudget);
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
        if !(1..=MAX_SAMPLE_US).contains(&self.min_sample_us) {
            return Err(MeasurementProtocolError::MinSample);
        }
        if self.warmup_ms > MAX_WARMUP_MS {
            return Err(MeasurementProtocolError::WarmupMs);
        }
        if self.warmup > MAX_WARMUP {
            return Err(MeasurementProtocolError::Warmup);
        }
        Ok(())
    }
}
