//! Building the per-block latency table on the device and calibrating it.
//!
//! Every block (hidden layer `b` from each in-width to each out-width, and the head) is
//! measured alone as a one-layer ONNX network with the supernet's own weights, minus the
//! runtime's fixed cost per call (measured on an identity network), since a whole child
//! pays that cost once, not once per layer; the fixed overhead is the measured stem
//! (embedding lookup and concat, or the bare input), which includes it.
//! Then a seeded sample of whole children is measured end to end: an affine
//! calibration is fitted on two thirds of them and its error (MAPE, worst error) is
//! reported on the held-out third. A saved table is reused: blocks already in it are
//! never measured again (retargeting needs no new block measurements).

use serde::{Deserialize, Serialize};

use crate::error::{MeasureError, TableFileError};
use crate::{measure, LatencyProbe};
use tabnas_bundle::{dense_model, stem_model, Bundle, NetShape};
use tabnas_core::cost::{Calibration, CostModel, LatencyTable};
use tabnas_core::formats::measurement::MeasurementProtocol;
use tabnas_core::rng::search_rng;
use tabnas_core::space::{Architecture, SearchSpace};

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

/// One child measured end to end for the calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationPoint {
    /// Hidden widths.
    pub widths: Vec<u32>,
    /// Table sum before calibration.
    pub raw_us: f64,
    /// Measured statistic.
    pub measured_us: f64,
    /// Calibrated prediction.
    pub predicted_us: f64,
    /// Whether the point was held out of the fit.
    pub held_out: bool,
}

/// The table's accuracy on held-out children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// Children used (fitted and held out).
    pub points: Vec<CalibrationPoint>,
    /// Mean absolute percentage error on the held-out children.
    pub holdout_mape: f64,
    /// Largest absolute error on the held-out children, microseconds.
    pub holdout_max_error_us: f64,
    /// Largest relative error on the held-out children.
    pub holdout_max_rel_error: f64,
}

/// A latency table as saved in a run folder (`latency_table.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableFile {
    /// Format version (1).
    pub format: u32,
    /// Hash of the bundle it was measured for.
    pub bundle_hash: String,
    /// The bundle's space.
    pub space: Vec<Vec<u32>>,
    /// Measurement protocol of the block measurements.
    pub block_protocol: MeasurementProtocol,
    /// Measurement protocol of the end-to-end calibration measurements.
    pub protocol: MeasurementProtocol,
    /// Where it was measured.
    pub environment: crate::Environment,
    /// Measured stem latency.
    pub overhead_us: f64,
    /// The runtime's cost of one call (identity network), subtracted from every block.
    pub call_us: f64,
    /// Every measured block.
    pub blocks: Vec<BlockEntry>,
    /// The affine calibration.
    pub calibration: Calibration,
    /// Its accuracy.
    pub report: Option<CalibrationReport>,
}

/// What building or completing a table did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableWork {
    /// Blocks measured now.
    pub measured_blocks: usize,
    /// Blocks taken from the saved table.
    pub reused_blocks: usize,
    /// Children measured end to end for the calibration.
    pub calibration_children: usize,
    /// Inference runs executed, warm-up included.
    pub runs: u64,
}

impl TableFile {
    /// The core's cost model.
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

