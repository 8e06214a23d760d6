//! The search on the device under a measured latency target.
//!
//! [`run_device_search`] is a short driver; each phase is one function in its own
//! module:
//!
//! 1. `table`: the latency table is measured (or completed from the run folder's
//!    saved one), children are measured end to end, and the latency model that
//!    predicts held-out children best is chosen (`latency_model.svg` plots it); it is
//!    the feasibility test of both the sampled child and P(V).
//! 2. `target`: without a target, the median measured latency of those children is
//!    used (said so). A target below the fastest child measured fails with that latency
//!    this run measured.
//! 3. `steps`: the core's RL search runs with qualities from the bundle (cached); a
//!    checkpoint is written atomically every few steps, and `resume` continues from it
//!    so that the run ends where an uninterrupted one would.
//! 4. `verify`: the `candidates` most probable feasible children are evaluated on the
//!    validation rows and checked on the device in order of validation loss: a
//!    sequential decision first, then a full measurement for the report; the first that
//!    meets the target is the answer (the paper's answer, the most probable one, is
//!    reported beside it). If none does, the internal target tightens by the miss and
//!    the search continues (reported).
//!
//! The run folder's files are in [`run_folder`], the result's structs in [`report`].

mod error;
mod options;
pub mod report;
pub mod run_folder;

pub use error::{ResumeMismatch, RunError};
pub use options::{
    Applied, DeviceSearchOptions, OverrideError, SearchOverrides, MIN_CHECKPOINT_INTERVAL,
};
mod steps;
mod table;
mod target;
mod verify;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::atomic_file::{read_json, write_json, write_json_compact};
use crate::latency_model::LatencyModel;
use crate::measure::Bench;
use crate::validation_loss::{BundleLosses, LossCacheFile, LossCacheKey};
use crate::{Environment, LatencyProbe};
use tabnas_bundle::Bundle;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::search::RlSearch;
use tabnas_core::space::{Architecture, SearchSpace};
use tabnas_core::target::LatencyTarget;

pub use report::{DeviceResult, TableSummary, Tightening, Timings};
pub use run_folder::{Checkpoint, RunFolder, StepPoint, TraceLog};

