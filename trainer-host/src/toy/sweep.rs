//! Sweeps of paper figures 13/14: how often a final policy yields a feasible
//! architecture or the optimum, over values of beta (penalty rewards) or N (rejection
//! with Monte-Carlo P(V)).

use serde::Serialize;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::reward::RewardKind;
use tabnas_core::rng::search_rng;
use tabnas_core::search::PvKind;
use tabnas_core::toy::{probe_final_policy, run_toy};

use super::{ToyError, ToyRequest};
use crate::names::impl_names;

/// The hyperparameter a sweep varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SweepOver {
    /// The penalty strength of Abs/MnasNet rewards (paper figure 13).
    Beta,
    /// The Monte-Carlo sample count of the rejection reward (paper figure 14).
    N,
}

impl_names!(SweepOver {
    Beta => "beta",
    N => "n",
});

/// One point of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    /// Value of the swept hyperparameter.
    pub value: f64,
    /// Fraction of seeds whose final policy yielded a feasible architecture among
    /// `draws` samples.
    pub feasible_found: f64,
    /// Fraction of seeds whose final policy yielded the optimum 4-2 among `draws` samples.
    pub optimum_found: f64,
}

/// A sweep of paper figures 13/14.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepReport {
    /// The swept hyperparameter.
    pub sweep: SweepOver,
    /// The base request (its `beta` or `n` is replaced by each value).
    pub request: ToyRequest,
    /// Samples drawn from each final policy.
    pub draws: u32,
    /// One row per value.
    pub rows: Vec<SweepRow>,
}

/// The default values of a sweep: beta in 0, 0.5, ..., 10; N in 1..=10.
pub fn default_sweep_values(over: SweepOver) -> Vec<f64> {
    match over {
        SweepOver::Beta => (0..=20).map(|i| i as f64 * 0.5).collect(),
        SweepOver::N => (1..=10).map(|n| n as f64).collect(),
    }
}

/// Seed offset of the generator that draws samples from final policies, so those draws
/// never reuse a search's own stream.
const PROBE_SEED_OFFSET: u64 = 0x5EED_0000_0000;

/// Runs a sweep.
pub fn run_sweep(
    base: &ToyRequest,
    over: SweepOver,
    values: &[f64],
    draws: u32,
) -> Result<SweepReport, ToyError> {
    match (over, base.reward) {
        (SweepOver::Beta, RewardKind::Rejection) => {
            return Err(ToyError::SweepBetaWithoutPenalty {
                reward: base.reward,
            })
        }
        (SweepOver::N, RewardKind::Rejection) if base.pv != Some(PvKind::Exact) => {}
        (SweepOver::N, _) => return Err(ToyError::SweepNWithoutMc),
        _ => {}
    }
    let base = &ToyRequest {
        pv: (over == SweepOver::N).then_some(PvKind::Mc).or(base.pv),
        ..*base
    }
    .resolved()?;
    if draws == 0 {
        return Err(ToyError::ZeroDraws);
    }
    let mut rows = Vec::with_capacity(values.len());
    for &value in values {
        let mut request = *base;
        match over {
            SweepOver::Beta => request.beta = Some(value),
            SweepOver::N => {
                if value.fract() != 0.0 || !(1.0..=u16::MAX as f64).contains(&value) {
                    return Err(ToyError::SampleCount { value });
                }
                request.n = Some(value as u16);
            }
        }
        let settings = request.settings()?;
        let (mut feasible, mut optimum) = (0u32, 0u32);
        for seed in request.seed_range() {
            let run = run_toy::<DEFAULT_MC_CAPACITY>(settings, request.steps, seed)
                .map_err(ToyError::Settings)?;
            let mut rng = search_rng(seed.wrapping_add(PROBE_SEED_OFFSET));
            let (f, o) = probe_final_policy(&run.policy, draws, &mut rng);
            feasible += f as u32;
            optimum += o as u32;
        }
        let seeds = request.seeds as f64;
        rows.push(SweepRow {
            value,
            feasible_found: feasible as f64 / seeds,
            optimum_found: optimum as f64 / seeds,
        });
    }
    // The swept value varies by row; the report's request leaves it out.
    let mut request = *base;
    match over {
        SweepOver::Beta => request.beta = None,
        SweepOver::N => request.n = None,
    }
    Ok(SweepReport {
        sweep: over,
        request,
        draws,
        rows,
    })
}
