//! The `tabnas` command: host-side tools of tabnas.

mod commands;

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};
use tabnas_trainer::toy::{
    default_sweep_values, render_report, render_sweep, run_report, run_sweep, PvName, RewardName,
    SweepOver, ToyRequest,
};

/// tabnas: find the best neural network for a tabular task under a resource target.
#[derive(Debug, Parser)]
#[command(name = "tabnas", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reproduce the paper's toy example (figure 1) and its sweeps (figures 13/14).
    Toy(ToyArgs),
    /// Train a weight-sharing supernet with TabNAS under a parameter or FLOPs target;
    /// writes result.json, trace.svg and the bundle.
    Search(Box<commands::search::SearchArgs>),
    /// Train architectures stand-alone and report their test loss (Pareto reference).
    Reference(Box<commands::reference::ReferenceArgs>),
    /// Re-export a bundle, or one child as a stand-alone ONNX file.
    Export(commands::export::ExportArgs),
}

/// Raw toy flags; `ToyArgs::request` turns them into a checked request.
#[derive(Debug, Args)]
struct ToyArgs {
    /// Reward to search with.
    #[arg(long, value_enum, default_value = "rejection")]
    reward: RewardName,
    /// How the rejection reward computes P(V) [default: exact, or mc with --sweep n].
    #[arg(long, value_enum)]
    pv: Option<PvName>,
    /// Monte-Carlo samples N (with --pv mc) [default: 5].
    #[arg(long)]
    n: Option<u16>,
    /// Penalty strength of abs / mnas-soft / mnas-hard [default: 2].
    #[arg(long)]
    beta: Option<f64>,
    /// Adam learning rate [default: 0.1 for rejection, 0.05 otherwise].
    #[arg(long)]
    lr: Option<f64>,
    /// RL steps per run.
    #[arg(long, default_value_t = 500)]
    steps: u32,
    /// Number of seeded runs.
    #[arg(long, default_value_t = 100)]
    seeds: u32,
    /// First seed (runs use first-seed, first-seed + 1, ...).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Sweep a hyperparameter instead: beta (paper figure 13) or n (figure 14).
    #[arg(long, value_enum)]
    sweep: Option<SweepOver>,
    /// Comma-separated values for --sweep [default: beta 0..10 by 0.5; N 1..10].
    #[arg(long, value_delimiter = ',')]
    values: Option<Vec<f64>>,
    /// Samples drawn from each final policy in a sweep.
    #[arg(long, default_value_t = 50)]
    draws: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

impl ToyArgs {
    fn request(&self) -> Result<ToyRequest> {
        if self.values.is_some() && self.sweep.is_none() {
            bail!("--values needs --sweep");
        }
        let learning_rate = self
            .lr
            .unwrap_or_else(|| ToyRequest::default_learning_rate(self.reward));
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            bail!("--lr must be a finite positive number, got {learning_rate}");
        }
        Ok(ToyRequest {
            reward: self.reward,
            pv: self.pv,
            n: self.n,
            beta: self.beta,
            learning_rate,
            steps: self.steps,
            seeds: self.seeds,
            first_seed: self.first_seed,
        })
    }
}

fn toy(args: &ToyArgs) -> Result<()> {
    let request = args.request()?;
    match args.sweep {
        None => {
            let report = run_report(&request)?;
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{}", render_report(&report));
            }
        }
        Some(over) => {
            let values = args
                .values
                .clone()
                .unwrap_or_else(|| default_sweep_values(over));
            let report = run_sweep(&request, over, &values, args.draws)?;
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{}", render_sweep(&report));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Toy(args) => toy(args),
        Command::Search(args) => commands::search::run(args),
        Command::Reference(args) => commands::reference::run(args),
        Command::Export(args) => commands::export::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
