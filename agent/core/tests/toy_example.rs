//! The paper's toy example (figure 1) over 100 seeds per setting, 500 steps each.
//!
//! Seeds 0..100 are fixed, so the counts are reproducible (the table is printed with
//! `--nocapture`). Thresholds come from the rates over seeds 0..1000 (measured once with
//! a release build): rejection ends on 4-2 in 753/1000 runs with exact P(V) and 675/1000
//! with N = 5 (the rest on 2-4 or 3-3; N = 1, 2, 10, 50 give 586, 621, 714, 718). With
//! p = 0.675 a 100-seed count has a standard deviation of 4.7, so the bound of 55 sits
//! 2.7 sigma below the mean:
//! * rejection (exact P(V) and Monte Carlo N = 5, lr 0.1) ends on 4-2 in a clear
//!   majority: at least 55 of 100, and at least twice as often as any other;
//! * Abs beta = 2 (lr 0.05) ends mostly on the feasible but worse 3-3: at least 50;
//! * Abs beta = 1 (lr 0.05) ends infeasible in nearly all seeds: at least 90.

use tabnas_core::reward::Reward;
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_core::toy::{tally_toy, toy_space, ToyTally};

const SEEDS: u32 = 100;
const STEPS: u32 = 500;

fn print(name: &str, t: &ToyTally) {
    let space = toy_space();
    let row: Vec<String> = space
        .iter()
        .map(|a| {
            format!(
                "{}:{:>3}",
                space.display(&a),
                t.counts[space.index_of(&a) as usize]
            )
        })
        .collect();
    println!(
        "{name:<26} {}  infeasible {:>3}",
        row.join(" "),
        t.infeasible
    );
}

fn assert_clear_majority_on_4_2(t: &ToyTally) {
    assert_eq!(t.infeasible, 0, "{t:?}");
    let bottleneck = t.ended_on([4, 2]);
    assert!(bottleneck >= 55, "{t:?}");
    let runner_up = toy_space()
        .iter()
        .filter(|a| toy_space().display(a).to_string() != "4-2")
        .map(|a| t.counts[toy_space().index_of(&a) as usize])
        .max()
        .unwrap();
    assert!(bottleneck >= 2 * runner_up, "{t:?}");
}

fn abs(beta: f64) -> SearchSettings {
    SearchSettings {
        reward: Reward::Abs { beta },
        ..SearchSettings::rejection(PvMode::Exact, 0.05)
    }
}

#[test]
fn rejection_with_exact_pv_finds_the_bottleneck() {
    let t = tally_toy::<1>(
        SearchSettings::rejection(PvMode::Exact, 0.1),
        STEPS,
        0,
        SEEDS,
    )
    .unwrap();
    print("rejection, exact P(V)", &t);
    assert_clear_majority_on_4_2(&t);
}

#[test]
fn rejection_with_monte_carlo_n5_finds_the_bottleneck() {
    let settings = SearchSettings::rejection(PvMode::MonteCarlo { samples: 5 }, 0.1);
    let t = tally_toy::<5>(settings, STEPS, 0, SEEDS).unwrap();
    print("rejection, MC N=5", &t);
    assert_clear_majority_on_4_2(&t);
}

#[test]
fn abs_beta_2_settles_on_the_worse_feasible_3_3() {
    let t = tally_toy::<1>(abs(2.0), STEPS, 0, SEEDS).unwrap();
    print("abs, beta=2", &t);
    assert!(t.ended_on([3, 3]) >= 50, "{t:?}");
    assert!(t.ended_on([3, 3]) > t.ended_on([4, 2]), "{t:?}");
}

#[test]
fn abs_beta_1_ends_infeasible() {
    let t = tally_toy::<1>(abs(1.0), STEPS, 0, SEEDS).unwrap();
    print("abs, beta=1", &t);
    assert!(t.infeasible >= 90, "{t:?}");
}
