//! TabNAS on the host: one weight-sharing supernet trained jointly with the controller.
//!
//! Steps (`docs/algorithm.md`, weight sharing): during the warm-up (the first `warmup_fraction`
//! of steps) the full-width network is trained with a probability that falls linearly
//! from 1 to 0, otherwise a uniformly sampled child, and the controller does not learn.
//! After it, every step trains a child sampled from the controller (conditioned on the
//! target by resampling) on a training batch, then takes one controller step through the
//! agent core's [`RlSearch`] with the child's shared-weight loss on a validation batch.
//! The controller, rewards, P(V) and feasibility are the core's: one implementation.
//!
//! What a user can trust ([`Guards`]): a sample the target rejects is replaced by another
//! at the cost of a cost lookup (up to `max_resamples` per step), so each step's training
//! batch is followed by a controller update; every `eval_every` steps after the warm-up
//! the current answer's loss on the validation split is measured and the weights of the
//! lowest kept; the exported weights are those (or the last ones) whichever gives the final
//! answer the lower validation loss; `patience` measurements without a new lowest stop
//! the search. The result carries the constant predictor's loss and warnings when the
//! answer is no better than it, when validation loss was rising, or when the search has
//! not converged (the answer's final probability or the rejected share).

//!
//! [`run_host_search`] is a short driver over a session with a method per phase: `steps`
//! trains a child and takes the controller step of each step, `finish` picks the answer
//! and its weights and writes the result. The options and their checks are in `options`,
//! the errors in `error`, a board's latencies in `latency`.

mod error;
mod finish;
mod guards;
mod latency;
mod options;
mod plot;
mod result;
mod steps;

use std::time::Instant;

use rand_core::Rng;
use tabnas_bundle::LossError;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::cost::CostModel;
use tabnas_core::feasibility::Feasibility;
use tabnas_core::rng::{search_rng, SearchRng};
use tabnas_core::search::RlSearch;
use tabnas_core::space::{Architecture, SearchSpace};

use crate::names::impl_names;
use crate::prepare::Prepared;
use crate::supernet::{Supernet, SupernetSpec};

pub use error::HostSearchError;
pub use guards::{Guards, ValidationPoint, CONVERGED_PROBABILITY, REJECTED_SHARE_WARNING};
pub use latency::{BoardCosts, DeviceLatency, LatencySource};
pub(crate) use options::ffn_shape;
pub use options::{cost_model, HostSearchOptions};
pub use plot::{render_trace_svg, PlotError};
pub use result::{BoardCheck, Distribution, SearchResult, TracePoint};

/// The resource the target limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostResource {
    /// Parameters of the hidden layers and head (embeddings excluded).
    Params,
    /// FLOPs of the hidden layers and head per example ([`FfnFlops`](tabnas_core::cost::FfnFlops): two per
    /// multiply-accumulate, one more per bias).
    Flops,
    /// Latency in microseconds on a board, from its calibrated latency table
    /// ([`HostSearchOptions::latency`]; `tabnas search --latency-from`).
    LatencyUs,
}

impl_names!(HostResource {
    Params => "params",
    Flops => "flops",
    LatencyUs => "latency-us",
});

/// Most steps of a host search: each keeps a training loss and a trace point, in memory
/// and in `result.json`.
pub const MAX_STEPS: u32 = 1_000_000;

/// Rows per chunk when a found architecture's loss is computed on a whole split.
const EVAL_CHUNK: usize = 1024;

/// What a host search produced.
#[derive(Debug, Clone)]
pub struct HostSearchRun {
    /// The trained supernet.
    pub supernet: Supernet,
    /// The report.
    pub result: SearchResult,
}

/// The hidden widths of `arch`.
fn widths_of(space: &SearchSpace, arch: &Architecture) -> Vec<usize> {
    (0..arch.len())
        .map(|l| space.width(arch, l) as usize)
        .collect()
}

/// The error of a found architecture's loss on `split` that could not be computed.
fn evaluation(split: &'static str) -> impl Fn(LossError) -> HostSearchError + Copy {
    move |source| HostSearchError::Evaluation { split, source }
}

/// The generators of a search, one per use, each seeded from the search's seed.
struct Rngs {
    /// Training and validation batches.
    batch: SearchRng,
    /// The child trained at each step.
    child: SearchRng,
    /// The controller's samples and updates.
    rl: SearchRng,
}

/// Everything the phases of a search share: the space and its target, the controller,
/// the supernet and what the run has recorded so far.
struct Session<'a> {
    data: &'a Prepared,
    options: &'a HostSearchOptions,
    space: &'a SearchSpace,
    feasibility: Feasibility<'a, dyn CostModel + 'a>,
    rl: Box<RlSearch<DEFAULT_MC_CAPACITY>>,
    rngs: Rngs,
    supernet: Supernet,
    /// The full-width child (trained with a falling probability in the warm-up).
    full: Vec<usize>,
    /// Steps of the warm-up.
    warmup: u32,
    /// Controller steps between two distribution snapshots.
    snapshot_every: u32,
    /// Rows per chunk of a whole split's loss.
    eval_chunk: usize,
    /// One point per controller step.
    trace: Vec<TracePoint>,
    distributions: Vec<Distribution>,
    /// One training loss per step.
    train_losses: Vec<f64>,
    /// The answer's validation loss at each measurement.
    curve: Vec<ValidationPoint>,
    /// The lowest validation loss measured, its step and the weights then.
    best: Option<(f64, u32, Supernet)>,
    /// Measurements since the lowest.
    since_best: u32,
    /// The step at which patience ran out, if it did.
    stopped_at: Option<u32>,
}

