//! What a served search is doing, updated from its progress events and read by every
//! request: phase and step, the best child evaluated so far, the answer when it ends, and
//! the bounded history the dashboard draws.

use serde::Serialize;
use tabnas_core::protocol::Phase;
use tabnas_core::search::StepKind;

use crate::device_search::{DeviceResult, Progress};

/// Step points kept for the dashboard; when full, every other one is dropped and the
/// stride doubles, so a long search keeps an even sample of its whole history.
pub const MAX_POINTS: usize = 1000;

/// Distinct children kept for the dashboard's loss-latency plot.
pub const MAX_CHILDREN: usize = 2000;

/// One step as the dashboard plots it.
#[derive(Debug, Clone, Serialize)]
pub struct StepSample {
    /// The step.
    pub step: u32,
    /// P(V) (or its estimate) at that step, when the reward has it.
    pub pv: Option<f64>,
    /// The Monte-Carlo feasible fraction, when estimated.
    pub feasible_fraction: Option<f64>,
    /// Whether the sampled child was rejected.
    pub rejected: bool,
}

/// A child whose validation loss was computed.
#[derive(Debug, Clone, Serialize)]
pub struct ChildSample {
    /// Its widths.
    pub widths: Vec<u32>,
    /// Its latency in microseconds (`measured`: timed end to end on the device;
    /// otherwise predicted by the latency model).
    pub latency_us: f64,
    /// Its validation loss.
    pub loss: f64,
    /// Whether `latency_us` was measured.
    pub measured: bool,
}

/// A finished search.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Its report.
    pub result: DeviceResult,
    /// The answer's ONNX model.
    pub onnx: std::sync::Arc<Vec<u8>>,
}

/// The state of the served search.
#[derive(Debug, Clone)]
pub struct Live {
    /// Phase.
    pub phase: Phase,
    /// Steps done.
    pub step: u32,
    /// Steps planned.
    pub steps: u32,
    /// The target in use (0 before the first step).
    pub target_us: f64,
    /// Lowest-loss feasible child evaluated so far: widths, predicted latency, loss.
    pub best_so_far: Option<(Vec<u32>, f64, f64)>,
    /// The finished search, when there is one (kept until the next one finishes).
    pub finished: Option<Finished>,
    /// Why the last search failed.
    pub error: Option<String>,
    /// Searches started since the agent started.
    pub searches: u32,
    /// The controller's latest per-layer probabilities (a copy, no allocation per step).
    pub policy: Option<tabnas_core::controller::Policy>,
    /// Sampled step history.
    pub points: Vec<StepSample>,
    /// Keep one step in this many.
    pub stride: u32,
    /// Children evaluated (deduplicated by widths).
    pub children: Vec<ChildSample>,
    /// The search's recent messages.
    pub notes: Vec<String>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            phase: Phase::Idle,
            step: 0,
            steps: 0,
            target_us: 0.0,
            best_so_far: None,
            finished: None,
            error: None,
            searches: 0,
            policy: None,
            points: Vec::new(),
            stride: 1,
            children: Vec::new(),
            notes: Vec::new(),
        }
    }
}

impl Live {
    /// A new search starts: progress and history are cleared (the last answer stays
    /// readable until the new one finishes).
    pub fn begin(&mut self, steps: u32) {
        *self = Self {
            finished: self.finished.take(),
            searches: self.searches + 1,
            steps,
            phase: Phase::Measuring,
            ..Self::default()
        };
    }

    /// Takes in one progress event.
    pub fn observe(&mut self, p: Progress<'_>) {
        match p {
            Progress::Table(..) => self.phase = Phase::Measuring,
            Progress::Verifying => self.phase = Phase::Verifying,
            Progress::Note(text) => {
                if self.notes.len() >= 20 {
                    self.notes.remove(0);
                }
                self.notes.push(text);
            }
            Progress::Policy(policy) => self.policy = Some(*policy),
            Progress::Step(point, planned) => {
                self.phase = Phase::Searching;
                self.step = point.step;
                self.steps = planned;
                self.target_us = point.target_us;
                let rejected = point.kind == StepKind::Rejected;
                if point.step.is_multiple_of(self.stride) {
                    self.points.push(StepSample {
                        step: point.step,
                        pv: point.pv,
                        feasible_fraction: point.mc_feasible_fraction,
                        rejected,
                    });
                    if self.points.len() >= MAX_POINTS {
                        self.stride *= 2;
                        let stride = self.stride;
                        self.points.retain(|p| p.step.is_multiple_of(stride));
                    }
                }
                if let Some(loss) = point.loss.filter(|l| l.is_finite()) {
                    let known = self.children.iter().any(|c| c.widths == point.arch);
                    if !known && self.children.len() < MAX_CHILDREN {
                        self.children.push(ChildSample {
                            widths: point.arch.clone(),
                            latency_us: point.predicted_us,
                            loss,
                            measured: false,
                        });
                    }
                    let feasible = point.predicted_us <= point.target_us;
                    let better = self.best_so_far.as_ref().is_none_or(|b| loss < b.2);
                    if feasible && better {
                        self.best_so_far = Some((point.arch.clone(), point.predicted_us, loss));
                    }
                }
            }
        }
    }

    /// The search finished with `result`.
    pub fn finish(&mut self, result: DeviceResult, onnx: Vec<u8>) {
        self.phase = Phase::Done;
        self.step = result.steps.max(self.step);
        self.target_us = result.target_us;
        for c in &result.candidates {
            if let Some(us) = c.decided_us {
                self.children.push(ChildSample {
                    widths: c.widths.clone(),
                    latency_us: us,
                    loss: c.validation_loss,
                    measured: true,
                });
            }
        }
        self.finished = Some(Finished {
            result,
            onnx: std::sync::Arc::new(onnx),
        });
    }
}