/// What the search reports while it runs.
#[derive(Debug, Clone)]
pub enum Progress<'a> {
    /// A table phase: name, item, of.
    Table(&'a str, usize, usize),
    /// A controller step.
    Step(&'a StepPoint, u32),
    /// The controller's per-layer probabilities after a step.
    Policy(&'a tabnas_core::controller::Policy),
    /// The candidates are being checked on the device.
    Verifying,
    /// A message for the user.
    Note(String),
}

/// The hidden widths of `arch`.
fn widths(space: &SearchSpace, arch: &Architecture) -> Vec<u32> {
    (0..arch.len()).map(|l| space.width(arch, l)).collect()
}

/// The latency model of a run and what building it did.
struct MeasuredTable {
    file: crate::latency_table::TableFile,
    model: LatencyModel,
    summary: TableSummary,
    seconds: f64,
}

/// The resolved target and the fastest child.
struct Target {
    target: LatencyTarget,
    source: String,
    /// The fastest child measured end to end.
    fastest: Vec<u32>,
    /// Its measured latency.
    fastest_us: f64,
    /// The lowest internal target a tightening may set: the model's fastest prediction
    /// (below it the model holds no feasible child), and never below `fastest_us`.
    model_floor_us: f64,
}

/// Everything the phases share.
struct Session<'a, 'p> {
    bundle: &'a Bundle,
    bench: Bench<'p>,
    options: &'a DeviceSearchOptions,
    folder: RunFolder,
    space: SearchSpace,
    environment: Environment,
    progress: &'p mut dyn FnMut(Progress<'_>),
    /// When the last checkpoint was written.
    last_save: Instant,
    /// Seconds spent writing checkpoints (trace flush, quality cache, checkpoint).
    save_seconds: f64,
    /// Computed losses (`BundleLosses::misses`) when the quality cache was last saved.
    saved_misses: Option<u64>,
    /// Set from outside to stop at the next step (checkpointed, resumable).
    stop: &'p AtomicBool,
    /// The load averages when the run started.
    load_start: Option<[f64; 3]>,
    /// The run folder is ours while this is held.
    _lock: tabnas_bundle::files::RunLock,
}

/// Runs (or, with `resume`, continues) a device search in `dir`, which it owns (locks)
/// until it returns.
pub fn run_device_search(
    bundle: &Bundle,
    probe: &mut dyn LatencyProbe,
    options: &DeviceSearchOptions,
    dir: &Path,
    resume: bool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<DeviceResult, RunError> {
    let never = AtomicBool::new(false);
    run_device_search_until(bundle, probe, options, dir, resume, progress, &never)
}

/// [`run_device_search`] that ends with [`RunError::Stopped`] at the first step after
/// `stop` is set, with a checkpoint there (so `resume` continues it).
pub fn run_device_search_until(
    bundle: &Bundle,
    probe: &mut dyn LatencyProbe,
    options: &DeviceSearchOptions,
    dir: &Path,
    resume: bool,
    progress: &mut dyn FnMut(Progress<'_>),
    stop: &AtomicBool,
) -> Result<DeviceResult, RunError> {
    options.validate().map_err(RunError::Options)?;
    if resume && !tabnas_bundle::files::name_taken(dir) {
        return Err(RunError::NothingToResume {
            dir: dir.to_path_buf(),
        });
    }
    let folder = RunFolder::create(dir)?;
    let started_before = folder.has_started_run();
    let mut session = Session::open(bundle, probe, options, folder, progress, stop)?;
    // A resume is checked before anything is measured.
    let resumed = session.saved_checkpoint(resume, started_before)?;
    let dir = session.folder.dir.clone();
    let table = session
        .measure_table()
        .map_err(|e| stopped_if_interrupted(e, &dir, 0))?;
    let target = session
        .resolve_target(&table)
        .map_err(|e| stopped_if_interrupted(e, &dir, 0))?;
    let mut quality = session.load_quality()?;
    let fresh = resumed.is_none();
    let mut ck = match resumed {
        Some(ck) => session.resumed_at(ck, &target)?,
        None => session.start(&target)?,
    };
    let mut rl = RlSearch::<DEFAULT_MC_CAPACITY>::from_state(&session.space, ck.state)
        .map_err(RunError::Checkpoint)?;
    let mut log = TraceLog::open(&session.folder.trace(), ck.step)?;
    if fresh {
        // Step 0 is a checkpoint too: a kill from here on resumes.
        session.save(&ck, &quality, &mut log)?;
    }
    let mut verify_s = 0.0;
    loop {
        session.run_steps(&mut rl, &mut ck, &table.model, &mut quality, &mut log)?;
        (session.progress)(Progress::Verifying);
        let outcome = session
            .answer(&rl, &ck, &table, &target, &mut quality)
            .map_err(|e| stopped_if_interrupted(e, &dir, ck.step))?;
        verify_s += outcome.seconds;
        match outcome.verdict {
            verify::Verdict::Meets(answer) => {
                let timings = Timings {
                    table_s: table.seconds,
                    quality_s: ck.quality_seconds,
                    rl_s: ck.step_seconds - ck.quality_seconds,
                    verify_s,
                    checkpoint_s: session.save_seconds,
                };
                let result = session.finish(answer, &table, &target, &ck, &quality, timings)?;
                ck.done = true;
                session.save(&ck, &quality, &mut log)?;
                return Ok(result);
            }
            verify::Verdict::Misses {
                widths,
                measured_us,
            } => {
                session.tighten(&mut ck, &target, widths, measured_us)?;
                session.save(&ck, &quality, &mut log)?;
            }
        }
    }
}

impl<'a, 'p> Session<'a, 'p> {
    /// Takes `folder` (locked until the session ends, stale temporaries of its own
    /// removed), pins the measuring thread when the protocol asks, and readies the
    /// bench with the bundle's reference network.
    fn open(
        bundle: &'a Bundle,
        probe: &'p mut dyn LatencyProbe,
        options: &'a DeviceSearchOptions,
        folder: RunFolder,
        progress: &'p mut dyn FnMut(Progress<'_>),
        stop: &'p AtomicBool,
    ) -> Result<Self, RunError> {
        let lock = folder.lock(&format!(
            "tabnas-agent search of bundle {}",
            bundle.hash.get(..12).unwrap_or(&bundle.hash)
        ))?;
        folder.remove_stale_temporaries();
        if let Some(stale) = &lock.recovered {
            progress(Progress::Note(format!(
                "the run folder's lock was left by a run that did not finish ({stale}); recovered"
            )));
        }
        let environment = Environment::here(probe.runtime(), bundle.hash.clone());
        if let Some(cpu) = options.protocol.pin_cpu {
            crate::pin_current_thread(cpu as usize).map_err(RunError::Pin)?;
        }
        Ok(Session {
            space: bundle.manifest.search_space()?,
            bundle,
            bench: Bench::new(probe, options.protocol, options.seed)
                .with_reference_of(bundle)
                .interrupted_by(stop),
            options,
            folder,
            environment,
            progress,
            last_save: Instant::now(),
            save_seconds: 0.0,
            saved_misses: None,
            stop,
            load_start: crate::load::load_average(),
            _lock: lock,
        })
    }

    /// A resumed checkpoint, when its target is this run's.
    fn resumed_at(&self, ck: Checkpoint, target: &Target) -> Result<Checkpoint, RunError> {
        if ck.target_us != target.target {
            return Err(RunError::ResumeMismatch {
                path: self.folder.checkpoint(),
                what: ResumeMismatch::Invalid(run_folder::CheckpointProblem::OtherTarget {
                    saved_us: ck.target_us.us(),
                    this_us: target.target.us(),
                }),
            });
        }
        Ok(ck)
    }
}

/// A measurement interrupted by the stop request is the search stopped at `step` (the
/// last checkpoint, or none yet at step 0), like a stop between steps.
fn stopped_if_interrupted(e: RunError, dir: &Path, step: u32) -> RunError {
    match e {
        RunError::Measure {
            source: crate::measure::MeasureError::Interrupted,
            ..
        } => RunError::Stopped {
            dir: dir.to_path_buf(),
            step,
        },
        e => e,
    }
}

impl<'a> Session<'a, '_> {
    /// The quality evaluator, with the losses saved in the run folder when they were
    /// computed from this bundle by this runtime with this batch (ignored otherwise).
    fn load_quality(&mut self) -> Result<BundleLosses<'a>, RunError> {
        let options = self.options;
        let mut quality =
            BundleLosses::new(self.bundle, options.quality_cache, options.quality_batch)?;
        let path = self.folder.quality();
        let saved = match read_json::<LossCacheFile>(&path) {
            Ok(saved) => saved,
            Err(e) => {
                (self.progress)(Progress::Note(format!("{e}; the quality cache is ignored")));
                self.folder
                    .set_aside(&["quality_cache.json"], "unused-caches")?;
                None
            }
        };
        if let Some(saved) = saved {
            let key = LossCacheKey {
                bundle_hash: &self.bundle.hash,
                runtime: &self.environment.runtime,
                quality_batch: options.quality_batch,
            };
            match saved.restore_into(&key, &mut quality) {
                Ok(_) => self.saved_misses = Some(0),
                Err(why) => {
                    let kept = self
                        .folder
                        .set_aside(&["quality_cache.json"], "unused-caches")?;
                    (self.progress)(Progress::Note(format!(
                        "{} is not reused: {why}; it was moved to {}",
                        path.display(),
                        kept.display()
                    )));
                }
            }
        }
        Ok(quality)
    }

    /// The checkpoint to continue with `resume`: the saved one, checked against the
    /// bundle and options. A run killed before its first checkpoint starts over (said
    /// so); a folder where no run started is an error.
    fn saved_checkpoint(
        &mut self,
        resume: bool,
        started_before: bool,
    ) -> Result<Option<Checkpoint>, RunError> {
        if !resume {
            return Ok(None);
        }
        let path = self.folder.checkpoint();
        let Some(ck) = read_json::<Checkpoint>(&path)? else {
            if started_before {
                (self.progress)(Progress::Note(
                    "the earlier run stopped before its first checkpoint; starting it over \
                     (saved latency measurements are reused)"
                        .to_string(),
                ));
                return Ok(None);
            }
            return Err(RunError::NothingToResume {
                dir: self.folder.dir.clone(),
            });
        };
        let mismatch = if ck.bundle_hash != self.bundle.hash {
            Some(ResumeMismatch::Bundle)
        } else if ck.options != *self.options {
            // Values that differ with equal JSON forms (a NaN) are shown whole.
            let whole = || run_folder::OptionsDiffer {
                field: "options".to_string(),
                then: format!("{:?}", ck.options),
                now: format!("{:?}", self.options),
            };
            Some(ResumeMismatch::Options(
                run_folder::first_difference(&ck.options, self.options).unwrap_or_else(whole),
            ))
        } else {
            ck.check().err().map(ResumeMismatch::Invalid)
        };
        if let Some(what) = mismatch {
            return Err(RunError::ResumeMismatch { path, what });
        }
        (self.progress)(Progress::Note(format!(
            "resuming at step {} of {}",
            ck.step, ck.planned_steps
        )));
        Ok(Some(ck))
    }

    /// A fresh checkpoint; an earlier run's files are moved aside first, never
    /// overwritten.
    fn start(&mut self, target: &Target) -> Result<Checkpoint, RunError> {
        if let Some(p) = read_json::<Checkpoint>(&self.folder.checkpoint())? {
            let keep = self.folder.keep_previous(&p)?;
            (self.progress)(Progress::Note(format!(
                "the earlier run in this folder was moved to {}",
                keep.display()
            )));
        }
        let rl = RlSearch::<DEFAULT_MC_CAPACITY>::new(&self.space, self.options.settings)
            .map_err(RunError::Settings)?;
        Ok(Checkpoint {
            format: Checkpoint::FORMAT,
            bundle_hash: self.bundle.hash.clone(),
            options: self.options.clone(),
            target_us: target.target,
            target_source: target.source.clone(),
            internal_target_us: target.target,
            step: 0,
            planned_steps: self.options.steps,
            state: *rl.state(),
            rng: tabnas_core::rng::search_rng(self.options.seed),
            tightenings: Vec::new(),
            step_seconds: 0.0,
            quality_seconds: 0.0,
            done: false,
        })
    }

    /// Saves the trace, the quality cache (when it gained losses) and the checkpoint
    /// (in that order, so the checkpoint never refers to steps that are not on disk).
    fn save(
        &mut self,
        ck: &Checkpoint,
        quality: &BundleLosses<'_>,
        log: &mut TraceLog,
    ) -> Result<(), RunError> {
        let started = Instant::now();
        log.sync()?;
        if self.saved_misses != Some(quality.misses) {
            let key = LossCacheKey {
                bundle_hash: &self.bundle.hash,
                runtime: &self.environment.runtime,
                quality_batch: self.options.quality_batch,
            };
            let file = LossCacheFile::of(&key, quality);
            write_json_compact(&self.folder.quality(), &file)?;
            self.saved_misses = Some(quality.misses);
        }
        write_json(&self.folder.checkpoint(), ck)?;
        self.save_seconds += started.elapsed().as_secs_f64();
        self.last_save = Instant::now();
        Ok(())
    }
}
