//! The latency model of a bundle on this device: the per-block table, the children
//! measured end to end, and the form chosen to predict the others
//! ([`crate::latency_model`]).
//!
//! Every block (hidden layer `b` from each in-width to each out-width, and the head) is
//! measured alone as a one-layer ONNX network with the supernet's own weights, minus the
//! runtime's fixed cost per call (measured on an identity network), since a whole child
//! pays that cost once, not once per layer; the fixed overhead is the measured stem
//! (embedding lookup and concat, or the bare input), which includes it. The blocks,
//! the identity and the stem are measured together, interleaved.
//!
//! Then a seeded sample of whole children (with the smallest, the largest and the
//! table's fastest child as anchors) is measured end to end, interleaved, and the forms
//! are fitted on two thirds and scored on the rest ([`choose_model`]). In a space of at
//! most `max_direct_children` every child is measured too, and that measurement competes
//! as a form of its own; the form with the lowest held-out error is kept. In a larger
//! space a fitted form must be within `max_model_error`, after one round of more
//! children if needed, or the run stops. A saved table is
//! reused: blocks already in it are never measured again, and a chosen model is kept
//! (retargeting needs no new measurement).

mod file_error;
pub use file_error::TableFileError;

use serde::{Deserialize, Serialize};

use crate::latency_model::{
    best_form, ChildPoint, FormScore, LatencyModel, MeasuredChildren, ModelChoice, ModelForm,
};
use crate::measure::MeasureError;
use crate::measure::{Bench, Net, NoiseFloor};
use tabnas_bundle::{dense_model, identity_model, stem_model, Bundle, NetShape};
use tabnas_core::cost::{AffineMacs, Calibration, CostModel, FfnShape, LatencyTable};
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::rng::search_rng;
use tabnas_core::space::{Architecture, SearchSpace};

/// What a run folder's saved latency table is to this run.
#[derive(Debug)]
pub enum SavedTable {
    /// There is none.
    Missing,
    /// It was measured for this bundle, protocol and machine.
    Usable(Box<TableFile>),
    /// It cannot be read, or was measured for something else.
    Unusable(TableUnusable),
}

/// Why a saved table is not used.
#[derive(Debug)]
pub enum TableUnusable {
    /// It cannot be read as a table.
    Unreadable(crate::atomic_file::FileError),
    /// It was measured for another bundle, protocol or machine.
    Other(TableFileError),
}

impl std::fmt::Display for TableUnusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(e) => write!(f, "{e}"),
            Self::Other(e) => write!(f, "{e}"),
        }
    }
}

/// The table saved at `path`, judged for `bundle` measured under `protocol` in
/// `environment`: the one check a search and the service both make before reusing it.
pub fn saved_table(
    path: &std::path::Path,
    bundle: &Bundle,
    protocol: &MeasurementProtocol,
    environment: &crate::Environment,
) -> SavedTable {
    match crate::atomic_file::read_json::<TableFile>(path) {
        Ok(None) => SavedTable::Missing,
        Ok(Some(t)) => match t.check(bundle, protocol, environment) {
            Ok(()) => SavedTable::Usable(Box::new(t)),
            Err(why) => SavedTable::Unusable(TableUnusable::Other(why)),
        },
        Err(e) => SavedTable::Unusable(TableUnusable::Unreadable(e)),
    }
}

/// Children measured twice that [`TableFile::remeasure_spread`] needs.
pub const MIN_REMEASURED: usize = 8;

/// The format of `latency_table.json` this agent writes and reads.
pub const TABLE_FORMAT: u32 = 2;

/// One measured block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockEntry {
    /// Block index (`layers` is the head).
    pub block: usize,
    /// Choice index of the input end (0 when fixed).
    pub in_choice: usize,
    /// Choice index of the output end (0 when fixed).
    pub out_choice: usize,
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Its latency statistic minus the per-call cost (at least 0).
    pub latency_us: f64,
    /// Its measured statistic as a network of its own.
    pub measured_us: f64,
    /// Its coefficient of variation.
    pub cv: f64,
}

