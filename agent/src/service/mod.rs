//! The agent as a service: one search at a time on this board, driven and read over the
//! wire protocol (serial, [`serial`]) and HTTP ([`http`]); both call the same
//! [`Service`], so they answer alike.
//!
//! Guarantees: every request gets an answer (an error names what is wrong); requests that
//! change something (start, stop, measure) over HTTP need the bearer token; a new search
//! never overwrites an earlier one's files (the run folder keeps them aside); reads never
//! wait for a running search (they see its latest progress).

pub mod http;
pub mod live;
pub mod serial;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tabnas_bundle::{Bundle, NetShape};
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::formats::board::BoardConfig;
use tabnas_core::formats::search_config::{Resource, SearchConfig};
use tabnas_core::protocol::{
    Best, BestSummary, BoardInfo, ErrorCode, LayerChoices, MeasurementRecord, Phase, Request,
    Status, TableChunk, WireWidths, MAX_ONNX_CHUNK, MAX_TABLE_CHUNK,
};
use tabnas_core::target::LatencyTarget;
use tabnas_link::{Reply, StartBody, TableJson};

use crate::atomic_file::{read_json, write_json};
use crate::device_search::{
    run_device_search_until, DeviceSearchOptions, Progress, RunError, RunFolder, SearchOverrides,
};
use crate::latency_table::{build_table, saved_table, SavedTable, TableFile};
use crate::measure::{Bench, Net};
use crate::{Environment, LatencyProbe};

pub use live::Live;

/// A running search publishes its progress to readers at most this often.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(100);

/// Why a request was not done: the protocol's code and a sentence for people.
pub type Refusal = (ErrorCode, String);

/// A probe the search thread can take.
pub type SharedProbe = Box<dyn LatencyProbe + Send>;

/// One board's service.
pub struct Service {
    bundle: Arc<Bundle>,
    profile: BoardConfig,
    runtime: String,
    run_dir: PathBuf,
    probe: Arc<Mutex<SharedProbe>>,
    /// The latest published snapshot: readers take the `Arc` and let go of the lock at
    /// once, so polling clients never hold up the search.
    live: Arc<Mutex<Arc<Live>>>,
    stop: Arc<AtomicBool>,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// The latency table in its wire form, once loaded or measured (chunks are cut
    /// from it without converting it again).
    table: Mutex<Option<Arc<TableJson>>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("board", &self.profile.name)
            .field("runtime", &self.runtime)
            .field("run_dir", &self.run_dir)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves plain data behind; keep serving it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn refuse(code: ErrorCode, why: impl Into<String>) -> Refusal {
    (code, why.into())
}

/// The answer of the finished search in `dir` when it searched this bundle: its report
/// and model (an agent restarted after a search serves its answer again).
fn finished_run(dir: &Path, bundle_hash: &str) -> Option<(crate::DeviceResult, Vec<u8>)> {
    let result: crate::DeviceResult = read_json(&dir.join("result.json")).ok().flatten()?;
    if result.environment.bundle_hash != bundle_hash {
        return None;
    }
    let onnx = std::fs::read(dir.join("best.onnx")).ok()?;
    Some((result, onnx))
}

/// A saved table in the protocol's form.
fn wire_table(t: &TableFile) -> TableJson {
    TableJson {
        total: t.blocks.len().min(u16::MAX as usize) as u16,
        overhead_us: t.overhead_us as f32,
        scale: t.calibration.scale as f32,
        offset_us: t.calibration.offset_us as f32,
        entries: t
            .blocks
            .iter()
            .map(|b| tabnas_core::protocol::TableEntry {
                block: b.block as u8,
                in_choice: b.in_choice as u8,
                out_choice: b.out_choice as u8,
                latency_us: b.latency_us as f32,
            })
            .collect(),
    }
}

/// Whether a search is under way in `phase`.
pub fn is_running(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Measuring | Phase::Searching | Phase::Verifying
    )
}

impl Service {
    /// Serves `bundle` on this board as `profile` describes, measuring with `probe`;
    /// searches run in `run_dir/search`.
    pub fn new(bundle: Bundle, profile: BoardConfig, probe: SharedProbe, run_dir: &Path) -> Self {
        let runtime = probe.runtime();
        let mut live = Live::default();
        if let Some((result, onnx)) = finished_run(&run_dir.join("search"), &bundle.hash) {
            live.finish(result, onnx);
        }
        Self {
            bundle: Arc::new(bundle),
            profile,
            runtime,
            run_dir: run_dir.to_path_buf(),
            probe: Arc::new(Mutex::new(probe)),
            live: Arc::new(Mutex::new(Arc::new(live))),
            stop: Arc::new(AtomicBool::new(false)),
            worker: Mutex::new(None),
            table: Mutex::new(None),
        }
    }

