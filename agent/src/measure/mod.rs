//! Measuring latency the way a performance engineer would sign off on, under a
//! [`MeasurementProtocol`], and deciding feasibility sequentially.
//!
//! What we took from criterion, Google Benchmark and TFLite's `benchmark_model`:
//!
//! * **Warm-up by time and stability, not a count.** The first use of a [`Bench`] runs a
//!   reference network for `warmup_ms` (TFLite's `warmup_min_secs`): the process's cold
//!   start (page faults, lazy allocations, CPU frequency ramp-up) is paid there, once.
//!   Each network is then warmed until three consecutive samples agree within
//!   `stable_tolerance` (or `warmup` samples have run), like criterion's warm-up that
//!   runs until the timings settle.
//! * **Fast calls batched per sample.** A sample times `calls` consecutive inferences
//!   with one pair of clock reads, `calls` grown (Google Benchmark's iteration growth)
//!   until a sample takes at least `min_sample_us`; the latency of a call is the sample
//!   over `calls`, so clock resolution and timer cost are below 0.1% of any sample. The
//!   `p95` statistic times single calls instead (a tail is a property of single calls).
//! * **An order that cancels drift.** Networks that are compared are measured together:
//!   round after round, every network gives one sample, in a freshly shuffled order
//!   (seeded), instead of each network to completion in turn. Slow drift (thermal,
//!   frequency, other processes) then touches every network alike. Each sample is
//!   preceded by one untimed call, so the cache misses that interleaving causes (the
//!   other networks evicted this one's weights) are not timed: a deployed network runs
//!   alone.
//! * **Outliers are kept, not trimmed**, and summarised robustly: the statistic is the
//!   median (or p95 / mean) of the samples, and the spread that counts is the robust
//!   coefficient of variation (`1.4826 * MAD / median`, criterion's MAD-based noise
//!   measure), which one interrupted sample does not inflate; the plain CV is recorded.
//! * **The noise floor is measured and recorded.** The reference network (an identity,
//!   or a bundle's narrowest child with [`Bench::with_reference_of`]) is sampled for the
//!   rest of the `warmup_ms` window once it is warm; those samples give the machine's
//!   undisturbed *reference speed* (see `ReferenceSpeed`), their robust CV the noise
//!   floor, and sampling it again after the table gives the drift over the run.
//! * **Speed changes are corrected, not averaged in.** A shared or throttled CPU does not
//!   add noise to every sample alike: it runs whole stretches (tens of milliseconds to
//!   a second) 30-45% slower, so a network whose samples fall in one such stretch
//!   measures slow as a whole, and two measurements of one network disagree. The
//!   reference network is therefore loaded with every set and sampled between every
//!   [`SAMPLES_PER_REFERENCE`] samples of the others; each sample is divided by the
//!   machine's speed around it (the mean of the reference samples just before and just
//!   after it, over the reference speed). The statistic is taken over the samples taken
//!   at the reference speed when there are enough of them, which need no correction,
//!   otherwise over all of them, corrected: a latency at the reference speed, whatever
//!   the machine did meanwhile. The
//!   factors are kept (the [`Measurement::slowdown`] of each network, and how many
//!   samples ran at least [`SLOWED`] slower in the bench's [`NoiseStats`]). The `p95`
//!   statistic is not corrected: a tail is what slow stretches make.
//! * **Noise is met with more measurement, not refusal** (Google Benchmark's repetitions,
//!   pyperf's "more runs on an unquiet machine"). The precision asked for is that of
//!   `repeats` samples whose robust CV is `max_cv`: the median's standard error shrinks
//!   with the square root of the sample count, so a network whose samples vary more
//!   takes more rounds (still interleaved with the other noisy networks of its set) until
//!   `robust_cv * sqrt(repeats / n) <= max_cv`. Only when the set's `noise_budget_ms` is
//!   spent is a network refused ([`MeasureError::TooNoisy`], naming it, its spread, the
//!   samples, the budget and the noise floor). Every extra sample is counted in the
//!   bench's [`NoiseStats`], which the run reports.
//!
//! [`Bench::decide`] answers only "is the statistic at most the target?": after `min_repeats`
//! samples it computes a distribution-free confidence interval for the statistic's
//! quantile from order statistics (normal approximation of the binomial) and stops as
//! soon as the interval is on one side of the target.

mod error;
pub use error::MeasureError;

