//! Flags shared by several commands, their checked conversion, and the parsers of named
//! values and widths.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use tabnas_core::reward::RewardKind;
use tabnas_core::search::{PvKind, SearchSettings};
use tabnas_core::space::{parse_widths, WidthsError};
use tabnas_trainer::data::{ColumnRef, CsvOptions, DataError, LabelKind, Preset, SplitError};
use tabnas_trainer::host_search::HostResource;
use tabnas_trainer::prepare::{prepare, DataSource, PrepareError, PrepareOptions, Prepared};
use tabnas_trainer::toy::SweepOver;

/// A value the command line names by one of a fixed list of names (the type's own
/// `NAMES`, read back by its `FromStr`).
pub trait Named: FromStr + Clone + Send + Sync + 'static {
    /// The accepted names.
    const NAMES: &'static [&'static str];
}

impl Named for RewardKind {
    const NAMES: &'static [&'static str] = &RewardKind::NAMES;
}
impl Named for PvKind {
    const NAMES: &'static [&'static str] = &PvKind::NAMES;
}
impl Named for Preset {
    const NAMES: &'static [&'static str] = Preset::NAMES;
}
impl Named for LabelKind {
    const NAMES: &'static [&'static str] = LabelKind::NAMES;
}
impl Named for HostResource {
    const NAMES: &'static [&'static str] = HostResource::NAMES;
}
impl Named for SweepOver {
    const NAMES: &'static [&'static str] = SweepOver::NAMES;
}

/// The clap parser of a [`Named`] value: one of its names (listed in `--help` and in
/// the error for any other text), converted by its `FromStr`.
pub fn one_of<T>() -> impl TypedValueParser<Value = T>
where
    T: Named,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    PossibleValuesParser::new(T::NAMES.iter().copied()).try_map(|s| s.parse::<T>())
}

/// Hidden widths of one architecture from a flag (`64-24-24` or `64,24,24`), through
/// the core's one widths parser; errors name the flag.
pub fn widths_flag(flag: &str, text: &str) -> Result<Vec<u32>> {
    let widths = parse_widths(text).with_context(|| format!("{flag} {text:?}"))?;
    Ok(widths.to_vec())
}

/// The candidate widths of one layer (`8,16,32`; `-` also separates). Unlike an
/// architecture's widths, a layer may offer more candidates than a network has layers.
fn parse_candidates(text: &str) -> Result<Vec<u32>, WidthsError> {
    if text.trim().is_empty() {
        return Err(WidthsError::Empty);
    }
    text.split(['-', ','])
        .enumerate()
        .map(|(position, part)| match part.trim().parse::<u32>() {
            Ok(0) => Err(WidthsError::Zero { position }),
            Ok(w) => Ok(w),
            Err(_) => Err(WidthsError::NotANumber { position }),
        })
        .collect()
}

/// Where the data comes from and how it is split and encoded.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// A real dataset from the data cache (see scripts/fetch_data.py).
    #[arg(long, value_parser = one_of::<Preset>(), conflicts_with_all = ["csv", "criteo"])]
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
    #[arg(long, value_parser = one_of::<LabelKind>(), default_value = "binary")]
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
        let col = |s: &String| match s.parse::<ColumnRef>() {
            Ok(c) => c,
            Err(never) => match never {},
        };
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

    /// The split and encoding options.
    pub fn prepare_options(&self, seed: u64) -> PrepareOptions {
        PrepareOptions {
            valid_fraction: self.valid_fraction,
            test_fraction: self.test_fraction,
            seed,
            buckets: self.buckets,
            embedding_dim: self.embedding_dim,
            max_rows: self.max_rows,
        }
    }

    /// Loads, splits and encodes the data; errors about a flag's value name the flag.
    pub fn prepare(&self, seed: u64) -> Result<Prepared> {
        prepare(&self.source()?, self.prepare_options(seed)).map_err(word_prepare_error)
    }
}

/// A data error, worded as the flag at fault where one is.
fn word_prepare_error(e: PrepareError) -> anyhow::Error {
    match e {
        PrepareError::TooFewBuckets { buckets } => {
            anyhow!("--buckets must be at least 2 (bucket 0 is for missing values), got {buckets}")
        }
        PrepareError::ZeroEmbeddingDim => anyhow!("--embedding-dim must be at least 1"),
        PrepareError::Load(e @ DataError::NamesNeedHeader { .. }) => anyhow!("{e} (--header)"),
        // A data error names its file, line and field already.
        PrepareError::Load(e) => e.into(),
        PrepareError::Split(SplitError::Fractions { valid, test }) => anyhow!(
            "--valid-fraction ({valid}) and --test-fraction ({test}) must be in [0, 1) and \
             leave rows for training"
        ),
        e => e.into(),
    }
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
            Some(s) => s
                .split(';')
                .enumerate()
                .map(|(layer, widths)| {
                    parse_candidates(widths)
                        .with_context(|| format!("--space {s:?}, layer {}", layer + 1))
                })
                .collect::<Result<Vec<_>>>()?,
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
    #[arg(long, value_parser = one_of::<RewardKind>(), default_value = "rejection")]
    pub reward: RewardKind,
    /// How the rejection reward computes P(V).
    #[arg(long, value_parser = one_of::<PvKind>(), default_value = "mc")]
    pub pv: PvKind,
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
    /// The core's settings (checked by the search against its space).
    pub fn settings(&self) -> SearchSettings {
        SearchSettings {
            reward: self.reward.with_beta(self.beta),
            ..SearchSettings::rejection(self.pv.with_samples(self.n), self.rl_lr)
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_flags_take_dashes_and_commas_and_name_the_flag() {
        assert_eq!(widths_flag("--arch", "64-24-24").unwrap(), [64, 24, 24]);
        assert_eq!(widths_flag("--arch", "8, 16").unwrap(), [8, 16]);
        let e = format!("{:#}", widths_flag("--child", "5-0").unwrap_err());
        assert!(
            e.starts_with("--child \"5-0\": ") && e.contains("at least 1"),
            "{e}"
        );
        assert_eq!(
            parse_candidates("8,16,24,32,48,64,96,128,192,256")
                .unwrap()
                .len(),
            10
        );
        assert_eq!(
            parse_candidates("4,0"),
            Err(WidthsError::Zero { position: 1 })
        );
        assert_eq!(parse_candidates(" "), Err(WidthsError::Empty));
    }

    #[test]
    fn named_values_parse_by_their_names() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[arg(long, value_parser = one_of::<RewardKind>())]
            reward: RewardKind,
            #[arg(long, value_parser = one_of::<HostResource>())]
            resource: HostResource,
        }
        let cli =
            Cli::try_parse_from(["t", "--reward", "mnas-soft", "--resource", "flops"]).unwrap();
        assert_eq!(
            (cli.reward, cli.resource),
            (RewardKind::MnasSoft, HostResource::Flops)
        );
        let e = Cli::try_parse_from(["t", "--reward", "soft", "--resource", "flops"])
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("invalid value") && e.contains("mnas-soft"),
            "{e}"
        );
    }
}