    /// The folder searches run in.
    pub fn search_dir(&self) -> PathBuf {
        self.run_dir.join("search")
    }

    /// The latest snapshot of the live state (at most [`PUBLISH_EVERY`] old while a
    /// search runs).
    pub fn live(&self) -> Arc<Live> {
        lock(&self.live).clone()
    }

    /// The board profile served.
    pub fn profile(&self) -> &BoardConfig {
        &self.profile
    }

    /// Whether a search thread is running.
    pub fn running(&self) -> bool {
        lock(&self.worker)
            .as_ref()
            .is_some_and(|h| !h.is_finished())
    }

    /// Who answers.
    pub fn info(&self) -> BoardInfo {
        let m = &self.bundle.manifest;
        let short = |s: &str, n: usize| tabnas_link::reply::cut_at_char(s, n).to_string();
        BoardInfo {
            board: short(&self.profile.name, 32)
                .as_str()
                .try_into()
                .unwrap_or_default(),
            runtime: short(&self.runtime, 32)
                .as_str()
                .try_into()
                .unwrap_or_default(),
            bundle: short(&self.bundle.hash, 16)
                .as_str()
                .try_into()
                .unwrap_or_default(),
            input_width: m.inputs.dense_width() as u32,
            outputs: NetShape::of(m).outputs as u16,
            space: m
                .space
                .iter()
                .map(|layer| {
                    layer
                        .iter()
                        .map(|&w| w.min(u16::MAX as u32) as u16)
                        .collect::<LayerChoices>()
                })
                .collect(),
        }
    }

    /// The search's phase and progress.
    pub fn status(&self) -> Status {
        self.status_of(&self.live())
    }

    /// The status `live` shows.
    pub fn status_of(&self, live: &Live) -> Status {
        Status {
            phase: live.phase,
            step: live.step,
            steps: live.steps,
            target_us: live.target_us as f32,
            best: self.best_of(live).map(|b| b.summary),
        }
    }

    /// The best architecture `live` shows ([`Service::best`]).
    pub fn best_of(&self, live: &Live) -> Option<Best> {
        let widths = |w: &[u32]| w.iter().map(|&w| w.min(u16::MAX as u32) as u16).collect();
        let running = is_running(live.phase);
        // While a new search runs, its own best so far; the last finished answer again
        // when it ends without one of its own (stopped, failed).
        let finished = live.finished.as_ref().filter(|_| !running);
        if let Some(f) = finished {
            let r = &f.result;
            return Some(Best {
                summary: BestSummary {
                    widths: widths(&r.architecture),
                    latency_us: r.latency_us as f32,
                    validation_loss: r.validation_loss as f32,
                },
                record: Some(MeasurementRecord {
                    latency_us: r.latency.latency_us as f32,
                    samples: r.latency.samples_us.len() as u32,
                    cv: r.latency.cv as f32,
                }),
                onnx_bytes: f.onnx.len() as u32,
            });
        }
        live.best_so_far.as_ref().map(|(w, us, loss)| Best {
            summary: BestSummary {
                widths: widths(w),
                latency_us: *us as f32,
                validation_loss: *loss as f32,
            },
            record: None,
            onnx_bytes: 0,
        })
    }

    /// The best architecture: while a search runs, the best feasible child it evaluated
    /// so far (predicted latency, no record, no model); otherwise the last finished
    /// search's answer.
    pub fn best(&self) -> Result<Best, Refusal> {
        self.best_of(&self.live()).ok_or_else(|| {
            refuse(
                ErrorCode::NoResult,
                "no search has produced an answer yet; start one",
            )
        })
    }

    /// The finished answer's model; none while a search runs (its best so far has no
    /// model yet, and `Best` describes that one).
    pub fn best_onnx(&self) -> Result<Arc<Vec<u8>>, Refusal> {
        let live = self.live();
        if is_running(live.phase) {
            return Err(refuse(
                ErrorCode::NoResult,
                "a search is running; its answer's model comes when it ends",
            ));
        }
        live.finished
            .as_ref()
            .map(|f| f.onnx.clone())
            .ok_or_else(|| {
                refuse(
                    ErrorCode::NoResult,
                    "no search has finished yet, so there is no best model",
                )
            })
    }

