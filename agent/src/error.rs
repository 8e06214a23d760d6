//! The errors of the device runtime. Every variant carries what is at fault (the path,
//! the field, the architecture, the latencies), so a message names it; none of them
//! speaks of command-line flags, which are the binary's business.

use std::fmt;
use std::path::PathBuf;

use tabnas_bundle::{BundleError, InferenceError};
use tabnas_core::feasibility::FeasibilityError;
use tabnas_core::formats::board::BoardError;
use tabnas_core::search::{ResumeError, SettingsError, StepError};
use tabnas_core::space::show_widths;

/// A file of a run folder that cannot be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileError {
    /// Reading failed.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing, flushing or replacing failed.
    Write {
        /// The file.
        path: PathBuf,
        /// What was being done (`create a temporary file`, `write`, `flush`, `replace`).
        action: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON of the expected shape.
    NotOurs {
        /// The file.
        path: PathBuf,
        /// Where and why parsing failed.
        source: serde_json::Error,
    },
    /// A value could not be written as JSON (a non-finite number in a map key, say).
    Encode {
        /// The file it was meant for.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::Write {
                path,
                action,
                source,
            } => write!(f, "{}: cannot {action}: {source}", path.display()),
            Self::NotOurs { path, source } => {
                write!(
                    f,
                    "{}: not a file this agent wrote: {source}",
                    path.display()
                )
            }
            Self::Encode { path, source } => {
                write!(f, "{}: cannot encode: {source}", path.display())
            }
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for FileError {}

/// A latency probe that cannot load or time a network.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProbeError {
    /// A timing was asked for before any network was loaded.
    NotLoaded,
    /// tract could not load or run the network.
    Inference(InferenceError),
    /// Another runtime (ONNX Runtime) failed.
    Runtime {
        /// The runtime.
        runtime: &'static str,
        /// What it was doing.
        stage: String,
        /// Its message.
        detail: String,
    },
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLoaded => f.write_str("no network loaded"),
            Self::Inference(e) => write!(f, "{e}"),
            Self::Runtime {
                runtime,
                stage,
                detail,
            } => write!(f, "{runtime}: {stage}: {detail}"),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for ProbeError {}

impl From<InferenceError> for ProbeError {
    fn from(e: InferenceError) -> Self {
        Self::Inference(e)
    }
}

/// A network of the bundle that could not be built or measured.
#[derive(Debug)]
#[non_exhaustive]
pub enum MeasureError {
    /// The child, block or stem network could not be built from the bundle.
    Bundle(BundleError),
    /// The probe failed.
    Probe(ProbeError),
    /// The measured blocks do not form a table of the space.
    Table(TableFileError),
    /// The measurement was stopped on request (a signal, or the service's stop).
    Interrupted,
    /// A network's timings stayed too noisy to use.
    TooNoisy {
        /// Which network.
        network: String,
        /// The robust coefficient of variation of all its samples.
        cv: f64,
        /// The protocol's limit.
        max_cv: f64,
        /// Samples taken.
        samples: usize,
        /// Samples the protocol asks for (`repeats`).
        repeats: u32,
        /// Seconds spent on more samples.
        spent_s: f64,
        /// The protocol's budget for them, seconds.
        budget_s: f64,
        /// The machine's noise floor (the reference network's robust CV), when measured.
        noise_floor: Option<f64>,
    },
    /// No latency model predicts held-out children within the limit, and the space is
    /// too large to measure child by child.
    ModelTooInaccurate {
        /// What the best form achieved.
        best: String,
        /// The profile's limit on the held-out error.
        limit: f64,
        /// Children measured end to end.
        children: usize,
        /// Children in the space.
        space: u64,
        /// The largest space measured child by child.
        max_direct_children: u64,
    },
}

impl fmt::Display for MeasureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bundle(e) => write!(f, "{e}"),
            Self::Probe(e) => write!(f, "{e}"),
            Self::Table(e) => write!(f, "{e}"),
            Self::Interrupted => write!(f, "stopped on request while measuring"),
            Self::TooNoisy {
                network,
                cv,
                max_cv,
                samples,
                repeats,
                spent_s,
                budget_s,
                noise_floor,
            } => write!(
                f,
                "{network} stayed too noisy to measure: its timings varied by {:.0}% (robust \
                 coefficient of variation) over {samples} samples, so its median is no more \
                 precise than {repeats} samples varying by {:.0}% would make it \
                 (measurement.max_cv {:.0}%); the noise budget of {budget_s:.1} s for more \
                 samples is spent ({spent_s:.1} s){}; stop other work on this machine, pin the \
                 measurement to a quiet CPU (measurement.pin_cpu), or raise \
                 measurement.noise_budget_ms or measurement.max_cv",
                100.0 * cv,
                100.0 * cv * (*repeats as f64 / (*samples).max(1) as f64).sqrt(),
                100.0 * max_cv,
                noise_floor.map_or(String::new(), |n| format!(
                    "; the machine's noise floor was {:.0}%",
                    100.0 * n
                )),
            ),
            Self::ModelTooInaccurate {
                best,
                limit,
                children,
                space,
                max_direct_children,
            } => write!(
                f,
                "no latency model is accurate enough here: {best} (limit {:.1}%, {children} \
                 children measured), and the space's {space} children are more than \
                 search.max_direct_children ({max_direct_children}) to measure one by one; \
                 raise search.calibration_children, search.max_model_error or \
                 search.max_direct_children, or measure on a quieter machine",
                100.0 * limit
            ),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for MeasureError {}

impl From<BundleError> for MeasureError {
    fn from(e: BundleError) -> Self {
        Self::Bundle(e)
    }
}

impl From<ProbeError> for MeasureError {
    fn from(e: ProbeError) -> Self {
        Self::Probe(e)
    }
}

impl From<InferenceError> for MeasureError {
    fn from(e: InferenceError) -> Self {
        Self::Probe(ProbeError::Inference(e))
    }
}

/// A child's validation loss that could not be computed.
#[derive(Debug)]
#[non_exhaustive]
pub enum QualityError {
    /// The child could not be built from the bundle.
    Bundle(BundleError),
    /// tract could not run it on the validation rows.
    Inference(InferenceError),
}

impl fmt::Display for QualityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bundle(e) => write!(f, "{e}"),
            Self::Inference(e) => write!(f, "{e}"),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for QualityError {}

impl From<BundleError> for QualityError {
    fn from(e: BundleError) -> Self {
        Self::Bundle(e)
    }
}

impl From<InferenceError> for QualityError {
    fn from(e: InferenceError) -> Self {
        Self::Inference(e)
    }
}

/// The measuring thread could not be pinned to a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinError {
    /// The platform does not report CPU ids.
    NoCpuIds,
    /// `measurement.pin_cpu` names a CPU that does not exist here.
    NoSuchCpu {
        /// The CPU asked for.
        cpu: usize,
    },
    /// The OS refused.
    Refused {
        /// The CPU asked for.
        cpu: usize,
    },
}

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCpuIds => f.write_str("this platform does not report CPU ids"),
            Self::NoSuchCpu { cpu } => {
                write!(f, "measurement.pin_cpu: CPU {cpu} does not exist here")
            }
            Self::Refused { cpu } => {
                write!(f, "could not pin the measuring thread to CPU {cpu}")
            }
        }
    }
}

