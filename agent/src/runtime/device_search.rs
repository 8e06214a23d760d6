//! The search on the device under a measured latency target.
//!
//! 1. The latency table is measured (or completed from the run folder's saved one) and
//!    calibrated; it is the feasibility test of both the sampled child and P(V).
//! 2. Without a target, the predicted latency of the median child is used (said so). A
//!    target below the fastest child fails with the fastest achievable latency.
//! 3. The core's RL search runs with qualities from the bundle (cached); a checkpoint
//!    is written atomically every few steps, and `resume` continues from it so that the
//!    run ends where an uninterrupted one would.
//! 4. The most probable feasible child is checked on the device: a sequential decision
//!    first, then a full measurement for the report. If it misses the target, the
//!    internal target tightens by the miss and the search continues (reported).

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::checkpoint::{read_json, write_atomic, write_json};
use super::latency_table::{build_table, fastest_child, TableFile, TableWork};
use super::quality::{BundleQuality, CachedLoss};
use super::{decide, measure, Decision, Environment, LatencyProbe, Measurement};
use crate::bundle::{build_model, encode_model, Bundle, NetShape};
use crate::capacity::DEFAULT_MC_CAPACITY;
use crate::cost::{Calibration, CostModel};
use crate::feasibility::Feasibility;
use crate::protocol::Protocol;
use crate::rng::search_rng;
use crate::search::{RlSearch, SearchSettings, SearchState, StepKind};
use crate::space::{Architecture, SearchSpace};

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
    pub protocol: Protocol,
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
}

/// A failed search, with a message that says what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct RunError(pub String);

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunError {}

fn fail<E: std::fmt::Display>(context: &str) -> impl Fn(E) -> RunError + '_ {
    move |e| RunError(format!("{context}: {e}"))
}

/// Files of a run folder.
#[derive(Debug, Clone)]
pub struct RunFolder {
    /// The folder.
    pub dir: PathBuf,
}

impl RunFolder {
    /// `latency_table.json`.
    pub fn table(&self) -> PathBuf {
        self.dir.join("latency_table.json")
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
}

/// The append-only step trace of a run folder.
struct TraceLog {
    file: std::io::BufWriter<std::fs::File>,
}

impl TraceLog {
    /// Opens the trace keeping its first `keep` lines (those of the checkpoint).
    fn open(path: &Path, keep: u32) -> Result<(Self, Vec<StepPoint>), RunError> {
        let mut kept = Vec::new();
        if keep > 0 {
            let text = std::fs::read_to_string(path)
                .map_err(fail(&format!("cannot read {}", path.display())))?;
            for (i, line) in text.lines().take(keep as usize).enumerate() {
                kept.push(
                    serde_json::from_str(line)
                        .map_err(|e| RunError(format!("{} line {}: {e}", path.display(), i + 1)))?,
                );
            }
            if kept.len() < keep as usize {
                return Err(RunError(format!(
                    "{} has {} steps, the checkpoint needs {keep}",
                    path.display(),
                    kept.len()
                )));
            }
        }
        let mut file = std::fs::File::create(path)
            .map_err(fail(&format!("cannot write {}", path.display())))?;
        for p in &kept {
            use std::io::Write;
            let line = serde_json::to_string(p).map_err(fail("trace"))?;
            writeln!(file, "{line}").map_err(fail("trace"))?;
        }
        Ok((
            Self {
                file: std::io::BufWriter::new(file),
            },
            kept,
        ))
    }

    fn push(&mut self, p: &StepPoint) -> Result<(), RunError> {
        use std::io::Write;
        let line = serde_json::to_string(p).map_err(fail("trace"))?;
        writeln!(self.file, "{line}").map_err(fail("trace"))
    }

