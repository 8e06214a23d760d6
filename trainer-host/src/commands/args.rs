//! Flags shared by several commands, their checked conversion, and the parsers of named
//! values and widths.
//!
//! Every value from the command line is bounded where it enters: counts by
//! [`in_range`], rates by [`rate`], widths by [`widths_flag`] and [`SpaceArgs::space`],
//! and the error names the flag and its bounds (`--batch must be in 1..=65536, got 0`).

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use tabnas_bundle::{MAX_BUCKETS, MAX_WIDTH};
use tabnas_core::capacity::{MAX_CHOICES, MAX_LAYERS};
use tabnas_core::reward::RewardKind;
use tabnas_core::search::{PvKind, SearchSettings};
use tabnas_core::space::{parse_widths, SearchSpace, WidthsError};
use tabnas_trainer::data::{
    ColumnRef, CsvOptions, DataError, LabelKind, Preset, Quoted, SplitError,
};
use tabnas_trainer::host_search::HostResource;
use tabnas_trainer::prepare::{prepare, DataSource, PrepareError, PrepareOptions, Prepared, Spill};
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

/// Most matrix-multiplication threads (`--threads`).
pub const MAX_THREADS: usize = 1024;

/// Largest learning rate of the weights or the controller (`--lr`, `--rl-lr`): Adam moves
/// each value by about the rate per step, so a larger one only diverges.
pub const MAX_LEARNING_RATE: f64 = 1.0;

/// Largest penalty strength (`--beta`).
pub const MAX_BETA: f64 = tabnas_core::search::MAX_BETA;

/// A whole-number flag within its bounds; the error names the flag and the bounds.
pub fn in_range<T: PartialOrd + Display + Copy>(
    flag: &str,
    value: T,
    bounds: RangeInclusive<T>,
) -> Result<T> {
    if bounds.contains(&value) {
        Ok(value)
    } else {
        bail!(
            "{flag} must be in {}..={}, got {value}",
            bounds.start(),
            bounds.end()
        )
    }
}

/// A rate flag: finite, positive and at most `max`.
pub fn rate(flag: &str, value: f64, max: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 && value <= max {
        Ok(())
    } else {
        bail!("{flag} must be a finite positive number at most {max}, got {value:?}")
    }
}

/// A fraction flag in `[0, 1)`.
pub fn fraction(flag: &str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        bail!("{flag} must be a fraction in [0, 1), got {value:?}")
    }
}

/// A folder flag: a non-empty path.
pub fn folder(flag: &str, path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() {
        bail!("{flag} must name a folder, got an empty path");
    }
    Ok(())
}

/// Hidden widths of one architecture from a flag (`64-24-24` or `64,24,24`), through
/// the core's one widths parser; errors name the flag. Each width is at most
/// [`MAX_WIDTH`], the widest layer a bundle may have.
pub fn widths_flag(flag: &str, text: &str) -> Result<Vec<u32>> {
    let widths = parse_widths(text).with_context(|| format!("{flag} {text:?}"))?;
    if let Some((layer, w)) = widths.iter().enumerate().find(|(_, &w)| w > MAX_WIDTH) {
        bail!(
            "{flag} {text:?}: width {} is {w}; widths must be in 1..={MAX_WIDTH}",
            layer + 1
        );
    }
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
    /// The data cache [default: $TABNAS_DATA_DIR, else ~/.cache/tabnas/data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// A CSV file with numeric and categorical columns.
    #[arg(long, conflicts_with = "criteo")]
    pub csv: Option<PathBuf>,
    /// A Criteo file: the raw tab-separated form or the Kaggle CSV form (header with
    /// `Id`, commas); which one is told from the first line and printed.
    #[arg(long)]
    pub criteo: Option<PathBuf>,
    /// CSV: the label column (index or header name) [default: 0].
    #[arg(long)]
    pub label: Option<String>,
    /// CSV: the task [default: binary].
    #[arg(long, value_parser = one_of::<LabelKind>())]
    pub task: Option<LabelKind>,
    /// CSV, binary task: the label text meaning 1.
    #[arg(long)]
    pub positive: Option<String>,
    /// CSV: categorical columns (indices or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// CSV: numeric columns to clip at 0 and take ln(1 + x) of before standardising, as
    /// Criteo's integer columns are (indices or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub log1p: Vec<String>,
    /// CSV: columns to ignore.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// CSV: the field separator (one character; `tab` for a tab) [default: ,].
    #[arg(long)]
    pub separator: Option<String>,
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
    /// Embedding size per categorical column [default: 8, or the one --space fixes].
    #[arg(long)]
    pub embedding_dim: Option<u32>,
    /// Use only the first N rows.
    #[arg(long)]
    pub max_rows: Option<usize>,
    /// --criteo or --csv: read the file in two streaming passes and keep the training rows
    /// in a file in this folder, read a batch at a time, so that a file larger than memory
    /// can be trained on [default: $XDG_CACHE_HOME/tabnas/spill (else ~/.cache/...) for
    /// files of 1 GiB or more without --max-rows; other files are read into memory].
    #[arg(long)]
    pub spill_dir: Option<PathBuf>,
    /// A file read in a stream: validation and test rows kept in memory, each (a seeded
    /// uniform sample of a larger split) [default: 200000].
    #[arg(long)]
    pub max_eval_rows: Option<usize>,
}

