//! The toy example of the TabNAS paper (figure 1), reproduced exactly.
//!
//! Two hidden layers with widths {2, 3, 4}, input 2, output 1, biases counted, limit
//! 25 parameters, and a fixed table of losses (no training). The optimum under the
//! limit is the bottleneck 4-2. A run takes `steps` RL steps from zero logits with a
//! generator seeded by the run's seed, and "ends on" the most probable feasible
//! architecture for the rejection reward or the unconstrained argmax for the others
//! (`docs/algorithm.md`).

use core::convert::Infallible;

use rand_core::Rng;

use crate::controller::Policy;
use crate::cost::{FfnParams, FfnShape};
use crate::feasibility::Feasibility;
use crate::rng::search_rng;
use crate::search::{LossEvaluator, RlSearch, SearchSettings, SettingsError, StepError};
use crate::space::{Architecture, SearchSpace};

/// Candidate widths of both layers.
pub const TOY_WIDTHS: [u32; 3] = [2, 3, 4];

/// Validation losses, `TOY_LOSSES[i][j]` for widths `TOY_WIDTHS[i]-TOY_WIDTHS[j]`.
pub const TOY_LOSSES: [[f64; 3]; 3] = [[0.9, 0.9, 0.66], [0.9, 0.66, 0.3], [0.6, 0.3, 0.1]];

/// The parameter limit.
pub const TOY_LIMIT_PARAMS: f64 = 25.0;

/// Number of architectures in the toy space.
pub const TOY_SIZE: usize = 9;

/// The parameter-count cost of the toy.
pub const TOY_COST: FfnParams = FfnParams(FfnShape {
    input: 2,
    output: 1,
    biases: true,
});

/// The toy's search space.
pub fn toy_space() -> SearchSpace {
    // The widths are valid by construction.
    SearchSpace::uniform(2, &TOY_WIDTHS).unwrap_or_else(|_| unreachable!())
}

/// The loss table as a quality evaluator.
#[derive(Debug, Clone, Copy, Default)]
pub struct ToyLosses;

impl LossEvaluator for ToyLosses {
    type Error = Infallible;
    fn loss(&mut self, arch: &Architecture) -> Result<f64, Infallible> {
        Ok(TOY_LOSSES[arch.choice(0)][arch.choice(1)])
    }
}

/// How one seeded toy run ended.
#[derive(Debug, Clone, Copy)]
pub struct ToyRun {
    /// Where the run ended (see the module docs).
    pub final_arch: Architecture,
    /// Whether that architecture is within 25 parameters.
    pub final_feasible: bool,
    /// The final policy.
    pub policy: Policy,
}

/// Runs the toy search for `steps` steps with seed `seed`. `MC` must hold the
/// Monte-Carlo `N` of `settings`.
pub fn run_toy<const MC: usize>(
    settings: SearchSettings,
    steps: u32,
    seed: u64,
) -> Result<ToyRun, SettingsError> {
    let space = toy_space();
    let feasibility = Feasibility::new(&space, &TOY_COST, TOY_LIMIT_PARAMS)
        .unwrap_or_else(|_| unreachable!("the toy target is positive"));
    let mut search: RlSearch<MC> = RlSearch::new(&space, settings)?;
    let mut rng = search_rng(seed);
    for _ in 0..steps {
        match search.step(&mut rng, &feasibility, &mut ToyLosses) {
            Ok(_) => {}
            // Settings were validated and the table has no NaN: no step can fail.
            Err(StepError::Loss(never)) => match never {},
            Err(_) => unreachable!("validated toy search cannot fail a step"),
        }
    }
    let choice = search.final_choice(&feasibility);
    let chosen = if settings.reward.rejects_infeasible() {
        choice.feasible.unwrap_or(choice.unconstrained)
    } else {
        choice.unconstrained
    };
    Ok(ToyRun {
        final_arch: chosen.arch,
        final_feasible: chosen.feasible,
        policy: search.policy(),
    })
}

/// Where many seeded runs ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToyTally {
    /// Runs that ended on each architecture, by dense index (`4-2` is index 6).
    pub counts: [u32; TOY_SIZE],
    /// Runs that ended on an infeasible architecture.
    pub infeasible: u32,
    /// Runs in total.
    pub runs: u32,
}

impl ToyTally {
    /// Runs that ended on the architecture with these widths.
    pub fn ended_on(&self, widths: [u32; 2]) -> u32 {
        let space = toy_space();
        space
            .arch_from_widths(&widths)
            .map_or(0, |a| self.counts[space.index_of(&a) as usize])
    }
}

/// Runs seeds `first_seed .. first_seed + seeds` and tallies where they ended.
pub fn tally_toy<const MC: usize>(
    settings: SearchSettings,
    steps: u32,
    first_seed: u64,
    seeds: u32,
) -> Result<ToyTally, SettingsError> {
    let space = toy_space();
    let mut tally = ToyTally::default();
    for seed in first_seed..first_seed + seeds as u64 {
        let run = run_toy::<MC>(settings, steps, seed)?;
        tally.counts[space.index_of(&run.final_arch) as usize] += 1;
        tally.infeasible += !run.final_feasible as u32;
        tally.runs += 1;
    }
    Ok(tally)
}

/// What `draws` samples from a final policy found (paper figures 13/14): whether any
/// sample was feasible, and whether any was the optimum 4-2.
pub fn probe_final_policy<R: Rng + ?Sized>(
    policy: &Policy,
    draws: u32,
    rng: &mut R,
) -> (bool, bool) {
    let space = toy_space();
    let optimum = space
        .arch_from_widths(&[4, 2])
        .unwrap_or_else(|| unreachable!());
    let (mut feasible, mut found_optimum) = (false, false);
    for _ in 0..draws {
        let a = policy.sample(rng);
        feasible |= crate::cost::CostModel::cost(&TOY_COST, &space, &a) <= TOY_LIMIT_PARAMS;
        found_optimum |= a == optimum;
    }
    (feasible, found_optimum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reward::Reward;
    use crate::search::PvMode;

    #[test]
    fn table_and_costs_match_the_paper() {
        let space = toy_space();
        let params: std::vec::Vec<u64> = space.iter().map(|a| TOY_COST.count(&space, &a)).collect();
        assert_eq!(params, [15, 19, 23, 20, 25, 30, 25, 31, 37]);
        let a = space.arch_from_widths(&[4, 2]).unwrap();
        assert_eq!(ToyLosses.loss(&a), Ok(0.6));
        assert_eq!(space.index_of(&a), 6);
    }

    #[test]
    fn a_run_is_deterministic_for_its_seed() {
        let settings = SearchSettings::rejection(PvMode::MonteCarlo { samples: 5 }, 0.1);
        let a = run_toy::<5>(settings, 200, 42).unwrap();
        let b = run_toy::<5>(settings, 200, 42).unwrap();
        assert_eq!(a.policy, b.policy);
        let abs = SearchSettings {
            reward: Reward::Abs { beta: 1.0 },
            ..settings
        };
        assert!(run_toy::<5>(abs, 10, 1).is_ok());
    }
}
