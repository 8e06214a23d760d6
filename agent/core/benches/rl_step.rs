//! Speed of the search core (criterion). Run with `cargo bench -p tabnas-core`.
//!
//! * `criteo_update/N`: one learning step (`complete`: baseline, Monte-Carlo P(V) with N
//!   samples, Adam) on the 3-layer Criteo space of the paper under the 41,153-parameter
//!   limit; divide by N for the cost per Monte-Carlo sample.
//! * `criteo_update/exact`: the same with exact P(V) (8,000 architectures enumerated).
//! * `criteo_step/N`: a whole step as the search loop sees it from the uniform policy,
//!   where about 89% of samples are rejected before any P(V) work.
//! * `six_layer_update/256`: one learning step on a 6-layer space (20 widths per layer,
//!   64 million architectures) with N = 256.
//! * `toy_search`: a full 500-step toy search, exact and N = 5.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tabnas_core::cost::{CostModel, FfnParams};
use tabnas_core::feasibility::Feasibility;
use tabnas_core::paper::{criteo_space, CRITEO_PARAMS};
use tabnas_core::rng::{search_rng, SearchRng};
use tabnas_core::search::{LossEvaluator, Proposal, PvMode, RlSearch, SearchSettings};
use tabnas_core::space::{Architecture, SearchSpace};
use tabnas_core::toy::run_toy;

const MODEL: FfnParams = CRITEO_PARAMS;
const CAP: usize = 4096;

/// A cheap deterministic stand-in for validation loss: bigger networks do better.
struct SyntheticLoss<'a>(&'a SearchSpace);
impl LossEvaluator for SyntheticLoss<'_> {
    type Error = Infallible;
    fn loss(&mut self, arch: &Architecture) -> Result<f64, Infallible> {
        Ok(1.0 / (1.0 + MODEL.cost(self.0, arch).ln()))
    }
}

/// A search in the middle of its run: warmed up for 200 steps, with a proposal pending.
fn pending(
    space: &SearchSpace,
    feasibility: &Feasibility<'_, FfnParams>,
    pv: PvMode,
) -> (RlSearch<CAP>, SearchRng, f64) {
    let mut search = RlSearch::<CAP>::new(space, SearchSettings::rejection(pv, 0.05)).unwrap();
    let mut rng = search_rng(7);
    let mut quality = SyntheticLoss(space);
    for _ in 0..200 {
        search.step(&mut rng, feasibility, &mut quality).unwrap();
    }
    loop {
        if let Proposal::Evaluate { arch, .. } = search.propose(&mut rng, feasibility).unwrap() {
            let loss = quality.loss(&arch).unwrap();
            return (search, rng, loss);
        }
    }
}

fn bench_update(
    c: &mut Criterion,
    group: &str,
    space: &SearchSpace,
    target: f64,
    modes: &[(String, PvMode)],
) {
    let feasibility = Feasibility::new(space, &MODEL, target).unwrap();
    let mut g = c.benchmark_group(group);
    for (name, pv) in modes {
        let (search, rng, loss) = pending(space, &feasibility, *pv);
        g.bench_function(name.as_str(), |b| {
            b.iter_batched_ref(
                || (search.clone(), rng.clone()),
                |(s, r)| black_box(s.complete(loss, r, &feasibility).unwrap()),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn criteo(c: &mut Criterion) {
    let space = criteo_space(3).unwrap();
    let mut modes: Vec<(String, PvMode)> = [16u16, 256, 4096]
        .iter()
        .map(|&n| (n.to_string(), PvMode::MonteCarlo { samples: n }))
        .collect();
    modes.push(("exact".into(), PvMode::Exact));
    bench_update(c, "criteo_update", &space, 41_153.0, &modes);

    let feasibility = Feasibility::new(&space, &MODEL, 41_153.0).unwrap();
    let mut g = c.benchmark_group("criteo_step");
    for n in [16u16, 256, 4096] {
        let settings = SearchSettings::rejection(PvMode::MonteCarlo { samples: n }, 0.05);
        let mut search = RlSearch::<CAP>::new(&space, settings).unwrap();
        let mut rng = search_rng(3);
        let mut quality = SyntheticLoss(&space);
        g.bench_function(n.to_string(), |b| {
            b.iter(|| black_box(search.step(&mut rng, &feasibility, &mut quality).unwrap()))
        });
    }
    g.finish();
}

fn six_layers(c: &mut Criterion) {
    let space = criteo_space(6).unwrap();
    let modes = [("256".to_string(), PvMode::MonteCarlo { samples: 256 })];
    bench_update(c, "six_layer_update", &space, 120_000.0, &modes);
}

fn toy(c: &mut Criterion) {
    let mut g = c.benchmark_group("toy_search");
    g.bench_function("exact_500_steps", |b| {
        b.iter(|| {
            black_box(run_toy::<1>(SearchSettings::rejection(PvMode::Exact, 0.1), 500, 0).unwrap())
        })
    });
    g.bench_function("mc5_500_steps", |b| {
        let s = SearchSettings::rejection(PvMode::MonteCarlo { samples: 5 }, 0.1);
        b.iter(|| black_box(run_toy::<5>(s, 500, 0).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, criteo, six_layers, toy);
criterion_main!(benches);
