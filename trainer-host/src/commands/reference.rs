//! `tabnas reference`: train architectures stand-alone (early-stopped on validation
//! loss) and report their losses beside the constant predictor's; the best is chosen on
//! validation loss, never on test loss.

use anyhow::{Context, Result};
use clap::Args;
use tabnas_trainer::constant::ConstantLoss;
use tabnas_trainer::host_search::MAX_STEPS;
use tabnas_trainer::reference::{train_reference, ReferenceOptions};

use super::args::{in_range, set_threads, widths_flag, DataArgs, Seeds, TrainArgs};

/// Flags of `tabnas reference`.
#[derive(Debug, Args)]
pub struct ReferenceArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Architectures to train, by their hidden widths, e.g. `--widths 32-144-24 --widths
    /// 64-8-64` (repeatable; `--arch` is an older name of this flag).
    #[arg(long = "widths", alias = "arch", required = true)]
    pub widths: Vec<String>,
    /// Adam steps per architecture (at most; early stopping may end sooner).
    #[arg(long, default_value_t = 3000)]
    pub steps: u32,
    #[command(flatten)]
    pub train: TrainArgs,
    #[command(flatten)]
    pub seeds: Seeds,
    /// Measure the validation loss every N steps and keep the best weights.
    #[arg(long, default_value_t = 100)]
    pub eval_every: u32,
    /// Stop after this many validation measurements without a new lowest (0: never).
    #[arg(long, default_value_t = 10)]
    pub patience: u32,
    /// Only architectures with at most this many dense parameters (the paper's limit).
    #[arg(long)]
    pub max_params: Option<u64>,
    /// Matrix-multiplication threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `tabnas reference`.
pub fn run(args: &ReferenceArgs) -> Result<()> {
    set_threads(args.threads)?;
    let archs = args
        .widths
        .iter()
        .map(|a| widths_flag("--widths", a))
        .collect::<Result<Vec<_>>>()?;
    in_range("--steps", args.steps, 1..=MAX_STEPS)?;
    args.train.check()?;
    in_range("--eval-every", args.eval_every, 1..=MAX_STEPS)?;
    in_range("--patience", args.patience, 0..=MAX_STEPS)?;
    let (split_seed, init_seed) = args.seeds.resolve();
    let data = args.data.prepare(split_seed, None)?;
    let constant = ConstantLoss::of(&data).context("the constant predictor's loss")?;
    let options = ReferenceOptions {
        steps: args.steps,
        batch: args.train.batch,
        learning_rate: args.train.lr,
        weight_decay: args.train.weight_decay,
        seed: init_seed,
        eval_every: args.eval_every,
        patience: args.patience,
    };
    let mut results = Vec::new();
    let mut warnings = Vec::new();
    for widths in &archs {
        let r = train_reference(&data, widths, options)?;
        if args.max_params.is_some_and(|m| r.params > m) {
            eprintln!(
                "skipping {widths:?}: {} params exceed --max-params",
                r.params
            );
            continue;
        }
        if r.still_improving {
            warnings.push(format!(
                "{:?} was still improving at its last step ({}): raise --steps",
                r.widths, r.trained_steps
            ));
        }
        if r.validation_loss >= constant.validation {
            warnings.push(format!(
                "{:?}: validation loss {:.4} is no better than the constant predictor's {:.4}",
                r.widths, r.validation_loss, constant.validation
            ));
        }
        if !args.json {
            println!(
                "{:<20} params {:>9}  validation loss {:.4}  test loss {:.4}  (best at step {} of {}, {:.1} s)",
                format!("{:?}", r.widths),
                r.params,
                r.validation_loss,
                r.test_loss,
                r.best_step,
                r.trained_steps,
                r.wall_s
            );
        }
        results.push(r);
    }
    let best = results
        .iter()
        .min_by(|a, b| a.validation_loss.total_cmp(&b.validation_loss));
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "dataset": data.name, "steps": args.steps,
                "batch": args.train.batch, "split_seed": split_seed, "init_seed": init_seed,
                "constant_loss": constant, "references": results,
                "best_on_validation": best.map(|b| &b.widths), "warnings": warnings })
        );
        return Ok(());
    }
    println!(
        "constant predictor (the training prior): validation loss {:.4}, test loss {:.4}",
        constant.validation, constant.test
    );
    if let Some(best) = best {
        println!(
            "best on validation loss: {:?}, validation loss {:.4}, test loss {:.4}",
            best.widths, best.validation_loss, best.test_loss
        );
    }
    for w in &warnings {
        println!("warning: {w}");
    }
    Ok(())
}
