//! Why a device search could not run or finish. Every variant carries what is at fault
//! (the path, the field, the architecture, the latencies), so a message names it; none
//! speaks of command-line flags, which are the binary's business.

use std::fmt;
use std::path::PathBuf;

use super::run_folder::{CheckpointProblem, OptionsDiffer};
use crate::atomic_file::FileError;
use crate::environment::PinError;
use crate::latency_table::TableFileError;
use crate::measure::MeasureError;
use crate::validation_loss::LossError;
use tabnas_bundle::BundleError;
use tabnas_core::feasibility::FeasibilityError;
use tabnas_core::formats::board::BoardError;
use tabnas_core::search::{ResumeError, SettingsError, StepError};
use tabnas_core::space::show_widths;
use tabnas_core::target::TargetError;

/// Why a checkpoint cannot be resumed with what was given.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResumeMismatch {
    /// It belongs to another bundle.
    Bundle,
    /// It was started with other options; the first one that differs, with both values.
    Options(OptionsDiffer),
    /// It is not a checkpoint this agent can continue (format, targets, step counts).
    Invalid(CheckpointProblem),
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
    Loss(LossError),
    /// A saved latency table does not belong to this bundle.
    TableReuse {
        /// The table file.
        path: PathBuf,
        /// Why.
        source: TableFileError,
    },
    /// A derived or tightened target is not a latency target.
    BadTarget(TargetError),
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
    Step(StepError<LossError>),
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
            Self::Loss(e) => write!(f, "validation loss: {e}"),
            Self::TableReuse { path, source } => write!(
                f,
                "{} cannot be reused: {source}; use another run folder",
                path.display()
            ),
            Self::BadTarget(e) => write!(f, "target: {e}"),
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

impl From<LossError> for RunError {
    fn from(e: LossError) -> Self {
        Self::Loss(e)
    }
}
