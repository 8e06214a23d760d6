//! The run folder of a device search and what it keeps between runs.
//!
//! * `.tabnas.lock`: one run at a time owns the folder ([`RunFolder::lock`]).
//! * `checkpoint.json` ([`Checkpoint`]): everything needed to continue exactly; replaced
//!   atomically.
//! * `trace.jsonl` ([`TraceLog`]): one [`StepPoint`] per controller step, appended; on
//!   open it is cut back to the checkpoint's step (one `ftruncate`, so a kill at any
//!   instant leaves a trace that the checkpoint can resume from).
//! * `latency_table.json` (with the latency model), `latency_model.svg`,
//!   `quality_cache.json` (both caches, keyed by what they depend on), `result.json`
//!   (small: the per-step trace stays in `trace.jsonl`), `best.onnx`.
//!
//! Every file is written through [`tabnas_bundle::files`]: replaced atomically or
//! appended, never through a link planted in the folder. A new run in a folder that holds
//! an earlier run moves that run's checkpoint, result, best child and trace to a new
//! `previous-<target>us[-N]/` before it writes anything (the caches stay, for reuse); a
//! cache this run cannot use is moved to a new `unused-caches[-N]/`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use tabnas_core::target::LatencyTarget;

use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::report::Tightening;
use super::DeviceSearchOptions;
use crate::atomic_file::FileError;
use crate::device_search::RunError;
use tabnas_bundle::files::{self, RunLock};
use tabnas_core::search::{SearchState, StepKind};

/// Files of a run folder.
#[derive(Debug, Clone)]
pub struct RunFolder {
    /// The folder.
    pub dir: PathBuf,
}

