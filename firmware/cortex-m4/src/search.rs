//! The device search on the chip: a latency table timed with the chip's cycle counter,
//! child losses from the forward pass (cached), and tabnas-core's `RlSearch` with the
//! rejection reward and a fixed-size Monte-Carlo P(V) buffer.

use tabnas_core::cost::{Calibration, CostModel, LatencyTable};
use tabnas_core::feasibility::Feasibility;
use tabnas_core::formats::{Resource, SearchConfig};
use tabnas_core::rng::search_rng;
use tabnas_core::search::{LossEvaluator, RlSearch, StepCounts, StepKind, StepReport};
use tabnas_core::select::Selection;
use tabnas_core::space::{Architecture, SearchSpace};

use crate::forward::{child_loss, dense, logit};
use crate::model::{Model, MAX_WIDTH};
use crate::{MAX_CHILDREN, MC_CAPACITY};

/// A free-running cycle counter (DWT CYCCNT or SysTick on the chip).
pub trait Clock {
    /// Ticks now; differences are taken with `wrapping_sub`.
    fn now(&mut self) -> u32;
    /// Ticks per second.
    fn hz(&self) -> u32;
}

/// Why the firmware's search could not run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunError {
    /// The packed configuration does not limit latency.
    NotLatency,
    /// The space does not fit the model (layers or a width too large).
    SpaceVsModel,
    /// The space has more children than the quality cache.
    SpaceTooLarge,
    /// The search could not be set up (target, settings).
    Setup,
    /// A step failed.
    Step,
}

impl core::fmt::Display for RunError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NotLatency => "search config: resource must be LatencyUs",
            Self::SpaceVsModel => "search config: space does not fit the model blob",
            Self::SpaceTooLarge => "search config: more children than the quality cache holds",
            Self::Setup => "search config: target or settings refused",
            Self::Step => "search step failed",
        })
    }
}

/// Checks that `config` can run on `model`.
pub fn check(config: &SearchConfig, model: &Model<'_>) -> Result<(), RunError> {
    if !matches!(config.resource, Resource::LatencyUs) {
        return Err(RunError::NotLatency);
    }
    let space = &config.space;
    if space.num_layers() != model.layers
        || (0..model.layers).any(|l| {
            space
                .choices(l)
                .iter()
                .any(|&w| w as usize > model.widths[l])
        })
    {
        return Err(RunError::SpaceVsModel);
    }
    if space.cardinality() > MAX_CHILDREN as u64 {
        return Err(RunError::SpaceTooLarge);
    }
    Ok(())
}

/// Hidden widths of `arch` (first `arch.len()` entries).
pub fn widths_of(space: &SearchSpace, arch: &Architecture) -> [usize; 8] {
    let mut w = [0usize; 8];
    for (l, slot) in w.iter_mut().enumerate().take(arch.len()) {
        *slot = space.width(arch, l) as usize;
    }
    w
}

/// Times every block of the table: the dense layer (with ReLU, but the head) from each
/// candidate input width to each candidate output width, on `rows` validation rows,
/// best of `repeats`, minus the cost of reading the clock. Latencies are per row, in
/// microseconds at the clock's rate; the overhead is zero (a child's time is the sum of
/// its blocks). `table` (about 36 KB: the core's fixed capacity) is filled in place so
/// that the firmware can keep it in a static.
pub fn measure_table(
    model: &Model<'_>,
    space: &SearchSpace,
    clock: &mut impl Clock,
    rows: usize,
    repeats: usize,
    table: &mut LatencyTable,
) {
    let mut empty = u32::MAX;
    for _ in 0..repeats.max(1) {
        let t0 = clock.now();
        let t1 = clock.now();
        empty = empty.min(t1.wrapping_sub(t0));
    }
    *table = LatencyTable::new(space, 0.0);
    let layers = space.num_layers();
    // Inputs of hidden blocks: the rows' features repeated up to the width.
    let mut input = [0f32; MAX_WIDTH];
    let mut out = [0f32; MAX_WIDTH];
    for block in 0..=layers {
        let (d_in, d_out) = table.block_dims(block);
        for i in 0..d_in {
            let w_in = if block == 0 {
                model.inputs
            } else {
                space.choices(block - 1)[i] as usize
            };
            for o in 0..d_out {
                let w_out = if block == layers {
                    1
                } else {
                    space.choices(block)[o] as usize
                };
                let layer = &model.dense[block];
                let x = model.row(0);
                for (k, v) in input[..w_in].iter_mut().enumerate() {
                    *v = x[k % x.len()];
                }
                let mut best = u32::MAX;
                for _ in 0..repeats.max(1) {
                    let t0 = clock.now();
                    for _ in 0..rows {
                        dense(
                            layer,
                            core::hint::black_box(&input[..w_in]),
                            &mut out[..w_out],
                            block < layers,
                        );
                        core::hint::black_box(&out);
                    }
                    let t1 = clock.now();
                    best = best.min(t1.wrapping_sub(t0).saturating_sub(empty));
                }
                let us = best as f64 / rows as f64 * 1e6 / clock.hz() as f64;
                // Finite and non-negative by construction.
                let _ = table.set(block, i, o, us);
            }
        }
    }
}