/// Validation and test rows a streamed source keeps without `--max-eval-rows`.
const DEFAULT_MAX_EVAL_ROWS: usize = 200_000;

/// A Criteo or CSV file at least this large is read in a stream without `--spill-dir`.
const AUTO_SPILL_BYTES: u64 = 1 << 30;

/// The user's tabnas cache, whatever the current folder: `$XDG_CACHE_HOME/tabnas`, else
/// `~/.cache/tabnas` (a relative or empty `$XDG_CACHE_HOME` is ignored, as XDG says).
fn user_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("tabnas")
}

/// The spill folder used when `--spill-dir` is not given.
fn default_spill_dir() -> PathBuf {
    user_cache().join("spill")
}

/// The data cache used when `--data-dir` is not given: `$TABNAS_DATA_DIR`, else the user's
/// cache (`~/.cache/tabnas/data`), where `scripts/fetch_data.py` puts the datasets.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("TABNAS_DATA_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| user_cache().join("data"))
}

impl DataArgs {
    /// The checked data source.
    pub fn source(&self) -> Result<DataSource> {
        if let Some(preset) = self.dataset {
            let cache = self.data_dir.clone().unwrap_or_else(default_data_dir);
            return Ok(DataSource::Preset { preset, cache });
        }
        if let Some(path) = &self.criteo {
            return Ok(DataSource::Criteo {
                path: path.clone(),
                spill: self.spill(path)?,
            });
        }
        let Some(path) = &self.csv else {
            bail!("no data: give --dataset higgs|adult, --csv FILE or --criteo FILE");
        };
        let separator = match self.separator.as_deref().unwrap_or(",") {
            "tab" | "\\t" => b'\t',
            "\"" | "\n" | "\r" => bail!(
                "--separator cannot be a quote or a line break, got {:?}",
                self.separator.as_deref().unwrap_or_default()
            ),
            s if s.len() == 1 => s.as_bytes()[0],
            s => bail!("--separator must be one character or `tab`, got {s:?}"),
        };
        let col = |s: &String| match s.parse::<ColumnRef>() {
            Ok(c) => c,
            Err(never) => match never {},
        };
        let label = self.label.clone().unwrap_or_else(|| "0".into());
        let mut options = CsvOptions::new(col(&label), self.task.unwrap_or(LabelKind::Binary));
        options.separator = separator;
        options.header = self.header;
        options.positive = self.positive.clone();
        options.categorical = self.categorical.iter().map(col).collect();
        options.ignore = self.ignore.iter().map(col).collect();
        options.log1p = self.log1p.iter().map(col).collect();
        if let Some(m) = &self.missing {
            options.missing = m.clone();
        }
        Ok(DataSource::Csv {
            path: path.clone(),
            options,
            spill: self.spill(path)?,
        })
    }