use rand_core::Rng;
use serde::{Deserialize, Serialize};
use tract_onnx::pb::ModelProto;

use crate::probe::{LatencyProbe, NetId};
use crate::stats::{quantile, quantile_bounds};
use tabnas_bundle::{identity_model, NetShape};
use tabnas_core::formats::measurement::{MeasurementProtocol, Statistic};
use tabnas_core::rng::{search_rng, SearchRng};

/// Networks measured together at most (a group is loaded at once and interleaved).
pub const GROUP_SIZE: usize = 48;

/// Most timed samples one network may take (its sample buffer's bound).
pub const MAX_SAMPLES: usize = tabnas_core::formats::measurement::limits::MAX_REPEATS as usize;

/// Width of the reference (identity) network.
const REFERENCE_WIDTH: usize = 8;

/// Samples of other networks between two samples of the reference network.
pub const SAMPLES_PER_REFERENCE: usize = 8;

/// A sample taken while the machine ran at least this much slower than its reference
/// speed counts as slowed in [`NoiseStats`].
pub const SLOWED: f64 = 0.10;

/// One measured network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The protocol's statistic of the per-call latency: the latency.
    pub latency_us: f64,
    /// Upper bound of the statistic at the protocol's confidence (order statistics of
    /// the samples it was taken over): what a second measurement stays under.
    #[serde(default = "unknown")]
    pub upper_us: f64,
    /// Median of the samples the statistic was taken over: those taken at the
    /// reference speed when there are enough of them, else all (see the module docs),
    /// so the five figures below may describe fewer samples than `samples_us` lists.
    pub median_us: f64,
    /// 95th percentile (of the same samples).
    pub p95_us: f64,
    /// Mean (of the same samples).
    pub mean_us: f64,
    /// Fastest of the same samples.
    pub min_us: f64,
    /// Slowest of the same samples.
    pub max_us: f64,
    /// Coefficient of variation of the samples (standard deviation / mean).
    pub cv: f64,
    /// Robust coefficient of variation: `1.4826 * MAD / median`, which one interrupted
    /// sample does not inflate; this is what `max_cv` limits.
    pub robust_cv: f64,
    /// Consecutive calls timed per sample.
    pub calls_per_sample: u32,
    /// Warm-up samples this network took before its timings were stable.
    pub warmup_samples: u32,
    /// Batches of samples taken: 1, or more when the first `repeats` samples were too
    /// noisy for the precision asked (`samples_us` holds them all).
    pub attempts: u32,
    /// Inferences executed for this network's group, warm-up included, shared equally
    /// among the networks measured together.
    pub runs: u64,
    /// The per-call latency of every sample, in order, corrected to the reference speed
    /// (except under the `p95` statistic).
    pub samples_us: Vec<f64>,
    /// How much slower than its reference speed the machine ran while this network was
    /// measured (the median of its samples' factors, 1.0 = reference speed).
    #[serde(default = "unit")]
    pub slowdown: f64,
    /// The statistics of the full measurements behind a confirmed claim
    /// ([`crate::confirm::confirm`], whose `upper_us` is then a bound for one more
    /// measurement); empty for a single measurement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirmations_us: Vec<f64>,
}

fn unit() -> f64 {
    1.0
}

fn unknown() -> f64 {
    f64::NAN
}

/// The relative precision of a median from `n` samples with robust CV `cv`, expressed as
/// the robust CV that `repeats` samples would need for the same precision:
/// `cv * sqrt(repeats / n)`. A measurement is precise enough when this is at most `max_cv`.
pub fn equivalent_cv(cv: f64, n: usize, repeats: u32) -> f64 {
    cv * (f64::from(repeats.max(1)) / n.max(1) as f64).sqrt()
}

/// What noise cost a bench: how many networks needed more samples than the protocol's
/// `repeats`, and how long those took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct NoiseStats {
    /// Networks measured (the reference included).
    pub networks: u64,
    /// Of those, networks that needed more samples.
    pub resampled: u64,
    /// Samples taken beyond `repeats`.
    pub extra_samples: u64,
    /// Seconds spent on those samples.
    pub extra_seconds: f64,
    /// The largest robust CV of an accepted measurement.
    pub max_robust_cv: f64,
    /// Feasibility decisions that needed more samples than `repeats`.
    pub extended_decisions: u64,
    /// Timed samples taken (warm-up excluded).
    #[serde(default)]
    pub samples: u64,
    /// Of those, samples taken while the machine ran at least [`SLOWED`] slower than its
    /// reference speed (corrected, see the module docs).
    #[serde(default)]
    pub slowed_samples: u64,
    /// The largest speed factor seen around a sample (1.0 = the reference speed).
    #[serde(default)]
    pub max_slowdown: f64,
}

