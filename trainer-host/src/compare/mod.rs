//! The paper's real-data comparison on one dataset and one target: TabNAS with the
//! rejection reward (exact and Monte-Carlo P(V)), the Abs and MnasNet (soft) penalty
//! rewards over a sweep of beta, and random search under the same target with the shared
//! weights of the rejection run; each found architecture is then trained stand-alone
//! ([`train_reference`]). A random sample of feasible architectures trained stand-alone
//! gives the baseline the paper compares against (the best of them chosen on validation
//! loss) and, with a few architectures from the whole space, the stand-alone Pareto front.
//!
//! Penalty rewards are judged by their controller's most probable architecture (where
//! they converge, feasible or not); rejection by its most probable feasible one, and
//! also by the best on stand-alone validation loss of its `finalists` most probable
//! feasible ones (each trained stand-alone; their steps are counted in its compute).
//!
//! One stand-alone training's test loss mixes the architecture with the luck of its
//! initialisation, and the baseline's pick is chosen on that luck (the best of many
//! trainings on validation). With `retrain_seeds` K, every answer and the baseline's pick
//! are trained again with K initialisation seeds that no choice saw, and the mean of
//! those test losses judges each architecture alone.

mod plot;

use std::fmt;

use serde::Serialize;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::controller::Policy;
use tabnas_core::cost::CostModel;
use tabnas_core::feasibility::Feasibility;
use tabnas_core::reward::RewardKind;
use tabnas_core::rng::search_rng;
use tabnas_core::search::{PvKind, SearchSettings};
use tabnas_core::select::top_feasible;
use tabnas_core::space::{Architecture, SearchSpace};

use crate::constant::ConstantLoss;
use crate::host_search::{
    cost_model, ffn_shape, run_host_search, uniform_arch, HostResource, HostSearchError,
    HostSearchOptions,
};
use crate::prepare::Prepared;
use crate::reference::{train_reference, ReferenceError, ReferenceOptions, ReferenceResult};
use crate::supernet::Supernet;

pub use plot::render_compare_svg;

/// Rows per chunk when a child's shared-weight loss is computed on a whole split.
const EVAL_CHUNK: usize = 1024;

/// What to compare and how.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// The search every method runs (its reward and P(V) are replaced per method).
    pub search: HostSearchOptions,
    /// Penalty strengths of the Abs and MnasNet rewards.
    pub betas: Vec<f64>,
    /// Monte-Carlo samples of the rejection reward's Monte-Carlo P(V).
    pub mc_samples: u16,
    /// Random feasible children judged with the shared weights (random search).
    pub random_children: usize,
    /// Random feasible architectures trained stand-alone (the baseline).
    pub sample: usize,
    /// Random architectures of the whole space trained stand-alone for the front.
    pub front_extra: usize,
    /// How each stand-alone network is trained.
    pub reference: ReferenceOptions,
    /// Most probable feasible architectures of each rejection run trained stand-alone,
    /// the best on validation loss answering (0 or 1: no such method).
    pub finalists: usize,
    /// Initialisation seeds every answer and the baseline's pick are trained again with
    /// (the stand-alone seed + 1, + 2, ...; 0: none).
    pub retrain_seeds: u32,
}

/// An architecture trained again with initialisation seeds no choice saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retrained {
    /// Hidden widths.
    pub widths: Vec<u32>,
    /// The initialisation seeds.
    pub seeds: Vec<u64>,
    /// Stand-alone test loss of each.
    pub test_losses: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (0 for one seed).
    pub sd: f64,
}

