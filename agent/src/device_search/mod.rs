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
//!    used (said so). A target below the fastest child fails with the fastest latency
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

pub mod report;
pub mod run_folder;
mod steps;
mod table;
mod target;
mod verify;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic_file::{read_json, write_json};
use crate::error::RunError;
use crate::latency_model::LatencyModel;
use crate::measure::Bench;
use crate::quality::{BundleQuality, CachedLoss};
use crate::{Environment, LatencyProbe};
use tabnas_bundle::Bundle;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::search::{RlSearch, SearchSettings};
use tabnas_core::space::{Architecture, SearchSpace};

pub use report::{DeviceResult, TableSummary, Tightening, Timings};
pub use run_folder::{Checkpoint, RunFolder, StepPoint, TraceLog};

/// What a device search runs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceSearchOptions {
    /// Latency target in microseconds (derived from the space when absent).
    pub target_us: Option<f64>,
    /// Controller settings.
    pub settings: SearchSettings,
    /// RL steps.
    pub steps: u32,
    /// Seed of the controller and the calibration sample.
    pub seed: u64,
    /// Measurement protocol.
    pub protocol: MeasurementProtocol,
    /// Children measured end to end to calibrate the table.
    pub calibration_children: usize,
    /// Steps between checkpoints.
    pub checkpoint_every: u32,
    /// Tightenings allowed before giving up.
    pub max_tightenings: u32,
    /// Rows per quality inference.
    pub quality_batch: usize,
    /// Losses the quality cache keeps.
    pub quality_cache: usize,
    /// The largest held-out error a latency model may have to be used.
    pub max_model_error: f64,
    /// A space of at most this many children is also measured child by child, and that
    /// measurement competes with the fitted models.
    pub max_direct_children: u64,
    /// Most probable feasible children evaluated for the answer (1: the paper's).
    pub candidates: usize,
}

/// What the search reports while it runs.
#[derive(Debug, Clone)]
pub enum Progress<'a> {
    /// A table phase: name, item, of.
    Table(&'a str, usize, usize),
    /// A controller step.
    Step(&'a StepPoint, u32),
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
    target_us: f64,
    source: String,
    fastest: Vec<u32>,
    fastest_us: f64,
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
}

/// Runs (or, with `resume`, continues) a device search in `dir`.
pub fn run_device_search(
    bundle: &Bundle,
    probe: &mut dyn LatencyProbe,
    options: &DeviceSearchOptions,
    dir: &Path,
    resume: bool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<DeviceResult, RunError> {
    options.protocol.validate().map_err(RunError::Protocol)?;
    if options.steps == 0 {
        return Err(RunError::ZeroSteps);
    }
    let folder = RunFolder::create(dir)?;
    let environment = Environment::here(probe.runtime(), bundle.hash.clone());
    if let Some(cpu) = options.protocol.pin_cpu {
        crate::pin_current_thread(cpu as usize).map_err(RunError::Pin)?;
    }
    let mut session = Session {
        space: bundle.manifest.search_space()?,
        bundle,
        bench: Bench::new(probe, options.protocol, options.seed),
        options,
        folder,
        environment,
        progress,
    };
    let table = session.measure_table()?;
    let target = session.resolve_target(&table)?;
    let mut quality = session.load_quality()?;
    let mut ck = session.start_or_resume(resume, &target)?;
    let mut rl = RlSearch::<DEFAULT_MC_CAPACITY>::from_state(&session.space, ck.state)
        .map_err(RunError::Checkpoint)?;
    let (mut log, mut trace) = TraceLog::open(&session.folder.trace(), ck.step)?;
    let mut verify_s = 0.0;
    loop {
        session.run_steps(
            &mut rl,
            &mut ck,
            &table.model,
            &mut quality,
            &mut log,
            &mut trace,
        )?;
        let outcome = session.verify_answer(&rl, &ck, &table.model, &target, &mut quality)?;
        verify_s += outcome.seconds;
        match outcome.verdict {
            verify::Verdict::Meets(answer) => {
                let timings = Timings {
                    table_s: table.seconds,
                    quality_s: ck.quality_seconds,
                    rl_s: ck.step_seconds - ck.quality_seconds,
                    verify_s,
                };
                let result =
                    session.finish(answer, &table, &target, &ck, &quality, trace, timings)?;
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

impl<'a> Session<'a, '_> {
    /// The quality evaluator, with the losses saved in the run folder.
    fn load_quality(&self) -> Result<BundleQuality<'a>, RunError> {
        let options = self.options;
        let mut quality =
            BundleQuality::new(self.bundle, options.quality_cache, options.quality_batch)?;
        if let Some(cached) = read_json::<Vec<CachedLoss>>(&self.folder.quality())? {
            for c in cached {
                quality.cache.insert(c.index, c.loss);
            }
        }
        Ok(quality)
    }

    /// The checkpoint to continue: the saved one with `resume`, else a fresh one (the
    /// earlier run's files moved aside first).
    fn start_or_resume(&mut self, resume: bool, target: &Target) -> Result<Checkpoint, RunError> {
        let path = self.folder.checkpoint();
        let previous: Option<Checkpoint> = read_json(&path)?;
        match (resume, previous) {
            (true, Some(ck)) => {
                let mismatch = if ck.bundle_hash != self.bundle.hash {
                    Some(crate::error::ResumeMismatch::Bundle)
                } else if ck.options != *self.options {
                    Some(crate::error::ResumeMismatch::Options)
                } else {
                    None
                };
                if let Some(what) = mismatch {
                    return Err(RunError::ResumeMismatch { path, what });
                }
                (self.progress)(Progress::Note(format!(
                    "resuming at step {} of {}",
                    ck.step, ck.planned_steps
                )));
                Ok(ck)
            }
            (true, None) => Err(RunError::NothingToResume {
                dir: self.folder.dir.clone(),
            }),
            (false, previous) => {
                if let Some(p) = previous {
                    // Keep the earlier run's state: move it aside, never overwrite it.
                    let keep = self.folder.keep_previous(&p)?;
                    (self.progress)(Progress::Note(format!(
                        "the earlier run in this folder was moved to {}",
                        keep.display()
                    )));
                }
                let rl = RlSearch::<DEFAULT_MC_CAPACITY>::new(&self.space, self.options.settings)
                    .map_err(RunError::Settings)?;
                Ok(Checkpoint {
                    format: 1,
                    bundle_hash: self.bundle.hash.clone(),
                    options: self.options.clone(),
                    target_us: target.target_us,
                    target_source: target.source.clone(),
                    internal_target_us: target.target_us,
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
        }
    }

    /// Saves the trace, the quality cache and the checkpoint (in that order, so the
    /// checkpoint never refers to steps that are not on disk).
    fn save(
        &self,
        ck: &Checkpoint,
        quality: &BundleQuality<'_>,
        log: &mut TraceLog,
    ) -> Result<(), RunError> {
        log.sync()?;
        write_json(&self.folder.quality(), &quality.cache.entries(&self.space))?;
        write_json(&self.folder.checkpoint(), ck)?;
        Ok(())
    }
}
