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
//!
//! [`compare`] is a short driver over a session with a method per phase: `method` runs
//! each method's search and trains its answer, `random` runs random search and trains
//! the stand-alone sample, `retrain` trains the answers again; [`Comparison`] and its
//! parts are in `comparison`, the errors in `error`.

mod comparison;
mod error;
mod method;
mod plot;
mod random;
mod retrain;

use tabnas_core::cost::CostModel;
use tabnas_core::feasibility::Feasibility;
use tabnas_core::reward::RewardKind;
use tabnas_core::rng::{search_rng, SearchRng};
use tabnas_core::search::{PvKind, SearchSettings};
use tabnas_core::space::{Architecture, SearchSpace};

use crate::constant::ConstantLoss;
use crate::host_search::{cost_model, ffn_shape, HostSearchError, HostSearchOptions};
use crate::prepare::Prepared;
use crate::reference::{train_reference, ReferenceOptions, ReferenceResult};
use crate::supernet::Supernet;

pub use comparison::{Comparison, Found, Retrained, Sampled};
pub use error::CompareError;
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
    /// Monte-Carlo samples N of the rejection reward's Monte-Carlo P(V) (flag `--n`).
    pub n: u16,
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

/// The hidden widths of `arch`.
fn hidden_widths(space: &SearchSpace, arch: &Architecture) -> Vec<u32> {
    (0..arch.len()).map(|l| space.width(arch, l)).collect()
}

/// The methods compared: name and controller settings.
pub fn methods(options: &CompareOptions) -> Vec<(String, SearchSettings)> {
    let lr = options.search.settings.learning_rate;
    let rejection = |pv: PvKind| SearchSettings::rejection(pv.with_samples(options.n), lr);
    let mut m = vec![
        (
            "rejection, exact P(V)".to_string(),
            rejection(PvKind::Exact),
        ),
        (
            format!("rejection, Monte-Carlo P(V) (N = {})", options.n),
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

/// Everything the phases of a comparison share: the space and its target, and what has
/// been found so far.
struct Comparer<'a> {
    data: &'a Prepared,
    options: &'a CompareOptions,
    space: &'a SearchSpace,
    feasibility: Feasibility<'a, dyn CostModel + 'a>,
    /// Receives one line per finished part.
    note: &'a mut dyn FnMut(&str),
    /// Draws the random search's children and the stand-alone sample.
    rng: SearchRng,
    /// Each method's answer so far.
    found: Vec<Found>,
    /// Methods left out, and why.
    skipped: Vec<String>,
    /// The first rejection run's supernet, steps and wall time (random search judges
    /// children with its shared weights).
    rejection: Option<(Supernet, u32, f64)>,
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
    let space = SearchSpace::new(&layers)
        .map_err(|e| CompareError::search("any method")(HostSearchError::Space(e)))?;
    let spec = data.supernet_spec(options.search.space.clone());
    let model = cost_model(
        options.search.resource,
        ffn_shape(&spec),
        options.search.latency.as_ref(),
    )
    .map_err(CompareError::search("any method"))?;
    let mut comparer = Comparer::open(data, options, &space, model.as_ref(), &mut note)?;
    for (method, settings) in methods(options) {
        comparer.run_method(method, settings)?;
    }
    comparer.random_search()?;
    let sample = comparer.standalone_sample()?;
    comparer.finish(sample)
}

impl<'a> Comparer<'a> {
    /// A session judging `space` under `model`'s target, nothing found yet.
    fn open(
        data: &'a Prepared,
        options: &'a CompareOptions,
        space: &'a SearchSpace,
        model: &'a dyn CostModel,
        note: &'a mut dyn FnMut(&str),
    ) -> Result<Self, CompareError> {
        let feasibility =
            Feasibility::new(space, model, options.search.target).map_err(|source| {
                CompareError::search("any method")(HostSearchError::Target {
                    target: options.search.target,
                    source,
                })
            })?;
        Ok(Self {
            data,
            options,
            space,
            feasibility,
            note,
            rng: search_rng(options.search.seed ^ 0xc03e_7a5e),
            found: Vec::new(),
            skipped: Vec::new(),
            rejection: None,
        })
    }

    /// `widths` trained stand-alone.
    fn standalone(&self, widths: &[u32]) -> Result<ReferenceResult, CompareError> {
        train_reference(self.data, widths, self.options.reference).map_err(CompareError::Reference)
    }

    /// The comparison of what was found and the stand-alone `sample`, with the
    /// retrainings.
    fn finish(self, sample: Vec<Sampled>) -> Result<Comparison, CompareError> {
        let constant_loss = ConstantLoss::of(self.data).map_err(|source| {
            CompareError::search("the constant predictor")(HostSearchError::Evaluation {
                split: "validation",
                source,
            })
        })?;
        let mut c = Comparison {
            dataset: self.data.name.clone(),
            resource: self.options.search.resource,
            target: self.options.search.target,
            constant_loss,
            found: self.found,
            sample,
            skipped: self.skipped,
            retrained: Vec::new(),
        };
        c.retrained = retrain::retrain(&c, self.data, self.options, self.note)?;
        Ok(c)
    }
}