/// The machine's noise, measured on the reference network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NoiseFloor {
    /// The reference network's per-call latency at the machine's undisturbed speed (found
    /// over the warm-up window, or given): the speed every sample is corrected to.
    pub reference_us: f64,
    /// Its robust coefficient of variation: the noise a measurement here cannot go
    /// below.
    pub cv: f64,
    /// Relative change of the reference between the first and the last time it was
    /// measured (NaN until it is measured twice).
    pub drift: f64,
}

/// Consecutive reference samples summarised together by [`ReferenceSpeed`].
const SPEED_BLOCK: usize = 8;

/// The reference network's speed over a window of samples. A disturbed CPU runs whole
/// stretches (milliseconds to a second) 30-45% slower; the median of each block of
/// [`SPEED_BLOCK`] consecutive samples is the speed of one short stretch, and the
/// reference speed is the 10th percentile of those medians: the speed of the machine
/// undisturbed, whatever share of the window was disturbed (from 10% of it on). A
/// machine slowed the whole window has no faster stretch, and its speed is what it is.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ReferenceSpeed {
    /// The 10th percentile of the block medians.
    undisturbed_us: f64,
    /// Robust CV of all the samples: the noise floor.
    robust_cv: f64,
}

impl ReferenceSpeed {
    fn of(samples: &[f64]) -> Self {
        let mut medians: Vec<f64> = samples
            .chunks(SPEED_BLOCK)
            .map(|block| median_of(&mut block.to_vec()))
            .collect();
        medians.sort_by(f64::total_cmp);
        Self {
            undisturbed_us: quantile(&medians, 0.1),
            robust_cv: summarize(samples, Statistic::Median).robust_cv,
        }
    }
}

/// The statistics of per-call samples.
struct Summary {
    stat: f64,
    median: f64,
    p95: f64,
    mean: f64,
    min: f64,
    max: f64,
    cv: f64,
    robust_cv: f64,
}

fn summarize(samples: &[f64], statistic: Statistic) -> Summary {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let var = sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let cv = if mean > 0.0 { var.sqrt() / mean } else { 0.0 };
    let median = quantile(&sorted, 0.5);
    let p95 = quantile(&sorted, 0.95);
    let stat = match statistic {
        Statistic::Median => median,
        Statistic::P95 => p95,
        Statistic::Mean => mean,
    };
    let mut deviations: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let robust_cv = if median > 0.0 {
        1.4826 * quantile(&deviations, 0.5) / median
    } else {
        0.0
    };
    Summary {
        robust_cv,
        stat,
        median,
        p95,
        mean,
        min: sorted.first().copied().unwrap_or(f64::NAN),
        max: sorted.last().copied().unwrap_or(f64::NAN),
        cv,
    }
}

/// A network to measure: what it is called in messages, its graph and its shape.
#[derive(Debug, Clone, Copy)]
pub struct Net<'m> {
    /// Its name in messages (`block 2 64x32`, `child 64-24-24`).
    pub label: &'m str,
    /// The graph.
    pub model: &'m ModelProto,
    /// Its inputs and output.
    pub shape: NetShape,
}

/// A probe with the state a measurement session keeps: whether the process is warm,
/// the noise floor, and the generator that shuffles the order of networks.
pub struct Bench<'p> {
    probe: &'p mut dyn LatencyProbe,
    protocol: MeasurementProtocol,
    rng: SearchRng,
    warm: bool,
    noise: Option<NoiseFloor>,
    /// The reference network's robust CV when last measured again.
    noise_end: Option<f64>,
    stats: NoiseStats,
    /// Calls per sample of the reference network (set at warm-up).
    reference_calls: u32,
    /// The reference network, when not the identity.
    reference: Option<(ModelProto, NetShape)>,
    /// When set, the next timed sample fails with [`MeasureError::Interrupted`].
    stop: Option<&'p std::sync::atomic::AtomicBool>,
    /// Inferences executed in all.
    pub runs: u64,
}

impl std::fmt::Debug for Bench<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bench")
            .field("runtime", &self.probe.runtime())
            .field("warm", &self.warm)
            .field("noise", &self.noise)
            .finish()
    }
}

