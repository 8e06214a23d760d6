//! `tabnas-agent`: the on-device search agent.
//!
//! `search` finds the best child of a bundle under a latency target measured on this
//! device (embedded defaults: the demo bundle and the host profile); `measure` times one
//! child; `config pack | show` converts board profiles to the packed form the core
//! decodes; `serve` answers hosts over serial and HTTP; `toy` and `search-config` check
//! the core on a new board.

/// `println!` that keeps going when stdout is closed (`| head`): a search's results are
/// in its run folder, so a reader that went away must not end it.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::formats::search_config::SearchConfig;
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_core::toy::{run_toy, toy_space};

/// The tabnas on-device search agent.
#[derive(Debug, Parser)]
#[command(name = "tabnas-agent", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one seeded toy search with the rejection reward and time it on this device.
    Toy {
        /// Seed of the search.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// RL steps.
        #[arg(long, default_value_t = 500)]
        steps: u32,
        /// Monte-Carlo samples N.
        #[arg(long, default_value_t = 5)]
        n: u16,
    },
    /// Write or inspect a packed search configuration.
    #[command(subcommand)]
    SearchConfig(SearchConfigCommand),
    /// Search a bundle for the best child under a latency target measured here.
    Search(Box<cli::device::DeviceSearchArgs>),
    /// Measure one child's latency here, the median of five full measurements with a bound
    /// for one more (or decide feasibility against a target).
    Measure(cli::device::MeasureArgs),
    /// Serve this board over serial and/or HTTP: status, best, latency table, measure,
    /// start and stop searches (docs/serve.md).
    Serve(Box<cli::serve::ServeArgs>),
    /// Board profiles: pack a TOML profile for the core, or show one.
    #[command(subcommand)]
    Config(cli::device::ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum SearchConfigCommand {
    /// Write the paper's Criteo example (3 layers, 41,153-parameter limit, N = 256).
    Example {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Decode a packed configuration, validate it and print it as JSON.
    Show {
        /// The packed file.
        file: PathBuf,
    },
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Search(args) => cli::device::search(&args)?,
        Command::Measure(args) => cli::device::measure(&args)?,
        Command::Serve(args) => cli::serve::serve(&args)?,
        Command::Config(cmd) => cli::device::config(cmd)?,
        Command::Toy { seed, steps, n } => {
            let settings = SearchSettings::rejection(PvMode::MonteCarlo { samples: n }, 0.1);
            let start = Instant::now();
            let outcome = run_toy::<DEFAULT_MC_CAPACITY>(settings, steps, seed)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let elapsed = start.elapsed();
            let space = toy_space();
            out!(
                "toy search (rejection, N = {n}, seed {seed}): ended on {} ({}), {steps} steps in {:.3} ms ({:.2} us/step)",
                space.display(&outcome.final_arch),
                if outcome.final_feasible { "feasible" } else { "INFEASIBLE" },
                elapsed.as_secs_f64() * 1e3,
                elapsed.as_secs_f64() * 1e6 / steps.max(1) as f64,
            );
        }
        Command::SearchConfig(SearchConfigCommand::Example { out }) => {
            let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
            let bytes = SearchConfig::criteo_example().encode(&mut buf)?;
            tabnas_bundle::files::write_atomic(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            out!("wrote {} ({} bytes)", out.display(), bytes.len());
        }
        Command::SearchConfig(SearchConfigCommand::Show { file }) => {
            let bytes =
                tabnas_bundle::files::read_limited(&file, SearchConfig::MAX_ENCODED_LEN as u64)
                    .with_context(|| format!("cannot read {}", file.display()))?;
            let config = SearchConfig::decode(&bytes, DEFAULT_MC_CAPACITY).with_context(|| {
                format!("{} is not a usable search configuration", file.display())
            })?;
            out!("{}", serde_json::to_string_pretty(&config)?);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<cli::signals::Stopped>() {
            Some(stopped) => {
                eprintln!("tabnas-agent: {stopped}");
                ExitCode::from(stopped.signal.exit_status())
            }
            None => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