    fn sync(&mut self) -> Result<(), RunError> {
        use std::io::Write;
        self.file.flush().map_err(fail("trace"))?;
        self.file.get_ref().sync_all().map_err(fail("trace"))
    }
}

/// One controller step as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepPoint {
    /// Step (1-based).
    pub step: u32,
    /// Sampled widths.
    pub arch: Vec<u32>,
    /// Predicted latency (calibrated table).
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

/// A tightening after the chosen child missed the target on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tightening {
    /// Step at which it happened.
    pub step: u32,
    /// The child that missed.
    pub widths: Vec<u32>,
    /// Its measured statistic.
    pub measured_us: f64,
    /// The internal target before.
    pub old_target_us: f64,
    /// The internal target after.
    pub new_target_us: f64,
}

/// Everything needed to continue a search exactly.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format (1).
    pub format: u32,
    /// Bundle it belongs to.
    pub bundle_hash: String,
    /// Options it was started with (resolved target included).
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

/// Wall time of the phases.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Measuring and calibrating the table.
    pub table_s: f64,
    /// Computing child losses (cache misses).
    pub quality_s: f64,
    /// Controller work and cache hits.
    pub rl_s: f64,
    /// Re-measuring the answer.
    pub verify_s: f64,
}

/// The table part of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    /// Blocks measured in this run.
    pub measured_blocks: usize,
    /// Blocks reused from the run folder.
    pub reused_blocks: usize,
    /// Fixed overhead.
    pub overhead_us: f64,
    /// Calibration.
    pub calibration: Calibration,
    /// Held-out mean absolute percentage error.
    pub holdout_mape: f64,
    /// Held-out worst error.
    pub holdout_max_error_us: f64,
}

/// `result.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceResult {
    /// Hidden widths of the answer.
    pub architecture: Vec<u32>,
    /// Its measured latency statistic.
    pub latency_us: f64,
    /// The target.
    pub target_us: f64,
    /// Where the target came from.
    pub target_source: String,
    /// True if the measured statistic meets the target.
    pub feasible: bool,
    /// Validation loss with the shared weights.
    pub validation_loss: f64,
    /// Dense parameters.
    pub params: u64,
    /// Predicted latency (calibrated table).
    pub predicted_latency_us: f64,
    /// Its probability under the final controller.
    pub probability: f64,
    /// The full measurement (distribution of the timed runs).
    pub latency: Measurement,
    /// The sequential feasibility check that preceded it.
    pub decision: Decision,
    /// The protocol.
    pub protocol: Protocol,
    /// Fastest child and its predicted latency.
    pub fastest: (Vec<u32>, f64),
    /// Tightenings.
    pub tightenings: Vec<Tightening>,
    /// Controller steps (P(V) trace).
    pub trace: Vec<StepPoint>,
    /// Controller settings.
    pub settings: SearchSettings,
    /// Seed.
    pub seed: u64,
    /// Steps run.
    pub steps: u32,
    /// Machine and software.
    pub environment: Environment,
    /// The latency table.
    pub table: TableSummary,
    /// Quality cache hits and misses.
    pub quality_cache: (u64, u64),
    /// Phase wall times.
    pub timings: Timings,
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