/// A latency model as saved in a run folder (`latency_table.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableFile {
    /// Format version ([`TABLE_FORMAT`]).
    pub format: u32,
    /// Hash of the bundle it was measured for.
    pub bundle_hash: String,
    /// The bundle's space.
    pub space: Vec<Vec<u32>>,
    /// The measurement protocol.
    pub protocol: MeasurementProtocol,
    /// Where it was measured.
    pub environment: crate::Environment,
    /// The machine's noise floor while measuring.
    pub noise_floor: Option<NoiseFloor>,
    /// Measured stem latency.
    pub overhead_us: f64,
    /// The runtime's cost of one call (identity network), subtracted from every block.
    pub call_us: f64,
    /// Every measured block.
    pub blocks: Vec<BlockEntry>,
    /// The block-sum form's affine calibration.
    pub calibration: Calibration,
    /// The MACs form, when it could be fitted.
    pub macs: Option<AffineMacs>,
    /// Every child measured, when the space was measured whole (dense index order).
    pub direct: Option<MeasuredChildren>,
    /// The children measured to choose the form, with each form's prediction.
    pub points: Vec<ChildPoint>,
    /// The form chosen, and why.
    pub choice: Option<ModelChoice>,
}

/// What building or completing a table did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableWork {
    /// Blocks measured now.
    pub measured_blocks: usize,
    /// Blocks taken from the saved table.
    pub reused_blocks: usize,
    /// Children measured end to end now.
    pub measured_children: usize,
    /// Inference runs executed, warm-up included.
    pub runs: u64,
}

/// How many children to measure and what error to accept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelLimits {
    /// Children measured end to end in the first round (at least 3).
    pub children: usize,
    /// The largest held-out MAPE a form may have to be used.
    pub max_error: f64,
    /// A space of at most this many children (or of fewer than 3) is also measured
    /// whole, competing with the fitted forms.
    pub max_direct_children: u64,
    /// Seed of the children sample.
    pub seed: u64,
}

impl TableFile {
    /// A table of `bundle` with nothing measured yet.
    fn empty(
        bundle: &Bundle,
        protocol: MeasurementProtocol,
        environment: crate::Environment,
    ) -> Self {
        TableFile {
            format: TABLE_FORMAT,
            bundle_hash: bundle.hash.clone(),
            space: bundle.manifest.space.clone(),
            protocol,
            environment,
            noise_floor: None,
            overhead_us: f64::NAN,
            call_us: f64::NAN,
            blocks: Vec::new(),
            calibration: Calibration::IDENTITY,
            macs: None,
            direct: None,
            points: Vec::new(),
            choice: None,
        }
    }

    /// Records what measuring `what` gave (a block net of the per-call cost, which
    /// is measured before any block).
    fn record(&mut self, what: Pending, m: &crate::measure::Measurement) {
        match what {
            Pending::CallCost => self.call_us = m.latency_us,
            Pending::Stem => self.overhead_us = m.latency_us,
            Pending::Block {
                block,
                in_choice,
                out_choice,
                inputs,
                outputs,
            } => self.blocks.push(BlockEntry {
                block,
                in_choice,
                out_choice,
                inputs,
                outputs,
                latency_us: (m.latency_us - self.call_us).max(0.0),
                measured_us: m.latency_us,
                cv: m.cv,
            }),
        }
    }

    /// The block-sum form (calibrated).
    pub fn table(&self, space: &SearchSpace) -> Result<LatencyTable, TableFileError> {
        let mut t = LatencyTable::new(space, self.overhead_us);
        for e in &self.blocks {
            t.set(e.block, e.in_choice, e.out_choice, e.latency_us)
                .map_err(|source| TableFileError::Block {
                    block: e.block,
                    source,
                })?;
        }
        t.set_calibration(self.calibration);
        Ok(t)
    }

    /// The chosen form as a cost model (the block-sum form until one is chosen).
    pub fn model(&self, space: &SearchSpace) -> Result<LatencyModel, TableFileError> {
        let form = self.choice.as_ref().map_or(ModelForm::BlockSum, |c| c.form);
        Ok(match (form, &self.macs, &self.direct) {
            (ModelForm::Macs, Some(m), _) => LatencyModel::Macs(*m),
            (ModelForm::Direct, _, Some(d)) => {
                if d.latency_us.len() as u64 != space.cardinality() {
                    return Err(TableFileError::OtherSpace);
                }
                LatencyModel::Direct(d.clone())
            }
            _ => LatencyModel::BlockSum(Box::new(self.table(space)?)),
        })
    }