    fn onnx_chunk(&self, offset: u32) -> Reply {
        match self.best_onnx() {
            Ok(model) => {
                let start = offset as usize;
                if start > model.len() {
                    return Reply::error(
                        ErrorCode::BadRequest,
                        format!("offset {offset} is past the model's {} bytes", model.len()),
                    );
                }
                let end = (start + MAX_ONNX_CHUNK).min(model.len());
                Reply::OnnxChunk {
                    offset,
                    total: model.len() as u32,
                    bytes: model[start..end].to_vec(),
                }
            }
            Err((code, why)) => Reply::error(code, why),
        }
    }

    /// The search folder's latency table when it was measured for this bundle,
    /// protocol and runtime, else one measured now (not while a search runs).
    ///
    /// Measuring takes the board for a while and writes the run folder, so it happens
    /// only when `may_measure` (a token holder over HTTP, or the serial line).
    fn load_or_measure_table(&self, may_measure: bool) -> Result<TableFile, Refusal> {
        let environment = Environment::here(self.runtime.clone(), self.bundle.hash.clone());
        let folder = RunFolder::create(&self.search_dir())
            .map_err(|e| refuse(ErrorCode::Failed, e.to_string()))?;
        let path = folder.table();
        let saved = match saved_table(&path, &self.bundle, &self.profile.measurement, &environment)
        {
            SavedTable::Usable(t) => Some(*t),
            SavedTable::Missing => None,
            SavedTable::Unusable(_) if !may_measure => None,
            // A table this agent cannot use is kept aside (as a search does), never
            // written over.
            SavedTable::Unusable(_) => {
                folder
                    .set_aside(
                        &["latency_table.json", "latency_model.svg"],
                        "unused-caches",
                    )
                    .map_err(|e| refuse(ErrorCode::Failed, e.to_string()))?;
                None
            }
        };
        if let Some(t) = saved.as_ref().filter(|t| t.choice.is_some()) {
            return Ok(t.clone());
        }
        if !may_measure {
            return Err(refuse(
                ErrorCode::NoResult,
                "no latency table yet; ask with the token to measure it",
            ));
        }
        let mut probe = self.probe.try_lock().map_err(|_| {
            refuse(
                ErrorCode::Busy,
                "a search is measuring; the table is ready after its table phase",
            )
        })?;
        let mut bench =
            Bench::new(probe.as_mut(), self.profile.measurement, 0).with_reference_of(&self.bundle);
        let limits = DeviceSearchOptions::from_profile(&self.profile).model_limits();
        // A table whose blocks were measured but whose model was not chosen (an
        // interrupted run) is completed, not measured again.
        let (file, _) = build_table(
            &mut bench,
            &self.bundle,
            &limits,
            saved,
            environment,
            &mut |_, _, _| {},
            &mut |_| {},
        )
        .map_err(|e| refuse(ErrorCode::Failed, format!("measuring the table: {e}")))?;
        // Saved where a search looks for it, so the next search does not measure again.
        if let Err(e) = write_json(&path, &file) {
            eprintln!("warning: the latency table could not be saved: {e}");
        }
        Ok(file)
    }

    /// The whole latency table as one document: the one in memory, else loaded or
    /// measured (measured only when `may_measure`).
    pub fn table(&self, may_measure: bool) -> Result<Arc<TableJson>, Refusal> {
        if let Some(t) = lock(&self.table).clone() {
            return Ok(t);
        }
        let t = Arc::new(wire_table(&self.load_or_measure_table(may_measure)?));
        *lock(&self.table) = Some(t.clone());
        Ok(t)
    }

    fn table_chunk(&self, first: u16, may_measure: bool) -> Reply {
        match self.table(may_measure) {
            Ok(t) => {
                let start = usize::from(first);
                if start > t.entries.len() {
                    return Reply::error(
                        ErrorCode::BadRequest,
                        format!("entry {first} is past the table's {}", t.entries.len()),
                    );
                }
                let end = (start + MAX_TABLE_CHUNK).min(t.entries.len());
                Reply::TableChunk(TableChunk {
                    first,
                    total: t.total,
                    overhead_us: t.overhead_us,
                    scale: t.scale,
                    offset_us: t.offset_us,
                    entries: t.entries[start..end].iter().copied().collect(),
                })
            }
            Err((code, why)) => Reply::error(code, why),
        }
    }