impl Retrained {
    /// Mean and sample standard deviation of `test_losses`.
    fn of(widths: Vec<u32>, seeds: Vec<u64>, test_losses: Vec<f64>) -> Self {
        let n = test_losses.len().max(1) as f64;
        let mean = test_losses.iter().sum::<f64>() / n;
        let sd = if test_losses.len() > 1 {
            (test_losses.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Self {
            widths,
            seeds,
            test_losses,
            mean,
            sd,
        }
    }
}

/// The shared-weight validation loss of the child with hidden `widths`.
fn shared_validation_loss(
    supernet: &Supernet,
    data: &Prepared,
    widths: &[u32],
) -> Result<f64, HostSearchError> {
    let widths: Vec<usize> = widths.iter().map(|&w| w as usize).collect();
    supernet
        .loss(
            &data.valid,
            &widths,
            supernet.spec().rows_per_chunk(EVAL_CHUNK),
        )
        .map_err(|source| HostSearchError::Evaluation {
            split: "validation",
            source,
        })
}

/// At most `k` feasible architectures other than `answer`, most probable first under the
/// per-layer probabilities `probs` (the search's last snapshot), with their probabilities:
/// the core's exact top-k search, as the agent ranks its candidates.
fn other_finalists(
    space: &SearchSpace,
    feasibility: &Feasibility<'_, dyn CostModel + '_>,
    probs: &[Vec<f64>],
    answer: &[u32],
    k: usize,
) -> Vec<(f64, Architecture)> {
    let policy = Policy::from_probs(space, probs)
        .expect("a search's last snapshot is a policy over its own space");
    let widths = |a: &Architecture| (0..a.len()).map(|l| space.width(a, l)).collect::<Vec<_>>();
    let mut top = vec![None; k + 1];
    top_feasible(&policy, feasibility, &mut top);
    top.into_iter()
        .flatten()
        .filter(|s| widths(&s.arch) != answer)
        .map(|s| (s.prob, s.arch))
        .take(k)
        .collect()
}

/// One method's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    /// The method (`rejection, exact P(V)`, `abs, beta 2`, ...).
    pub method: String,
    /// Its answer, trained stand-alone.
    pub standalone: ReferenceResult,
    /// The answer's cost.
    pub cost: f64,
    /// Whether it meets the target.
    pub feasible: bool,
    /// Its probability under the final policy (absent for random search).
    pub probability: Option<f64>,
    /// Its shared-weight validation loss.
    pub shared_validation_loss: f64,
    /// Shared-weight training steps of the search.
    pub search_steps: u32,
    /// Wall time of the search, seconds.
    pub search_wall_s: f64,
    /// Stand-alone training steps spent choosing the answer among finalists (0 for the
    /// other methods).
    pub selection_steps: u64,
}

/// One architecture of the stand-alone sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sampled {
    /// Trained stand-alone.
    pub standalone: ReferenceResult,
    /// Its cost.
    pub cost: f64,
    /// Whether it meets the target.
    pub feasible: bool,
}

/// The comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Dataset.
    pub dataset: String,
    /// What the target limits.
    pub resource: HostResource,
    /// The target.
    pub target: f64,
    /// The constant predictor's losses.
    pub constant_loss: ConstantLoss,
    /// Each method's answer.
    pub found: Vec<Found>,
    /// The stand-alone sample.
    pub sample: Vec<Sampled>,
    /// Methods left out, and why (exact P(V) on a space too large to enumerate).
    pub skipped: Vec<String>,
    /// Every answer and the baseline's pick trained again (`retrain_seeds`), once per
    /// distinct architecture.
    pub retrained: Vec<Retrained>,
}

impl Comparison {
    /// The stand-alone sample's Pareto front: `(cost, test loss)` of every architecture
    /// that no cheaper one beats on test loss, cheapest first.
    pub fn front(&self) -> Vec<(f64, f64)> {
        let mut points: Vec<(f64, f64)> = self
            .sample
            .iter()
            .map(|s| (s.cost, s.standalone.test_loss))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut front: Vec<(f64, f64)> = Vec::new();
        for p in points {
            if front.last().is_none_or(|l| p.1 < l.1) {
                front.push(p);
            }
        }
        front
    }

    /// The best feasible architecture of the sample chosen on validation loss (the
    /// random-search baseline trained stand-alone), with how many were feasible.
    pub fn best_feasible_sample(&self) -> Option<(&Sampled, usize)> {
        let feasible: Vec<&Sampled> = self.sample.iter().filter(|s| s.feasible).collect();
        feasible
            .iter()
            .min_by(|a, b| {
                a.standalone
                    .validation_loss
                    .total_cmp(&b.standalone.validation_loss)
            })
            .map(|&b| (b, feasible.len()))
    }

    /// The retraining of the architecture with hidden `widths`, if it was retrained.
    pub fn retrained(&self, widths: &[u32]) -> Option<&Retrained> {
        self.retrained.iter().find(|r| r.widths == widths)
    }
}

