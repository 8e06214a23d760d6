//! The report of a host search (`result.json`).

use serde::Serialize;
use tabnas_core::controller::Policy;
use tabnas_core::search::{SearchSettings, StepKind, StepReport};
use tabnas_core::space::SearchSpace;

use super::{Guards, HostResource, ValidationPoint};
use crate::constant::ConstantLoss;

/// One controller step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TracePoint {
    /// Step (1-based, warm-up included).
    pub step: u32,
    /// Widths of the controller's sample.
    pub arch: Vec<u32>,
    /// Its cost.
    pub cost: f64,
    /// Whether it met the target.
    pub feasible: bool,
    /// What the controller did.
    pub kind: StepKind,
    /// Its shared-weight validation-batch loss (absent when rejected).
    pub loss: Option<f64>,
    /// Its reward (absent when rejected).
    pub reward: Option<f64>,
    /// The controller's baseline after this step (the reward minus the advantage;
    /// absent when rejected).
    pub baseline: Option<f64>,
    /// P(V) or its estimate (absent when rejected or skipped).
    pub pv: Option<f64>,
    /// Feasible fraction of the Monte-Carlo samples.
    pub mc_feasible_fraction: Option<f64>,
    /// Loss of this step's shared-weight training batch.
    pub train_loss: f64,
    /// Samples the target rejected and that were replaced before this one (each a cost
    /// lookup, no evaluation).
    pub rejected_before: u32,
}

impl TracePoint {
    /// From the core's step report.
    pub fn from_report(step: u32, space: &SearchSpace, r: &StepReport, train_loss: f64) -> Self {
        Self {
            step,
            arch: (0..r.arch.len()).map(|l| space.width(&r.arch, l)).collect(),
            cost: r.cost,
            feasible: r.feasible,
            kind: r.kind,
            loss: r.loss,
            reward: r.reward,
            baseline: r.reward.zip(r.advantage).map(|(r, a)| r - a),
            pv: r.pv.map(|p| p.value),
            mc_feasible_fraction: r.mc_feasible_fraction,
            train_loss,
            rejected_before: 0,
        }
    }
}

/// The controller's per-layer distributions at one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    /// Step (0 = before learning).
    pub step: u32,
    /// `probs[layer][choice]`.
    pub probs: Vec<Vec<f64>>,
}

impl Distribution {
    /// Snapshot of `policy`.
    pub fn of(step: u32, policy: &Policy) -> Self {
        let layers = policy.shape().layers();
        Self {
            step,
            probs: (0..layers).map(|l| policy.layer(l).to_vec()).collect(),
        }
    }
}

/// The answer of a hardware-in-the-loop search, measured on the board that gave the
/// latencies (`tabnas search --latency-from`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BoardCheck {
    /// What the search predicted from the board's latencies.
    pub predicted_us: f64,
    /// What the board measured (its profile's statistic, as for its table).
    pub measured_us: f64,
    /// Samples the board took.
    pub samples: u32,
    /// Their coefficient of variation.
    pub cv: f64,
    /// `(measured - predicted) / predicted`.
    pub error: f64,
    /// Whether the measurement is within the target.
    pub meets_target: bool,
}

impl BoardCheck {
    /// The check of `predicted_us` against the board's `measured_us` under `target`.
    pub fn of(predicted_us: f64, measured_us: f64, samples: u32, cv: f64, target: f64) -> Self {
        Self {
            predicted_us,
            measured_us,
            samples,
            cv,
            error: (measured_us - predicted_us) / predicted_us,
            meets_target: measured_us <= target,
        }
    }
}

/// Everything `result.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    /// Dataset.
    pub dataset: String,
    /// Found architecture: the most probable feasible one (or, if none is feasible,
    /// the unconstrained argmax, with `feasible: false`).
    pub architecture: Vec<u32>,
    /// Whether it meets the target.
    pub feasible: bool,
    /// The resource.
    pub resource: HostResource,
    /// Which board measured the latencies (a `latency-us` search).
    pub latency_source: Option<super::LatencySource>,
    /// The answer measured on that board after the search (hardware in the loop): the
    /// board's own statistic against the latency the search predicted from its table.
    pub board_check: Option<BoardCheck>,
    /// Its cost.
    pub cost: f64,
    /// The target.
    pub target: f64,
    /// Its dense parameters.
    pub params: u64,
    /// Its probability under the final controller.
    pub probability: f64,
    /// Its loss on the whole validation split, shared weights.
    pub validation_loss: f64,
    /// Its loss on the test split, shared weights.
    pub test_loss: f64,
    /// Where the controller's unconstrained argmax is (Abs / MnasNet report this).
    pub unconstrained_argmax: Vec<u32>,
    /// Its cost.
    pub unconstrained_cost: f64,
    /// Whether it meets the target.
    pub unconstrained_feasible: bool,
    /// Controller settings.
    pub settings: SearchSettings,
    /// The space.
    pub space: Vec<Vec<u32>>,
    /// Total steps.
    pub steps: u32,
    /// Warm-up steps.
    pub warmup_steps: u32,
    /// Controller steps.
    pub rl_steps: u32,
    /// Controller steps that updated the logits.
    pub rl_updated: u32,
    /// Controller steps rejected.
    pub rl_rejected: u32,
    /// Controller steps skipped (no feasible Monte-Carlo sample).
    pub rl_skipped: u32,
    /// Training batch size.
    pub batch: usize,
    /// Validation batch size.
    pub valid_batch: usize,
    /// Shared-weight learning rate.
    pub learning_rate: f64,
    /// Seed.
    pub seed: u64,
    /// Wall time of the steps, seconds.
    pub wall_s: f64,
    /// Loss of the last training batch.
    pub final_train_loss: f64,
    /// The constant predictor's loss (the training prior, or mean), to read every loss
    /// against.
    pub constant_loss: ConstantLoss,
    /// Share of the controller's samples that the target rejected.
    pub rejected_share: f64,
    /// Whether the final policy gives the answer a probability of at least
    /// [`super::CONVERGED_PROBABILITY`].
    pub converged: bool,
    /// The step whose shared weights the bundle holds (the lowest-validation snapshot,
    /// or the last step).
    pub weights_step: u32,
    /// The step early stopping ended the search at, if it did.
    pub stopped_at: Option<u32>,
    /// The answer-so-far's validation loss every `eval_every` steps.
    pub validation_curve: Vec<ValidationPoint>,
    /// Weight decay, validation checks, early stopping and resampling used.
    pub guards: Guards,
    /// What a person should know before using the answer (empty when all is well).
    pub warnings: Vec<String>,
    /// Every controller step.
    pub trace: Vec<TracePoint>,
    /// Controller distributions over time.
    pub distributions: Vec<Distribution>,
}