    /// Measures one child of the bundle now with the profile's protocol, confirmed
    /// ([`crate::confirm`]): the median of its measurements.
    pub fn measure(&self, widths: &WireWidths) -> Result<MeasurementRecord, Refusal> {
        let as_u32: Vec<u32> = widths.iter().map(|&w| u32::from(w)).collect();
        let space = self
            .bundle
            .manifest
            .search_space()
            .map_err(|e| refuse(ErrorCode::Failed, e.to_string()))?;
        if space.arch_from_widths(&as_u32).is_none() {
            return Err(refuse(
                ErrorCode::BadRequest,
                // Short enough for the protocol's 64-byte detail.
                format!(
                    "{} is not in the space; Info lists each layer's widths",
                    tabnas_core::space::show_widths(&as_u32)
                ),
            ));
        }
        let as_usize: Vec<usize> = as_u32.iter().map(|&w| w as usize).collect();
        let model = self
            .bundle
            .child_model(&as_usize)
            .map_err(|e| refuse(ErrorCode::Failed, e.to_string()))?;
        let mut probe = self.probe.try_lock().map_err(|_| {
            refuse(
                ErrorCode::Busy,
                "a search is measuring on this board; stop it or wait",
            )
        })?;
        let label = format!("child {}", tabnas_core::space::show_widths(&as_u32));
        let mut bench =
            Bench::new(probe.as_mut(), self.profile.measurement, 0).with_reference_of(&self.bundle);
        let m = crate::confirm::confirm(
            &mut bench,
            Net {
                label: &label,
                model: &model,
                shape: NetShape::of(&self.bundle.manifest),
            },
        )
        .map_err(|e| refuse(ErrorCode::Failed, e.to_string()))?;
        Ok(MeasurementRecord {
            latency_us: m.latency_us as f32,
            samples: m.samples_us.len() as u32,
            cv: m.cv as f32,
        })
    }

    /// The options of a search started with `body`'s changes to the profile's.
    pub fn options_for(&self, body: &StartBody) -> Result<DeviceSearchOptions, Refusal> {
        body.check()
            .map_err(|e| refuse(ErrorCode::BadRequest, e.to_string()))?;
        let target = body
            .target()
            .map_err(|e| refuse(ErrorCode::BadRequest, e.to_string()))?;
        self.apply(SearchOverrides {
            target,
            steps: body.steps,
            seed: body.seed,
            candidates: body.candidates,
            n: body.n,
            ..SearchOverrides::default()
        })
    }

    /// The options of a search started from a packed search configuration: its space
    /// must be the bundle's and its resource latency; its target, settings, steps and
    /// seed replace the profile's.
    pub fn options_from_packed(&self, config: &[u8]) -> Result<DeviceSearchOptions, Refusal> {
        let c = SearchConfig::decode(config, DEFAULT_MC_CAPACITY)
            .map_err(|e| refuse(ErrorCode::BadRequest, e.to_string()))?;
        if c.resource != Resource::LatencyUs {
            return Err(refuse(
                ErrorCode::BadRequest,
                "the configuration's resource must be latency on this board",
            ));
        }
        let space = self
            .bundle
            .manifest
            .search_space()
            .map_err(|e| refuse(ErrorCode::Failed, e.to_string()))?;
        if c.space != space {
            return Err(refuse(
                ErrorCode::BadRequest,
                "the configuration's space is not the served bundle's",
            ));
        }
        let target = LatencyTarget::new(c.target).map_err(|e| {
            refuse(
                ErrorCode::BadRequest,
                format!("the configuration's target: {e}"),
            )
        })?;
        self.apply(SearchOverrides {
            target: Some(target),
            settings: Some(c.settings),
            steps: Some(c.steps),
            seed: Some(c.seed),
            ..SearchOverrides::default()
        })
    }

    /// The profile's search with `overrides`, refused with the field at fault.
    fn apply(&self, overrides: SearchOverrides) -> Result<DeviceSearchOptions, Refusal> {
        let beta = self.profile.search.settings.reward.beta().unwrap_or(2.0);
        overrides
            .apply(&self.profile, beta)
            .map(|(options, _)| options)
            .map_err(|e| {
                let why = match e.field() {
                    Some(field) => format!("`{field}` {e}"),
                    None => e.to_string(),
                };
                refuse(ErrorCode::BadRequest, why)
            })
    }