    /// How far apart two measurements of one child at different moments are here: the
    /// standard deviation of the log ratio over the children measured twice (in the
    /// calibration, and again when the space was measured whole); `None` with fewer
    /// than [`MIN_REMEASURED`] of them.
    pub fn remeasure_spread(&self) -> Option<f64> {
        let pairs: Vec<(f64, f64)> = self
            .points
            .iter()
            .filter_map(|p| p.direct_us.map(|d| (d, p.measured_us)))
            .collect();
        crate::stats::log_ratio_sd(&pairs, MIN_REMEASURED)
    }

    /// The median measured latency of the children measured end to end: a target in
    /// the middle of the space that this device is known to reach.
    pub fn measured_median_us(&self) -> Option<f64> {
        let mut v: Vec<f64> = self.points.iter().map(|p| p.measured_us).collect();
        v.sort_by(f64::total_cmp);
        (!v.is_empty()).then(|| crate::stats::quantile(&v, 0.5))
    }

    /// The fastest child this table measured end to end (the calibration children, and
    /// every child when the space was measured whole), and its measured latency: the
    /// fastest latency a run may claim.
    pub fn fastest_measured(&self, space: &SearchSpace) -> Option<(Vec<u32>, f64)> {
        self.measured_children(space)
            .into_iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(arch, us)| (widths_of(space, &arch), us))
    }

    /// Every child this table measured end to end with its measured latency (the
    /// calibration children, then every child where the space was measured whole; a
    /// child measured twice appears twice).
    pub fn measured_children(&self, space: &SearchSpace) -> Vec<(Architecture, f64)> {
        let sampled = self
            .points
            .iter()
            .filter_map(|p| Some((space.arch_from_widths(&p.widths)?, p.measured_us)));
        let whole = self.direct.iter().flat_map(|d| {
            d.latency_us
                .iter()
                .enumerate()
                .filter_map(|(i, &y)| Some((space.arch_at(i as u64)?, y)))
        });
        sampled
            .chain(whole)
            .filter(|(_, y)| y.is_finite())
            .collect()
    }

    /// The form `form` of this table as a cost model, when it was fitted (or measured).
    pub fn form_model(&self, space: &SearchSpace, form: ModelForm) -> Option<LatencyModel> {
        match form {
            ModelForm::BlockSum => self
                .table(space)
                .ok()
                .map(|t| LatencyModel::BlockSum(Box::new(t))),
            ModelForm::Macs => self.macs.map(LatencyModel::Macs),
            ModelForm::Direct => self.direct.clone().map(LatencyModel::Direct),
        }
    }

    /// Checks that a saved table belongs to `bundle` and was measured with `protocol` by
    /// the same runtime on the same CPU and platform as `environment`.
    pub fn check(
        &self,
        bundle: &Bundle,
        protocol: &MeasurementProtocol,
        environment: &crate::Environment,
    ) -> Result<(), TableFileError> {
        if self.format != TABLE_FORMAT {
            return Err(TableFileError::Format { found: self.format });
        }
        if self.space != bundle.manifest.space {
            return Err(TableFileError::OtherSpace);
        }
        if self.bundle_hash != bundle.hash {
            let prefix = |h: &str| h.chars().take(16).collect::<String>();
            return Err(TableFileError::OtherBundle {
                saved: prefix(&self.bundle_hash),
                this: prefix(&bundle.hash),
            });
        }
        if self.protocol != *protocol {
            return Err(TableFileError::OtherProtocol);
        }
        let machine =
            |e: &crate::Environment| format!("{} on {} ({})", e.runtime, e.cpu, e.platform);
        if machine(&self.environment) != machine(environment) {
            return Err(TableFileError::OtherMachine {
                saved: machine(&self.environment),
                this: machine(environment),
            });
        }
        Ok(())
    }
}

fn width_of(space: &[Vec<u32>], layer: usize, choice: usize) -> usize {
    space[layer][choice] as usize
}

/// The block networks of a bundle: (block, in choice, out choice, in width, out width).
fn wanted_blocks(bundle: &Bundle) -> Vec<(usize, usize, usize, usize, usize)> {
    let m = &bundle.manifest;
    let lists = &m.space;
    let layers = lists.len();
    let dense = m.inputs.dense_width();
    let mut wanted = Vec::new();
    for block in 0..=layers {
        let ins: Vec<(usize, usize)> = if block == 0 {
            vec![(0, dense)]
        } else {
            (0..lists[block - 1].len())
                .map(|c| (c, width_of(lists, block - 1, c)))
                .collect()
        };
        let outs: Vec<(usize, usize)> = if block == layers {
            vec![(0, m.task.outputs as usize)]
        } else {
            (0..lists[block].len())
                .map(|c| (c, width_of(lists, block, c)))
                .collect()
        };
        for &(ic, iw) in &ins {
            for &(oc, ow) in &outs {
                wanted.push((block, ic, oc, iw, ow));
            }
        }
    }
    wanted
}