    /// Where a file read in a stream keeps its training rows: `--spill-dir`, else the
    /// default folder for a file of [`AUTO_SPILL_BYTES`] or more without `--max-rows`;
    /// `None` reads the file into memory.
    /// `--max-eval-rows` with a file read into memory is refused.
    fn spill(&self, path: &std::path::Path) -> Result<Option<Spill>> {
        let large = self.max_rows.is_none()
            && std::fs::metadata(path).is_ok_and(|m| m.len() >= AUTO_SPILL_BYTES);
        let dir = match &self.spill_dir {
            Some(dir) => dir.clone(),
            None if large => default_spill_dir(),
            None if self.max_eval_rows.is_some() => bail!(
                "--max-eval-rows applies to a file read in a stream, and {} is read into \
                 memory (smaller than 1 GiB, or --max-rows given): add --spill-dir DIR to \
                 stream it",
                path.display()
            ),
            None => return Ok(None),
        };
        Ok(Some(Spill {
            dir,
            max_eval_rows: self.max_eval_rows.unwrap_or(DEFAULT_MAX_EVAL_ROWS),
        }))
    }

    /// The split and encoding options; `space_embedding` is the embedding size the search
    /// space fixes, used when `--embedding-dim` is not given.
    pub fn prepare_options(&self, seed: u64, space_embedding: Option<u32>) -> PrepareOptions {
        PrepareOptions {
            valid_fraction: self.valid_fraction,
            test_fraction: self.test_fraction,
            seed,
            buckets: self.buckets,
            embedding_dim: self
                .embedding_dim
                .or(space_embedding)
                .unwrap_or(DEFAULT_EMBEDDING_DIM),
            max_rows: self.max_rows,
        }
    }

    /// Checks the data flags' values where they enter (before anything is read).
    pub fn check(&self) -> Result<()> {
        for (flag, f) in [
            ("--valid-fraction", self.valid_fraction),
            ("--test-fraction", self.test_fraction),
        ] {
            fraction(flag, f)?;
        }
        in_range("--buckets", self.buckets, 2..=MAX_BUCKETS)?;
        if let Some(dim) = self.embedding_dim {
            in_range("--embedding-dim", dim, 1..=MAX_WIDTH)?;
        }
        if self.max_rows == Some(0) {
            bail!("--max-rows must be at least 1");
        }
        if self.max_eval_rows == Some(0) {
            bail!("--max-eval-rows must be at least 1");
        }
        if self.criteo.is_none() && self.csv.is_none() {
            for (flag, given) in [
                ("--spill-dir", self.spill_dir.is_some()),
                ("--max-eval-rows", self.max_eval_rows.is_some()),
            ] {
                if given {
                    bail!("{flag} applies to a --criteo or --csv file (read in a stream)");
                }
            }
        }
        if !self.log1p.is_empty() && self.csv.is_none() {
            bail!("--log1p names columns of a --csv file (--criteo applies it to I1..I13 already)");
        }
        if self.csv.is_none() {
            let csv_only = [
                ("--label", self.label.is_some()),
                ("--task", self.task.is_some()),
                ("--positive", self.positive.is_some()),
                ("--categorical", !self.categorical.is_empty()),
                ("--ignore", !self.ignore.is_empty()),
                ("--separator", self.separator.is_some()),
                ("--header", self.header),
                ("--missing", self.missing.is_some()),
            ];
            if let Some((flag, _)) = csv_only.iter().find(|(_, given)| *given) {
                bail!(
                    "{flag} describes a --csv file; a --criteo file and a --dataset have their \
                     own columns and task"
                );
            }
        }
        if self.positive.is_some() && self.task.is_some_and(|t| t != LabelKind::Binary) {
            bail!(
                "--positive names the label meaning 1 of a binary task, not of --task {}",
                self.task.map_or("", |t| t.name())
            );
        }
        Ok(())
    }

