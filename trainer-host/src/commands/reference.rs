//! `tabnas reference`: train architectures stand-alone and report their test loss.

use anyhow::Result;
use clap::Args;
use tabnas_trainer::host_search::MAX_STEPS;
use tabnas_trainer::reference::{train_reference, ReferenceOptions};
use tabnas_trainer::supernet::MAX_BATCH;

use super::args::{in_range, rate, set_threads, widths_flag, DataArgs, MAX_LEARNING_RATE};

/// Flags of `tabnas reference`.
#[derive(Debug, Args)]
pub struct ReferenceArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Architectures to train, e.g. `--arch 32-144-24 --arch 64-8-64` (repeatable).
    #[arg(long = "arch", required = true)]
    pub archs: Vec<String>,
    /// Adam steps per architecture.
    #[arg(long, default_value_t = 3000)]
    pub steps: u32,
    /// Batch size.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Adam learning rate of the weights.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    /// Seed of the split, initialisation and batches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Measure the validation loss every N steps and keep the best weights.
    #[arg(long, default_value_t = 100)]
    pub eval_every: u32,
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
        .archs
        .iter()
        .map(|a| widths_flag("--arch", a))
        .collect::<Result<Vec<_>>>()?;
    in_range("--steps", args.steps, 1..=MAX_STEPS)?;
    in_range("--batch", args.batch, 1..=MAX_BATCH)?;
    rate("--lr", args.lr as f64, MAX_LEARNING_RATE)?;
    in_range("--eval-every", args.eval_every, 1..=MAX_STEPS)?;
    let data = args.data.prepare(args.seed, None)?;
    let options = ReferenceOptions {
        steps: args.steps,
        batch: args.batch,
        learning_rate: args.lr,
        seed: args.seed,
        eval_every: args.eval_every,
    };
    let mut results = Vec::new();
    for widths in &archs {
        let r = train_reference(&data, widths, options)?;
        if args.max_params.is_some_and(|m| r.params > m) {
            eprintln!(
                "skipping {widths:?}: {} params exceed --max-params",
                r.params
            );
            continue;
        }
        if !args.json {
            println!(
                "{:<20} params {:>9}  validation loss {:.4}  test loss {:.4}  (best at step {}, {:.1} s)",
                format!("{:?}", r.widths),
                r.params,
                r.validation_loss,
                r.test_loss,
                r.best_step,
                r.wall_s
            );
        }
        results.push(r);
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "dataset": data.name, "steps": args.steps, "batch": args.batch,
                "seed": args.seed, "references": results })
        );
    } else if let Some(best) = results
        .iter()
        .min_by(|a, b| a.test_loss.total_cmp(&b.test_loss))
    {
        println!(
            "best: {:?} with test loss {:.4}",
            best.widths, best.test_loss
        );
    }
    Ok(())
}
