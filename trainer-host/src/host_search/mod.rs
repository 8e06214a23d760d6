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

mod guards;
mod plot;
mod result;

use std::fmt;
use std::time::Instant;

use rand_core::Rng;
use tabnas_bundle::LossError;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::controller::uniform01;
use tabnas_core::cost::{CostModel, FfnFlops, FfnParams, FfnShape};
use tabnas_core::feasibility::{Feasibility, FeasibilityError};
use tabnas_core::rng::search_rng;
use tabnas_core::search::{Proposal, RlSearch, SearchSettings, SettingsError, StepError};
use tabnas_core::space::{Architecture, SearchSpace, SpaceError};

use crate::constant::ConstantLoss;
use crate::names::impl_names;
use crate::prepare::Prepared;
use crate::supernet::{RowFileError, SizeError, Supernet};

pub use guards::{Guards, ValidationPoint, CONVERGED_PROBABILITY, REJECTED_SHARE_WARNING};
pub use plot::{render_trace_svg, PlotError};
pub use result::{BoardCheck, Distribution, SearchResult, TracePoint};

/// The resource the target limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostResource {
    /// Parameters of the hidden layers and head (embeddings excluded).
    Params,
    /// FLOPs of the hidden layers and head per example ([`FfnFlops`]: two per
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

/// Latencies measured on a board: the cost model of [`HostResource::LatencyUs`], and
/// what the result records about who measured them.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceLatency {
    /// The board's latencies over this search's space.
    pub costs: std::sync::Arc<BoardCosts>,
    /// Who measured them.
    pub source: LatencySource,
}

/// A board's latencies of a space's children.
#[derive(Debug, Clone, PartialEq)]
pub enum BoardCosts {
    /// Its calibrated block table: a child's latency is predicted from its blocks.
    Table(Box<tabnas_core::cost::LatencyTable>),
    /// Every child measured end to end on the board: microseconds by the space's dense
    /// index.
    Children(Vec<f64>),
}

impl CostModel for BoardCosts {
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64 {
        match self {
            Self::Table(t) => t.cost(space, arch),
            Self::Children(us) => us
                .get(space.index_of(arch) as usize)
                .copied()
                .unwrap_or(f64::NAN),
        }
    }

    fn unit(&self) -> &'static str {
        "us"
    }
}

/// Which board, profile and runtime measured a search's latencies, and how.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LatencySource {
    /// How the board was reached (`http://...`, a serial path).
    pub device: String,
    /// The board profile's name.
    pub board: String,
    /// The runtime that measured.
    pub runtime: String,
    /// The board's bundle hash (first 16 hex digits).
    pub bundle: String,
    /// `table`: the board's calibrated block table fetched once; `measured`: every
    /// child measured end to end on the board (a table of children).
    pub mode: String,
    /// Entries fetched, or children measured.
    pub measurements: usize,
}

/// Most steps of a host search: each keeps a training loss and a trace point, in memory
/// and in `result.json`.
pub const MAX_STEPS: u32 = 1_000_000;

/// Rows per chunk when a found architecture's loss is computed on a whole split.
const EVAL_CHUNK: usize = 1024;

/// Why a host search could not run or finish.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HostSearchError {
    /// The candidate widths are not a search space.
    Space(SpaceError),
    /// Zero steps.
    ZeroSteps,
    /// More steps than [`MAX_STEPS`].
    TooManySteps {
        /// The steps given.
        steps: u32,
    },
    /// The supernet or a batch would be too large to allocate.
    Size(SizeError),
    /// A latency target without the board's latencies.
    NoLatencyTable,
    /// A warm-up fraction outside `[0, 1)`.
    Warmup {
        /// The fraction given.
        warmup_fraction: f64,
    },
    /// A training or validation batch size of 0.
    ZeroBatch {
        /// Training batch size given.
        batch: usize,
        /// Validation batch size given.
        valid_batch: usize,
    },
    /// A shared-weight learning rate that is not a finite positive number.
    LearningRate {
        /// The rate given.
        learning_rate: f32,
    },
    /// The target cannot be used with this space and resource.
    Target {
        /// The target given.
        target: f64,
        /// Why.
        source: FeasibilityError,
    },
    /// The controller settings cannot be used with this space.
    Settings(SettingsError),
    /// A training step produced a loss that cannot be computed (the weights diverged).
    Training {
        /// The step (1-based).
        step: u32,
        /// Why.
        source: LossError,
    },
    /// The validation loss of a controller step could not be computed.
    Validation {
        /// The step (1-based).
        step: u32,
        /// Why.
        source: LossError,
    },
    /// A controller step failed.
    Controller {
        /// The step (1-based).
        step: u32,
        /// Why.
        source: StepError,
    },
    /// A training batch could not be read from the row file.
    Rows {
        /// The step (1-based).
        step: u32,
        /// Why.
        source: RowFileError,
    },
    /// The found architecture's loss could not be computed.
    Evaluation {
        /// Which rows: `validation` or `test`.
        split: &'static str,
        /// Why.
        source: LossError,
    },
}

