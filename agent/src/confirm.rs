//! A latency claim that another measurement will agree with: the network measured
//! [`CONFIRMATIONS`] times over, each a full measurement with its own freshly loaded plan,
//! and the claim's upper bound a prediction bound for one more such measurement.
//!
//! Why not one measurement's own bound: its samples are taken within a fraction of a
//! second, one after another, in one memory layout, so they agree with each other more
//! than two measurements do. On a 2-vCPU VM two full measurements of one child, in one
//! process or in two, differed by up to 4%, while one measurement's bound on its median
//! sat 0.3% above it; an answer chosen right under its target by that bound re-measured
//! over it in a fresh process in 5 of 20 runs with a core busy. This is pyperf's lesson
//! (its worker processes): the variation that matters is between measurements, so it is
//! measured between measurements.

use crate::measure::{Bench, MeasureError, Measurement, Net};
use crate::stats::prediction_bound;

/// Full measurements behind a confirmed claim: with five, the prediction bound at 95%
/// is the mean plus 2.33 standard deviations of one measurement.
pub const CONFIRMATIONS: usize = 5;

/// Measures `net` [`CONFIRMATIONS`] times and confirms its latency: the middle
/// measurement by its statistic (so its `latency_us` is the median of the statistics),
/// with every statistic in `confirmations_us` and as `upper_us` the bound one more
/// measurement stays under at the protocol's confidence (Student's prediction bound over
/// the statistics, never below the middle measurement's own bound).
pub fn confirm(bench: &mut Bench<'_>, net: Net<'_>) -> Result<Measurement, MeasureError> {
    let mut all = Vec::with_capacity(CONFIRMATIONS);
    for _ in 0..CONFIRMATIONS {
        all.push(bench.measure(net)?);
    }
    let statistics: Vec<f64> = all.iter().map(|m| m.latency_us).collect();
    let bound = prediction_bound(&statistics, bench.protocol().confidence);
    all.sort_by(|a, b| a.latency_us.total_cmp(&b.latency_us));
    let mut middle = all.swap_remove(CONFIRMATIONS / 2);
    let own = if middle.upper_us.is_finite() {
        middle.upper_us
    } else {
        middle.latency_us
    };
    middle.upper_us = bound.max(own);
    middle.confirmations_us = statistics;
    Ok(middle)
}