    /// Checks that a saved table belongs to `bundle`.
    pub fn check(&self, bundle: &Bundle) -> Result<(), TableFileError> {
        if self.format != 1 {
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
        Ok(())
    }
}

fn width_of(space: &[Vec<u32>], layer: usize, choice: usize) -> usize {
    space[layer][choice] as usize
}

/// Measures every block missing from `saved` (all of them if there is none), the stem
/// and the calibration children; returns the complete table.
#[allow(clippy::too_many_arguments)] // each is a separate input of the one measurement job
pub fn build_table(
    probe: &mut dyn LatencyProbe,
    bundle: &Bundle,
    protocol: &MeasurementProtocol,
    calibration_children: usize,
    seed: u64,
    saved: Option<TableFile>,
    environment: crate::Environment,
    mut progress: impl FnMut(&str, usize, usize),
) -> Result<(TableFile, TableWork), MeasureError> {
    let m = &bundle.manifest;
    let space_lists = &m.space;
    let layers = space_lists.len();
    let dense = m.inputs.dense_width();
    let block_protocol = protocol.for_blocks();
    let mut work = TableWork::default();
    let mut file = saved.unwrap_or_else(|| TableFile {
        format: 1,
        bundle_hash: bundle.hash.clone(),
        space: space_lists.clone(),
        block_protocol,
        protocol: *protocol,
        environment: environment.clone(),
        overhead_us: f64::NAN,
        call_us: f64::NAN,
        blocks: Vec::new(),
        calibration: Calibration::IDENTITY,
        report: None,
    });
    let mut wanted = Vec::new();
    for block in 0..=layers {
        let ins: Vec<(usize, usize)> = if block == 0 {
            vec![(0, dense)]
        } else {
            (0..space_lists[block - 1].len())
                .map(|c| (c, width_of(space_lists, block - 1, c)))
                .collect()
        };
        let outs: Vec<(usize, usize)> = if block == layers {
            vec![(0, m.task.outputs as usize)]
        } else {
            (0..space_lists[block].len())
                .map(|c| (c, width_of(space_lists, block, c)))
                .collect()
        };
        for &(ic, iw) in &ins {
            for &(oc, ow) in &outs {
                wanted.push((block, ic, oc, iw, ow));
            }
        }
    }
    let total = wanted.len();
    if !file.call_us.is_finite() {
        let identity = tabnas_bundle::identity_model(dense);
        let shape = NetShape {
            numeric: dense,
            categorical: 0,
            outputs: dense,
        };
        let meas = measure(probe, &identity, shape, &block_protocol)?;
        work.runs += meas.runs as u64;
        file.call_us = meas.latency_us;
    }
    for (k, &(block, ic, oc, iw, ow)) in wanted.iter().enumerate() {
        let known = file
            .blocks
            .iter()
            .any(|e| e.block == block && e.in_choice == ic && e.out_choice == oc);
        if known {
            work.reused_blocks += 1;
            continue;
        }
        progress("blocks", k + 1, total);
        let layer = &bundle.weights.layers[block];
        // The block's weights are the leading units a child with these widths keeps.
        let weights = layer.leading(iw, ow);
        let model = dense_model(&weights, block < layers);
        let shape = NetShape {
            numeric: iw,
            categorical: 0,
            outputs: ow,
        };
        let meas = measure(probe, &model, shape, &block_protocol)?;
        work.runs += meas.runs as u64;
        work.measured_blocks += 1;
        file.blocks.push(BlockEntry {
            block,
            in_choice: ic,
            out_choice: oc,
            inputs: iw,
            outputs: ow,
            latency_us: (meas.latency_us - file.call_us).max(0.0),
            measured_us: meas.latency_us,
            cv: meas.cv,
        });
    }
    if !file.overhead_us.is_finite() {
        let stem = stem_model(m, &bundle.weights)?;
        let shape = NetShape {
            numeric: m.inputs.numeric.len(),
            categorical: m.inputs.categorical.len(),
            outputs: dense,
        };
        let meas = measure(probe, &stem, shape, &block_protocol)?;
        work.runs += meas.runs as u64;
        file.overhead_us = meas.latency_us;
    }
    if file.report.is_none() {
        let space = m.search_space()?;
        let raw_table = {
            let mut f = file.clone();
            f.calibration = Calibration::IDENTITY;
            f.table(&space).map_err(MeasureError::Table)?
        };
        let (report, calibration, runs) = calibrate(
            probe,
            bundle,
            &space,
            &raw_table,
            protocol,
            calibration_children,
            seed,
            &mut progress,
        )?;
        work.runs += runs;
        work.calibration_children = report.points.len();
        file.calibration = calibration;
        file.report = Some(report);
    }
    Ok((file, work))
}

#[allow(clippy::too_many_arguments)]
fn calibrate(
    probe: &mut dyn LatencyProbe,
    bundle: &Bundle,
    space: &SearchSpace,
    raw: &LatencyTable,
    protocol: &MeasurementProtocol,
    children: usize,
    seed: u64,
    progress: &mut impl FnMut(&str, usize, usize),
) -> Result<(CalibrationReport, Calibration, u64), MeasureError> {
    let mut rng = search_rng(seed ^ 0xca11_b4a7);
    let n = children.clamp(3, space.cardinality() as usize);
    let mut picked: Vec<Architecture> = Vec::with_capacity(n);
    // The smallest and largest children anchor the fit; the rest are uniform draws.
    let first = space.arch_at(0).expect("non-empty space");
    let last = space
        .arch_at(space.cardinality() - 1)
        .expect("non-empty space");
    picked.push(first);
    if last != first {
        picked.push(last);
    }
    let mut guard = 0;
    while picked.len() < n && guard < 100 * n {
        guard += 1;
        let a = space
            .arch_at(rand_core::Rng::next_u64(&mut rng) % space.cardinality())
            .expect("index below the cardinality");
        if !picked.contains(&a) {
            picked.push(a);
        }
    }
    let mut runs = 0u64;
    let mut measured = Vec::with_capacity(picked.len());
    for (k, arch) in picked.iter().enumerate() {
        progress("calibration", k + 1, picked.len());
        let widths: Vec<usize> = (0..arch.len())
            .map(|l| space.width(arch, l) as usize)
            .collect();
        let model = bundle.child_model(&widths)?;
        let meas = measure(probe, &model, NetShape::of(&bundle.manifest), protocol)?;
        runs += meas.runs as u64;
        measured.push((raw.raw_us(arch), meas.latency_us, widths));
    }
    // Fit on the first two thirds (the anchors included), hold out the rest.
    let fit_n = (measured.len() * 2).div_ceil(3).max(2).min(measured.len());
    let calibration = Calibration::fit(measured[..fit_n].iter().map(|(x, y, _)| (*x, *y)))
        .unwrap_or(Calibration::IDENTITY);
    let calibration = if calibration.scale > 0.0 {
        calibration
    } else {
        Calibration::IDENTITY
    };
    let mut points = Vec::new();
    let (mut ape, mut max_err, mut max_rel, mut held) = (0.0, 0.0f64, 0.0f64, 0usize);
    for (k, (x, y, widths)) in measured.into_iter().enumerate() {
        let p = calibration.apply(x);
        let held_out = k >= fit_n;
        if held_out {
            held += 1;
            ape += ((p - y) / y).abs();
            max_err = max_err.max((p - y).abs());
            max_rel = max_rel.max(((p - y) / y).abs());
        }
        points.push(CalibrationPoint {
            widths: widths.iter().map(|&w| w as u32).collect(),
            raw_us: x,
            measured_us: y,
            predicted_us: p,
            held_out,
        });
    }
    let report = CalibrationReport {
        points,
        holdout_mape: if held > 0 {
            ape / held as f64
        } else {
            f64::NAN
        },
        holdout_max_error_us: max_err,
        holdout_max_rel_error: max_rel,
    };
    Ok((report, calibration, runs))
}

/// The fastest child under `table` (exact: a shortest path over the layer chain).
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
