//! Flags shared by several commands, and their checked conversion.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use tabnas_agent::reward::Reward;
use tabnas_agent::search::{PvMode, SearchSettings};
use tabnas_trainer::data::{ColumnRef, CsvOptions, LabelKind, Preset};
use tabnas_trainer::prepare::{DataSource, PrepareOptions};
use tabnas_trainer::toy::{PvName, RewardName};

/// Where the data comes from and how it is split and encoded.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// A real dataset from the data cache (see scripts/fetch_data.py).
    #[arg(long, value_enum, conflicts_with_all = ["csv", "criteo"])]
    pub dataset: Option<Preset>,
    /// The data cache [default: $TABNAS_DATA_DIR, else .cache/data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// A CSV file with numeric and categorical columns.
    #[arg(long, conflicts_with = "criteo")]
    pub csv: Option<PathBuf>,
    /// A file in Criteo's tab-separated format.
    #[arg(long)]
    pub criteo: Option<PathBuf>,
    /// CSV: the label column (index or header name).
    #[arg(long, default_value = "0")]
    pub label: String,
    /// CSV: the task.
    #[arg(long, value_enum, default_value = "binary")]
    pub task: LabelKind,
    /// CSV, binary task: the label text meaning 1.
    #[arg(long)]
    pub positive: Option<String>,
    /// CSV: categorical columns (indices or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// CSV: columns to ignore.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// CSV: the field separator (one character; `tab` for a tab).
    #[arg(long, default_value = ",")]
    pub separator: String,
    /// CSV: the first row names the columns.
    #[arg(long)]
    pub header: bool,
    /// CSV: field texts that mean "missing" (comma-separated) [default: "" and "?"].
    #[arg(long, value_delimiter = ',')]
    pub missing: Option<Vec<String>>,
    /// Fraction of rows for validation.
    #[arg(long, default_value_t = 0.15)]
    pub valid_fraction: f64,
    /// Fraction of rows for test.
    #[arg(long, default_value_t = 0.15)]
    pub test_fraction: f64,
    /// Hash buckets per categorical column (bucket 0 = missing).
    #[arg(long, default_value_t = 1000)]
    pub buckets: u32,
    /// Embedding size per categorical column.
    #[arg(long, default_value_t = 8)]
    pub embedding_dim: u32,
    /// Use only the first N rows.
    #[arg(long)]
    pub max_rows: Option<usize>,
}

impl DataArgs {
    /// The checked data source.
    pub fn source(&self) -> Result<DataSource> {
        if let Some(preset) = self.dataset {
            let cache = self
                .data_dir
                .clone()
                .or_else(|| std::env::var_os("TABNAS_DATA_DIR").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from(".cache/data"));
            return Ok(DataSource::Preset { preset, cache });
        }
        if let Some(path) = &self.criteo {
            return Ok(DataSource::Criteo { path: path.clone() });
        }
        let Some(path) = &self.csv else {
            bail!("no data: give --dataset higgs|adult, --csv FILE or --criteo FILE");
        };
        let separator = match self.separator.as_str() {
            "tab" | "\\t" => b'\t',
            s if s.len() == 1 => s.as_bytes()[0],
            s => bail!("--separator must be one character or `tab`, got {s:?}"),
        };
        let col = |s: &String| s.parse::<ColumnRef>().expect("infallible");
        let mut options = CsvOptions::new(col(&self.label), self.task);
        options.separator = separator;
        options.header = self.header;
        options.positive = self.positive.clone();
        options.categorical = self.categorical.iter().map(col).collect();
        options.ignore = self.ignore.iter().map(col).collect();
        if let Some(m) = &self.missing {
            options.missing = m.clone();
        }
        Ok(DataSource::Csv {
            path: path.clone(),
            options,
        })
    }

    /// The checked split and encoding options.
    pub fn prepare_options(&self, seed: u64) -> Result<PrepareOptions> {
        if self.embedding_dim == 0 {
            bail!("--embedding-dim must be at least 1");
        }
        Ok(PrepareOptions {
            valid_fraction: self.valid_fraction,
            test_fraction: self.test_fraction,
            seed,
            buckets: self.buckets,
            embedding_dim: self.embedding_dim,
            max_rows: self.max_rows,
        })
    }
}

/// Parses `8-16-32` or `8,16,32` into widths.
pub fn parse_widths(s: &str) -> Result<Vec<u32>> {
    s.split(['-', ',', 'x'])
        .map(|w| {
            let v: u32 = w
                .trim()
                .parse()
                .with_context(|| format!("widths {s:?}: {w:?} is not a whole number"))?;
            if v == 0 {
                bail!("widths {s:?}: a width must be at least 1");
            }
            Ok(v)
        })
        .collect()
}

/// The search space.
#[derive(Debug, Args)]
pub struct SpaceArgs {
    /// Hidden layers (with --widths).
    #[arg(long, default_value_t = 3)]
    pub layers: usize,
    /// Candidate widths of every layer.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "8,16,24,32,48,64,96,128,192,256"
    )]
    pub widths: Vec<u32>,
    /// Per-layer candidate widths instead, e.g. "8,16,32;8,16;4,8".
    #[arg(long)]
    pub space: Option<String>,
}

impl SpaceArgs {
    /// The per-layer width lists.
    pub fn space(&self) -> Result<Vec<Vec<u32>>> {
        let space = match &self.space {
            Some(s) => s.split(';').map(parse_widths).collect::<Result<Vec<_>>>()?,
            None => vec![self.widths.clone(); self.layers],
        };
        if space.is_empty() || space.iter().any(|l| l.is_empty()) {
            bail!("the search space needs at least one layer with at least one width");
        }
        Ok(space)
    }
}

/// The controller's reward and learning rate.
#[derive(Debug, Args)]
pub struct RewardArgs {
    /// Reward.
    #[arg(long, value_enum, default_value = "rejection")]
    pub reward: RewardName,
    /// How the rejection reward computes P(V).
    #[arg(long, value_enum, default_value = "mc")]
    pub pv: PvName,
    /// Monte-Carlo samples N (with --pv mc).
    #[arg(long, default_value_t = 256)]
    pub n: u16,
    /// Penalty strength of abs / mnas-soft / mnas-hard.
    #[arg(long, default_value_t = 2.0)]
    pub beta: f64,
    /// Adam learning rate of the controller logits.
    #[arg(long, default_value_t = 0.05)]
    pub rl_lr: f64,
}

impl RewardArgs {
    /// The core's settings.
    pub fn settings(&self) -> Result<SearchSettings> {
        let pv = match self.pv {
            PvName::Exact => PvMode::Exact,
            PvName::Mc => PvMode::MonteCarlo { samples: self.n },
        };
        let mut s = SearchSettings::rejection(pv, self.rl_lr);
        s.reward = match self.reward {
            RewardName::Rejection => Reward::Rejection,
            RewardName::Abs => Reward::Abs { beta: self.beta },
            RewardName::MnasSoft => Reward::MnasSoft { beta: self.beta },
            RewardName::MnasHard => Reward::MnasHard { beta: self.beta },
        };
        Ok(s)
    }
}

/// Sets the number of matrix-multiplication threads (before any is used).
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(t) = threads {
        if t == 0 {
            bail!("--threads must be at least 1");
        }
        std::env::set_var("MATMUL_NUM_THREADS", t.to_string());
    }
    Ok(())
}
