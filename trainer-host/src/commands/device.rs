//! `tabnas device`: talk to a board's agent over serial or HTTP (`docs/serve.md`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::formats::search_config::{Resource, SearchConfig};
use tabnas_core::protocol::{Phase, WireWidths};
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_core::space::{parse_widths, SearchSpace};
use tabnas_link::client::{DEFAULT_BAUD, DEFAULT_TIMEOUT};
use tabnas_link::{Device, DeviceSpec};

/// How to reach a board.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// The board's serial port (its agent runs `tabnas-agent serve --serial`).
    #[arg(long, conflicts_with = "http", required_unless_present = "http")]
    pub serial: Option<String>,
    /// Serial speed.
    #[arg(long, default_value_t = DEFAULT_BAUD)]
    pub baud: u32,
    /// The board agent's HTTP address, e.g. http://192.168.1.20:8080.
    #[arg(long)]
    pub http: Option<String>,
    /// File with the bearer token for requests that change something (HTTP)
    /// [default: $TABNAS_TOKEN].
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Seconds to wait for one answer.
    #[arg(long, default_value_t = DEFAULT_TIMEOUT.as_secs_f64())]
    pub timeout: f64,
}

impl DeviceArgs {
    /// The board these flags name.
    pub fn spec(&self) -> Result<DeviceSpec> {
        let token = tabnas_link::token::host_token(self.token_file.as_deref())
            .map_err(anyhow::Error::msg)?;
        match (&self.serial, &self.http) {
            (Some(path), None) => {
                if self.baud == 0 {
                    bail!("--baud must be positive");
                }
                Ok(DeviceSpec::Serial {
                    path: path.clone(),
                    baud: self.baud,
                })
            }
            (None, Some(url)) => match if url.contains("://") {
                url.parse::<DeviceSpec>()?
            } else {
                // HOST:PORT alone means HTTP.
                format!("http://{url}").parse::<DeviceSpec>()?
            } {
                DeviceSpec::Http { url, .. } => Ok(DeviceSpec::Http { url, token }),
                DeviceSpec::Serial { .. } => {
                    bail!("--http {url}: give an http://HOST:PORT address")
                }
            },
            _ => bail!("give one of --serial PATH or --http URL"),
        }
    }

    /// Connects.
    pub fn open(&self) -> Result<Device> {
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            bail!("--timeout must be a positive number of seconds");
        }
        Ok(Device::open(
            &self.spec()?,
            Duration::from_secs_f64(self.timeout),
        )?)
    }
}

/// Flags of `tabnas device`.
#[derive(Debug, Args)]
pub struct DeviceCommandArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(subcommand)]
    pub command: DeviceCommand,
}

/// What to ask the board.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// The board, its runtime and the network it measures.
    Info,
    /// The search's phase, progress and best so far.
    Status,
    /// The best architecture with its latency, validation loss and measurement record.
    Best,
    /// Save the best child's ONNX model.
    FetchOnnx {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// The board's calibrated latency table (JSON).
    Table {
        /// Write it here instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measure one architecture on the board now.
    Measure {
        /// Hidden widths, e.g. 64-32-16.
        #[arg(long)]
        widths: String,
    },
    /// Start a search on the board under a latency target.
    Search {
        /// Latency target in microseconds.
        #[arg(long)]
        target_us: f64,
        /// Controller steps.
        #[arg(long, default_value_t = 500)]
        steps: u32,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Monte-Carlo samples N (0: exact P(V)).
        #[arg(long, default_value_t = 256)]
        n: u16,
        /// Controller learning rate.
        #[arg(long, default_value_t = 0.05)]
        learning_rate: f64,
        /// Wait for the search to end, printing its progress.
        #[arg(long)]
        wait: bool,
    },
    /// Stop the running search (its best so far stays readable).
    Stop,
    /// Wait until the search ends, printing its progress.
    Wait {
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 3600.0)]
        max_seconds: f64,
    },
}

