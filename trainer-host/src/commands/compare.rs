//! `tabnas compare`: the paper's real-data comparison on one dataset and target (see
//! [`tabnas_trainer::compare`]); prints a table and writes `compare.json` and
//! `compare.svg` to the run folder.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use tabnas_core::search::{PvKind, SearchSettings};
use tabnas_trainer::compare::{compare, render_compare_svg, CompareOptions, Comparison};
use tabnas_trainer::host_search::{Guards, HostResource, HostSearchOptions, MAX_STEPS};
use tabnas_trainer::prepare::Prepared;
use tabnas_trainer::reference::ReferenceOptions;
use tabnas_trainer::supernet::MAX_BATCH;

use super::args::{
    folder, fraction, in_range, one_of, rate, set_threads, DataArgs, Seeds, SpaceArgs, TrainArgs,
};
use super::run_folder::{open_run_folder, set_aside};
use super::search::{DEFAULT_MAX_RESAMPLES, MAX_RESAMPLES};

/// Most architectures of a sample or a random search (`--sample`, `--random-children`).
pub const MAX_SAMPLE: usize = 10_000;

/// Flags of `tabnas compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub space: SpaceArgs,
    /// What the target limits.
    #[arg(long, value_parser = one_of::<HostResource>(), default_value = "params")]
    pub resource: HostResource,
    /// The limit.
    #[arg(long)]
    pub target: f64,
    /// Steps of each search (warm-up included).
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
    /// Controller learning rate of every method.
    #[arg(long, default_value_t = 0.05)]
    pub rl_lr: f64,
    /// Monte-Carlo samples of the rejection reward's Monte-Carlo P(V).
    #[arg(long, default_value_t = 256)]
    pub n: u16,
    /// Penalty strengths of the Abs and MnasNet rewards.
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2")]
    pub betas: Vec<f64>,
    /// Rejected samples replaced per step.
    #[arg(long, default_value_t = DEFAULT_MAX_RESAMPLES)]
    pub max_resamples: u32,
    /// Random feasible children judged with the shared weights (random search).
    #[arg(long, default_value_t = 100)]
    pub random_children: usize,
    /// Random feasible architectures trained stand-alone (the baseline).
    #[arg(long, default_value_t = 30)]
    pub sample: usize,
    /// Random architectures of the whole space also trained stand-alone for the front.
    #[arg(long, default_value_t = 10)]
    pub front_extra: usize,
    /// Each rejection run's most probable feasible architectures trained stand-alone,
    /// the best on validation loss answering as a method of its own (0 or 1: none).
    #[arg(long, default_value_t = 4)]
    pub finalists: usize,
    /// Every answer and the baseline's pick trained again with this many more
    /// initialisation seeds; the mean test loss judges the architecture apart from the
    /// luck of one initialisation (0: none).
    #[arg(long, default_value_t = 0)]
    pub retrain_seeds: u32,
    /// Steps of each stand-alone training (at most; early-stopped).
    #[arg(long, default_value_t = 3000)]
    pub reference_steps: u32,
    /// Stand-alone training stops after this many validation measurements (every 100
    /// steps) without a new lowest.
    #[arg(long, default_value_t = 10)]
    pub patience: u32,
    /// Matrix-multiplication threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run folder: compare.json and compare.svg.
    #[arg(long)]
    pub out: PathBuf,
}

/// Files of a compare run folder.
pub const COMPARE_FILES: [&str; 2] = ["compare.json", "compare.svg"];

/// Runs `tabnas compare`: the flags checked, the data read, the comparison run by the
/// library, then its table printed and its files written to the run folder.
pub fn run(args: &CompareArgs) -> Result<()> {
    folder("--out", &args.out)?;
    set_threads(args.threads)?;
    args.check()?;
    let (split_seed, init_seed) = args.seeds.resolve();
    let data = args.data.prepare(split_seed, args.space.embedding_dim())?;
    let options = args.options(&data, init_seed)?;
    let out = open_run_folder(&args.out, &super::run_folder::command_line("tabnas"))?;
    let c = compare(&data, &options, |line| println!("{line}"))?;
    let svg = render_compare_svg(&c)?;
    set_aside(&out, &COMPARE_FILES)?;
    let json = out.write("compare.json", &serde_json::to_vec_pretty(&c)?)?;
    let svg = out.write("compare.svg", svg.as_bytes())?;
    print!("{}", table(&c));
    println!("wrote {} and {}", json.display(), svg.display());
    Ok(())
}