impl<'p> Bench<'p> {
    /// A cold bench on `probe`; `seed` fixes the order of interleaved networks.
    pub fn new(probe: &'p mut dyn LatencyProbe, protocol: MeasurementProtocol, seed: u64) -> Self {
        Self {
            probe,
            protocol,
            rng: search_rng(seed ^ 0x0bad_5eed),
            warm: false,
            noise: None,
            noise_end: None,
            stats: NoiseStats::default(),
            reference_calls: 1,
            reference: None,
            stop: None,
            runs: 0,
        }
    }

    /// This bench stops at its next sample once `stop` is set, failing with
    /// [`MeasureError::Interrupted`] (a signal or a service's stop request ends a long
    /// measurement within one sample).
    pub fn interrupted_by(mut self, stop: &'p std::sync::atomic::AtomicBool) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Uses `bundle`'s narrowest child as the reference network instead of an identity:
    /// a disturbed CPU slows it as it slows the children it corrects (an identity,
    /// all runtime overhead, slows more than a network that also computes). Call it
    /// before anything is measured.
    pub fn with_reference_of(mut self, bundle: &tabnas_bundle::Bundle) -> Self {
        let narrowest: Vec<usize> = bundle
            .manifest
            .space
            .iter()
            .filter_map(|w| w.iter().min().map(|&w| w as usize))
            .collect();
        if let Ok(model) = bundle.child_model(&narrowest) {
            self.reference = Some((model, NetShape::of(&bundle.manifest)));
        }
        self
    }

    /// Warms up, then corrects every later sample to the reference speed `reference_us`
    /// (the reference network's per-call latency) instead of the one found: measurements
    /// then compare with those of the bench that found it, such as a saved latency
    /// table's. A speed that is not a positive number is ignored.
    pub fn at_reference_speed(&mut self, reference_us: f64) -> Result<(), MeasureError> {
        self.warm_up()?;
        if let Some(n) = self
            .noise
            .as_mut()
            .filter(|_| reference_us.is_finite() && reference_us > 0.0)
        {
            n.reference_us = reference_us;
        }
        Ok(())
    }

    /// The protocol.
    pub fn protocol(&self) -> &MeasurementProtocol {
        &self.protocol
    }

    /// The runtime that measures.
    pub fn runtime(&self) -> String {
        self.probe.runtime()
    }

    /// The noise floor measured at warm-up (and the drift since, after
    /// [`Bench::recheck_noise`]).
    pub fn noise_floor(&self) -> Option<NoiseFloor> {
        self.noise
    }

    /// The reference network's robust CV when [`Bench::recheck_noise`] last measured it:
    /// the noise floor at that time.
    pub fn noise_floor_now(&self) -> Option<f64> {
        self.noise_end
    }

    /// What noise has cost this bench so far.
    pub fn noise_stats(&self) -> NoiseStats {
        self.stats
    }

    fn budget(&self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::from(self.protocol.noise_budget_ms))
    }

    fn time(&mut self, id: NetId, calls: u32) -> Result<f64, MeasureError> {
        if self
            .stop
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
        {
            return Err(MeasureError::Interrupted);
        }
        self.runs += calls as u64;
        Ok(self.probe.time(id, calls)? / calls as f64)
    }

    /// The process warm-up (once): the reference network runs alone until its timings
    /// are stable, then is sampled for the rest of the `warmup_ms` window (and at least
    /// `repeats` samples); their median is the reference speed, their robust CV the noise
    /// floor.
    fn warm_up(&mut self) -> Result<(), MeasureError> {
        if self.warm {
            return Ok(());
        }
        let started = std::time::Instant::now();
        self.probe.clear();
        let id = self.load_reference()?;
        // The first calls pay the process's cold start: calibrate the calls on a warm
        // network.
        self.warm_net(id, 64)?;
        // Half a sample's length: the reference is sampled often, and its samples only
        // need to say how fast the machine runs.
        let half = (self.protocol.min_sample_us / 2).max(1);
        self.reference_calls = self.batched_calls(id, half)?;
        self.warm_net(id, self.reference_calls)?;
        let speed = self.sample_reference(id, started, self.protocol.warmup_ms)?;
        self.warm = true;
        self.noise = Some(NoiseFloor {
            reference_us: speed.undisturbed_us,
            cv: speed.robust_cv,
            drift: f64::NAN,
        });
        Ok(())
    }

