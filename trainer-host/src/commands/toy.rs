//! `tabnas toy`: the paper's toy example (figure 1) and its sweeps (figures 13/14).

use anyhow::{anyhow, bail, Result};
use clap::Args;
use tabnas_core::reward::RewardKind;
use tabnas_core::search::PvKind;
use tabnas_trainer::toy::{
    default_sweep_values, render_report, render_sweep, run_report, run_sweep, SweepOver, ToyError,
    ToyRequest,
};

use super::args::{one_of, MAX_LEARNING_RATE};

/// Most RL steps of one toy run (`--steps`).
pub const MAX_TOY_STEPS: u32 = 1_000_000;
/// Most seeded runs (`--seeds`).
pub const MAX_TOY_SEEDS: u32 = 100_000;
/// Most draws from each final policy (`--draws`).
pub const MAX_TOY_DRAWS: u32 = 1_000_000;
/// Most values of one sweep (`--values`).
pub const MAX_TOY_VALUES: usize = 1000;

/// Raw toy flags; [`ToyArgs::request`] turns them into a request.
#[derive(Debug, Args)]
pub struct ToyArgs {
    /// Reward to search with.
    #[arg(long, value_parser = one_of::<RewardKind>(), default_value = "rejection")]
    pub reward: RewardKind,
    /// How the rejection reward computes P(V) [default: exact, or mc with --sweep n].
    #[arg(long, value_parser = one_of::<PvKind>())]
    pub pv: Option<PvKind>,
    /// Monte-Carlo samples N (with --pv mc) [default: 5].
    #[arg(long)]
    pub n: Option<u16>,
    /// Penalty strength of abs / mnas-soft / mnas-hard [default: 2].
    #[arg(long)]
    pub beta: Option<f64>,
    /// Adam learning rate of the controller logits [default: 0.1 for rejection, 0.05
    /// otherwise].
    #[arg(long)]
    pub rl_lr: Option<f64>,
    /// RL steps per run.
    #[arg(long, default_value_t = 500)]
    pub steps: u32,
    /// Number of seeded runs.
    #[arg(long, default_value_t = 100)]
    pub seeds: u32,
    /// First seed (runs use first-seed, first-seed + 1, ...).
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Sweep a hyperparameter instead: beta (paper figure 13) or n (figure 14).
    #[arg(long, value_parser = one_of::<SweepOver>())]
    pub sweep: Option<SweepOver>,
    /// Comma-separated values for --sweep [default: beta 0..10 by 0.5; N 1..10].
    #[arg(long, value_delimiter = ',')]
    pub values: Option<Vec<f64>>,
    /// Samples drawn from each final policy in a sweep.
    #[arg(long, default_value_t = 50)]
    pub draws: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl ToyArgs {
    /// The request the flags describe (checked when it runs).
    pub fn request(&self) -> Result<ToyRequest> {
        if self.values.is_some() && self.sweep.is_none() {
            bail!("--values needs --sweep");
        }
        // Zero and non-finite values are the library's to refuse (`word` names the flag);
        // the upper bounds keep a run's time and memory sane.
        for (flag, value, max) in [
            ("--steps", self.steps, MAX_TOY_STEPS),
            ("--seeds", self.seeds, MAX_TOY_SEEDS),
            ("--draws", self.draws, MAX_TOY_DRAWS),
        ] {
            if value > max {
                bail!("{flag} must be in 1..={max}, got {value}");
            }
        }
        if let Some(values) = &self.values {
            if values.len() > MAX_TOY_VALUES {
                bail!(
                    "--values takes at most {MAX_TOY_VALUES} values, got {}",
                    values.len()
                );
            }
        }
        if let Some(lr) = self.rl_lr.filter(|&lr| lr > MAX_LEARNING_RATE) {
            bail!(
                "--rl-lr must be a finite positive number at most {MAX_LEARNING_RATE}, got {lr:?}"
            );
        }
        if let Some(beta) = self.beta.filter(|&b| b > super::args::MAX_BETA) {
            bail!(
                "--beta must be a finite non-negative number at most {}, got {beta:?}",
                super::args::MAX_BETA
            );
        }
        Ok(ToyRequest {
            reward: self.reward,
            pv: self.pv,
            n: self.n,
            beta: self.beta,
            learning_rate: self
                .rl_lr
                .unwrap_or_else(|| ToyRequest::default_learning_rate(self.reward)),
            steps: self.steps,
            seeds: self.seeds,
            first_seed: self.first_seed,
        })
    }
}

/// A toy error, worded as the flags at fault.
fn word(e: ToyError) -> anyhow::Error {
    match e {
        ToyError::BetaWithRejection { .. } => {
            anyhow!("--beta does not apply to the rejection reward (it has no penalty to tune)")
        }
        ToyError::SamplesWithExactPv { .. } => anyhow!("--n only applies to --pv mc"),
        ToyError::PvWithoutRejection { .. } => {
            anyhow!("--pv and --n only apply to --reward rejection")
        }
        ToyError::LearningRate { learning_rate } => {
            anyhow!("--rl-lr must be a finite positive number, got {learning_rate}")
        }
        ToyError::ZeroSeeds => anyhow!("--seeds must be at least 1"),
        ToyError::ZeroSteps => anyhow!("--steps must be at least 1"),
        ToyError::Beta { beta } => {
            anyhow!("--beta must be a finite non-negative number, got {beta}")
        }
        ToyError::SeedOverflow { .. } => anyhow!("--first-seed + --seeds overflows a 64-bit seed"),
        ToyError::SweepBetaWithoutPenalty { .. } => {
            anyhow!("--sweep beta needs a reward with a penalty (abs, mnas-soft, mnas-hard)")
        }
        ToyError::SweepNWithoutMc => anyhow!("--sweep n needs --reward rejection --pv mc"),
        ToyError::ZeroDraws => anyhow!("--draws must be at least 1"),
        ToyError::SampleCount { value } => {
            anyhow!("--values for N must be whole numbers from 1, got {value}")
        }
        // The core's own words (they name N and the buffer, not a flag).
        ToyError::Settings(e) => e.into(),
        e => e.into(),
    }
}

/// What `tabnas toy` prints for these flags: a table, or one JSON object and a newline.
pub fn output(args: &ToyArgs) -> Result<String> {
    let request = args.request()?;
    Ok(match args.sweep {
        None => {
            let report = run_report(&request).map_err(word)?;
            if args.json {
                format!("{}\n", serde_json::to_string(&report)?)
            } else {
                render_report(&report)
            }
        }
        Some(over) => {
            let values = args
                .values
                .clone()
                .unwrap_or_else(|| default_sweep_values(over));
            let report = run_sweep(&request, over, &values, args.draws).map_err(word)?;
            if args.json {
                format!("{}\n", serde_json::to_string(&report)?)
            } else {
                render_sweep(&report)
            }
        }
    })
}

/// Runs `tabnas toy`.
pub fn run(args: &ToyArgs) -> Result<()> {
    print!("{}", output(args)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        toy: ToyArgs,
    }

    fn error(flags: &[&str]) -> String {
        let cli = Cli::try_parse_from(std::iter::once("toy").chain(flags.iter().copied()))
            .unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        format!("{:#}", output(&cli.toy).unwrap_err())
    }

    /// The library's refusals of `toy::tests::bad_requests_are_named`, as the command
    /// words them: every message names the flag at fault.
    #[test]
    fn bad_requests_are_named() {
        assert!(error(&["--pv", "mc", "--n", "0"]).contains("at least one sample"));
        assert!(error(&["--pv", "mc", "--n", "5000"]).contains("buffer holds 4096"));
        assert!(error(&["--pv", "exact", "--n", "5000"]).contains("--n only"));
        assert!(error(&["--beta", "1"]).contains("--beta does not apply"));
        assert!(error(&["--reward", "abs", "--n", "3"]).contains("--reward rejection"));
        assert!(error(&["--reward", "abs", "--beta=-1"]).contains("--beta"));
        assert!(error(&["--reward", "abs", "--beta", "1", "--seeds", "0"]).contains("--seeds"));
        assert!(error(&["--rl-lr", "0"]).contains("--rl-lr must be a finite positive number"));
        let sweep = ["--sweep", "beta", "--values", "1", "--seeds", "20"];
        assert!(error(&sweep).contains("--sweep beta"));
        let sweep = [
            "--pv", "exact", "--sweep", "n", "--values", "1", "--seeds", "20",
        ];
        assert!(error(&sweep).contains("--pv mc"));
        let sweep = ["--sweep", "n", "--values", "1.5", "--seeds", "20"];
        assert!(error(&sweep).contains("whole numbers"));
        let sweep = ["--sweep", "n", "--values", "1", "--draws", "0"];
        assert!(error(&sweep).contains("--draws must be at least 1"));
        assert!(error(&["--values", "1,2"]).contains("--values needs --sweep"));
        assert!(error(&["--steps", "4000000000"]).contains("--steps must be in 1..=1000000"));
        assert!(error(&["--seeds", "200000"]).contains("--seeds must be in 1..=100000"));
        assert!(error(&["--rl-lr", "5"]).contains("at most 1, got 5.0"));
        assert!(error(&["--rl-lr", "1e300"]).ends_with("got 1e300"));
        assert!(error(&["--rl-lr", "inf"]).contains("--rl-lr must be a finite positive"));
        assert!(error(&["--reward", "abs", "--beta", "1e9"]).contains("at most 1000"));
        let many = vec!["1"; 1001].join(",");
        assert!(error(&["--sweep", "n", "--values", &many]).contains("at most 1000 values"));
    }

    #[test]
    fn lr_is_gone_and_rl_lr_sets_the_controller_rate() {
        assert!(Cli::try_parse_from(["toy", "--lr", "0.1"]).is_err());
        let cli = Cli::try_parse_from(["toy", "--rl-lr", "0.2"]).unwrap();
        assert_eq!(cli.toy.request().unwrap().learning_rate, 0.2);
        let cli = Cli::try_parse_from(["toy", "--reward", "abs"]).unwrap();
        assert_eq!(cli.toy.request().unwrap().learning_rate, 0.05);
    }
}