impl std::error::Error for PinError {}

/// A TOML board profile that cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProfileError {
    /// Not TOML, an unknown key, or a value of the wrong type.
    Toml {
        /// The profile's name (its path, or what it is).
        profile: String,
        /// The TOML parser's message (it names the key and line).
        source: toml::de::Error,
    },
    /// A text field is longer than the packed form holds.
    TooLong {
        /// The profile.
        profile: String,
        /// The key.
        field: &'static str,
        /// The most bytes it may have.
        max_bytes: usize,
    },
    /// The values do not form a usable board configuration.
    Invalid {
        /// The profile.
        profile: String,
        /// Which field and why.
        source: BoardError,
    },
    /// A key of an older profile format that another key replaced.
    Replaced {
        /// The profile.
        profile: String,
        /// The old key.
        key: &'static str,
        /// What replaced it, and how to set it.
        by: &'static str,
    },
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Toml { profile, source } => write!(f, "{profile}: {source}"),
            Self::TooLong {
                profile,
                field,
                max_bytes,
            } => write!(f, "{profile}: {field} is longer than {max_bytes} bytes"),
            Self::Invalid { profile, source } => write!(f, "{profile}: {source}"),
            Self::Replaced { profile, key, by } => {
                write!(f, "{profile}: {key} is no longer read: {by}")
            }
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for ProfileError {}