    /// Loads the reference network beside whatever is loaded.
    fn load_reference(&mut self) -> Result<NetId, MeasureError> {
        let batch = self.protocol.batch as usize;
        if let Some((model, shape)) = &self.reference {
            return Ok(self.probe.load(model, *shape, batch)?);
        }
        let shape = NetShape {
            numeric: REFERENCE_WIDTH,
            categorical: 0,
            outputs: REFERENCE_WIDTH,
        };
        Ok(self
            .probe
            .load(&identity_model(REFERENCE_WIDTH), shape, batch)?)
    }

    /// Samples the warm reference network `id` until `window_ms` has passed since
    /// `started` and at least `repeats` samples were taken.
    fn sample_reference(
        &mut self,
        id: NetId,
        started: std::time::Instant,
        window_ms: u32,
    ) -> Result<ReferenceSpeed, MeasureError> {
        let window = std::time::Duration::from_millis(u64::from(window_ms));
        let repeats = self.protocol.repeats.max(1) as usize;
        let mut samples = Vec::with_capacity(repeats);
        // Bounded in samples too, for a probe whose calls take no time at all.
        while samples.len() < repeats || (started.elapsed() < window && samples.len() < 1 << 16) {
            samples.push(self.reference_sample(id)?);
        }
        Ok(ReferenceSpeed::of(&samples))
    }

    /// One timed sample of the reference network `id`, preceded (like every sample) by
    /// one untimed call.
    fn reference_sample(&mut self, id: NetId) -> Result<f64, MeasureError> {
        self.probe.time(id, 1)?;
        self.runs += 1;
        self.time(id, self.reference_calls)
    }