impl fmt::Display for HostSearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Space(_) => f.write_str("invalid search space"),
            Self::ZeroSteps => f.write_str("a search needs at least 1 step"),
            Self::TooManySteps { steps } => write!(
                f,
                "a search may have at most {MAX_STEPS} steps, got {steps}"
            ),
            Self::Size(_) => f.write_str("the search does not fit in memory"),
            Self::NoLatencyTable => f.write_str(
                "a latency target needs the board's latencies: give --latency-from DEVICE",
            ),
            Self::Warmup { warmup_fraction } => write!(
                f,
                "the warm-up fraction must be in [0, 1), got {warmup_fraction}"
            ),
            Self::ZeroBatch { batch, valid_batch } => write!(
                f,
                "batch sizes must be at least 1, got {batch} (training) and {valid_batch} \
                 (validation)"
            ),
            Self::LearningRate { learning_rate } => write!(
                f,
                "the shared weights' learning rate must be a finite positive number, got \
                 {learning_rate}"
            ),
            Self::Target { target, .. } => write!(f, "target {target} cannot be used"),
            Self::Settings(_) => f.write_str("invalid controller settings"),
            Self::Training { step, .. } => write!(f, "training step {step} diverged"),
            Self::Validation { step, .. } => write!(f, "validation loss at step {step}"),
            Self::Controller { step, .. } => write!(f, "controller step {step} failed"),
            Self::Rows { step, .. } => write!(f, "cannot read the training batch of step {step}"),
            Self::Evaluation { split, .. } => {
                write!(
                    f,
                    "cannot evaluate the found architecture on the {split} split"
                )
            }
        }
    }
}