/// Calibrates the block sum against whole children, as the agent does: times
/// `children` children spread over the space end to end (the whole forward pass of one
/// row, best of `repeats` over `rows` rows) and fits `measured = scale * blocks +
/// offset` (tabnas-core's `Calibration::fit`). Returns the pairs `(blocks, measured)`.
pub fn calibrate<const K: usize>(
    model: &Model<'_>,
    space: &SearchSpace,
    clock: &mut impl Clock,
    rows: usize,
    repeats: usize,
    table: &mut LatencyTable,
) -> [(f64, f64); K] {
    let mut pairs = [(0f64, 0f64); K];
    let card = space.cardinality();
    for (k, pair) in pairs.iter_mut().enumerate() {
        // Evenly spaced dense indices, the first and the last child included.
        let index = (k as u64 * (card - 1)) / (K as u64 - 1).max(1);
        let Some(arch) = space.arch_at(index) else {
            continue;
        };
        let w = widths_of(space, &arch);
        *pair = (
            table.raw_us(&arch),
            time_child(model, &w[..arch.len()], clock, rows, repeats),
        );
    }
    if let Some(c) = Calibration::fit(pairs.iter().copied()) {
        table.set_calibration(c);
    }
    pairs
}

/// Microseconds per row of the child with hidden `widths`, end to end, best of `repeats`.
pub fn time_child(
    model: &Model<'_>,
    widths: &[usize],
    clock: &mut impl Clock,
    rows: usize,
    repeats: usize,
) -> f64 {
    time_child_record(model, widths, clock, rows, repeats).latency_us
}

/// How one child was timed end to end ([`time_child_record`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChildTiming {
    /// Microseconds per row, best of the repeats.
    pub latency_us: f64,
    /// Repeats timed (each over the same rows).
    pub samples: u32,
    /// Coefficient of variation of the repeats' times (0 for one repeat).
    pub cv: f64,
}

/// [`time_child`] with the spread of the repeats: the record the firmware reports over
/// the wire protocol (`MeasurementRecord`).
pub fn time_child_record(
    model: &Model<'_>,
    widths: &[usize],
    clock: &mut impl Clock,
    rows: usize,
    repeats: usize,
) -> ChildTiming {
    let rows = rows.clamp(1, model.rows);
    let repeats = repeats.max(1);
    let mut best = u32::MAX;
    let (mut sum, mut sum_sq) = (0f64, 0f64);
    for _ in 0..repeats {
        let t0 = clock.now();
        for r in 0..rows {
            core::hint::black_box(logit(model, widths, core::hint::black_box(model.row(r))));
        }
        let ticks = clock.now().wrapping_sub(t0);
        best = best.min(ticks);
        sum += ticks as f64;
        sum_sq += ticks as f64 * ticks as f64;
    }
    let n = repeats as f64;
    let mean = sum / n;
    let var = (sum_sq / n - mean * mean).max(0.0);
    ChildTiming {
        latency_us: best as f64 / rows as f64 * 1e6 / clock.hz() as f64,
        samples: repeats as u32,
        cv: if mean > 0.0 {
            libm::sqrt(var) / mean
        } else {
            0.0
        },
    }
}

/// Smallest, median and largest predicted cost over the whole space.
pub fn cost_spread<C: CostModel>(space: &SearchSpace, cost: &C) -> (f64, f64, f64) {
    let mut costs = [0f64; MAX_CHILDREN];
    let n = (space.cardinality() as usize).min(MAX_CHILDREN);
    for (i, c) in costs.iter_mut().enumerate().take(n) {
        *c = space
            .arch_at(i as u64)
            .map_or(f64::NAN, |a| cost.cost(space, &a));
    }
    let costs = &mut costs[..n];
    costs.sort_unstable_by(|a, b| a.total_cmp(b));
    (costs[0], costs[n / 2], costs[n - 1])
}