/// Why a comparison could not finish.
#[derive(Debug)]
#[non_exhaustive]
pub enum CompareError {
    /// A method's search failed.
    Search {
        /// The method.
        method: String,
        /// Why.
        source: HostSearchError,
    },
    /// A stand-alone training failed.
    Reference(ReferenceError),
    /// No beta, or one that is not finite and non-negative.
    Beta {
        /// The betas given.
        betas: Vec<f64>,
    },
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Search { method, .. } => write!(f, "the search with {method} failed"),
            Self::Reference(_) => f.write_str("a stand-alone training failed"),
            Self::Beta { betas } => write!(
                f,
                "the beta sweep needs at least one finite non-negative beta, got {betas:?}"
            ),
        }
    }
}

impl std::error::Error for CompareError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Search { source, .. } => Some(source),
            Self::Reference(e) => Some(e),
            Self::Beta { .. } => None,
        }
    }
}

/// The methods compared: name and controller settings.
pub fn methods(options: &CompareOptions) -> Vec<(String, SearchSettings)> {
    let lr = options.search.settings.learning_rate;
    let rejection = |pv: PvKind| SearchSettings::rejection(pv.with_samples(options.mc_samples), lr);
    let mut m = vec![
        (
            "rejection, exact P(V)".to_string(),
            rejection(PvKind::Exact),
        ),
        (
            format!("rejection, Monte-Carlo P(V) (N = {})", options.mc_samples),
            rejection(PvKind::Mc),
        ),
    ];
    for &beta in &options.betas {
        for kind in [RewardKind::Abs, RewardKind::MnasSoft] {
            m.push((
                format!("{}, beta {beta}", kind.name()),
                SearchSettings {
                    reward: kind.with_beta(beta),
                    ..rejection(PvKind::Mc)
                },
            ));
        }
    }
    m
}