/// Why a saved latency table cannot serve this bundle.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TableFileError {
    /// Another format version.
    Format {
        /// The version found.
        found: u32,
    },
    /// It was measured for another search space.
    OtherSpace,
    /// It was measured for another bundle.
    OtherBundle {
        /// Its bundle hash (prefix).
        saved: String,
        /// This bundle's hash (prefix).
        this: String,
    },
    /// It was measured with another measurement protocol.
    OtherProtocol,
    /// It was measured with another runtime, CPU or platform.
    OtherMachine {
        /// What it was measured on.
        saved: String,
        /// What this run measures on.
        this: String,
    },
    /// A block does not fit the space.
    Block {
        /// The block index.
        block: usize,
        /// Why.
        source: tabnas_core::cost::TableError,
    },
}

impl fmt::Display for TableFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Format { found } => write!(
                f,
                "format {found} (this agent reads {})",
                crate::latency_table::TABLE_FORMAT
            ),
            Self::OtherSpace => f.write_str("it was measured for another search space"),
            Self::OtherBundle { saved, this } => {
                write!(f, "it was measured for bundle {saved}, this one is {this}")
            }
            Self::OtherProtocol => f.write_str("it was measured with another measurement protocol"),
            Self::OtherMachine { saved, this } => {
                write!(
                    f,
                    "it was measured with {saved}, this run measures with {this}"
                )
            }
            Self::Block { block, source } => write!(f, "latency table block {block}: {source}"),
        }
    }
}

impl std::error::Error for TableFileError {}

/// Why a checkpoint cannot be resumed with what was given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResumeMismatch {
    /// It belongs to another bundle.
    Bundle,
    /// It was started with other options; the first one that differs, with both values.
    Options(String),
    /// It is not a checkpoint this agent can continue (format, targets, step counts).
    Invalid(String),
}