/// Measures every block missing from `saved` (all of them if there is none), the stem
/// and the per-call cost, then chooses the model form if the saved table has none.
/// `keep` is handed the table once its blocks are measured, before the model is chosen,
/// so that a failed or interrupted choice does not lose them.
pub fn build_table(
    bench: &mut Bench<'_>,
    bundle: &Bundle,
    limits: &ModelLimits,
    saved: Option<TableFile>,
    environment: crate::Environment,
    progress: &mut dyn FnMut(&str, usize, usize),
    keep: &mut dyn FnMut(&TableFile),
) -> Result<(TableFile, TableWork), MeasureError> {
    let runs_before = bench.runs;
    let mut work = TableWork::default();
    // What is measured now completes a saved table: it is corrected to the same
    // reference speed.
    if let Some(n) = saved.as_ref().and_then(|t| t.noise_floor) {
        bench.at_reference_speed(n.reference_us)?;
    }
    let mut file =
        saved.unwrap_or_else(|| TableFile::empty(bundle, *bench.protocol(), environment));
    let pending = missing_networks(&file, bundle, &mut work)?;
    if !pending.is_empty() {
        let nets: Vec<Net<'_>> = pending
            .iter()
            .map(|p| Net {
                label: &p.label,
                model: &p.model,
                shape: p.shape,
            })
            .collect();
        let measured = bench.measure_set(&nets, &mut |k, n| progress("blocks", k, n))?;
        for (m, p) in measured.iter().zip(&pending) {
            file.record(p.what, m);
            work.measured_blocks += matches!(p.what, Pending::Block { .. }) as usize;
        }
    }
    if file.choice.is_none() {
        if work.measured_blocks > 0 {
            keep(&file);
        }
        work.measured_children = choose_model(bench, bundle, limits, &mut file, progress)?;
        file.noise_floor = bench.recheck_noise()?;
    }
    work.runs = bench.runs - runs_before;
    Ok((file, work))
}

/// What a network measured for the table stands for.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// The runtime's cost per call (an identity network).
    CallCost,
    /// The stem (embeddings and the first dense input).
    Stem,
    /// A block: layer, input and output choices, input and output widths.
    Block {
        block: usize,
        in_choice: usize,
        out_choice: usize,
        inputs: usize,
        outputs: usize,
    },
}

/// A network the table still needs measured.
struct PendingNet {
    what: Pending,
    model: tract_onnx::pb::ModelProto,
    label: String,
    shape: NetShape,
}

/// The networks `file` lacks, the per-call cost first (blocks are corrected by it);
/// blocks it already holds are counted as reused in `work`.
fn missing_networks(
    file: &TableFile,
    bundle: &Bundle,
    work: &mut TableWork,
) -> Result<Vec<PendingNet>, MeasureError> {
    let m = &bundle.manifest;
    let dense = m.inputs.dense_width();
    let mut pending = Vec::new();
    if !file.call_us.is_finite() {
        pending.push(PendingNet {
            what: Pending::CallCost,
            model: identity_model(dense),
            label: "the per-call cost (identity network)".to_string(),
            shape: NetShape {
                numeric: dense,
                categorical: 0,
                outputs: dense,
            },
        });
    }
    if !file.overhead_us.is_finite() {
        pending.push(PendingNet {
            what: Pending::Stem,
            model: stem_model(m, &bundle.weights)?,
            label: "the stem".to_string(),
            shape: NetShape {
                numeric: m.inputs.numeric.len(),
                categorical: m.inputs.categorical.len(),
                outputs: dense,
            },
        });
    }
    let layers = m.space.len();
    for (block, ic, oc, iw, ow) in wanted_blocks(bundle) {
        let known = file
            .blocks
            .iter()
            .any(|e| e.block == block && e.in_choice == ic && e.out_choice == oc);
        if known {
            work.reused_blocks += 1;
            continue;
        }
        // The block's weights are the leading units a child with these widths keeps.
        let weights = bundle.weights.layers[block].leading(iw, ow);
        pending.push(PendingNet {
            what: Pending::Block {
                block,
                in_choice: ic,
                out_choice: oc,
                inputs: iw,
                outputs: ow,
            },
            model: dense_model(&weights, block < layers),
            label: format!("block {block} ({iw}x{ow})"),
            shape: NetShape {
                numeric: iw,
                categorical: 0,
                outputs: ow,
            },
        });
    }
    Ok(pending)
}