    /// Loads, splits and encodes the data; errors about a flag's value name the flag.
    /// A class that a validation or test split lacks is a warning on standard error.
    pub fn prepare(&self, seed: u64, space_embedding: Option<u32>) -> Result<Prepared> {
        self.check()?;
        let data = prepare(&self.source()?, self.prepare_options(seed, space_embedding))
            .map_err(|e| word_prepare_error(e, self.csv.is_some()))?;
        for note in &data.notes {
            println!("{note}");
        }
        for (split, class) in data.missing_classes() {
            eprintln!(
                "warning: the {split} split has no row labelled {} (with --seed {seed}); {}",
                Quoted(&class),
                if split == "training" {
                    "the model never learns that class"
                } else {
                    "its loss says nothing about that class"
                }
            );
        }
        Ok(data)
    }
}

/// A data error, worded as the flag at fault where one is (`csv`: the data came from
/// `--csv`, whose label column and task are flags).
fn word_prepare_error(e: PrepareError, csv: bool) -> anyhow::Error {
    match e {
        PrepareError::Load(e @ DataError::OneClass { .. }) if csv => {
            anyhow!("{e} (check --label and --task)")
        }
        PrepareError::Load(e @ DataError::TooManyClasses { .. }) if csv => {
            anyhow!("{e} (a numeric label column is --task regression)")
        }
        PrepareError::TooFewBuckets { buckets } => {
            anyhow!("--buckets must be at least 2 (bucket 0 is for missing values), got {buckets}")
        }
        PrepareError::TooManyBuckets { buckets } => {
            anyhow!("--buckets must be in 2..={MAX_BUCKETS}, got {buckets}")
        }
        PrepareError::ZeroEmbeddingDim => anyhow!("--embedding-dim must be at least 1"),
        PrepareError::EmbeddingTooLarge { embedding_dim } => {
            anyhow!("--embedding-dim must be in 1..={MAX_WIDTH}, got {embedding_dim}")
        }
        e @ PrepareError::NoInputs { .. } => anyhow!("{e} (see --label and --ignore)"),
        e @ (PrepareError::ClassNotInTraining { .. } | PrepareError::NoTrainingValues { .. }) => {
            anyhow!(
                "{e}; use more rows, smaller --valid-fraction/--test-fraction or another --seed"
            )
        }
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

/// Largest weight decay (`--weight-decay`): AdamW multiplies each weight by
/// `1 - lr * decay` per step, so with a rate of at most 1 a decay of at most 1 never
/// flips a sign.
pub const MAX_WEIGHT_DECAY: f32 = 1.0;

/// A weight decay flag: finite, in `[0, MAX_WEIGHT_DECAY]`.
pub fn weight_decay(flag: &str, value: f32) -> Result<()> {
    if value.is_finite() && (0.0..=MAX_WEIGHT_DECAY).contains(&value) {
        Ok(())
    } else {
        bail!("{flag} must be a finite number in [0, {MAX_WEIGHT_DECAY}], got {value:?}")
    }
}

/// How the weights are trained: batch, learning rate and weight decay.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training batch size.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Adam learning rate of the weights.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    /// Decoupled weight decay of the weights (AdamW; 0 = plain Adam).
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f32,
}

impl TrainArgs {
    /// Checks the values; errors name the flag.
    pub fn check(&self) -> Result<()> {
        in_range(
            "--batch",
            self.batch,
            1..=tabnas_trainer::supernet::MAX_BATCH,
        )?;
        rate("--lr", self.lr as f64, MAX_LEARNING_RATE)?;
        weight_decay("--weight-decay", self.weight_decay)
    }
}

/// The seeds of the split and of the initialisation (with the batches), apart: a
/// second initialisation on the same split is `--init-seed 1`.
#[derive(Debug, Args)]
pub struct Seeds {
    /// Seed of both the split and the initialisation, unless given apart.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seed of the train / validation / test split [default: --seed].
    #[arg(long)]
    pub split_seed: Option<u64>,
    /// Seed of the initialisation, the batches and the controller [default: --seed].
    #[arg(long)]
    pub init_seed: Option<u64>,
}

impl Seeds {
    /// `(split, init)`.
    pub fn resolve(&self) -> (u64, u64) {
        (
            self.split_seed.unwrap_or(self.seed),
            self.init_seed.unwrap_or(self.seed),
        )
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
    /// Per-layer candidate widths instead, e.g. "8,16,32;8,16;4,8", or a space the core
    /// defines: `paper-criteo` (the paper's Criteo space: 3 layers of 20 widths 8..512;
    /// embedding size 39 unless --embedding-dim is given), `toy` (the paper's toy: 2
    /// layers of 2, 3, 4), `default` (the --layers/--widths default).
    #[arg(long)]
    pub space: Option<String>,
}

/// A search space the core defines, by name (`--space NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpacePreset {
    /// The paper's Criteo space ([`tabnas_core::paper`]).
    PaperCriteo,
    /// The paper's toy space ([`tabnas_core::toy`]).
    Toy,
    /// The default of `--layers` and `--widths`.
    Default,
}

impl SpacePreset {
    /// The names `--space` accepts.
    pub const NAMES: [&'static str; 3] = ["paper-criteo", "toy", "default"];

    /// The preset of this name, if it is one.
    pub fn named(name: &str) -> Option<Self> {
        match name.trim() {
            "paper-criteo" => Some(Self::PaperCriteo),
            "toy" => Some(Self::Toy),
            "default" => Some(Self::Default),
            _ => None,
        }
    }

    /// Its per-layer widths.
    pub fn widths(self) -> Vec<Vec<u32>> {
        match self {
            Self::PaperCriteo => vec![tabnas_core::paper::CRITEO_WIDTHS.to_vec(); 3],
            Self::Toy => vec![tabnas_core::toy::TOY_WIDTHS.to_vec(); 2],
            Self::Default => vec![DEFAULT_WIDTHS.to_vec(); 3],
        }
    }

    /// The embedding size the space was defined with, if it fixes one (the paper's
    /// Criteo input of 1,027 values is 13 integers and 26 x 39 embedding values).
    pub fn embedding_dim(self) -> Option<u32> {
        match self {
            Self::PaperCriteo => {
                Some(tabnas_core::paper::CRITEO_SHAPE.input.saturating_sub(13) / 26)
            }
            Self::Toy | Self::Default => None,
        }
    }
}

/// The default candidate widths of every layer (`--widths`).
pub const DEFAULT_WIDTHS: [u32; 10] = [8, 16, 24, 32, 48, 64, 96, 128, 192, 256];

/// Embedding size per categorical column when neither `--embedding-dim` nor the space
/// fixes one.
pub const DEFAULT_EMBEDDING_DIM: u32 = 8;

impl SpaceArgs {
    /// The named space `--space` gives, if it names one.
    pub fn preset(&self) -> Option<SpacePreset> {
        self.space.as_deref().and_then(SpacePreset::named)
    }

    /// The embedding size the space fixes, if any.
    pub fn embedding_dim(&self) -> Option<u32> {
        self.preset().and_then(SpacePreset::embedding_dim)
    }

    /// The per-layer width lists: 1..=8 layers of 1..=32 distinct widths, each in
    /// 1..=[`MAX_WIDTH`] (checked before anything is allocated for them).
    pub fn space(&self) -> Result<Vec<Vec<u32>>> {
        if let Some(preset) = self.preset() {
            return Ok(preset.widths());
        }
        if self.space.is_none() {
            in_range("--layers", self.layers, 1..=MAX_LAYERS)?;
        }
        if let Some(s) = &self.space {
            if s.trim().starts_with(|c: char| c.is_ascii_alphabetic()) {
                bail!(
                    "--space {s:?} is neither widths (like \"8,16,32;8,16\") nor a named space: {}",
                    SpacePreset::NAMES.join(", ")
                );
            }
        }
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
        let flag = if self.space.is_some() {
            "--space"
        } else {
            "--widths"
        };
        if space.len() > MAX_LAYERS {
            bail!(
                "{flag}: {} layers; at most {MAX_LAYERS} are supported",
                space.len()
            );
        }
        for (layer, widths) in space.iter().enumerate() {
            if widths.len() > MAX_CHOICES {
                bail!(
                    "{flag}: layer {} offers {} widths; at most {MAX_CHOICES} are supported",
                    layer + 1,
                    widths.len()
                );
            }
            if let Some(w) = widths
                .iter()
                .enumerate()
                .find_map(|(i, w)| widths[..i].contains(w).then_some(w))
            {
                bail!("{flag}: layer {} offers width {w} twice", layer + 1);
            }
            if let Some(w) = widths.iter().find(|&&w| w > MAX_WIDTH) {
                bail!(
                    "{flag}: layer {} has width {w}; widths must be in 1..={MAX_WIDTH}",
                    layer + 1
                );
            }
        }
        let layers: Vec<&[u32]> = space.iter().map(|w| w.as_slice()).collect();
        SearchSpace::new(&layers).context(flag)?;
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
    /// Checks the rates and the penalty strength where they enter (N and the rest are
    /// checked by the core against the space).
    pub fn check(&self) -> Result<()> {
        rate("--rl-lr", self.rl_lr, MAX_LEARNING_RATE)?;
        if !(self.beta.is_finite() && (0.0..=MAX_BETA).contains(&self.beta)) {
            bail!(
                "--beta must be a finite non-negative number at most {MAX_BETA}, got {:?}",
                self.beta
            );
        }
        Ok(())
    }

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
        in_range("--threads", t, 1..=MAX_THREADS)?;
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
    fn numbers_from_flags_are_bounded_and_the_error_names_flag_and_bounds() {
        assert_eq!(in_range("--batch", 64usize, 1..=65536).unwrap(), 64);
        let e = in_range("--batch", 0usize, 1..=65536).unwrap_err();
        assert_eq!(e.to_string(), "--batch must be in 1..=65536, got 0");
        rate("--lr", 1.0, 1.0).unwrap();
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY] {
            let e = rate("--lr", bad, 1.0).unwrap_err().to_string();
            assert!(
                e.starts_with("--lr must be a finite positive number at most 1"),
                "{e}"
            );
        }
        fraction("--warmup", 0.0).unwrap();
        for bad in [1.0, -0.1, f64::NAN] {
            assert!(fraction("--warmup", bad).is_err());
        }
        assert!(folder("--out", Path::new("")).is_err());
        let e = format!("{:#}", widths_flag("--arch", "8-70000").unwrap_err());
        assert!(
            e.contains("width 2 is 70000; widths must be in 1..=65536"),
            "{e}"
        );
    }

    #[test]
    fn spaces_are_bounded_before_anything_is_allocated() {
        let space = |space: Option<&str>, layers: usize, widths: Vec<u32>| {
            SpaceArgs {
                layers,
                widths,
                space: space.map(str::to_string),
            }
            .space()
            .map_err(|e| format!("{e:#}"))
        };
        assert_eq!(space(Some("8"), 3, vec![]), Ok(vec![vec![8]]));
        assert_eq!(space(Some("8,16"), 3, vec![]), Ok(vec![vec![8, 16]]));
        assert_eq!(space(None, 2, vec![4]), Ok(vec![vec![4], vec![4]]));
        for (text, layers, widths, wanted) in [
            (None, usize::MAX, vec![8], "--layers must be in 1..=8"),
            (None, 0, vec![8], "--layers must be in 1..=8"),
            (None, 1, vec![70000], "--widths: layer 1 has width 70000"),
            (Some("4294967295"), 1, vec![], "widths must be in 1..=65536"),
            (Some("4294967296"), 1, vec![], "not a whole number"),
            (Some("8;0"), 1, vec![], "layer 2: width 1 is 0"),
            (
                Some("8;8,16,8"),
                1,
                vec![],
                "--space: layer 2 offers width 8 twice",
            ),
            (Some("8;8;8;8;8;8;8;8;8"), 1, vec![], "9 layers; at most 8"),
            (Some(""), 1, vec![], "no widths given"),
        ] {
            let e = space(text, layers, widths).unwrap_err();
            assert!(e.contains(wanted), "{text:?}: {e}");
        }
        let many = (1..=33)
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let e = space(Some(&many), 1, vec![]).unwrap_err();
        assert!(e.contains("offers 33 widths; at most 32"), "{e}");
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