/// Runs the comparison; `note` receives one line per finished part.
pub fn compare(
    data: &Prepared,
    options: &CompareOptions,
    mut note: impl FnMut(&str),
) -> Result<Comparison, CompareError> {
    if options.betas.is_empty() || options.betas.iter().any(|b| !(b.is_finite() && *b >= 0.0)) {
        return Err(CompareError::Beta {
            betas: options.betas.clone(),
        });
    }
    let layers: Vec<&[u32]> = options.search.space.iter().map(|w| w.as_slice()).collect();
    let search_error = |method: &str| {
        let method = method.to_string();
        move |source| CompareError::Search { method, source }
    };
    let space = SearchSpace::new(&layers)
        .map_err(|e| search_error("any method")(HostSearchError::Space(e)))?;
    let spec = data.supernet_spec(options.search.space.clone());
    let model = cost_model(
        options.search.resource,
        ffn_shape(&spec),
        options.search.latency.as_ref(),
    )
    .map_err(search_error("any method"))?;
    let feasibility =
        Feasibility::new(&space, model.as_ref(), options.search.target).map_err(|source| {
            search_error("any method")(HostSearchError::Target {
                target: options.search.target,
                source,
            })
        })?;
    let widths_of = |arch: &tabnas_core::space::Architecture| -> Vec<u32> {
        (0..arch.len()).map(|l| space.width(arch, l)).collect()
    };
    let standalone = |widths: &[u32]| {
        train_reference(data, widths, options.reference).map_err(CompareError::Reference)
    };
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let mut rejection_supernet = None;
    for (method, settings) in methods(options) {
        if settings.validate(&space, DEFAULT_MC_CAPACITY).is_err() {
            skipped.push(format!("{method}: these settings cannot search this space"));
            continue;
        }
        let search = HostSearchOptions {
            settings,
            ..options.search.clone()
        };
        let run = run_host_search(data, &search, |_, _, _| {}).map_err(search_error(&method))?;
        let r = &run.result;
        let penalty = !matches!(settings.reward, tabnas_core::reward::Reward::Rejection);
        let (widths, cost, feasible, probability) = if penalty {
            let arch = space
                .arch_from_widths(&r.unconstrained_argmax)
                .expect("the argmax is an architecture of the space");
            let prob = r.distributions.last().map(|d| {
                (0..arch.len())
                    .map(|l| d.probs[l][arch.choice(l)])
                    .product()
            });
            (
                r.unconstrained_argmax.clone(),
                r.unconstrained_cost,
                r.unconstrained_feasible,
                prob,
            )
        } else {
            (
                r.architecture.clone(),
                r.cost,
                r.feasible,
                Some(r.probability),
            )
        };
        let shared_loss = |widths: &[u32], method: &str| {
            shared_validation_loss(&run.supernet, data, widths).map_err(search_error(method))
        };
        let shared_validation_loss = shared_loss(&widths, &method)?;
        let s = standalone(&widths)?;
        note(&format!(
            "{method}: {widths:?} ({cost:.0}{}), stand-alone test loss {:.4}",
            if feasible { "" } else { ", INFEASIBLE" },
            s.test_loss
        ));
        let answer = s.clone();
        found.push(Found {
            method: method.clone(),
            standalone: s,
            cost,
            feasible,
            probability,
            shared_validation_loss,
            search_steps: r.steps,
            search_wall_s: r.wall_s,
            selection_steps: 0,
        });
        let others = match r.distributions.last() {
            Some(last) if !penalty && options.finalists > 1 => other_finalists(
                &space,
                &feasibility,
                &last.probs,
                &answer.widths,
                options.finalists - 1,
            ),
            _ => Vec::new(),
        };
        // Without another feasible architecture the method would be the answer itself.
        if !others.is_empty() {
            let mut best = (answer.clone(), r.cost, r.probability, r.feasible);
            let mut steps = answer.trained_steps as u64;
            for (p, arch) in &others {
                let s = standalone(&widths_of(arch))?;
                steps += s.trained_steps as u64;
                if s.validation_loss < best.0.validation_loss || !best.3 {
                    best = (s, feasibility.judge(arch).cost, *p, true);
                }
            }
            let method = format!("{method}, best of {} finalists", others.len() + 1);
            note(&format!(
                "{method}: {:?} ({:.0}), stand-alone test loss {:.4}",
                best.0.widths, best.1, best.0.test_loss
            ));
            let shared_validation_loss = shared_loss(&best.0.widths, &method)?;
            found.push(Found {
                method,
                standalone: best.0,
                cost: best.1,
                feasible: best.3,
                probability: Some(best.2),
                shared_validation_loss,
                search_steps: r.steps,
                search_wall_s: r.wall_s,
                selection_steps: steps,
            });
        }
        if rejection_supernet.is_none() && !penalty {
            rejection_supernet = Some((run.supernet, r.steps, r.wall_s));
        }
    }
    let mut rng = search_rng(options.search.seed ^ 0xc03e_7a5e);
    let mut draw_feasible = |n: usize| {
        let mut out = Vec::new();
        let mut tries = 0;
        while out.len() < n && tries < 1000 * n.max(1) {
            tries += 1;
            let arch = uniform_arch(&space, &mut rng);
            if feasibility.judge(&arch).feasible && !out.contains(&arch) {
                out.push(arch);
            }
        }
        out
    };
    // Random search with the rejection run's shared weights.
    if let Some((supernet, steps, wall_s)) = &rejection_supernet {
        let mut best: Option<(f64, Vec<u32>, f64)> = None;
        for arch in draw_feasible(options.random_children) {
            let widths = widths_of(&arch);
            let l = shared_validation_loss(supernet, data, &widths)
                .map_err(search_error("random search"))?;
            if best.as_ref().is_none_or(|b| l < b.0) {
                best = Some((l, widths, feasibility.judge(&arch).cost));
            }
        }
        if let Some((l, widths, cost)) = best {
            let s = standalone(&widths)?;
            let method = format!(
                "random search, {} children, shared weights",
                options.random_children
            );
            note(&format!(
                "{method}: {widths:?} ({cost:.0}), stand-alone test loss {:.4}",
                s.test_loss
            ));
            found.push(Found {
                method,
                standalone: s,
                cost,
                feasible: true,
                probability: None,
                shared_validation_loss: l,
                search_steps: *steps,
                search_wall_s: *wall_s,
                selection_steps: 0,
            });
        }
    }
    // The stand-alone sample: feasible architectures, then some of the whole space.
    let mut archs = draw_feasible(options.sample);
    for _ in 0..options.front_extra {
        let arch = uniform_arch(&space, &mut rng);
        if !archs.contains(&arch) {
            archs.push(arch);
        }
    }
    let mut sample: Vec<Sampled> = Vec::new();
    for (k, arch) in archs.iter().enumerate() {
        let s = standalone(&widths_of(arch))?;
        if (k + 1) % 10 == 0 || k + 1 == archs.len() {
            note(&format!(
                "stand-alone sample: {}/{} trained",
                k + 1,
                archs.len()
            ));
        }
        let j = feasibility.judge(arch);
        sample.push(Sampled {
            standalone: s,
            cost: j.cost,
            feasible: j.feasible,
        });
    }
    let mut c = Comparison {
        dataset: data.name.clone(),
        resource: options.search.resource,
        target: options.search.target,
        constant_loss: ConstantLoss::of(data).map_err(|source| {
            search_error("the constant predictor")(HostSearchError::Evaluation {
                split: "validation",
                source,
            })
        })?,
        found,
        sample,
        skipped,
        retrained: Vec::new(),
    };
    c.retrained = retrain(&c, data, options, &mut note)?;
    Ok(c)
}