/// The child with every layer at its smallest width.
fn narrowest_child(space: &SearchSpace) -> Option<Architecture> {
    let index = (0..space.num_layers()).try_fold(0u64, |acc, l| {
        let c = (0..space.num_choices(l)).min_by_key(|&c| space.choices(l)[c])?;
        Some(acc * space.num_choices(l) as u64 + c as u64)
    })?;
    space.arch_at(index)
}

/// Whether the form scored `score` agrees with what this run measured at the fast end
/// of the space: its fastest child (an anchor of the calibration children) measured
/// within the form's stated error (its largest held-out error, and at least `limit`) of
/// the fastest calibration child, and its prediction for that child within the same
/// error of the measurement. A form that predicts some child to be the fastest
/// while the run measured another well below it ranks the fast end wrongly (a
/// negative or extrapolated slope), and the fast end is where a tight target is
/// decided. The calibration children are the comparison, not the whole space: the
/// fastest of a thousand noisy measurements of near-equal children is biased low.
fn agrees_at_fast_end(
    file: &TableFile,
    space: &SearchSpace,
    score: &FormScore,
    limit: f64,
) -> bool {
    let form = score.form;
    if form == ModelForm::Direct {
        return true;
    }
    let Some(model) = file.form_model(space, form) else {
        return false;
    };
    let Some(fastest_us) = file
        .points
        .iter()
        .map(|p| p.measured_us)
        .filter(|y| y.is_finite())
        .min_by(f64::total_cmp)
    else {
        return true;
    };
    let tolerance = score.holdout_max_rel_error.max(limit);
    let (arch, predicted_us) = crate::latency_model::fastest_child(space, &model, || {
        narrowest_child(space).unwrap_or_else(|| space.arch_at(0).expect("a space has a child"))
    });
    let widths = widths_of(space, &arch);
    let measured = file
        .points
        .iter()
        .find(|p| p.widths == widths)
        .map(|p| p.measured_us)
        .or_else(|| {
            file.direct
                .as_ref()
                .map(|d| d.latency_us[space.index_of(&arch) as usize])
        });
    measured.is_none_or(|y| {
        y <= fastest_us * (1.0 + tolerance) && ((predicted_us - y) / y).abs() <= tolerance
    })
}

/// Names the scored forms left out of `usable` because they disagree at the fast end.
fn excluded_note(scored: &[FormScore], usable: &[FormScore]) -> String {
    let left: Vec<&str> = scored
        .iter()
        .filter(|s| s.holdout_mape.is_finite() && !usable.iter().any(|u| u.form == s.form))
        .map(|s| s.form.name())
        .collect();
    if left.is_empty() {
        String::new()
    } else {
        format!(
            "; not used, as their fastest child measured slower than another child: {}",
            left.join(", ")
        )
    }
}

/// A seeded sample of `n` distinct children not in `taken`, drawn uniformly.
fn draw_children(
    space: &SearchSpace,
    n: usize,
    taken: &[Architecture],
    rng: &mut tabnas_core::rng::SearchRng,
) -> Vec<Architecture> {
    let mut picked: Vec<Architecture> = Vec::with_capacity(n);
    let mut guard = 0;
    let card = space.cardinality();
    while picked.len() < n && guard < 100 * n.max(1) {
        guard += 1;
        let index = rand_core::Rng::next_u64(rng) % card;
        let Some(a) = space.arch_at(index) else {
            continue;
        };
        if !picked.contains(&a) && !taken.contains(&a) {
            picked.push(a);
        }
    }
    picked
}

fn widths_of(space: &SearchSpace, arch: &Architecture) -> Vec<u32> {
    (0..arch.len()).map(|l| space.width(arch, l)).collect()
}

