//! `tabnas search`: TabNAS with joint weight training on the host, then the bundle.
//!
//! The flags are here; `plan` turns them into what the library runs (and checks it all
//! before any folder is touched), `report` prints what the run found.

mod plan;
mod report;

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use tabnas_core::search::SettingsError;
use tabnas_trainer::finalize::{finalize, FinalizeEvent};
use tabnas_trainer::host_search::{HostResource, HostSearchError, MAX_STEPS};
use tabnas_trainer::supernet::MAX_BATCH;

use super::args::{
    folder, fraction, in_range, one_of, set_threads, DataArgs, RewardArgs, Seeds, SpaceArgs,
    TrainArgs,
};
use super::run_folder::{command_line, open_run_folder, say_set_aside};
use plan::Plan;

/// Flags of `tabnas search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub space: SpaceArgs,
    #[command(flatten)]
    pub reward: RewardArgs,
    /// What the target limits.
    #[arg(long, value_parser = one_of::<HostResource>(), default_value = "params")]
    pub resource: HostResource,
    /// The limit (parameters; FLOPs of one example through the dense layers: two per
    /// multiply-accumulate, plus one per bias; or microseconds with --latency-from). If even the smallest architecture misses
    /// it, the run is still written, then the command fails (exit status 1).
    #[arg(long)]
    pub target: f64,
    /// Limit the latency measured on a board instead (hardware in the loop): its agent's
    /// address (`http://HOST:PORT`) or serial port. Its calibrated latency table is
    /// fetched once; --target is then in microseconds and --resource latency-us.
    #[arg(long)]
    pub latency_from: Option<String>,
    /// How the board's latencies are taken: its calibrated block table fetched once, or
    /// every child measured end to end on the board (spaces up to 4,096 children; the
    /// agent needs the token for measurements over HTTP).
    #[arg(long, value_enum, default_value = "table", requires = "latency_from")]
    pub latency_mode: super::latency_from::LatencyMode,
    /// File with the board agent's bearer token [default: $TABNAS_TOKEN] (HTTP).
    #[arg(long, requires = "latency_from")]
    pub token_file: Option<PathBuf>,
    /// Total steps (warm-up included).
    #[arg(long, default_value_t = 3000)]
    pub steps: u32,
    /// Fraction of steps spent in warm-up.
    #[arg(long, default_value_t = 0.25)]
    pub warmup: f64,
    /// Validation batch size of a controller step.
    #[arg(long, default_value_t = 512)]
    pub valid_batch: usize,
    #[command(flatten)]
    pub train: TrainArgs,
    #[command(flatten)]
    pub seeds: Seeds,
    /// Measure the current answer's validation loss every N steps after the warm-up and
    /// keep the shared weights of the lowest (0: never).
    #[arg(long, default_value_t = 100)]
    pub eval_every: u32,
    /// Stop the search after this many measurements without a new lowest validation
    /// loss (0: never).
    #[arg(long, default_value_t = 0)]
    pub patience: u32,
    /// Samples the target rejects that are replaced within one step (each costs a cost
    /// lookup, not an evaluation) before the step counts as rejected.
    #[arg(long, default_value_t = DEFAULT_MAX_RESAMPLES)]
    pub max_resamples: u32,
    /// Matrix-multiplication threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run folder: result.json, trace.svg and bundle/.
    #[arg(long)]
    pub out: PathBuf,
    /// Bundle name [default: the dataset's].
    #[arg(long)]
    pub name: Option<String>,
    /// Validation rows kept in the bundle's valid.bin.
    #[arg(long, default_value_t = 5000)]
    pub bundle_valid_rows: usize,
    /// Also train these architectures stand-alone after the search and record their
    /// losses in the manifest (repeatable; `found` means the found architecture).
    #[arg(long = "reference")]
    pub references: Vec<String>,
    /// Steps of each stand-alone reference (early-stopped on validation loss).
    #[arg(long, default_value_t = 3000)]
    pub reference_steps: u32,
    /// No progress bar or progress lines.
    #[arg(long)]
    pub quiet: bool,
}

/// Default of `--max-resamples` (docs/algorithm.md, "Rejected samples").
pub const DEFAULT_MAX_RESAMPLES: u32 = 100;

/// Most rejected samples replaced per step (`--max-resamples`).
pub const MAX_RESAMPLES: u32 = 1_000_000;

/// A search error, worded as the flag at fault where one is.
fn word(e: HostSearchError, args: &SearchArgs) -> anyhow::Error {
    match e {
        HostSearchError::ZeroSteps | HostSearchError::TooManySteps { .. } => {
            anyhow!("--steps must be in 1..={MAX_STEPS}, got {}", args.steps)
        }
        HostSearchError::Warmup { warmup_fraction } => {
            anyhow!("--warmup must be in [0, 1), got {warmup_fraction}")
        }
        HostSearchError::ZeroBatch { .. } => {
            anyhow!("--batch and --valid-batch must be at least 1")
        }
        HostSearchError::LearningRate { learning_rate } => {
            anyhow!("--lr must be a finite positive number, got {learning_rate}")
        }
        HostSearchError::Settings(SettingsError::LearningRate) => anyhow!(
            "--rl-lr must be a finite positive number, got {}",
            args.reward.rl_lr
        ),
        HostSearchError::Settings(SettingsError::Beta) => anyhow!(
            "--beta must be a finite non-negative number, got {}",
            args.reward.beta
        ),
        e => e.into(),
    }
}

impl SearchArgs {
    /// Checks every flag's value where it enters, before any data is read or any folder
    /// touched; errors name the flag and its bounds.
    pub fn check(&self) -> Result<()> {
        folder("--out", &self.out)?;
        in_range("--steps", self.steps, 1..=MAX_STEPS)?;
        fraction("--warmup", self.warmup)?;
        self.train.check()?;
        in_range("--valid-batch", self.valid_batch, 1..=MAX_BATCH)?;
        in_range("--eval-every", self.eval_every, 0..=MAX_STEPS)?;
        in_range("--patience", self.patience, 0..=MAX_STEPS)?;
        in_range("--max-resamples", self.max_resamples, 0..=MAX_RESAMPLES)?;
        if !(self.target.is_finite() && self.target > 0.0) {
            bail!(
                "--target must be a finite positive number ({}), got {:?}",
                self.resource,
                self.target
            );
        }
        in_range("--reference-steps", self.reference_steps, 1..=MAX_STEPS)?;
        if self.bundle_valid_rows == 0 {
            bail!("--bundle-valid-rows must be at least 1");
        }
        self.reward.check()?;
        self.data.check()?;
        Ok(())
    }
}

/// Runs `tabnas search`: the flags checked, the plan made (the data read, the board's
/// latencies fetched), the search run and its answer checked on the board, then the run
/// finished by the library (references, manifest, run folder) and summed up.
pub fn run(args: &SearchArgs) -> Result<()> {
    args.check()?;
    set_threads(args.threads)?;
    let plan = Plan::new(args)?;
    let out = open_run_folder(&args.out, &command_line("tabnas"))?;
    let mut run = plan.search(args)?;
    plan.check_on_board(args, &mut run.result);
    let written = finalize(
        &out,
        &plan.data,
        &run,
        &plan.finalize_plan(args),
        |event| match event {
            FinalizeEvent::Reference(r) => report::stand_alone(r, &run.result),
            FinalizeEvent::SetAside(moved) => say_set_aside(&out, moved),
        },
    )?;
    report::summary(&run.result, &written);
    plan.fail_if_infeasible(args, &run.result, &written)
}