    /// How much slower than its reference speed the machine ran between two reference
    /// samples (1.0 while the reference speed is not known).
    fn slowdown(&self, before_us: f64, after_us: f64) -> f64 {
        let speed = self.noise.map_or(f64::NAN, |n| n.reference_us);
        let factor = 0.5 * (before_us + after_us) / speed;
        if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        }
    }

    /// The samples a statistic is taken over, sorted: those taken while the machine ran
    /// at its reference speed (less than [`SLOWED`] slower) when they are at least a
    /// third of `repeats` and `min_repeats`, since they need no correction; otherwise
    /// every sample, corrected. Every sample counts under the `p95` statistic.
    fn kept(&self, samples: &[f64], factors: &[f64]) -> Vec<f64> {
        let p = &self.protocol;
        let mut kept: Vec<f64> = samples
            .iter()
            .zip(factors)
            .filter(|&(_, &f)| f < 1.0 + SLOWED)
            .map(|(&t, _)| t)
            .collect();
        let enough = (p.repeats.div_ceil(3)).max(p.min_repeats).max(1) as usize;
        if p.statistic == Statistic::P95 || kept.len() < enough {
            kept = samples.to_vec();
        }
        kept.sort_by(f64::total_cmp);
        kept
    }

    /// Counts one timed sample taken at speed factor `factor`.
    fn record_factor(&mut self, factor: f64) {
        self.stats.samples += 1;
        if factor >= 1.0 + SLOWED {
            self.stats.slowed_samples += 1;
        }
        self.stats.max_slowdown = self.stats.max_slowdown.max(factor);
    }

    /// A sample `raw_us` taken at speed factor `factor`, as the statistic uses it.
    fn corrected(&self, raw_us: f64, factor: f64) -> f64 {
        if self.protocol.statistic == Statistic::P95 {
            raw_us
        } else {
            raw_us / factor
        }
    }

    /// Samples the reference network again (for a quarter of the `warmup_ms` window: it
    /// is only reported) and records the drift of its speed since warm-up.
    pub fn recheck_noise(&mut self) -> Result<Option<NoiseFloor>, MeasureError> {
        if let Some(first) = self.noise {
            let started = std::time::Instant::now();
            self.probe.clear();
            let id = self.load_reference()?;
            self.warm_net(id, self.reference_calls)?;
            let again = self.sample_reference(id, started, self.protocol.warmup_ms / 4)?;
            self.noise_end = Some(again.robust_cv);
            self.noise = Some(NoiseFloor {
                drift: (again.undisturbed_us - first.reference_us) / first.reference_us,
                ..first
            });
        }
        Ok(self.noise)
    }

    /// Calls per sample for `id` under the protocol's statistic (single calls for the
    /// p95 statistic, a tail being a property of single calls).
    fn calls_for(&mut self, id: NetId) -> Result<u32, MeasureError> {
        if self.protocol.statistic == Statistic::P95 {
            return Ok(1);
        }
        self.batched_calls(id, self.protocol.min_sample_us)
    }

    /// Calls per sample grown by the observed time until a sample takes at least
    /// `sample_us`.
    fn batched_calls(&mut self, id: NetId, sample_us: u32) -> Result<u32, MeasureError> {
        let target = sample_us.max(1) as f64;
        // The first inference of a network just loaded pays its own cold start (lazy
        // initialisation, page faults); calibrating on it would give too few calls.
        self.probe.time(id, 2)?;
        self.runs += 2;
        let mut calls = 1u32;
        loop {
            let per_call = self.time(id, calls)?;
            let sample = per_call * calls as f64;
            if sample >= target || calls >= 1 << 20 {
                return Ok(calls);
            }
            // Aim 20% past the minimum, at least doubling, at most x10 (Google
            // Benchmark's growth rule).
            let want = if per_call > 0.0 {
                (1.2 * target / per_call).ceil() as u32
            } else {
                calls * 10
            };
            calls = want.clamp(calls * 2, calls * 10).min(1 << 20);
        }
    }

    /// Warms `id` until three consecutive samples agree within `stable_tolerance` of
    /// their median, or `warmup` samples have run; returns the samples taken.
    fn warm_net(&mut self, id: NetId, calls: u32) -> Result<u32, MeasureError> {
        let mut last: Vec<f64> = Vec::with_capacity(3);
        let tol = self.protocol.stable_tolerance;
        for k in 1..=self.protocol.warmup.max(3) {
            let t = self.time(id, calls)?;
            if last.len() == 3 {
                last.remove(0);
            }
            last.push(t);
            if last.len() == 3 {
                let mut s = last.clone();
                s.sort_by(f64::total_cmp);
                let mid = s[1];
                if mid > 0.0 && s.iter().all(|x| ((x - mid) / mid).abs() <= tol) {
                    return Ok(k);
                }
            }
        }
        Ok(self.protocol.warmup.max(3))
    }

    /// Measures networks that are compared with each other: loaded together (in groups
    /// of [`GROUP_SIZE`]), each warmed until stable, then sampled round-robin in a
    /// shuffled order. A network too noisy for the precision asked gets more rounds
    /// (see the module docs); one still too noisy when `noise_budget_ms` is spent fails
    /// the measurement, naming it.
    pub fn measure_set(
        &mut self,
        nets: &[Net<'_>],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<Measurement>, MeasureError> {
        self.warm_up()?;
        let mut out = Vec::with_capacity(nets.len());
        for group in nets.chunks(GROUP_SIZE) {
            progress(out.len(), nets.len());
            self.probe.clear();
            let reference = self.load_reference()?;
            let mut ids = Vec::with_capacity(group.len());
            for net in group {
                ids.push(
                    self.probe
                        .load(net.model, net.shape, self.protocol.batch as usize)?,
                );
            }
            out.extend(self.measure_loaded(group, &ids, reference)?);
        }
        progress(out.len(), nets.len());
        Ok(out)
    }

    /// Measures one network.
    pub fn measure(&mut self, net: Net<'_>) -> Result<Measurement, MeasureError> {
        Ok(self.measure_set(&[net], &mut |_, _| {})?.remove(0))
    }

    /// Decides whether `net`'s statistic is at most `target_us` (see the module docs):
    /// warmed like any network, then sampled one sample at a time until a one-sided
    /// bound clears the target; past `repeats` samples it goes on (up to four times as
    /// many) while the bounds still straddle the target and `noise_budget_ms` lasts,
    /// then judges the point statistic. The bounds account for spread.
    pub fn decide(&mut self, net: Net<'_>, target_us: f64) -> Result<Decision, MeasureError> {
        self.warm_up()?;
        self.probe.clear();
        let reference = self.load_reference()?;
        let id = self
            .probe
            .load(net.model, net.shape, self.protocol.batch as usize)?;
        let runs_before = self.runs;
        let calls = self.calls_for(id)?;
        let warmup_samples = self.warm_net(id, calls)?;
        let p = self.protocol;
        let q = p.statistic.quantile();
        let mut samples: Vec<f64> = Vec::with_capacity(p.repeats as usize);
        // The samples the statistic is taken over, sorted (see `Bench::kept`).
        let mut sorted: Vec<f64> = Vec::new();
        let repeats = p.repeats.max(1);
        let mut factors: Vec<f64> = Vec::with_capacity(p.repeats as usize);
        let decision = |samples: &[f64],
                        sorted: &[f64],
                        factors: &mut Vec<f64>,
                        feasible: Option<bool>,
                        runs| {
            let (lower_us, upper_us) = quantile_bounds(sorted, q, p.confidence);
            let latency_us = summarize(sorted, p.statistic).stat;
            Decision {
                feasible: feasible.unwrap_or(latency_us <= target_us),
                latency_us,
                lower_us,
                upper_us,
                samples: samples.len() as u32,
                fixed_samples: repeats,
                warmup_samples,
                calls_per_sample: calls,
                runs,
                early: feasible.is_some() && (samples.len() as u32) < repeats,
                slowdown: median_of(factors),
            }
        };
        // `repeats` samples, then more (up to four times as many) while the bounds still
        // straddle the target and the noise budget lasts.
        let mut extra_started: Option<std::time::Instant> = None;
        let budget = self.budget();
        let most = repeats.saturating_mul(4).min(MAX_SAMPLES as u32);
        // Each sample is bracketed by reference samples (see the module docs).
        let mut before = self.reference_sample(reference)?;
        for i in 1..=most {
            if i > repeats {
                let started = *extra_started.get_or_insert_with(std::time::Instant::now);
                if started.elapsed() >= budget {
                    break;
                }
            }
            self.probe.time(id, 1)?;
            self.runs += 1;
            let raw = self.time(id, calls)?;
            let after = self.reference_sample(reference)?;
            let factor = self.slowdown(before, after);
            before = after;
            self.record_factor(factor);
            factors.push(factor);
            samples.push(self.corrected(raw, factor));
            sorted = self.kept(&samples, &factors);
            if sorted.len() as u32 >= p.min_repeats {
                let (lower, upper) = quantile_bounds(&sorted, q, p.confidence);
                if upper <= target_us || lower > target_us {
                    break;
                }
            }
        }
        if let Some(started) = extra_started.filter(|_| samples.len() as u32 > repeats) {
            self.stats.extended_decisions += 1;
            self.stats.extra_seconds += started.elapsed().as_secs_f64();
        }
        let runs = self.runs - runs_before;
        let (lower, upper) = quantile_bounds(&sorted, q, p.confidence);
        let clear =
            (upper <= target_us || lower > target_us) && sorted.len() as u32 >= p.min_repeats;
        Ok(decision(
            &samples,
            &sorted,
            &mut factors,
            clear.then_some(upper <= target_us),
            runs,
        ))
    }

    /// Measures the loaded networks `ids` interleaved, each sample corrected by the
    /// loaded `reference` network's samples around it.
    fn measure_loaded(
        &mut self,
        nets: &[Net<'_>],
        ids: &[NetId],
        reference: NetId,
    ) -> Result<Vec<Measurement>, MeasureError> {
        let p = self.protocol;
        let repeats = p.repeats.max(1) as usize;
        let mut calls = Vec::with_capacity(ids.len());
        let mut warmups = Vec::with_capacity(ids.len());
        let runs_before = self.runs;
        for &id in ids {
            let c = self.calls_for(id)?;
            warmups.push(self.warm_net(id, c)?);
            calls.push(c);
        }
        let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(repeats); ids.len()];
        let mut factors: Vec<Vec<f64>> = vec![Vec::with_capacity(repeats); ids.len()];
        let mut batches = vec![0u32; ids.len()];
        let mut pending: Vec<usize> = (0..ids.len()).collect();
        let budget = self.budget();
        let mut extra_started: Option<std::time::Instant> = None;
        // The first batch is `repeats` rounds for every network; a later batch gives the
        // networks still too noisy half as many rounds again, interleaved among them.
        let mut rounds = repeats;
        loop {
            let mut order = pending.clone();
            for _ in 0..rounds {
                shuffle(&mut order, &mut self.rng);
                let mut before = self.reference_sample(reference)?;
                for chunk in order.chunks(SAMPLES_PER_REFERENCE) {
                    let mut taken = [0.0; SAMPLES_PER_REFERENCE];
                    for (slot, &k) in chunk.iter().enumerate() {
                        // One untimed call first: the other networks of the round have
                        // evicted this one's weights from the caches, and a network
                        // that runs alone (as deployed, or when re-measured) does not
                        // pay that.
                        self.probe.time(ids[k], 1)?;
                        self.runs += 1;
                        taken[slot] = self.time(ids[k], calls[k])?;
                    }
                    let after = self.reference_sample(reference)?;
                    let factor = self.slowdown(before, after);
                    before = after;
                    for (&k, &raw) in chunk.iter().zip(&taken) {
                        self.record_factor(factor);
                        factors[k].push(factor);
                        samples[k].push(self.corrected(raw, factor));
                    }
                }
            }
            for &k in &pending {
                batches[k] += 1;
            }
            pending.retain(|&k| {
                let kept = self.kept(&samples[k], &factors[k]);
                let s = summarize(&kept, p.statistic);
                equivalent_cv(s.robust_cv, kept.len(), p.repeats) > p.max_cv
                    && samples[k].len() < MAX_SAMPLES
            });
            if pending.is_empty() {
                break;
            }
            let started = *extra_started.get_or_insert_with(std::time::Instant::now);
            if started.elapsed() >= budget {
                break;
            }
            rounds = (repeats / 2)
                .max(1)
                .min(MAX_SAMPLES - samples[pending[0]].len());
        }
        let extra_seconds = extra_started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        self.stats.extra_seconds += extra_seconds;
        if let Some(&k) = pending.first() {
            let s = summarize(&samples[k], p.statistic);
            return Err(MeasureError::TooNoisy {
                network: nets[k].label.to_string(),
                cv: s.robust_cv,
                max_cv: p.max_cv,
                samples: samples[k].len(),
                repeats: p.repeats,
                spent_s: extra_seconds,
                budget_s: budget.as_secs_f64(),
                noise_floor: self.noise.map(|n| n.cv),
            });
        }
        let share = (self.runs - runs_before) / ids.len().max(1) as u64;
        let mut out = Vec::with_capacity(ids.len());
        for (k, (taken, mut factors)) in samples.into_iter().zip(factors).enumerate() {
            let kept = self.kept(&taken, &factors);
            let s = summarize(&kept, p.statistic);
            let (_, upper_us) = quantile_bounds(&kept, p.statistic.quantile(), p.confidence);
            self.stats.networks += 1;
            if taken.len() > repeats {
                self.stats.resampled += 1;
                self.stats.extra_samples += (taken.len() - repeats) as u64;
            }
            self.stats.max_robust_cv = self.stats.max_robust_cv.max(s.robust_cv);
            out.push(Measurement {
                latency_us: s.stat,
                upper_us,
                median_us: s.median,
                p95_us: s.p95,
                mean_us: s.mean,
                min_us: s.min,
                max_us: s.max,
                cv: s.cv,
                robust_cv: s.robust_cv,
                calls_per_sample: calls[k],
                warmup_samples: warmups[k],
                attempts: batches[k],
                runs: share,
                samples_us: taken,
                slowdown: median_of(&mut factors),
                confirmations_us: Vec::new(),
            });
        }
        Ok(out)
    }
}

/// A sequential feasibility decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the statistic is judged at most the target.
    pub feasible: bool,
    /// The statistic of the runs taken.
    pub latency_us: f64,
    /// Lower confidence bound of the statistic when it stopped.
    pub lower_us: f64,
    /// Upper confidence bound of the statistic when it stopped.
    pub upper_us: f64,
    /// Timed samples taken.
    pub samples: u32,
    /// Timed samples the fixed protocol takes (`repeats`).
    pub fixed_samples: u32,
    /// Warm-up samples before them.
    pub warmup_samples: u32,
    /// Consecutive inferences per sample.
    pub calls_per_sample: u32,
    /// Inferences executed in all, warm-up and call-count calibration included.
    pub runs: u64,
    /// True if a bound cleared the target before the last repeat.
    pub early: bool,
    /// How much slower than its reference speed the machine ran meanwhile (the median
    /// factor of its samples, which are corrected by it; see the module docs).
    #[serde(default = "unit")]
    pub slowdown: f64,
}

/// The median of `values` (1.0 when there are none), sorting them.
fn median_of(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        1.0
    } else {
        quantile(values, 0.5)
    }
}

/// Fisher-Yates with the bench's generator.
fn shuffle<T>(items: &mut [T], rng: &mut SearchRng) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
