//! The run folder of a device search and what it keeps between runs.
//!
//! * `checkpoint.json` ([`Checkpoint`]): everything needed to continue exactly; replaced
//!   atomically.
//! * `trace.jsonl` ([`TraceLog`]): one [`StepPoint`] per controller step, appended; on
//!   resume it is cut back to the checkpoint's step.
//! * `latency_table.json` (with the latency model), `latency_model.svg`,
//!   `quality_cache.json`, `result.json`, `best.onnx`.
//!
//! A new run in a folder that holds an earlier run moves that run's checkpoint, result,
//! best child and trace to a new `previous-<target>us[-N]/` before it writes anything
//! (the latency table and the quality cache stay, for reuse).

use std::io::Write;
use std::path::{Path, PathBuf};

use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::report::Tightening;
use super::DeviceSearchOptions;
use crate::error::RunError;
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

    /// Moves the files of the earlier run `previous` to `previous-<target>us/`; returns
    /// that folder.
    pub fn keep_previous(&self, previous: &Checkpoint) -> Result<PathBuf, RunError> {
        // A folder of its own: an earlier kept run with the same rounded target is never
        // overwritten.
        let base = format!("previous-{:.0}us", previous.target_us);
        let mut keep = self.dir.join(&base);
        let mut n = 2;
        while keep.exists() {
            keep = self.dir.join(format!("{base}-{n}"));
            n += 1;
        }
        let fail = |source| RunError::KeepPrevious {
            to: keep.clone(),
            source,
        };
        std::fs::create_dir_all(&keep).map_err(fail)?;
        for (name, from) in [
            ("checkpoint.json", self.checkpoint()),
            ("result.json", self.result()),
            ("best.onnx", self.best()),
            ("trace.jsonl", self.trace()),
        ] {
            if from.exists() {
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
    pub target_us: f64,
    /// Where the target came from.
    pub target_source: String,
    /// The target the search currently uses (tightened after misses).
    pub internal_target_us: f64,
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

/// The append-only step trace of a run folder.
pub struct TraceLog {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl TraceLog {
    /// Opens the trace keeping its first `keep` lines (those of the checkpoint); returns
    /// them.
    pub fn open(path: &Path, keep: u32) -> Result<(Self, Vec<StepPoint>), RunError> {
        let read_failed = |source| {
            RunError::File(crate::error::FileError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let write_failed = |source| {
            RunError::File(crate::error::FileError::Write {
                path: path.to_path_buf(),
                action: "write",
                source,
            })
        };
        let mut kept = Vec::new();
        if keep > 0 {
            let text = std::fs::read_to_string(path).map_err(read_failed)?;
            for (i, line) in text.lines().take(keep as usize).enumerate() {
                kept.push(
                    serde_json::from_str(line).map_err(|source| RunError::TraceLine {
                        path: path.to_path_buf(),
                        line: i + 1,
                        source,
                    })?,
                );
            }
            if kept.len() < keep as usize {
                return Err(RunError::TraceTooShort {
                    path: path.to_path_buf(),
                    found: kept.len(),
                    needed: keep,
                });
            }
        }
        // The kept lines go to a temporary file that replaces the trace atomically, so a
        // kill while resuming leaves either the old trace or the cut one, never a torn
        // one that no checkpoint can resume from.
        let mut text = String::new();
        for p in &kept {
            let line = serde_json::to_string(p).map_err(|source| {
                RunError::File(crate::error::FileError::Encode {
                    path: path.to_path_buf(),
                    source,
                })
            })?;
            text.push_str(&line);
            text.push('\n');
        }
        crate::atomic_file::write_atomic(path, text.as_bytes())?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(write_failed)?;
        let log = Self {
            path: path.to_path_buf(),
            file: std::io::BufWriter::new(file),
        };
        Ok((log, kept))
    }

    /// Appends one step.
    pub fn push(&mut self, p: &StepPoint) -> Result<(), RunError> {
        let line = serde_json::to_string(p).map_err(|source| self.encode_failed(source))?;
        writeln!(self.file, "{line}").map_err(|source| self.write_failed(source))
    }

    /// Flushes the appended steps to disk.
    pub fn sync(&mut self) -> Result<(), RunError> {
        self.file.flush().map_err(|s| self.write_failed(s))?;
        self.file
            .get_ref()
            .sync_all()
            .map_err(|s| self.write_failed(s))
    }

    fn write_failed(&self, source: std::io::Error) -> RunError {
        RunError::File(crate::error::FileError::Write {
            path: self.path.clone(),
            action: "write",
            source,
        })
    }

    fn encode_failed(&self, source: serde_json::Error) -> RunError {
        RunError::File(crate::error::FileError::Encode {
            path: self.path.clone(),
            source,
        })
    }
}