/// Child losses computed by the forward pass, cached by dense index.
pub struct ForwardQuality<'m, 's> {
    model: &'m Model<'m>,
    space: &'s SearchSpace,
    losses: [f64; MAX_CHILDREN],
    /// Children evaluated (cache misses).
    pub evaluated: u32,
    /// Cache hits.
    pub hits: u32,
}

impl<'m, 's> ForwardQuality<'m, 's> {
    /// An empty cache (the space must have passed [`check`]).
    pub fn new(model: &'m Model<'m>, space: &'s SearchSpace) -> Self {
        Self {
            model,
            space,
            losses: [f64::NAN; MAX_CHILDREN],
            evaluated: 0,
            hits: 0,
        }
    }

    /// Cached losses by dense index (`NaN`: not evaluated).
    pub fn losses(&self) -> &[f64] {
        &self.losses[..self.space.cardinality() as usize]
    }
}

impl LossEvaluator for ForwardQuality<'_, '_> {
    type Error = core::convert::Infallible;

    fn loss(&mut self, arch: &Architecture) -> Result<f64, Self::Error> {
        let index = self.space.index_of(arch) as usize;
        if !self.losses[index].is_nan() {
            self.hits += 1;
            return Ok(self.losses[index]);
        }
        let w = widths_of(self.space, arch);
        let loss = child_loss(self.model, &w[..arch.len()]);
        self.losses[index] = loss;
        self.evaluated += 1;
        Ok(loss)
    }
}

/// Losses handed in from elsewhere (the host's replay of a log).
pub struct GivenQuality<'a> {
    /// The space.
    pub space: &'a SearchSpace,
    /// Losses by dense index.
    pub losses: &'a [f64],
}

impl LossEvaluator for GivenQuality<'_> {
    type Error = ();

    fn loss(&mut self, arch: &Architecture) -> Result<f64, ()> {
        let l = self.losses[self.space.index_of(arch) as usize];
        if l.is_nan() {
            Err(())
        } else {
            Ok(l)
        }
    }
}

/// FNV-1a over the steps of a search: equal traces give equal hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceHash(pub u64);

impl TraceHash {
    const PRIME: u64 = 0x100_0000_01b3;

    /// The empty trace.
    pub const fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn eat(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(Self::PRIME);
        }
    }

    /// Adds one step: the sampled child, what the step did, the loss.
    pub fn step(&mut self, space: &SearchSpace, report: &StepReport) {
        self.eat(&space.index_of(&report.arch).to_le_bytes());
        self.eat(&[match report.kind {
            StepKind::Rejected => 0,
            StepKind::Updated => 1,
            StepKind::SkippedNoFeasibleSample => 2,
        }]);
        self.eat(&report.loss.unwrap_or(f64::NAN).to_bits().to_le_bytes());
    }
}

impl Default for TraceHash {
    fn default() -> Self {
        Self::new()
    }
}

/// The answer of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// What the steps did.
    pub counts: StepCounts,
    /// The most probable feasible child under the final controller.
    pub best: Option<Selection>,
    /// The unconstrained argmax.
    pub unconstrained: Selection,
    /// Hash of every step.
    pub trace: TraceHash,
}

/// Runs `config.steps` steps of the search under `cost` with `quality`; `progress` is
/// called after every step.
pub fn run<C: CostModel, Q: LossEvaluator>(
    config: &SearchConfig,
    cost: &C,
    quality: &mut Q,
    mut progress: impl FnMut(&StepReport),
) -> Result<Outcome, RunError> {
    let space = &config.space;
    let feasibility = Feasibility::new(space, cost, config.target).map_err(|_| RunError::Setup)?;
    let mut search =
        RlSearch::<MC_CAPACITY>::new(space, config.settings).map_err(|_| RunError::Setup)?;
    let mut rng = search_rng(config.seed);
    let mut trace = TraceHash::new();
    for _ in 0..config.steps {
        let report = search
            .step(&mut rng, &feasibility, quality)
            .map_err(|_| RunError::Step)?;
        trace.step(space, &report);
        progress(&report);
    }
    let choice = search.final_choice(&feasibility);
    Ok(Outcome {
        counts: search.counts(),
        best: choice.feasible,
        unconstrained: choice.unconstrained,
        trace,
    })
}
