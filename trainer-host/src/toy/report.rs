//! Where the seeded runs of one request ended (paper figure 1).

use std::collections::BTreeMap;

use serde::Serialize;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::toy::{run_toy, toy_space};

use super::{ToyError, ToyRequest};

/// The best feasible architecture of the toy.
pub(crate) const OPTIMUM: &str = "4-2";

/// Where the runs of a [`ToyRequest`] ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToyReport {
    /// What was run.
    pub request: ToyRequest,
    /// Every architecture of the space (`"4-2"`, ...) and the seeds that ended on it.
    #[serde(rename = "final")]
    pub final_counts: BTreeMap<String, u32>,
    /// Seeds that ended on an infeasible architecture.
    pub infeasible: u32,
    /// The best feasible architecture of the toy (`4-2`).
    pub optimum: String,
    /// Seeds that ended on the optimum.
    pub optimum_count: u32,
}

/// Runs a toy experiment.
pub fn run_report(request: &ToyRequest) -> Result<ToyReport, ToyError> {
    let settings = request.settings()?;
    let request = &request.resolved()?;
    let space = toy_space();
    let mut final_counts: BTreeMap<String, u32> = space
        .iter()
        .map(|a| (space.display(&a).to_string(), 0))
        .collect();
    let mut infeasible = 0;
    for seed in request.seed_range() {
        let run = run_toy::<DEFAULT_MC_CAPACITY>(settings, request.steps, seed)
            .map_err(ToyError::Settings)?;
        *final_counts
            .entry(space.display(&run.final_arch).to_string())
            .or_default() += 1;
        infeasible += !run.final_feasible as u32;
    }
    let optimum = OPTIMUM.to_string();
    Ok(ToyReport {
        request: *request,
        optimum_count: final_counts[&optimum],
        final_counts,
        infeasible,
        optimum,
    })
}
