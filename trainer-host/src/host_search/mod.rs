//! TabNAS on the host: one weight-sharing supernet trained jointly with the controller.
//!
//! Steps (TABNAS.md, weight sharing): during the warm-up (the first `warmup_fraction`
//! of steps) the full-width network is trained with a probability that falls linearly
//! from 1 to 0, otherwise a uniformly sampled child, and the controller does not learn.
//! After it, every step trains a child sampled from the controller (conditioned on the
//! target by resampling) on a training batch, then takes one controller step through the
//! agent core's [`RlSearch`] with the child's shared-weight loss on a validation batch.
//! The controller, rewards, P(V) and feasibility are the core's: one implementation.

mod plot;
mod result;

use std::time::Instant;

use anyhow::{bail, Context, Result};
use rand_core::Rng;
use tabnas_agent::capacity::DEFAULT_MC_CAPACITY;
use tabnas_agent::controller::uniform01;
use tabnas_agent::cost::{CostModel, FfnFlops, FfnParams, FfnShape};
use tabnas_agent::feasibility::Feasibility;
use tabnas_agent::rng::search_rng;
use tabnas_agent::search::{Proposal, RlSearch, SearchSettings};
use tabnas_agent::space::{Architecture, SearchSpace};

use crate::prepare::Prepared;
use crate::supernet::Supernet;

pub use plot::render_trace_svg;
pub use result::{Distribution, SearchResult, TracePoint};

/// The resource the target limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum HostResource {
    /// Parameters of the hidden layers and head (embeddings excluded).
    Params,
    /// Multiply-accumulates of the hidden layers and head, per example.
    Flops,
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
}

/// What a host search produced.
#[derive(Debug, Clone)]
pub struct HostSearchRun {
    /// The trained supernet.
    pub supernet: Supernet,
    /// The report.
    pub result: SearchResult,
}

/// The cost model of a resource for a network of this shape.
pub fn cost_model(resource: HostResource, shape: FfnShape) -> Box<dyn CostModel> {
    match resource {
        HostResource::Params => Box::new(FfnParams(shape)),
        HostResource::Flops => Box::new(FfnFlops(shape)),
    }
}

fn widths_of(space: &SearchSpace, arch: &Architecture) -> Vec<usize> {
    (0..arch.len())
        .map(|l| space.width(arch, l) as usize)
        .collect()
}

/// Runs a host search. `progress` is called after every step with
/// `(step, steps, last trace point)`.
pub fn run_host_search(
    data: &Prepared,
    options: &HostSearchOptions,
    mut progress: impl FnMut(u32, u32, Option<&TracePoint>),
) -> Result<HostSearchRun> {
    let layers: Vec<&[u32]> = options.space.iter().map(|w| w.as_slice()).collect();
    let space = SearchSpace::new(&layers).context("search space")?;
    if options.steps == 0 {
        bail!("--steps must be at least 1");
    }
    if !(0.0..1.0).contains(&options.warmup_fraction) {
        bail!("--warmup must be in [0, 1)");
    }
    if options.batch == 0 || options.valid_batch == 0 {
        bail!("batch sizes must be at least 1");
    }
    let spec = data.supernet_spec(options.space.clone());
    let outputs = spec.outputs;
    let shape = FfnShape {
        input: spec.dense_width() as u32,
        output: outputs as u32,
        biases: true,
    };
    let model = cost_model(options.resource, shape);
    let feasibility = Feasibility::new(&space, model.as_ref(), options.target)
        .map_err(|e| anyhow::anyhow!("target {}: {e}", options.target))?;
    let mut rl: Box<RlSearch<DEFAULT_MC_CAPACITY>> = Box::new(
        RlSearch::new(&space, options.settings).map_err(|e| anyhow::anyhow!("settings: {e}"))?,
    );
    let mut init_rng = search_rng(options.seed);
    let mut batch_rng = search_rng(options.seed ^ 0x5eed_0001);
    let mut child_rng = search_rng(options.seed ^ 0x5eed_0002);
    let mut rl_rng = search_rng(options.seed ^ 0x5eed_0003);
    let mut supernet = Supernet::new(spec.clone(), options.learning_rate, &mut init_rng);
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
        let batch = data.train.sample(options.batch, &mut batch_rng);
        let train_loss = supernet
            .train_step(&batch, &widths)
            .with_context(|| format!("training step {} diverged", step + 1))?;
        train_losses.push(train_loss);
        let mut point = None;
        if step >= warmup {
            let report = match rl
                .propose(&mut rl_rng, &feasibility)
                .map_err(|e| anyhow::anyhow!("controller: {e}"))?
            {
                Proposal::Rejected(report) => report,
                Proposal::Evaluate { arch, .. } => {
                    let vb = data.valid.sample(options.valid_batch, &mut batch_rng);
                    let l = supernet
                        .batch_loss(&vb, &widths_of(&space, &arch))
                        .with_context(|| format!("validation loss at step {}", step + 1))?;
                    rl.complete(l, &mut rl_rng, &feasibility)
                        .map_err(|e| anyhow::anyhow!("controller: {e}"))?
                }
            };
            let tp = TracePoint::from_report(step + 1, &space, &report, train_loss);
            trace.push(tp);
            point = trace.last();
            if (step + 1 - warmup) % snapshot_every == 0 || step + 1 == options.steps {
                distributions.push(Distribution::of(step + 1, &rl.policy()));
            }
        }
        progress(step + 1, options.steps, point);
    }
    let wall_s = started.elapsed().as_secs_f64();
    let choice = rl.final_choice(&feasibility);
    let chosen = choice.feasible.unwrap_or(choice.unconstrained);
    let chosen_widths = widths_of(&space, &chosen.arch);
    let eval_chunk = 1024;
    let validation_loss = supernet.loss(&data.valid, &chosen_widths, eval_chunk)?;
    let test_loss = supernet.loss(&data.test, &chosen_widths, eval_chunk)?;
    let unconstrained_widths = widths_of(&space, &choice.unconstrained.arch);
    let counts = rl.counts();
    let result = SearchResult {
        dataset: data.name.clone(),
        architecture: chosen_widths.iter().map(|&w| w as u32).collect(),
        feasible: choice.feasible.is_some(),
        resource: options.resource,
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
        trace,
        distributions,
    };
    Ok(HostSearchRun { supernet, result })
}

fn uniform_arch<R: Rng + ?Sized>(space: &SearchSpace, rng: &mut R) -> Architecture {
    let index = rng.next_u64() % space.cardinality();
    space.arch_at(index).expect("index below the cardinality")
}