    /// Starts a search in the background; returns its planned steps.
    pub fn start(&self, options: DeviceSearchOptions) -> Result<u32, Refusal> {
        let mut worker = lock(&self.worker);
        if worker.as_ref().is_some_and(|h| !h.is_finished()) {
            return Err(refuse(
                ErrorCode::Busy,
                "a search is running; stop it first",
            ));
        }
        if let Some(h) = worker.take() {
            let _ = h.join();
        }
        self.stop.store(false, Ordering::Relaxed);
        let steps = options.steps;
        let mut mine = Live::clone(&self.live());
        mine.begin(steps);
        *lock(&self.live) = Arc::new(mine.clone());
        let bundle = self.bundle.clone();
        let probe = self.probe.clone();
        let shared = self.live.clone();
        let stop = self.stop.clone();
        let dir = self.search_dir();
        // The search re-reads (and may re-measure) the table; ours is read again after it.
        *lock(&self.table) = None;
        let spawned = std::thread::Builder::new()
            .name("tabnas-search".into())
            .spawn(move || {
                let mut published = Instant::now();
                let mut probe = lock(&probe);
                let outcome = run_device_search_until(
                    &bundle,
                    probe.as_mut(),
                    &options,
                    &dir,
                    false,
                    &mut |p| {
                        // Steps are published at most every PUBLISH_EVERY; phase changes
                        // and messages at once.
                        let step = matches!(p, Progress::Step(..) | Progress::Policy(_));
                        mine.observe(p);
                        if !step || published.elapsed() >= PUBLISH_EVERY {
                            *lock(&shared) = Arc::new(mine.clone());
                            published = Instant::now();
                        }
                    },
                    &stop,
                );
                let live = &mut mine;
                match outcome {
                    Ok(result) => match std::fs::read(dir.join("best.onnx")) {
                        Ok(onnx) => live.finish(result, onnx),
                        Err(e) => {
                            live.phase = Phase::Failed;
                            live.error = Some(format!(
                                "the search ended but {} cannot be read: {e}",
                                dir.join("best.onnx").display()
                            ));
                        }
                    },
                    Err(RunError::Stopped { step, .. }) => {
                        live.phase = Phase::Stopped;
                        live.step = step;
                    }
                    Err(e) => {
                        live.phase = Phase::Failed;
                        live.error = Some(e.to_string());
                    }
                }
                *lock(&shared) = Arc::new(live.clone());
            })
            .map_err(|e| refuse(ErrorCode::Failed, format!("cannot start a thread: {e}")))?;
        *worker = Some(spawned);
        Ok(steps)
    }

    /// Asks the running search to stop at its next step; returns the step it is at.
    pub fn stop(&self) -> u32 {
        // Under the worker's lock, so that a stop cannot fall between a start's reset
        // of the flag and its thread.
        let _worker = lock(&self.worker);
        self.stop.store(true, Ordering::Relaxed);
        self.live().step
    }

    /// Waits for the running search (if any) to end.
    pub fn wait(&self) {
        if let Some(h) = lock(&self.worker).take() {
            let _ = h.join();
        }
    }

    /// Answers one protocol request from a peer allowed to change things (the serial
    /// line, or an HTTP client with the token).
    pub fn answer(&self, request: Request<'_>) -> Reply {
        self.answer_as(request, true)
    }

    /// Answers one protocol request; without `trusted`, a missing latency table is not
    /// measured (the transport refuses requests that change things before this).
    pub fn answer_as(&self, request: Request<'_>, trusted: bool) -> Reply {
        let or_error = |r: Result<Reply, Refusal>| r.unwrap_or_else(|(c, w)| Reply::error(c, w));
        match request {
            Request::Info => Reply::Info(self.info()),
            Request::Status => Reply::Status(self.status()),
            Request::Best => or_error(self.best().map(Reply::Best)),
            Request::BestOnnx { offset } => self.onnx_chunk(offset),
            Request::LatencyTable { first } => self.table_chunk(first, trusted),
            Request::Measure { widths } => or_error(
                self.measure(&widths)
                    .map(|record| Reply::Measured { widths, record }),
            ),
            Request::StartSearch { config } => or_error(
                self.options_from_packed(config)
                    .and_then(|o| self.start(o))
                    .map(|steps| Reply::Started { steps }),
            ),
            Request::Stop => Reply::Stopped { step: self.stop() },
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wait();
    }
}