/// Measures `archs` end to end, interleaved; returns (latency, cv) per child.
fn measure_children(
    bench: &mut Bench<'_>,
    bundle: &Bundle,
    space: &SearchSpace,
    archs: &[Architecture],
    phase: &str,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Vec<(f64, f64)>, MeasureError> {
    let shape = NetShape::of(&bundle.manifest);
    let mut out = Vec::with_capacity(archs.len());
    // Build the graphs group by group so a large space never holds them all.
    let group = crate::measure::GROUP_SIZE;
    for (g, chunk) in archs.chunks(group).enumerate() {
        let mut models = Vec::with_capacity(chunk.len());
        let mut labels = Vec::with_capacity(chunk.len());
        for a in chunk {
            let w: Vec<usize> = widths_of(space, a)
                .into_iter()
                .map(|x| x as usize)
                .collect();
            models.push(bundle.child_model(&w)?);
            labels.push(format!(
                "child {}",
                tabnas_core::space::show_widths(&widths_of(space, a))
            ));
        }
        let nets: Vec<Net<'_>> = (0..chunk.len())
            .map(|k| Net {
                label: &labels[k],
                model: &models[k],
                shape,
            })
            .collect();
        let done = g * group;
        let total = archs.len();
        let measured = bench.measure_set(&nets, &mut |k, _| progress(phase, done + k, total))?;
        out.extend(measured.into_iter().map(|m| (m.latency_us, m.cv)));
    }
    Ok(out)
}

/// Fits the block-sum calibration and the MACs form on the fitted points, and predicts
/// every point with both.
fn fit_forms(
    table_raw: &LatencyTable,
    ffn: FfnShape,
    space: &SearchSpace,
    archs: &[Architecture],
    points: &mut [ChildPoint],
) -> (Calibration, Option<AffineMacs>) {
    let fitted: Vec<usize> = (0..points.len()).filter(|&k| !points[k].held_out).collect();
    let calibration = Calibration::fit(
        fitted
            .iter()
            .map(|&k| (table_raw.raw_us(&archs[k]), points[k].measured_us)),
    )
    .filter(|c| c.scale > 0.0)
    .unwrap_or(Calibration::IDENTITY);
    let features: Vec<(f64, f64)> = archs
        .iter()
        .map(|a| AffineMacs::features(&ffn, space, a))
        .collect();
    // A fit with a negative coefficient (a child that gets faster as it grows) is an
    // artefact of noise or of too few children, and extrapolates wrongly: not used (the
    // better fit on one feature alone takes its place).
    let macs = AffineMacs::fit_nonnegative(
        ffn,
        &fitted
            .iter()
            .map(|&k| (features[k].0, features[k].1, points[k].measured_us))
            .collect::<Vec<_>>(),
    );
    for (k, p) in points.iter_mut().enumerate() {
        p.block_sum_us = calibration.apply(table_raw.raw_us(&archs[k]));
        p.macs_us = macs.map_or(f64::NAN, |m| m.cost(space, &archs[k]));
    }
    (calibration, macs)
}

fn scores(points: &[ChildPoint]) -> Vec<FormScore> {
    let held: Vec<&ChildPoint> = points.iter().filter(|p| p.held_out).collect();
    let mut s = vec![
        FormScore::of(
            ModelForm::BlockSum,
            held.iter().map(|p| (p.block_sum_us, p.measured_us)),
        ),
        FormScore::of(
            ModelForm::Macs,
            held.iter().map(|p| (p.macs_us, p.measured_us)),
        ),
    ];
    if held.iter().all(|p| p.direct_us.is_some()) && !held.is_empty() {
        s.push(FormScore::of(
            ModelForm::Direct,
            held.iter()
                .map(|p| (p.direct_us.unwrap_or(f64::NAN), p.measured_us)),
        ));
    }
    s
}

/// Chooses the model form (see the module docs); returns the children measured.
pub fn choose_model(
    bench: &mut Bench<'_>,
    bundle: &Bundle,
    limits: &ModelLimits,
    file: &mut TableFile,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<usize, MeasureError> {
    let space = bundle.manifest.search_space()?;
    let raw = {
        let mut f = file.clone();
        f.calibration = Calibration::IDENTITY;
        f.table(&space).map_err(MeasureError::Table)?
    };
    let c = Calibrating {
        bundle,
        ffn: FfnShape {
            input: bundle.manifest.inputs.dense_width() as u32,
            output: bundle.manifest.task.outputs,
            biases: true,
        },
        card: space.cardinality(),
        space,
        raw,
    };
    let mut rng = search_rng(limits.seed ^ 0xca11_b4a7);
    let mut archs = anchors(&c.space, &c.raw);
    // At least 3 children, at most the whole space (which may hold just 1 or 2).
    let first = limits.children.max(3).min(c.card as usize);
    let more = draw_children(
        &c.space,
        first.saturating_sub(archs.len()),
        &archs,
        &mut rng,
    );
    archs.extend(more);
    let measured = measure_children(bench, bundle, &c.space, &archs, "calibration", progress)?;
    // A space too small to hold children out is measured whole as well.
    if c.card <= limits.max_direct_children || c.card < 3 {
        return choose_with_every_child(&c, bench, limits, file, &archs, &measured, progress);
    }
    let mut sample = Sample {
        archs,
        measured,
        rng,
        more: first,
    };
    choose_fitted(&c, bench, limits, file, &mut sample, progress)
}

/// What calibrating a bundle's latency model works with.
struct Calibrating<'b> {
    bundle: &'b Bundle,
    space: SearchSpace,
    /// The block sum without calibration.
    raw: LatencyTable,
    ffn: FfnShape,
    /// Children in the space.
    card: u64,
}

/// The children measured end to end so far, and how to draw more.
struct Sample {
    archs: Vec<Architecture>,
    measured: Vec<(f64, f64)>,
    rng: tabnas_core::rng::SearchRng,
    /// How many more to draw when the forms are not accurate enough.
    more: usize,
}

/// The anchors of a calibration: the first and the last child, the table's fastest
/// child and the child of every layer's smallest width (the fastest under any form
/// whose cost grows with multiply-accumulates and units), so that each form's fastest
/// child is measured.
fn anchors(space: &SearchSpace, raw: &LatencyTable) -> Vec<Architecture> {
    let card = space.cardinality();
    let mut archs: Vec<Architecture> = Vec::new();
    let (table_fastest, _) = fastest_child(space, raw);
    for a in [
        space.arch_at(0),
        space.arch_at(card - 1),
        Some(table_fastest),
        narrowest_child(space),
    ]
    .into_iter()
    .flatten()
    {
        if !archs.contains(&a) {
            archs.push(a);
        }
    }
    archs
}

/// A small space: every child is measured too, and measuring competes with the fitted
/// forms; the form with the lowest held-out error is kept, within the limit or not (the
/// error of measuring every child is the noise of measuring twice).
fn choose_with_every_child(
    c: &Calibrating<'_>,
    bench: &mut Bench<'_>,
    limits: &ModelLimits,
    file: &mut TableFile,
    archs: &[Architecture],
    measured: &[(f64, f64)],
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<usize, MeasureError> {
    let (mut points, _) = fit_and_score(file, &c.raw, c.ffn, &c.space, archs, measured);
    let all: Vec<Architecture> = c.space.iter().collect();
    let whole = measure_children(bench, c.bundle, &c.space, &all, "children", progress)?;
    let latency_us: Vec<f64> = whole.iter().map(|&(y, _)| y).collect();
    for (p, a) in points.iter_mut().zip(archs) {
        p.direct_us = Some(latency_us[c.space.index_of(a) as usize]);
    }
    let scores_now = scores(&points);
    file.direct = Some(MeasuredChildren { latency_us });
    file.points = points;
    let usable: Vec<FormScore> = scores_now
        .iter()
        .copied()
        .filter(|s| agrees_at_fast_end(file, &c.space, s, limits.max_error))
        .collect();
    let best = best_form(&usable).unwrap_or(FormScore::of(ModelForm::Direct, std::iter::empty()));
    let within = best.holdout_mape <= limits.max_error;
    file.choice = Some(ModelChoice {
        form: if best.holdout_mape.is_finite() {
            best.form
        } else {
            ModelForm::Direct
        },
        score: best,
        scores: scores_now.clone(),
        limit: limits.max_error,
        children: archs.len() + all.len(),
        reason: format!(
            "lowest held-out error; the space's {} children were all measured, so \
             measuring competed with the fitted forms{}{}",
            c.card,
            if within {
                ""
            } else {
                " (none within the limit: the error is measurement noise)"
            },
            excluded_note(&scores_now, &usable)
        ),
    });
    Ok(archs.len() + all.len())
}

/// A large space: the fitted form with the lowest held-out error, when it is within
/// the limit (after measuring as many children again, if needed); otherwise
/// [`MeasureError::ModelTooInaccurate`].
fn choose_fitted(
    c: &Calibrating<'_>,
    bench: &mut Bench<'_>,
    limits: &ModelLimits,
    file: &mut TableFile,
    sample: &mut Sample,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<usize, MeasureError> {
    let mut grown = false;
    let (points, best) = loop {
        let (points, scores_now) = fit_and_score(
            file,
            &c.raw,
            c.ffn,
            &c.space,
            &sample.archs,
            &sample.measured,
        );
        file.points = points.clone();
        let usable: Vec<FormScore> = scores_now
            .iter()
            .copied()
            .filter(|s| agrees_at_fast_end(file, &c.space, s, limits.max_error))
            .collect();
        let best = best_form(&usable);
        if let Some(b) = best.filter(|b| b.holdout_mape <= limits.max_error) {
            file.choice = Some(ModelChoice {
                form: b.form,
                score: b,
                scores: scores_now.clone(),
                limit: limits.max_error,
                children: sample.archs.len(),
                reason: format!(
                    "lowest held-out error{}{}",
                    if grown {
                        ", after measuring more children"
                    } else {
                        ""
                    },
                    excluded_note(&scores_now, &usable)
                ),
            });
            return Ok(sample.archs.len());
        }
        if grown || sample.archs.len() as u64 >= c.card {
            break (points, best);
        }
        // Not accurate enough: measure as many children again and refit.
        grown = true;
        let extra = draw_children(&c.space, sample.more, &sample.archs, &mut sample.rng);
        let again = measure_children(bench, c.bundle, &c.space, &extra, "calibration", progress)?;
        sample.archs.extend(extra);
        sample.measured.extend(again);
    };
    let best_text = best.map_or("no form could be scored".to_string(), |b| {
        format!(
            "the best form ({}) predicted held-out children with {:.1}% error",
            b.form.name(),
            100.0 * b.holdout_mape
        )
    });
    file.points = points;
    Err(MeasureError::ModelTooInaccurate {
        best: best_text,
        limit: limits.max_error,
        children: sample.archs.len(),
        space: c.card,
        max_direct_children: limits.max_direct_children,
    })
}

/// Splits the measured children (the first two thirds fitted, which holds the first
/// anchors; the rest held out), fits both forms into `file` and scores them.
fn fit_and_score(
    file: &mut TableFile,
    raw: &LatencyTable,
    ffn: FfnShape,
    space: &SearchSpace,
    archs: &[Architecture],
    measured: &[(f64, f64)],
) -> (Vec<ChildPoint>, Vec<FormScore>) {
    let fit_n = (archs.len() * 2).div_ceil(3).max(2).min(archs.len());
    let mut points: Vec<ChildPoint> = archs
        .iter()
        .zip(measured)
        .enumerate()
        .map(|(k, (a, &(y, cv)))| ChildPoint {
            widths: widths_of(space, a),
            measured_us: y,
            cv,
            held_out: k >= fit_n,
            block_sum_us: f64::NAN,
            macs_us: f64::NAN,
            direct_us: None,
        })
        .collect();
    let (calibration, macs) = fit_forms(raw, ffn, space, archs, &mut points);
    file.calibration = calibration;
    file.macs = macs;
    let s = scores(&points);
    (points, s)
}

/// The fastest child under the block-sum `table` (exact: a shortest path over the
/// layer chain).
pub fn fastest_child(space: &SearchSpace, table: &LatencyTable) -> (Architecture, f64) {
    let layers = space.num_layers();
    // best[c] = (cost so far, choices) ending with choice c of the current layer.
    let mut best: Vec<(f64, Vec<usize>)> = (0..space.num_choices(0))
        .map(|c| (table.get(0, 0, c), vec![c]))
        .collect();
    for l in 1..layers {
        best = (0..space.num_choices(l))
            .map(|c| {
                best.iter()
                    .enumerate()
                    .map(|(p, (cost, path))| {
                        let mut path = path.clone();
                        path.push(c);
                        (cost + table.get(l, p, c), path)
                    })
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .expect("every layer has a choice")
            })
            .collect();
    }
    let (_, path) = best
        .into_iter()
        .enumerate()
        .map(|(p, (cost, path))| (cost + table.get(layers, p, 0), path))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("every layer has a choice");
    let index = path.iter().enumerate().fold(0u64, |acc, (l, &c)| {
        acc * space.num_choices(l) as u64 + c as u64
    });
    let arch = space.arch_at(index).expect("a valid index");
    let cost = table.cost(space, &arch);
    (arch, cost)
}
