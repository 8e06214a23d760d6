//! The host CLI reports exactly what the agent core computes: the toy report of
//! `tabnas-trainer` and the core's own tally agree seed for seed, so there is one
//! implementation of the controller, rewards and P(V).

use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::reward::RewardKind;
use tabnas_core::search::{PvKind, PvMode, SearchSettings};
use tabnas_core::toy::{tally_toy, toy_space};
use tabnas_trainer::toy::{run_report, ToyRequest};

#[test]
fn trainer_report_equals_core_tally() {
    let request = ToyRequest {
        reward: RewardKind::Rejection,
        pv: Some(PvKind::Mc),
        n: Some(7),
        beta: None,
        learning_rate: 0.1,
        steps: 300,
        seeds: 30,
        first_seed: 1000,
    };
    let report = run_report(&request).unwrap();
    let settings = SearchSettings::rejection(PvMode::MonteCarlo { samples: 7 }, 0.1);
    let tally = tally_toy::<DEFAULT_MC_CAPACITY>(settings, 300, 1000, 30).unwrap();
    let space = toy_space();
    for arch in space.iter() {
        let name = space.display(&arch).to_string();
        assert_eq!(
            report.final_counts[&name],
            tally.counts[space.index_of(&arch) as usize],
            "{name}"
        );
    }
    assert_eq!(report.infeasible, tally.infeasible);
}