fn widths(space: &SearchSpace, arch: &Architecture) -> Vec<u32> {
    (0..arch.len()).map(|l| space.width(arch, l)).collect()
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
    options.protocol.validate().map_err(fail("board profile"))?;
    if options.steps == 0 {
        return Err(RunError("--steps must be at least 1".into()));
    }
    let folder = RunFolder {
        dir: dir.to_path_buf(),
    };
    std::fs::create_dir_all(dir).map_err(fail(&format!("cannot create {}", dir.display())))?;
    let environment = Environment::here(probe.runtime(), bundle.hash.clone());
    if let Some(cpu) = options.protocol.pin_cpu {
        super::pin_current_thread(cpu as usize).map_err(RunError)?;
    }
    let space = bundle.manifest.search_space().map_err(fail("bundle"))?;

    // 1. The latency table.
    let started = Instant::now();
    let saved: Option<TableFile> = read_json(&folder.table()).map_err(RunError)?;
    if let Some(t) = &saved {
        t.check(bundle).map_err(|e| {
            RunError(format!(
                "{} cannot be reused: {e}; use another --out",
                folder.table().display()
            ))
        })?;
    }
    let had_table = saved.is_some();
    let (table_file, work): (TableFile, TableWork) = build_table(
        probe,
        bundle,
        &options.protocol,
        options.calibration_children,
        options.seed,
        saved,
        environment.clone(),
        |phase, k, n| progress(Progress::Table(phase, k, n)),
    )
    .map_err(fail("measuring the latency table"))?;
    if !had_table || work.measured_blocks > 0 || work.calibration_children > 0 {
        write_json(&folder.table(), &table_file).map_err(RunError)?;
    }
    let table = table_file.table(&space).map_err(RunError)?;
    let table_s = started.elapsed().as_secs_f64();
    let report = table_file.report.clone();
    progress(Progress::Note(format!(
        "latency table: {} blocks measured, {} reused; held-out MAPE {:.1}%, worst error {:.1} us",
        work.measured_blocks,
        work.reused_blocks,
        100.0 * report.as_ref().map_or(f64::NAN, |r| r.holdout_mape),
        report.as_ref().map_or(f64::NAN, |r| r.holdout_max_error_us)
    )));

    // 2. The target.
    let (fastest, fastest_us) = fastest_child(&space, &table);
    let (target_us, target_source) = match options.target_us {
        Some(t) => (t, "given".to_string()),
        None => {
            let mut median = Architecture::with_len(space.num_layers());
            for l in 0..space.num_layers() {
                median.set_choice(l, space.num_choices(l) / 2);
            }
            let t = table.cost(&space, &median);
            (
                t,
                format!(
                    "derived: the predicted latency of the median child {:?}",
                    widths(&space, &median)
                ),
            )
        }
    };
    if !(target_us.is_finite() && target_us > 0.0) {
        return Err(RunError(format!(
            "the target must be a positive number of microseconds, got {target_us}"
        )));
    }
    if target_us < fastest_us {
        return Err(RunError(format!(
            "target {target_us:.1} us is below the fastest child: {:?} is predicted at {fastest_us:.1} us; \
             the fastest achievable latency on this device is about {fastest_us:.1} us",
            widths(&space, &fastest)
        )));
    }
    if options.target_us.is_none() {
        progress(Progress::Note(format!(
            "no target given: using {target_us:.1} us ({target_source})"
        )));
    }

    // 3. The controller, fresh or from the checkpoint.
    let mut quality = BundleQuality::new(bundle, options.quality_cache, options.quality_batch)
        .map_err(fail("quality"))?;
    if let Some(cached) = read_json::<Vec<CachedLoss>>(&folder.quality()).map_err(RunError)? {
        for c in cached {
            quality.cache.insert(c.index, c.loss);
        }
    }
    let previous: Option<Checkpoint> = read_json(&folder.checkpoint()).map_err(RunError)?;
    let mut ck = match (resume, previous) {
        (true, Some(ck)) => {
            if ck.bundle_hash != bundle.hash {
                return Err(RunError(format!(
                    "{} belongs to another bundle; resume it with that bundle",
                    folder.checkpoint().display()
                )));
            }
            if ck.options != *options {
                return Err(RunError(format!(
                    "{} was started with other options; resume with the same flags and profile",
                    folder.checkpoint().display()
                )));
            }
            progress(Progress::Note(format!(
                "resuming at step {} of {}",
                ck.step, ck.planned_steps
            )));
            ck
        }
        (true, None) => {
            return Err(RunError(format!(
                "--resume: {} has no checkpoint",
                folder.dir.display()
            )))
        }
        (false, previous) => {
            if let Some(p) = previous {
                // Keep the earlier run's state: move it aside, never overwrite it.
                let keep = folder.dir.join(format!("previous-{:.0}us", p.target_us));
                std::fs::create_dir_all(&keep).map_err(fail("cannot keep the previous run"))?;
                for f in [
                    folder.checkpoint(),
                    folder.result(),
                    folder.best(),
                    folder.trace(),
                ] {
                    if f.exists() {
                        let to = keep.join(f.file_name().expect("file"));
                        std::fs::rename(&f, &to).map_err(fail("cannot keep the previous run"))?;
                    }
                }
                progress(Progress::Note(format!(
                    "the earlier run in this folder was moved to {}",
                    keep.display()
                )));
            }
            let rl = RlSearch::<DEFAULT_MC_CAPACITY>::new(&space, options.settings)
                .map_err(fail("settings"))?;
            Checkpoint {
                format: 1,
                bundle_hash: bundle.hash.clone(),
                options: options.clone(),
                target_us,
                target_source: target_source.clone(),
                internal_target_us: target_us,
                step: 0,
                planned_steps: options.steps,
                state: *rl.state(),
                rng: search_rng(options.seed),
                tightenings: Vec::new(),
                step_seconds: 0.0,
                quality_seconds: 0.0,
                done: false,
            }
        }
    };
    let mut rl = RlSearch::<DEFAULT_MC_CAPACITY>::from_state(&space, ck.state)
        .map_err(fail("checkpoint"))?;
    let (mut log, mut trace) = TraceLog::open(&folder.trace(), ck.step)?;
    let save = |ck: &Checkpoint,
                quality: &BundleQuality<'_>,
                log: &mut TraceLog|
     -> Result<(), RunError> {
        log.sync()?;
        write_json(&folder.quality(), &quality.cache.entries(&space)).map_err(RunError)?;
        write_json(&folder.checkpoint(), ck).map_err(RunError)
    };

    // 3-4. Steps, verification, tightening.
    let mut verify_s = 0.0;
    let every = options.checkpoint_every.max(1);
    loop {
        let feasibility =
            Feasibility::new(&space, &table, ck.internal_target_us).map_err(fail("target"))?;
        while ck.step < ck.planned_steps {
            let t = Instant::now();
            let q0 = quality.seconds;
            let r = rl
                .step(&mut ck.rng, &feasibility, &mut quality)
                .map_err(fail("search step"))?;
            ck.step_seconds += t.elapsed().as_secs_f64();
            ck.quality_seconds += quality.seconds - q0;
            ck.step += 1;
            trace.push(StepPoint {
                step: ck.step,
                arch: widths(&space, &r.arch),
                predicted_us: r.cost,
                kind: r.kind,
                loss: r.loss,
                pv: r.pv.map(|p| p.value),
                mc_feasible_fraction: r.mc_feasible_fraction,
                target_us: ck.internal_target_us,
            });
            let point = trace.last().expect("just pushed");
            log.push(point)?;
            ck.state = *rl.state();
            if ck.step % every == 0 || ck.step == ck.planned_steps {
                save(&ck, &quality, &mut log)?;
            }
            progress(Progress::Step(point, ck.planned_steps));
        }
        let choice = rl.final_choice(&feasibility);
        let Some(chosen) = choice.feasible else {
            return Err(RunError(format!(
                "no child is predicted to meet {:.1} us; the fastest is predicted at {fastest_us:.1} us",
                ck.internal_target_us
            )));
        };
        let w: Vec<usize> = (0..chosen.arch.len())
            .map(|l| space.width(&chosen.arch, l) as usize)
            .collect();
        let model = bundle.child_model(&w).map_err(fail("child"))?;
        let t = Instant::now();
        let shape = NetShape::of(&bundle.manifest);
        let decision = decide(probe, &model, shape, &options.protocol, ck.target_us)
            .map_err(fail("measuring the answer"))?;
        // A full measurement follows either way: for the report when the decision says
        // feasible, and to confirm a miss (with the protocol's retries of noisy runs)
        // before tightening, so one noisy burst does not change the search.
        let full = Some(
            measure(probe, &model, shape, &options.protocol)
                .map_err(fail("measuring the answer"))?,
        );
        verify_s += t.elapsed().as_secs_f64();
        let measured_us = full.as_ref().map_or(decision.latency_us, |m| m.latency_us);
        if let Some(latency) = full.filter(|m| m.latency_us <= ck.target_us) {
            // Done: the answer meets the target under the recorded protocol.
            std::fs::create_dir_all(dir).map_err(fail("run folder"))?;
            let bytes = encode_model(
                &build_model(
                    &bundle.manifest,
                    &bundle
                        .weights
                        .child(&bundle.manifest, &w)
                        .map_err(fail("child"))?,
                )
                .map_err(fail("child"))?,
            );
            write_atomic(&folder.best(), &bytes).map_err(RunError)?;
            let validation_loss = match quality.cache.get(space.index_of(&chosen.arch)) {
                Some(l) => l,
                None => quality.compute(&w).map_err(fail("validation loss"))?,
            };
            let report = table_file.report.clone();
            let result = DeviceResult {
                architecture: w.iter().map(|&x| x as u32).collect(),
                latency_us: latency.latency_us,
                target_us: ck.target_us,
                target_source: ck.target_source.clone(),
                feasible: true,
                validation_loss,
                params: bundle.manifest.dense_params(&w),
                predicted_latency_us: chosen.cost,
                probability: chosen.prob,
                latency,
                decision,
                protocol: options.protocol,
                fastest: (widths(&space, &fastest), fastest_us),
                tightenings: ck.tightenings.clone(),
                trace: trace.clone(),
                settings: options.settings,
                seed: options.seed,
                steps: ck.step,
                environment: environment.clone(),
                table: TableSummary {
                    measured_blocks: work.measured_blocks,
                    reused_blocks: work.reused_blocks,
                    overhead_us: table_file.overhead_us,
                    calibration: table_file.calibration,
                    holdout_mape: report.as_ref().map_or(f64::NAN, |r| r.holdout_mape),
                    holdout_max_error_us: report
                        .as_ref()
                        .map_or(f64::NAN, |r| r.holdout_max_error_us),
                },
                quality_cache: (quality.hits, quality.misses),
                timings: Timings {
                    table_s,
                    quality_s: ck.quality_seconds,
                    rl_s: ck.step_seconds - ck.quality_seconds,
                    verify_s,
                },
            };
            write_json(&folder.result(), &result).map_err(RunError)?;
            ck.done = true;
            save(&ck, &quality, &mut log)?;
            return Ok(result);
        }
        // The answer missed the target on the device: tighten and continue.
        if ck.tightenings.len() as u32 >= options.max_tightenings {
            return Err(RunError(format!(
                "the chosen child {w:?} measured {measured_us:.1} us > target {:.1} us after {} tightenings; \
                 the table is too optimistic here: rerun with a higher target or more calibration children",
                ck.target_us,
                ck.tightenings.len()
            )));
        }
        let old = ck.internal_target_us;
        // Tighten by the miss, but never below the fastest child: at that target the
        // search can only return the fastest child, and if even that misses, fail.
        let new = (old * (ck.target_us / measured_us) * 0.99).max(fastest_us);
        if old <= fastest_us {
            return Err(RunError(format!(
                "even the fastest child {w:?} measured {measured_us:.1} us > target {:.1} us here; \
                 the fastest achievable latency on this device is about {measured_us:.1} us",
                ck.target_us
            )));
        }
        progress(Progress::Note(format!(
            "{w:?} measured {measured_us:.1} us > target {:.1} us on the device: tightening the search \
             target from {old:.1} to {new:.1} us and continuing",
            ck.target_us
        )));
        ck.tightenings.push(Tightening {
            step: ck.step,
            widths: w.iter().map(|&x| x as u32).collect(),
            measured_us,
            old_target_us: old,
            new_target_us: new,
        });
        ck.internal_target_us = new;
        ck.planned_steps += (options.steps / 4).max(1);
        save(&ck, &quality, &mut log)?;
    }
}