/// Runs a host search. `progress` is called after every step with
/// `(step, steps, last trace point)`.
pub fn run_host_search(
    data: &Prepared,
    options: &HostSearchOptions,
    mut progress: impl FnMut(u32, u32, Option<&TracePoint>),
) -> Result<HostSearchRun, HostSearchError> {
    options.check(data)?;
    let layers: Vec<&[u32]> = options.space.iter().map(|w| w.as_slice()).collect();
    let space = SearchSpace::new(&layers).map_err(HostSearchError::Space)?;
    let spec = data.supernet_spec(options.space.clone());
    let model = cost_model(options.resource, ffn_shape(&spec), options.latency.as_ref())?;
    let mut session = Session::open(data, options, &space, spec, model.as_ref())?;
    let started = Instant::now();
    for step in 0..options.steps {
        let point = session.step(step)?;
        progress(step + 1, options.steps, point);
        if session.out_of_patience() {
            session.stopped_at = Some(step + 1);
            break;
        }
    }
    session.finish(started.elapsed().as_secs_f64())
}

impl<'a> Session<'a> {
    /// A fresh controller and supernet for `space` under `model`'s target, with the
    /// generators seeded and the first distribution recorded.
    fn open(
        data: &'a Prepared,
        options: &'a HostSearchOptions,
        space: &'a SearchSpace,
        spec: SupernetSpec,
        model: &'a dyn CostModel,
    ) -> Result<Self, HostSearchError> {
        let feasibility = Feasibility::new(space, model, options.target).map_err(|source| {
            HostSearchError::Target {
                target: options.target,
                source,
            }
        })?;
        let rl: Box<RlSearch<DEFAULT_MC_CAPACITY>> =
            Box::new(RlSearch::new(space, options.settings).map_err(HostSearchError::Settings)?);
        let mut init_rng = search_rng(options.seed);
        let rngs = Rngs {
            batch: search_rng(options.seed ^ 0x5eed_0001),
            child: search_rng(options.seed ^ 0x5eed_0002),
            rl: search_rng(options.seed ^ 0x5eed_0003),
        };
        let mut supernet = Supernet::new(spec.clone(), options.learning_rate, &mut init_rng);
        supernet.set_weight_decay(options.guards.weight_decay);
        let warmup = (options.steps as f64 * options.warmup_fraction).round() as u32;
        let snapshot_every = (options.steps - warmup)
            .div_ceil(options.snapshots.max(1))
            .max(1);
        Ok(Session {
            data,
            options,
            space,
            feasibility,
            distributions: vec![Distribution::of(0, &rl.policy())],
            rl,
            rngs,
            eval_chunk: supernet.spec().rows_per_chunk(EVAL_CHUNK),
            supernet,
            full: spec.max_widths(),
            warmup,
            snapshot_every,
            trace: Vec::new(),
            train_losses: Vec::with_capacity(options.steps as usize),
            curve: Vec::new(),
            best: None,
            since_best: 0,
            stopped_at: None,
        })
    }

    /// Whether `patience` measurements in a row found no new lowest validation loss.
    fn out_of_patience(&self) -> bool {
        self.options.guards.patience > 0 && self.since_best >= self.options.guards.patience
    }
}

pub(crate) fn uniform_arch<R: Rng + ?Sized>(space: &SearchSpace, rng: &mut R) -> Architecture {
    let index = rng.next_u64() % space.cardinality();
    space.arch_at(index).expect("index below the cardinality")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ColumnRef, CsvOptions, LabelKind};
    use crate::prepare::{prepare, DataSource, PrepareOptions};
    use tabnas_core::search::SearchSettings;

    #[test]
    fn the_smallest_architecture_takes_each_layers_narrowest_width() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let text: String = (0..40)
            .map(|i| format!("{i},{},{}\n", i % 7, i % 2))
            .collect();
        std::fs::write(f.path(), text).unwrap();
        let source = DataSource::Csv {
            path: f.path().to_path_buf(),
            options: CsvOptions::new(ColumnRef::Index(2), LabelKind::Binary),
            spill: None,
        };
        let data = prepare(&source, PrepareOptions::default()).unwrap();
        let mut options = HostSearchOptions {
            space: vec![vec![8, 4, 16], vec![4, 2]],
            resource: HostResource::Params,
            target: 1.0,
            settings: SearchSettings::rejection(tabnas_core::search::PvMode::Exact, 0.1),
            steps: 1,
            warmup_fraction: 0.0,
            batch: 1,
            valid_batch: 1,
            learning_rate: 1e-3,
            seed: 0,
            snapshots: 1,
            guards: Guards::default(),
            latency: None,
        };
        // 2 inputs -> 4 -> 2 -> 1 logit, with biases.
        let params = (2 + 1) * 4 + (4 + 1) * 2 + (2 + 1);
        assert_eq!(
            options.smallest(&data).unwrap(),
            (vec![4, 2], params as f64)
        );
        options.resource = HostResource::Flops;
        let (widths, flops) = options.smallest(&data).unwrap();
        assert_eq!(widths, [4, 2]);
        assert!(flops > params as f64, "{flops}");
        options.space = vec![vec![]];
        assert!(matches!(
            options.smallest(&data),
            Err(HostSearchError::Space(_))
        ));
    }
}