/// Trains every answer of `c` and the baseline's pick again with `options.retrain_seeds`
/// initialisation seeds after the stand-alone one, once per distinct architecture.
fn retrain(
    c: &Comparison,
    data: &Prepared,
    options: &CompareOptions,
    note: &mut impl FnMut(&str),
) -> Result<Vec<Retrained>, CompareError> {
    if options.retrain_seeds == 0 {
        return Ok(Vec::new());
    }
    let mut archs: Vec<&[u32]> = Vec::new();
    let picks = c.found.iter().map(|f| &f.standalone);
    let baseline = c.best_feasible_sample().map(|(b, _)| &b.standalone);
    for r in picks.chain(baseline) {
        if !archs.contains(&r.widths.as_slice()) {
            archs.push(&r.widths);
        }
    }
    let seeds: Vec<u64> = (1..=u64::from(options.retrain_seeds))
        .map(|k| options.reference.seed.wrapping_add(k))
        .collect();
    let mut out = Vec::new();
    for widths in archs {
        let mut losses = Vec::new();
        for &seed in &seeds {
            let reference = ReferenceOptions {
                seed,
                ..options.reference
            };
            let r = train_reference(data, widths, reference).map_err(CompareError::Reference)?;
            losses.push(r.test_loss);
        }
        let r = Retrained::of(widths.to_vec(), seeds.clone(), losses);
        note(&format!(
            "retrained {widths:?} with {} more seeds: test loss {:.4} +- {:.4}",
            seeds.len(),
            r.mean,
            r.sd
        ));
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampled(cost: f64, test: f64, validation: f64, feasible: bool) -> Sampled {
        Sampled {
            standalone: ReferenceResult {
                widths: vec![cost as u32],
                params: cost as u64,
                validation_loss: validation,
                test_loss: test,
                best_step: 1,
                trained_steps: 1,
                still_improving: false,
                wall_s: 0.0,
            },
            cost,
            feasible,
        }
    }

    #[test]
    fn the_front_keeps_what_no_cheaper_one_beats_and_the_baseline_uses_validation() {
        let c = Comparison {
            dataset: "d".into(),
            resource: HostResource::Params,
            target: 25.0,
            constant_loss: ConstantLoss {
                validation: 0.7,
                test: 0.7,
            },
            found: vec![],
            sample: vec![
                sampled(30.0, 0.40, 0.50, false),
                sampled(10.0, 0.50, 0.52, true),
                sampled(20.0, 0.55, 0.45, true),
                sampled(15.0, 0.45, 0.60, true),
            ],
            skipped: vec![],
            retrained: vec![],
        };
        assert_eq!(c.front(), [(10.0, 0.50), (15.0, 0.45), (30.0, 0.40)]);
        // Chosen on validation loss (0.45), not on test loss (0.45 at cost 15).
        let (best, n) = c.best_feasible_sample().unwrap();
        assert_eq!((best.cost, n), (20.0, 3));
    }
}