impl CompareArgs {
    /// Checks every flag's value but `--out` and `--threads` (checked first), before any
    /// data is read; errors name the flag and its bounds.
    pub fn check(&self) -> Result<()> {
        in_range("--steps", self.steps, 1..=MAX_STEPS)?;
        fraction("--warmup", self.warmup)?;
        in_range("--valid-batch", self.valid_batch, 1..=MAX_BATCH)?;
        self.train.check()?;
        rate("--rl-lr", self.rl_lr, super::args::MAX_LEARNING_RATE)?;
        in_range("--max-resamples", self.max_resamples, 0..=MAX_RESAMPLES)?;
        in_range("--random-children", self.random_children, 0..=MAX_SAMPLE)?;
        in_range("--sample", self.sample, 0..=MAX_SAMPLE)?;
        in_range("--front-extra", self.front_extra, 0..=MAX_SAMPLE)?;
        in_range("--finalists", self.finalists, 0..=MAX_SAMPLE)?;
        in_range("--retrain-seeds", self.retrain_seeds, 0..=MAX_SAMPLE as u32)?;
        in_range("--reference-steps", self.reference_steps, 1..=MAX_STEPS)?;
        in_range("--patience", self.patience, 0..=MAX_STEPS)?;
        if !(self.target.is_finite() && self.target > 0.0) {
            bail!(
                "--target must be a finite positive number, got {:?}",
                self.target
            );
        }
        if self.betas.is_empty() || self.betas.iter().any(|b| !(b.is_finite() && *b >= 0.0)) {
            bail!(
                "--betas must be finite non-negative numbers, got {:?}",
                self.betas
            );
        }
        Ok(())
    }

    /// The comparison's options for `data`, the search's checked against it.
    pub fn options(&self, data: &Prepared, init_seed: u64) -> Result<CompareOptions> {
        let search = HostSearchOptions {
            space: self.space.space()?,
            resource: self.resource,
            target: self.target,
            settings: SearchSettings::rejection(PvKind::Mc.with_samples(self.n), self.rl_lr),
            steps: self.steps,
            warmup_fraction: self.warmup,
            batch: self.train.batch,
            valid_batch: self.valid_batch,
            learning_rate: self.train.lr,
            seed: init_seed,
            snapshots: 10,
            guards: Guards {
                weight_decay: self.train.weight_decay,
                max_resamples: self.max_resamples,
                ..Guards::default()
            },
            latency: None,
        };
        search.check(data)?;
        Ok(CompareOptions {
            search,
            betas: self.betas.clone(),
            n: self.n,
            random_children: self.random_children,
            sample: self.sample,
            front_extra: self.front_extra,
            finalists: self.finalists,
            retrain_seeds: self.retrain_seeds,
            reference: ReferenceOptions {
                steps: self.reference_steps,
                batch: self.train.batch,
                learning_rate: self.train.lr,
                weight_decay: self.train.weight_decay,
                seed: init_seed,
                eval_every: 100,
                patience: self.patience,
            },
        })
    }
}

/// The comparison as a Markdown table and the baseline's lines.
pub fn table(c: &Comparison) -> String {
    // With retraining, a last column: the mean test loss over the other seeds.
    let seeds = c.retrained.first().map_or(0, |r| r.seeds.len());
    let (head, rule) = if seeds > 0 {
        (format!(" test, mean of {seeds} more seeds (sd) |"), "---|")
    } else {
        (String::new(), "")
    };
    let mut t = format!(
        "\n{} under {} {:.0}; constant predictor: test loss {:.4}\n\n\
         | method | answer | {} | feasible | P(answer) | stand-alone validation | stand-alone test |{head}\n\
         |---|---|---|---|---|---|---|{rule}\n",
        c.dataset,
        c.resource.name(),
        c.target,
        c.constant_loss.test,
        c.resource.name()
    );
    let arch = |w: &[u32]| w.iter().map(u32::to_string).collect::<Vec<_>>().join("-");
    let again = |w: &[u32]| match c.retrained(w) {
        Some(r) => format!(" {:.4} ({:.4}) |", r.mean, r.sd),
        None if seeds > 0 => " - |".to_string(),
        None => String::new(),
    };
    for f in &c.found {
        t.push_str(&format!(
            "| {} | {} | {:.0} | {} | {} | {:.4} | {:.4} |{}\n",
            f.method,
            arch(&f.standalone.widths),
            f.cost,
            if f.feasible { "yes" } else { "**no**" },
            f.probability.map_or("-".into(), |p| format!("{p:.2}")),
            f.standalone.validation_loss,
            f.standalone.test_loss,
            again(&f.standalone.widths)
        ));
    }
    if let Some((best, n)) = c.best_feasible_sample() {
        let steps: u64 = c
            .sample
            .iter()
            .filter(|s| s.feasible)
            .map(|s| s.standalone.trained_steps as u64)
            .sum();
        t.push_str(&format!(
            "| best of {n} random feasible, stand-alone, chosen on validation | {} | {:.0} | yes | - | {:.4} | {:.4} |{}\n",
            arch(&best.standalone.widths),
            best.cost,
            best.standalone.validation_loss,
            best.standalone.test_loss,
            again(&best.standalone.widths)
        ));
        if let Some(r) = c.found.first() {
            t.push_str(&format!(
                "\ncompute: one search trains the shared weights {} steps; the {n} stand-alone \
                 networks trained {steps} steps in all ({:.0}%)\n",
                r.search_steps,
                100.0 * r.search_steps as f64 / steps.max(1) as f64
            ));
        }
        for f in c.found.iter().filter(|f| f.selection_steps > 0) {
            let total = f.search_steps as u64 + f.selection_steps;
            t.push_str(&format!(
                "compute of {}: the search's {} steps and {} stand-alone steps, {total} in all \
                 ({:.0}% of the sample's)\n",
                f.method,
                f.search_steps,
                f.selection_steps,
                100.0 * total as f64 / steps.max(1) as f64
            ));
        }
    }
    for s in &c.skipped {
        t.push_str(&format!("skipped: {s}\n"));
    }
    t
}