/// A device search that could not run or finish.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// An option (from the board profile or a flag) is outside its bounds.
    Options(BoardError),
    /// Another process holds the run folder, or its lock file is unusable.
    Lock(tabnas_bundle::files::LockError),
    /// A run-folder file could not be read or written.
    File(FileError),
    /// The folder could not be created.
    Folder {
        /// The folder.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The earlier run's files could not be moved aside.
    KeepPrevious {
        /// Where they were to go.
        to: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Pinning the measuring thread failed.
    Pin(PinError),
    /// The bundle is unusable (its space, a child).
    Bundle(BundleError),
    /// Measuring a network failed.
    Measure {
        /// What was measured (`the latency model`, `the answer`).
        what: &'static str,
        /// Why.
        source: MeasureError,
    },
    /// A child's validation loss could not be computed.
    Quality(QualityError),
    /// A saved latency table does not belong to this bundle.
    TableReuse {
        /// The table file.
        path: PathBuf,
        /// Why.
        source: TableFileError,
    },
    /// The target is not a positive number of microseconds.
    BadTarget {
        /// The target.
        target_us: f64,
    },
    /// The target is below the fastest child's predicted latency.
    TargetBelowFastest {
        /// The target.
        target_us: f64,
        /// The fastest child this run measured end to end.
        fastest: Vec<u32>,
        /// Its measured latency.
        fastest_us: f64,
    },
    /// The checkpoint does not match the bundle or options given.
    ResumeMismatch {
        /// The checkpoint.
        path: PathBuf,
        /// What differs.
        what: ResumeMismatch,
    },
    /// The search was stopped on request; its checkpoint at `step` resumes it.
    Stopped {
        /// The run folder.
        dir: PathBuf,
        /// The last step done.
        step: u32,
    },
    /// A resume was asked for but there is no checkpoint.
    NothingToResume {
        /// The run folder.
        dir: PathBuf,
    },
    /// The step trace is shorter than the checkpoint says.
    TraceTooShort {
        /// The trace file.
        path: PathBuf,
        /// Steps in it.
        found: usize,
        /// Steps the checkpoint needs.
        needed: u32,
    },
    /// A trace line is not a step this agent wrote.
    TraceLine {
        /// The trace file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// Why.
        source: serde_json::Error,
    },
    /// The controller settings do not fit the space.
    Settings(SettingsError),
    /// The checkpoint's controller state does not fit the space.
    Checkpoint(ResumeError),
    /// The target cannot define a feasible set.
    Target(FeasibilityError),
    /// A controller step failed.
    Step(StepError<QualityError>),
    /// No child is predicted to meet the (tightened) target.
    NoFeasibleChild {
        /// The target the search used.
        target_us: f64,
        /// The fastest child's predicted latency.
        fastest_us: f64,
    },
    /// The answer kept missing the target on the device.
    AnswerMisses {
        /// The chosen child.
        widths: Vec<u32>,
        /// Its measured latency.
        measured_us: f64,
        /// The target.
        target_us: f64,
        /// Tightenings tried.
        tightenings: usize,
    },
    /// The internal target reached the model's fastest prediction and the answer still
    /// misses the target on the device.
    FastestMisses {
        /// The child that missed.
        widths: Vec<u32>,
        /// Its measured latency.
        measured_us: f64,
        /// The target.
        target_us: f64,
        /// The fastest child this run measured end to end, and its measured latency.
        fastest: (Vec<u32>, f64),
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Options(e) => write!(f, "search options (board profile and flags): {e}"),
            Self::Lock(e) => write!(f, "{e}"),
            Self::File(e) => write!(f, "{e}"),
            Self::Folder { dir, source } => write!(f, "cannot create {}: {source}", dir.display()),
            Self::KeepPrevious { to, source } => write!(
                f,
                "cannot keep the previous run in {}: {source}",
                to.display()
            ),
            Self::Pin(e) => write!(f, "{e}"),
            Self::Bundle(e) => write!(f, "bundle: {e}"),
            Self::Measure { what, source } => write!(f, "measuring {what}: {source}"),
            Self::Quality(e) => write!(f, "validation loss: {e}"),
            Self::TableReuse { path, source } => write!(
                f,
                "{} cannot be reused: {source}; use another run folder",
                path.display()
            ),
            Self::BadTarget { target_us } => write!(
                f,
                "the target must be a positive number of microseconds, got {target_us}"
            ),
            Self::TargetBelowFastest {
                target_us,
                fastest,
                fastest_us,
            } => write!(
                f,
                "target {target_us:.1} us is below the fastest child this run measured: {} \
                 measured at {fastest_us:.1} us, the fastest achievable latency on this device; \
                 give a target of at least {fastest_us:.1} us",
                show_widths(fastest)
            ),
            Self::ResumeMismatch { path, what } => match what {
                ResumeMismatch::Bundle => write!(
                    f,
                    "{} belongs to another bundle; resume it with that bundle",
                    path.display()
                ),
                ResumeMismatch::Options(diff) => write!(
                    f,
                    "{} was started with other options ({diff}); resume with the same settings \
                     and profile",
                    path.display()
                ),
                ResumeMismatch::Invalid(why) => write!(
                    f,
                    "{} cannot be resumed: {why}; start a new run (without --resume)",
                    path.display()
                ),
            },
            Self::Stopped { dir, step } => write!(
                f,
                "the search was stopped at step {step}; `--resume` with --out {} continues it",
                dir.display()
            ),
            Self::NothingToResume { dir } => {
                write!(f, "cannot resume: {} has no checkpoint", dir.display())
            }
            Self::TraceTooShort {
                path,
                found,
                needed,
            } => write!(
                f,
                "{} has {found} steps, the checkpoint needs {needed}",
                path.display()
            ),
            Self::TraceLine { path, line, source } => {
                write!(f, "{} line {line}: {source}", path.display())
            }
            Self::Settings(e) => write!(f, "settings: {e}"),
            Self::Checkpoint(e) => write!(f, "checkpoint: {e}"),
            Self::Target(e) => write!(f, "target: {e}"),
            Self::Step(e) => write!(f, "search step: {e}"),
            Self::NoFeasibleChild {
                target_us,
                fastest_us,
            } => write!(
                f,
                "no child is predicted to meet {target_us:.1} us; the fastest is predicted at \
                 {fastest_us:.1} us"
            ),
            Self::AnswerMisses {
                widths,
                measured_us,
                target_us,
                tightenings,
            } => write!(
                f,
                "the chosen child {} measured {measured_us:.1} us > target {target_us:.1} us after \
                 {tightenings} tightenings; the table is too optimistic here: rerun with a higher \
                 target or more calibration children",
                show_widths(widths)
            ),
            Self::FastestMisses {
                widths,
                measured_us,
                target_us,
                fastest,
            } => write!(
                f,
                "the search tightened down to the latency model's fastest child and its answer \
                 {} still measured {measured_us:.1} us > target {target_us:.1} us here; the \
                 fastest child this run measured is {} at {:.1} us: give a target above it \
                 with some margin for noise",
                show_widths(widths),
                show_widths(&fastest.0),
                fastest.1
            ),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for RunError {}

impl From<FileError> for RunError {
    fn from(e: FileError) -> Self {
        Self::File(e)
    }
}

impl From<BundleError> for RunError {
    fn from(e: BundleError) -> Self {
        Self::Bundle(e)
    }
}

impl From<QualityError> for RunError {
    fn from(e: QualityError) -> Self {
        Self::Quality(e)
    }
}