impl std::error::Error for HostSearchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Space(e) => Some(e),
            Self::Size(e) => Some(e),
            Self::Target { source, .. } => Some(source),
            Self::Settings(e) => Some(e),
            Self::Training { source, .. }
            | Self::Validation { source, .. }
            | Self::Evaluation { source, .. } => Some(source),
            Self::Controller { source, .. } => Some(source),
            Self::Rows { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Everything a host search needs besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSearchOptions {
    /// Candidate widths per hidden layer.
    pub space: Vec<Vec<u32>>,
    /// What the target limits.
    pub resource: HostResource,
    /// The limit.
    pub target: f64,
    /// Controller settings (reward, P(V), learning rate).
    pub settings: SearchSettings,
    /// Total steps (warm-up included).
    pub steps: u32,
    /// Fraction of the steps spent in warm-up.
    pub warmup_fraction: f64,
    /// Training batch size.
    pub batch: usize,
    /// Validation batch size of a controller step.
    pub valid_batch: usize,
    /// Adam learning rate of the shared weights.
    pub learning_rate: f32,
    /// Seed of initialisation, batches and controller.
    pub seed: u64,
    /// Distribution snapshots to record.
    pub snapshots: u32,
    /// Weight decay, validation checks, early stopping and rejection resampling.
    pub guards: Guards,
    /// The board's latencies, for [`HostResource::LatencyUs`].
    pub latency: Option<DeviceLatency>,
}

/// What a host search produced.
#[derive(Debug, Clone)]
pub struct HostSearchRun {
    /// The trained supernet.
    pub supernet: Supernet,
    /// The report.
    pub result: SearchResult,
}

/// The cost model of a resource for a network of this shape (`latency`: the board's,
/// which [`HostResource::LatencyUs`] needs).
pub fn cost_model(
    resource: HostResource,
    shape: FfnShape,
    latency: Option<&DeviceLatency>,
) -> Result<Box<dyn CostModel>, HostSearchError> {
    Ok(match resource {
        HostResource::Params => Box::new(FfnParams(shape)),
        HostResource::Flops => Box::new(FfnFlops(shape)),
        HostResource::LatencyUs => Box::new(
            latency
                .ok_or(HostSearchError::NoLatencyTable)?
                .costs
                .as_ref()
                .clone(),
        ),
    })
}

fn widths_of(space: &SearchSpace, arch: &Architecture) -> Vec<usize> {
    (0..arch.len())
        .map(|l| space.width(arch, l) as usize)
        .collect()
}

impl HostSearchOptions {
    /// Checks these options against `data` without training or allocating the
    /// supernet: everything [`run_host_search`] refuses before its first step.
    pub fn check(&self, data: &Prepared) -> Result<(), HostSearchError> {
        let layers: Vec<&[u32]> = self.space.iter().map(|w| w.as_slice()).collect();
        let space = SearchSpace::new(&layers).map_err(HostSearchError::Space)?;
        if self.steps == 0 {
            return Err(HostSearchError::ZeroSteps);
        }
        if self.steps > MAX_STEPS {
            return Err(HostSearchError::TooManySteps { steps: self.steps });
        }
        if !(0.0..1.0).contains(&self.warmup_fraction) {
            return Err(HostSearchError::Warmup {
                warmup_fraction: self.warmup_fraction,
            });
        }
        if self.batch == 0 || self.valid_batch == 0 {
            return Err(HostSearchError::ZeroBatch {
                batch: self.batch,
                valid_batch: self.valid_batch,
            });
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(HostSearchError::LearningRate {
                learning_rate: self.learning_rate,
            });
        }
        let spec = data.supernet_spec(self.space.clone());
        spec.check_size().map_err(HostSearchError::Size)?;
        for rows in [self.batch, self.valid_batch] {
            spec.check_batch(rows).map_err(HostSearchError::Size)?;
        }
        let model = cost_model(self.resource, ffn_shape(&spec), self.latency.as_ref())?;
        Feasibility::new(&space, model.as_ref(), self.target).map_err(|source| {
            HostSearchError::Target {
                target: self.target,
                source,
            }
        })?;
        self.settings
            .validate(&space, DEFAULT_MC_CAPACITY)
            .map_err(HostSearchError::Settings)?;
        Ok(())
    }
}

impl HostSearchOptions {
    /// The smallest architecture of the space (the narrowest width of every layer) and
    /// its cost. Costs grow with every width, so no architecture costs less: when it
    /// misses the target, every architecture does.
    pub fn smallest(&self, data: &Prepared) -> Result<(Vec<u32>, f64), HostSearchError> {
        let layers: Vec<&[u32]> = self.space.iter().map(|w| w.as_slice()).collect();
        let space = SearchSpace::new(&layers).map_err(HostSearchError::Space)?;
        let widths: Vec<u32> = (0..space.num_layers())
            .map(|l| space.choices(l).iter().copied().min().unwrap_or(0))
            .collect();
        let arch = space
            .arch_from_widths(&widths)
            .expect("each width is one of its layer's choices");
        let spec = data.supernet_spec(self.space.clone());
        spec.check_size().map_err(HostSearchError::Size)?;
        let cost =
            cost_model(self.resource, ffn_shape(&spec), self.latency.as_ref())?.cost(&space, &arch);
        Ok((widths, cost))
    }
}

/// The cost models' shape of a supernet (its size is checked: the widths fit `u32`).
pub(crate) fn ffn_shape(spec: &crate::supernet::SupernetSpec) -> FfnShape {
    FfnShape {
        input: spec.dense_width() as u32,
        output: spec.outputs as u32,
        biases: true,
    }
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
    let feasibility =
        Feasibility::new(&space, model.as_ref(), options.target).map_err(|source| {
            HostSearchError::Target {
                target: options.target,
                source,
            }
        })?;
    let mut rl: Box<RlSearch<DEFAULT_MC_CAPACITY>> =
        Box::new(RlSearch::new(&space, options.settings).map_err(HostSearchError::Settings)?);
    let mut init_rng = search_rng(options.seed);
    let mut batch_rng = search_rng(options.seed ^ 0x5eed_0001);
    let mut child_rng = search_rng(options.seed ^ 0x5eed_0002);
    let mut rl_rng = search_rng(options.seed ^ 0x5eed_0003);
    let mut supernet = Supernet::new(spec.clone(), options.learning_rate, &mut init_rng);
    supernet.set_weight_decay(options.guards.weight_decay);
    let eval_chunk = supernet.spec().rows_per_chunk(EVAL_CHUNK);
    let evaluation = |split| move |source| HostSearchError::Evaluation { split, source };
    let mut curve: Vec<ValidationPoint> = Vec::new();
    let mut best: Option<(f64, u32, Supernet)> = None;
    let mut since_best = 0u32;
    let mut stopped_at = None;
    let full = spec.max_widths();
    let warmup = (options.steps as f64 * options.warmup_fraction).round() as u32;
    let snapshot_every = (options.steps - warmup)
        .div_ceil(options.snapshots.max(1))
        .max(1);
    let mut trace = Vec::new();
    let mut distributions = vec![Distribution::of(0, &rl.policy())];
    let mut train_losses = Vec::with_capacity(options.steps as usize);
    let started = Instant::now();
    for step in 0..options.steps {
        let widths = if step < warmup {
            let p_full = 1.0 - step as f64 / warmup as f64;
            if uniform01(&mut child_rng) < p_full {
                full.clone()
            } else {
                let arch = uniform_arch(&space, &mut child_rng);
                widths_of(&space, &arch)
            }
        } else {
            let policy = rl.policy();
            let mut arch = policy.sample(&mut child_rng);
            for _ in 0..64 {
                if feasibility.judge(&arch).feasible {
                    break;
                }
                arch = policy.sample(&mut child_rng);
            }
            widths_of(&space, &arch)
        };
        let batch = data
            .train
            .sample(options.batch, &mut batch_rng)
            .map_err(|source| HostSearchError::Rows {
                step: step + 1,
                source,
            })?;
        let train_loss =
            supernet
                .train_step(&batch, &widths)
                .map_err(|source| HostSearchError::Training {
                    step: step + 1,
                    source,
                })?;
        train_losses.push(train_loss);
        let mut point = None;
        if step >= warmup {
            let controller = |source| HostSearchError::Controller {
                step: step + 1,
                source,
            };
            // A rejected sample costs a cost lookup: it is replaced (up to
            // `max_resamples` times) so that the step ends in an update.
            let mut proposal = rl.propose(&mut rl_rng, &feasibility).map_err(controller)?;
            let mut resampled = 0;
            while matches!(proposal, Proposal::Rejected(_))
                && resampled < options.guards.max_resamples
            {
                resampled += 1;
                proposal = rl.propose(&mut rl_rng, &feasibility).map_err(controller)?;
            }
            let report = match proposal {
                Proposal::Rejected(report) => report,
                Proposal::Evaluate { arch, .. } => {
                    let vb = data.valid.sample(options.valid_batch, &mut batch_rng);
                    let l = supernet
                        .batch_loss(&vb, &widths_of(&space, &arch))
                        .map_err(|source| HostSearchError::Validation {
                            step: step + 1,
                            source,
                        })?;
                    rl.complete(l, &mut rl_rng, &feasibility)
                        .map_err(controller)?
                }
            };
            let mut tp = TracePoint::from_report(step + 1, &space, &report, train_loss);
            tp.rejected_before = resampled;
            trace.push(tp);
            point = trace.last();
            if (step + 1 - warmup).is_multiple_of(snapshot_every) || step + 1 == options.steps {
                distributions.push(Distribution::of(step + 1, &rl.policy()));
            }
            let every = options.guards.eval_every;
            if every > 0 && ((step + 1 - warmup).is_multiple_of(every) || step + 1 == options.steps)
            {
                let choice = rl.final_choice(&feasibility);
                let now = choice.feasible.unwrap_or(choice.unconstrained);
                let widths = widths_of(&space, &now.arch);
                let loss = supernet
                    .loss(&data.valid, &widths, eval_chunk)
                    .map_err(evaluation("validation"))?;
                curve.push(ValidationPoint {
                    step: step + 1,
                    arch: widths.iter().map(|&w| w as u32).collect(),
                    loss,
                });
                if best.as_ref().is_none_or(|(b, _, _)| loss < *b) {
                    best = Some((loss, step + 1, supernet.clone()));
                    since_best = 0;
                } else {
                    since_best += 1;
                }
            }
        }
        progress(step + 1, options.steps, point);
        if options.guards.patience > 0 && since_best >= options.guards.patience {
            stopped_at = Some(step + 1);
            break;
        }
    }
    let wall_s = started.elapsed().as_secs_f64();
    if let Some(step) = stopped_at {
        distributions.push(Distribution::of(step, &rl.policy()));
    }
    let choice = rl.final_choice(&feasibility);
    let chosen = choice.feasible.unwrap_or(choice.unconstrained);
    let chosen_widths = widths_of(&space, &chosen.arch);
    let mut validation_loss = supernet
        .loss(&data.valid, &chosen_widths, eval_chunk)
        .map_err(evaluation("validation"))?;
    let steps_done = stopped_at.unwrap_or(options.steps);
    let mut weights_step = steps_done;
    // The exported weights: the lowest-validation snapshot if it gives the final answer
    // a lower validation loss than the last weights do.
    if let Some((_, step, snapshot)) = best {
        let l = snapshot
            .loss(&data.valid, &chosen_widths, eval_chunk)
            .map_err(evaluation("validation"))?;
        if l < validation_loss {
            validation_loss = l;
            weights_step = step;
            supernet = snapshot;
        }
    }
    let test_loss = supernet
        .loss(&data.test, &chosen_widths, eval_chunk)
        .map_err(evaluation("test"))?;
    let unconstrained_widths = widths_of(&space, &choice.unconstrained.arch);
    let counts = rl.counts();
    let constant_loss = ConstantLoss::of(data).map_err(evaluation("validation"))?;
    let rejected_share = if counts.steps == 0 {
        0.0
    } else {
        counts.rejected as f64 / counts.steps as f64
    };
    let warnings = guards::warnings(&guards::Facts {
        feasible: choice.feasible.is_some(),
        probability: chosen.prob,
        rejected_share,
        validation_loss,
        constant_validation: constant_loss.validation,
        curve: &curve,
        stopped_at,
    });
    let result = SearchResult {
        dataset: data.name.clone(),
        architecture: chosen_widths.iter().map(|&w| w as u32).collect(),
        feasible: choice.feasible.is_some(),
        resource: options.resource,
        latency_source: options.latency.as_ref().map(|l| l.source.clone()),
        board_check: None,
        cost: chosen.cost,
        target: options.target,
        params: supernet.dense_params(&chosen_widths),
        probability: chosen.prob,
        validation_loss,
        test_loss,
        unconstrained_argmax: unconstrained_widths.iter().map(|&w| w as u32).collect(),
        unconstrained_cost: choice.unconstrained.cost,
        unconstrained_feasible: choice.unconstrained.feasible,
        settings: options.settings,
        space: options.space.clone(),
        steps: options.steps,
        warmup_steps: warmup,
        rl_steps: counts.steps,
        rl_updated: counts.updated,
        rl_rejected: counts.rejected,
        rl_skipped: counts.skipped,
        batch: options.batch,
        valid_batch: options.valid_batch,
        learning_rate: options.learning_rate as f64,
        seed: options.seed,
        wall_s,
        final_train_loss: train_losses.last().copied().unwrap_or(f64::NAN),
        constant_loss,
        rejected_share,
        converged: chosen.prob >= CONVERGED_PROBABILITY,
        weights_step,
        stopped_at,
        validation_curve: curve,
        guards: options.guards,
        warnings,
        trace,
        distributions,
    };
    Ok(HostSearchRun { supernet, result })
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
