//! `tabnas search`: TabNAS with joint weight training on the host, then the bundle.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use tabnas_bundle::{Provenance, ReferenceLoss};
use tabnas_core::search::SettingsError;
use tabnas_trainer::export::{manifest_for, valid_set, write_bundle};
use tabnas_trainer::host_search::{
    render_trace_svg, run_host_search, Guards, HostResource, HostSearchError, HostSearchOptions,
    MAX_STEPS,
};
use tabnas_trainer::reference::{train_reference, ReferenceOptions};
use tabnas_trainer::supernet::MAX_BATCH;

use super::args::{
    folder, fraction, in_range, one_of, set_threads, widths_flag, DataArgs, RewardArgs, Seeds,
    SpaceArgs, TrainArgs,
};
use super::progress::Progress;
use super::run_folder::{command_line, open_run_folder, recorded_command_line, set_aside};

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

/// Files of a host run folder, moved to `previous-N/` when a new run writes the folder.
pub const RUN_FILES: [&str; 3] = ["result.json", "trace.svg", "bundle"];

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

/// Runs `tabnas search`.
pub fn run(args: &SearchArgs) -> Result<()> {
    args.check()?;
    set_threads(args.threads)?;
    let space = args.space.space()?;
    let settings = args.reward.settings();
    let mut reference_archs = Vec::new();
    for r in &args.references {
        reference_archs.push(if r == "found" {
            None
        } else {
            Some(widths_flag("--reference", r)?)
        });
    }
    let (split_seed, init_seed) = args.seeds.resolve();
    let data = args.data.prepare(split_seed, args.space.embedding_dim())?;
    let (resource, latency) = match &args.latency_from {
        None if args.resource == HostResource::LatencyUs => {
            bail!("--resource latency-us needs --latency-from DEVICE (a board's agent)")
        }
        None => (args.resource, None),
        Some(device) => {
            if args.resource == HostResource::Flops {
                bail!("--latency-from limits latency: leave out --resource flops");
            }
            let token = tabnas_link::token::host_token(args.token_file.as_deref())
                .map_err(anyhow::Error::msg)?;
            let spec = data.supernet_spec(space.clone());
            let l = super::latency_from::fetch(
                device,
                token.clone(),
                &space,
                (spec.dense_width(), spec.outputs),
                args.latency_mode,
            )?;
            println!(
                "latency from {} (board {}, runtime {}): {} {}; --target is {} us",
                l.source.device,
                l.source.board,
                l.source.runtime,
                l.source.measurements,
                if l.source.mode == "table" {
                    "table entries"
                } else {
                    "children measured"
                },
                args.target
            );
            (HostResource::LatencyUs, Some((l, token)))
        }
    };
    let (latency, board_token) = match latency {
        Some((l, token)) => (Some(l), token),
        None => (None, None),
    };
    let options = HostSearchOptions {
        space,
        resource,
        target: args.target,
        settings,
        steps: args.steps,
        warmup_fraction: args.warmup,
        batch: args.train.batch,
        valid_batch: args.valid_batch,
        learning_rate: args.train.lr,
        seed: init_seed,
        snapshots: 50,
        guards: Guards {
            weight_decay: args.train.weight_decay,
            eval_every: args.eval_every,
            patience: args.patience,
            max_resamples: args.max_resamples,
        },
        latency,
    };
    // Everything the search would refuse is refused before the folder is touched.
    options.check(&data).map_err(|e| word(e, args))?;
    for (text, widths) in args.references.iter().zip(&reference_archs) {
        if let Some(widths) = widths {
            let spec = data.supernet_spec(widths.iter().map(|&w| vec![w]).collect());
            spec.check_size()
                .and_then(|()| spec.check_batch(args.train.batch))
                .with_context(|| format!("--reference {text:?}"))?;
        }
    }
    let out = open_run_folder(&args.out, &command_line("tabnas"))?;
    let mut progress = Progress::new("search", args.steps as u64, args.quiet);
    let mut run = run_host_search(&data, &options, |step, _, point| {
        progress.at(step as u64, || match point {
            Some(p) => format!(
                "sample {:?} {} loss {} P(V) {}",
                p.arch,
                if p.feasible { "ok" } else { "rejected" },
                p.loss.map_or("-".into(), |l| format!("{l:.4}")),
                p.pv.map_or("-".into(), |v| format!("{v:.3}"))
            ),
            None => "warm-up".into(),
        });
    })
    .map_err(|e| word(e, args))?;
    progress.finish();
    // Hardware in the loop: the board measures the answer the host picked from its
    // table, so the result states what the board says, not only what the table predicted.
    if let (Some(device), true) = (&args.latency_from, run.result.feasible) {
        let (widths, cost, target) = (
            run.result.architecture.clone(),
            run.result.cost,
            run.result.target,
        );
        match super::latency_from::verify_on_board(device, board_token, &widths, cost, target) {
            Ok(check) => {
                run.result.board_check = Some(check);
                if !check.meets_target {
                    run.result.warnings.push(format!(
                        "the board measured the answer at {:.1} us, over the target {target} us \
                         (the table predicted {:.1} us): the board's table is optimistic at this \
                         size; search again with a lower --target or --latency-mode measured",
                        check.measured_us, check.predicted_us
                    ));
                }
            }
            // The search itself stands on the board's table; a board that cannot measure
            // now (busy, or a measurement over HTTP without --token-file) is said so.
            Err(e) => run.result.warnings.push(format!(
                "the board did not measure the answer, so only its table's prediction stands: \
                 {e:#}"
            )),
        }
    }
    let result = &run.result;
    let name = args.name.clone().unwrap_or_else(|| data.name.clone());
    let provenance = Provenance {
        dataset: data.name.clone(),
        rows: [data.train.rows(), data.valid.rows, data.test.rows],
        seed: init_seed,
        steps: args.steps,
        batch: args.train.batch,
        learning_rate: args.train.lr as f64,
        command: recorded_command_line("tabnas"),
        producer: format!("tabnas-trainer {}", env!("CARGO_PKG_VERSION")),
    };
    let mut references = vec![ReferenceLoss {
        widths: result.architecture.clone(),
        params: result.params,
        loss: result.test_loss,
        method: "shared-weights".into(),
        split: "test".into(),
    }];
    for widths in &reference_archs {
        let widths = widths
            .clone()
            .unwrap_or_else(|| result.architecture.clone());
        let r = train_reference(
            &data,
            &widths,
            ReferenceOptions {
                steps: args.reference_steps,
                batch: args.train.batch,
                learning_rate: args.train.lr,
                weight_decay: args.train.weight_decay,
                seed: init_seed,
                eval_every: 100,
                patience: 10,
            },
        )?;
        println!(
            "stand-alone {:?}: {} params, test loss {:.4} (validation {:.4}; constant \
             predictor: test {:.4})",
            r.widths, r.params, r.test_loss, r.validation_loss, result.constant_loss.test
        );
        references.push(ReferenceLoss {
            widths: r.widths,
            params: r.params,
            loss: r.test_loss,
            method: "stand-alone".into(),
            split: "test".into(),
        });
    }
    let manifest = manifest_for(&name, &data, &run.supernet, provenance, references);
    let svg = render_trace_svg(result)?;
    // All is computed: only now is an earlier run moved aside and the new one written,
    // so that a failed run leaves the folder as it was.
    set_aside(&out, &RUN_FILES)?;
    let result_path = out.write("result.json", &serde_json::to_vec_pretty(result)?)?;
    let svg_path = out.write("trace.svg", svg.as_bytes())?;
    let bundle_dir = out.subfolder("bundle")?;
    let hash = write_bundle(
        &bundle_dir,
        &manifest,
        &run.supernet,
        &valid_set(&data.valid, args.bundle_valid_rows),
    )?;
    println!(
        "found {:?}: {} {:.0} (target {:.0}, {}), validation loss {:.4}, test loss {:.4} (shared weights)",
        result.architecture,
        result.resource,
        result.cost,
        result.target,
        if result.feasible { "feasible" } else { "INFEASIBLE: no architecture meets the target" },
        result.validation_loss,
        result.test_loss
    );
    println!(
        "constant predictor (the training prior): validation loss {:.4}, test loss {:.4}",
        result.constant_loss.validation, result.constant_loss.test
    );
    println!(
        "final policy: the answer has probability {:.3} ({}); {:.0}% of the controller's \
         samples were rejected; shared weights of step {}{}",
        result.probability,
        if result.converged {
            "converged"
        } else {
            "NOT converged"
        },
        100.0 * result.rejected_share,
        result.weights_step,
        result
            .stopped_at
            .map_or(String::new(), |s| format!(" (early-stopped at step {s})"))
    );
    if let Some(c) = &result.board_check {
        println!(
            "on the board: {:.1} us measured ({} samples, cv {:.3}), {:.1} us predicted from its \
             table ({:+.1}%): {}",
            c.measured_us,
            c.samples,
            c.cv,
            c.predicted_us,
            100.0 * c.error,
            if c.meets_target {
                "meets the target"
            } else {
                "OVER the target"
            }
        );
    }
    if !result.unconstrained_feasible {
        println!(
            "note: the controller's unconstrained argmax {:?} costs {:.0} and violates the target",
            result.unconstrained_argmax, result.unconstrained_cost
        );
    }
    println!(
        "{} steps ({} warm-up; controller: {} samples, {} updates, {} rejected, {} skipped) in \
         {:.1} s",
        result.steps,
        result.warmup_steps,
        result.rl_steps,
        result.rl_updated,
        result.rl_rejected,
        result.rl_skipped,
        result.wall_s
    );
    println!(
        "wrote {}, {} and the bundle {} (sha256 {})",
        result_path.display(),
        svg_path.display(),
        bundle_dir.display(),
        &hash[..16]
    );
    for w in &result.warnings {
        println!("warning: {w}");
    }
    if !result.feasible {
        // Everything is written for inspection; the run still failed its one purpose.
        let (smallest, cost) = options.smallest(&data).map_err(|e| word(e, args))?;
        bail!(
            "no architecture meets --target {} ({res}): the smallest, {smallest:?}, costs \
             {cost:.0} {res}; raise --target to at least {cost:.0} or add smaller widths to \
             --space. Written anyway, for inspection: {} (feasible: false), trace.svg and the \
             bundle {}, whose supernet is valid for a search under another target",
            args.target,
            result_path.display(),
            bundle_dir.display(),
            res = result.resource,
        );
    }
    Ok(())
}