impl RunFolder {
    /// The run folder `dir`, created if needed.
    pub fn create(dir: &Path) -> Result<Self, RunError> {
        std::fs::create_dir_all(dir).map_err(|source| RunError::Folder {
            dir: dir.to_path_buf(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Takes the folder for this process until the returned lock is dropped; `what`
    /// describes the run to a process that finds the folder taken.
    pub fn lock(&self, what: &str) -> Result<RunLock, RunError> {
        RunLock::acquire(&self.dir, what).map_err(RunError::Lock)
    }

    /// Removes the temporaries of atomic writes that a killed run left behind (call it
    /// while holding the lock).
    pub fn remove_stale_temporaries(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let is_file = e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink());
            if is_file && name.starts_with('.') && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// True when a run has started in this folder (it holds a lock file or a trace):
    /// a `--resume` before the first checkpoint starts that run over.
    pub fn has_started_run(&self) -> bool {
        files::name_taken(&self.dir.join(files::LOCK_FILE)) || files::name_taken(&self.trace())
    }

    /// `latency_table.json`.
    pub fn table(&self) -> PathBuf {
        self.dir.join("latency_table.json")
    }
    /// `latency_model.svg`: predicted against measured latency of the held-out children.
    pub fn model_plot(&self) -> PathBuf {
        self.dir.join("latency_model.svg")
    }
    /// `checkpoint.json`.
    pub fn checkpoint(&self) -> PathBuf {
        self.dir.join("checkpoint.json")
    }
    /// `quality_cache.json`.
    pub fn quality(&self) -> PathBuf {
        self.dir.join("quality_cache.json")
    }
    /// `result.json`.
    pub fn result(&self) -> PathBuf {
        self.dir.join("result.json")
    }
    /// `best.onnx`.
    pub fn best(&self) -> PathBuf {
        self.dir.join("best.onnx")
    }
    /// `trace.jsonl`: one line per controller step, appended; the checkpoint records
    /// how many lines belong to it.
    pub fn trace(&self) -> PathBuf {
        self.dir.join("trace.jsonl")
    }

    /// Moves the files of the earlier run `previous` to `previous-<target>us[-N]/`;
    /// returns that folder.
    pub fn keep_previous(&self, previous: &Checkpoint) -> Result<PathBuf, RunError> {
        self.set_aside(
            &["checkpoint.json", "result.json", "best.onnx", "trace.jsonl"],
            &format!("previous-{:.0}us", previous.target_us),
        )
    }

    /// Moves the files `names` (those that exist) into a new folder `<base>[-N]/`, never
    /// one that exists: what this run will not use is kept, not overwritten. Returns
    /// the folder.
    pub fn set_aside(&self, names: &[&str], base: &str) -> Result<PathBuf, RunError> {
        let mut keep = self.dir.join(base);
        let mut n = 2;
        while files::name_taken(&keep) {
            keep = self.dir.join(format!("{base}-{n}"));
            n += 1;
        }
        let fail = |source| RunError::KeepPrevious {
            to: keep.clone(),
            source,
        };
        // `create_dir` (not `_all`): the name was free a moment ago, so anything found
        // there now (a planted link) is refused rather than written through.
        std::fs::create_dir(&keep).map_err(fail)?;
        for name in names {
            let from = self.dir.join(name);
            if files::name_taken(&from) {
                std::fs::rename(&from, keep.join(name)).map_err(fail)?;
            }
        }
        Ok(keep)
    }
}

/// One controller step as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepPoint {
    /// Step (1-based).
    pub step: u32,
    /// Sampled widths.
    pub arch: Vec<u32>,
    /// Predicted latency (the latency model in use).
    pub predicted_us: f64,
    /// What the controller did.
    pub kind: StepKind,
    /// Validation loss (absent when rejected).
    pub loss: Option<f64>,
    /// P(V) or its estimate.
    pub pv: Option<f64>,
    /// Monte-Carlo feasible fraction.
    pub mc_feasible_fraction: Option<f64>,
    /// The internal target this step used.
    pub target_us: f64,
}

/// Everything needed to continue a search exactly.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format (1).
    pub format: u32,
    /// Bundle it belongs to.
    pub bundle_hash: String,
    /// Options it was started with (the resolved target is `target_us`).
    pub options: DeviceSearchOptions,
    /// The user's target.
    pub target_us: LatencyTarget,
    /// Where the target came from.
    pub target_source: String,
    /// The target the search currently uses (tightened after misses).
    pub internal_target_us: LatencyTarget,
    /// Steps done.
    pub step: u32,
    /// Steps planned (grows after a tightening).
    pub planned_steps: u32,
    /// The controller.
    pub state: SearchState,
    /// The controller's generator.
    pub rng: Xoshiro256PlusPlus,
    /// Tightenings so far.
    pub tightenings: Vec<Tightening>,
    /// Seconds spent in steps so far (quality included).
    pub step_seconds: f64,
    /// Seconds of quality evaluation so far.
    pub quality_seconds: f64,
    /// True once the result is written.
    pub done: bool,
}

impl Checkpoint {
    /// The format written.
    pub const FORMAT: u32 = 1;

    /// Checks what the options cannot: the format, the targets and the step counts.
    pub fn check(&self) -> Result<(), CheckpointProblem> {
        if self.format != Self::FORMAT {
            return Err(CheckpointProblem::Format { found: self.format });
        }
        if let Some(t) = self.options.target_us {
            if self.target_us != t {
                return Err(CheckpointProblem::TargetDiffers {
                    saved_us: self.target_us.us(),
                    options_us: t.us(),
                });
            }
        }
        if self.internal_target_us > self.target_us {
            return Err(CheckpointProblem::InternalTarget {
                internal_us: self.internal_target_us.us(),
                target_us: self.target_us.us(),
            });
        }
        let most = self.options.steps as u64 * (1 + self.options.max_tightenings as u64);
        if self.planned_steps < self.options.steps
            || self.planned_steps as u64 > most
            || self.step > self.planned_steps
        {
            return Err(CheckpointProblem::Steps {
                step: self.step,
                planned: self.planned_steps,
                steps: self.options.steps,
            });
        }
        if self.tightenings.len() > self.options.max_tightenings as usize {
            return Err(CheckpointProblem::Tightenings {
                found: self.tightenings.len(),
                max: self.options.max_tightenings,
            });
        }
        // Xoshiro's all-zero state is a fixed point: every draw would be 0, and the
        // search would sample one architecture for ever. No seeding makes it.
        let state = serde_json::to_value(&self.rng).ok();
        let zero = state
            .as_ref()
            .and_then(|v| v.get("s"))
            .and_then(|s| s.as_array())
            .is_some_and(|s| s.iter().all(|w| w.as_u64() == Some(0)));
        if zero {
            return Err(CheckpointProblem::ZeroGenerator);
        }
        Ok(())
    }
}

/// The first field where two values' JSON forms differ, with both values
/// (`settings.learning_rate: 0.05 then, 0.1 now`); `None` when none does.
pub fn first_difference<T: Serialize>(then: &T, now: &T) -> Option<OptionsDiffer> {
    fn walk(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Option<OptionsDiffer> {
        use serde_json::Value::Object;
        match (a, b) {
            (Object(x), Object(y)) => x.keys().chain(y.keys()).find_map(|k| {
                let null = serde_json::Value::Null;
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                walk(x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null), &path)
            }),
            _ if a != b => Some(OptionsDiffer {
                field: at.to_string(),
                then: a.to_string(),
                now: b.to_string(),
            }),
            _ => None,
        }
    }
    // Options are plain data: their JSON forms always exist.
    let (a, b) = (
        serde_json::to_value(then).ok()?,
        serde_json::to_value(now).ok()?,
    );
    walk(&a, &b, "")
}

/// The append-only step trace of a run folder.
pub struct TraceLog {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl TraceLog {
    /// Opens the trace for appending after its first `keep` lines (those of the
    /// checkpoint): anything after them (steps past the checkpoint, a torn last line) is
    /// cut off with one `ftruncate`. The kept lines are counted (the last one checked),
    /// not held in memory.
    pub fn open(path: &Path, keep: u32) -> Result<Self, RunError> {
        let end = Self::end_of(path, keep)?;
        let file = files::open_append(path).map_err(|s| write_failed(path, s))?;
        if file.metadata().map_err(|s| write_failed(path, s))?.len() != end {
            file.set_len(end).map_err(|s| write_failed(path, s))?;
            file.sync_all().map_err(|s| write_failed(path, s))?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            file: std::io::BufWriter::new(file),
        })
    }

    /// The byte offset just after line `keep` (0 for none); that line must be the
    /// checkpoint's last step.
    fn end_of(path: &Path, keep: u32) -> Result<u64, RunError> {
        if keep == 0 {
            return Ok(0);
        }
        let read_failed = |source| {
            RunError::File(FileError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let file = std::fs::File::open(path).map_err(read_failed)?;
        let mut reader = std::io::BufReader::new(file);
        let mut line = Vec::new();
        let mut end = 0u64;
        for i in 0..keep as usize {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(read_failed)?;
            if n == 0 || line.last() != Some(&b'\n') {
                return Err(RunError::TraceTooShort {
                    path: path.to_path_buf(),
                    found: i,
                    needed: keep,
                });
            }
            end += n as u64;
        }
        let last: StepPoint =
            serde_json::from_slice(&line).map_err(|source| RunError::TraceLine {
                path: path.to_path_buf(),
                line: keep as usize,
                source,
            })?;
        if last.step != keep {
            return Err(RunError::TraceTooShort {
                path: path.to_path_buf(),
                found: last.step as usize,
                needed: keep,
            });
        }
        Ok(end)
    }

    /// Reads the first `limit` steps of a trace (all of them for `None`; a torn last line
    /// is left out).
    pub fn read(path: &Path, limit: Option<u32>) -> Result<Vec<StepPoint>, RunError> {
        let file = std::fs::File::open(path).map_err(|source| {
            RunError::File(FileError::Read {
                path: path.to_path_buf(),
                source,
            })
        })?;
        let mut out = Vec::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            if limit.is_some_and(|l| out.len() >= l as usize) {
                break;
            }
            let line = line.map_err(|source| {
                RunError::File(FileError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            })?;
            match serde_json::from_str(&line) {
                Ok(p) => out.push(p),
                Err(_) if limit.is_none() => break,
                Err(source) => {
                    return Err(RunError::TraceLine {
                        path: path.to_path_buf(),
                        line: i + 1,
                        source,
                    })
                }
            }
        }
        Ok(out)
    }

    /// Appends one step.
    pub fn push(&mut self, p: &StepPoint) -> Result<(), RunError> {
        let line = serde_json::to_string(p).map_err(|source| {
            RunError::File(FileError::Encode {
                path: self.path.clone(),
                source,
            })
        })?;
        writeln!(self.file, "{line}").map_err(|source| write_failed(&self.path, source))
    }

    /// Flushes the appended steps to disk.
    pub fn sync(&mut self) -> Result<(), RunError> {
        self.file.flush().map_err(|s| write_failed(&self.path, s))?;
        self.file
            .get_ref()
            .sync_data()
            .map_err(|s| write_failed(&self.path, s))
    }
}

fn write_failed(path: &Path, source: std::io::Error) -> RunError {
    RunError::File(FileError::Write {
        path: path.to_path_buf(),
        action: "write",
        source,
    })
}

/// Why a checkpoint's own fields cannot be continued ([`Checkpoint::check`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CheckpointProblem {
    /// Another format version.
    Format {
        /// The version found.
        found: u32,
    },
    /// Its target is not the one its options ask.
    TargetDiffers {
        /// The target it holds.
        saved_us: f64,
        /// The target its options give.
        options_us: f64,
    },
    /// Its internal (tightened) target is above its target.
    InternalTarget {
        /// The internal target.
        internal_us: f64,
        /// The target.
        target_us: f64,
    },
    /// Its step counts do not fit its options.
    Steps {
        /// The last step done.
        step: u32,
        /// The steps planned.
        planned: u32,
        /// The steps its options ask.
        steps: u32,
    },
    /// More tightenings than its options allow.
    Tightenings {
        /// Tightenings recorded.
        found: usize,
        /// The most allowed.
        max: u32,
    },
    /// Its generator state is all zeros (a fixed point no seeding makes).
    ZeroGenerator,
    /// Its target is not this run's.
    OtherTarget {
        /// The checkpoint's target.
        saved_us: f64,
        /// This run's target.
        this_us: f64,
    },
}

impl std::fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Format { found } => write!(
                f,
                "format {found} (this agent reads {})",
                Checkpoint::FORMAT
            ),
            Self::TargetDiffers {
                saved_us,
                options_us,
            } => write!(
                f,
                "its target is {saved_us} us, its options say {options_us} us"
            ),
            Self::InternalTarget {
                internal_us,
                target_us,
            } => write!(
                f,
                "its internal target {internal_us} us is above its target {target_us} us"
            ),
            Self::Steps {
                step,
                planned,
                steps,
            } => write!(
                f,
                "step {step} of {planned} planned does not fit {steps} steps"
            ),
            Self::Tightenings { found, max } => {
                write!(f, "{found} tightenings, at most {max} allowed")
            }
            Self::ZeroGenerator => f.write_str(
                "its random generator's state is all zeros, which no seed makes and which \
                 draws only zeros",
            ),
            Self::OtherTarget { saved_us, this_us } => {
                write!(f, "its target is {saved_us} us, this run's is {this_us} us")
            }
        }
    }
}

/// The first option in which a checkpoint differs from this run, with both values
/// as JSON (`settings.learning_rate: 0.05 then, 0.1 now`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsDiffer {
    /// The option's path (`settings.learning_rate`).
    pub field: String,
    /// Its value in the checkpoint.
    pub then: String,
    /// Its value in this run.
    pub now: String,
}

impl std::fmt::Display for OptionsDiffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} then, {} now", self.field, self.then, self.now)
    }
}