/// `println!` that keeps going when stdout is closed (`| head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)?)
}

/// Polls until the search leaves its running phases.
fn wait(device: &mut Device, max: Duration) -> Result<()> {
    let started = Instant::now();
    let mut last = None;
    loop {
        let s = device.status()?;
        let now = (s.phase, s.step);
        if last != Some(now) {
            say!("{:?} step {}/{}", s.phase, s.step, s.steps);
            last = Some(now);
        }
        match s.phase {
            Phase::Done | Phase::Stopped | Phase::Idle => return Ok(()),
            Phase::Failed => bail!("the search on {} failed (see its log)", device.name()),
            _ => {}
        }
        if started.elapsed() > max {
            bail!(
                "the search was still running after {:.0} s",
                max.as_secs_f64()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs `tabnas device`.
pub fn run(args: &DeviceCommandArgs) -> Result<()> {
    let mut device = args.device.open()?;
    match &args.command {
        DeviceCommand::Info => say!("{}", json(&device.info()?)?),
        DeviceCommand::Status => say!("{}", json(&device.status()?)?),
        DeviceCommand::Best => say!("{}", json(&device.best()?)?),
        DeviceCommand::FetchOnnx { out } => {
            let model = device.best_onnx()?;
            tabnas_bundle::files::write_atomic(out, &model)
                .with_context(|| format!("cannot write {}", out.display()))?;
            say!("wrote {} ({} bytes)", out.display(), model.len());
        }
        DeviceCommand::Table { out } => {
            let text = json(&device.latency_table()?)?;
            match out {
                Some(p) => {
                    tabnas_bundle::files::write_atomic(p, text.as_bytes())
                        .with_context(|| format!("cannot write {}", p.display()))?;
                    say!("wrote {}", p.display());
                }
                None => say!("{text}"),
            }
        }
        DeviceCommand::Measure { widths } => {
            let w: WireWidths = parse_widths(widths)
                .with_context(|| format!("--widths {widths:?}"))?
                .iter()
                .map(|&w| u16::try_from(w).context("a width over 65535"))
                .collect::<Result<_>>()?;
            say!("{}", json(&device.measure(&w)?)?);
        }
        DeviceCommand::Search {
            target_us,
            steps,
            seed,
            n,
            learning_rate,
            wait: then_wait,
        } => {
            let info = device.info()?;
            let layers: Vec<Vec<u32>> = info
                .space
                .iter()
                .map(|l| l.iter().map(|&w| u32::from(w)).collect())
                .collect();
            let refs: Vec<&[u32]> = layers.iter().map(|l| l.as_slice()).collect();
            let space =
                SearchSpace::new(&refs).map_err(|e| anyhow::anyhow!("the board's space: {e}"))?;
            let pv = if *n == 0 {
                PvMode::Exact
            } else {
                PvMode::MonteCarlo { samples: *n }
            };
            let config = SearchConfig {
                space,
                resource: Resource::LatencyUs,
                target: *target_us,
                settings: SearchSettings::rejection(pv, *learning_rate),
                steps: *steps,
                seed: *seed,
            };
            config
                .validate(DEFAULT_MC_CAPACITY)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
            let bytes = config
                .encode(&mut buf)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let planned = device.start_search(bytes)?;
            say!("search started on {}: {planned} steps", device.name());
            if *then_wait {
                wait(&mut device, Duration::from_secs(24 * 3600))?;
                say!("{}", json(&device.best()?)?);
            }
        }
        DeviceCommand::Stop => say!("stopping at step {}", device.stop()?),
        DeviceCommand::Wait { max_seconds } => {
            if !(max_seconds.is_finite() && *max_seconds > 0.0) {
                bail!("--max-seconds must be positive");
            }
            wait(&mut device, Duration::from_secs_f64(*max_seconds))?;
        }
    }
    Ok(())
}
