//! One RL step of TabNAS as a small state machine.
//!
//! ```text
//!            propose()                       complete(loss) / step()
//!   Ready ──────────────► infeasible & rejection reward ──► Ready   (Rejected)
//!     ▲          │
//!     │          └──────► AwaitingLoss(y)   ─────────────► Ready   (Updated | Skipped)
//! ```
//!
//! `propose` samples `y ~ p` and judges it with the search's one [`Feasibility`]; under
//! the rejection reward an infeasible `y` ends the step with no baseline update and no
//! gradient. Otherwise the caller measures the validation loss of `y` (directly, or
//! through a [`LossEvaluator`] with [`RlSearch::step`]) and hands it to `complete`,
//! which updates the baseline, estimates P(V) when the reward needs it, and takes one
//! Adam step on the logits. If no Monte-Carlo sample is feasible the gradient step is
//! skipped (the baseline has already seen the reward, as in the reference code).
//! Errors never change the state: a failed quality evaluation leaves the search waiting
//! for the same `y`.

use core::convert::Infallible;
use core::fmt;
use core::str::FromStr;

use rand_core::Rng;
use serde::{Deserialize, Serialize};

use crate::adam::Adam;
use crate::baseline::EmaBaseline;
use crate::capacity::MAX_EXACT_ENUMERATION;
use crate::controller::{Controller, Policy, Shape};
use crate::cost::CostModel;
use crate::feasibility::Feasibility;
use crate::grid::LogitGrid;
use crate::pv::{exact_pv, MonteCarloPv, PvError, PvEstimate};
use crate::reward::{QualityMap, Reward, UnknownName};
use crate::select::{most_probable, most_probable_feasible, Selection};
use crate::space::{Architecture, SearchSpace};

/// How P(V) is computed under the rejection reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PvMode {
    /// Enumerate the whole space every step.
    Exact,
    /// The paper's estimator with `samples` draws (the `N` of the paper).
    MonteCarlo {
        /// Number of samples `N` (at least 1, at most the buffer capacity).
        samples: u16,
    },
}

impl PvMode {
    /// Its kind (the mode without the sample count).
    pub const fn kind(&self) -> PvKind {
        match self {
            Self::Exact => PvKind::Exact,
            Self::MonteCarlo { .. } => PvKind::Mc,
        }
    }

    /// The Monte-Carlo sample count, if that is the mode.
    pub const fn samples(&self) -> Option<u16> {
        match self {
            Self::Exact => None,
            Self::MonteCarlo { samples } => Some(*samples),
        }
    }
}

/// The name of a P(V) mode without its sample count: what a flag, a profile key or a
/// report names. [`PvKind::with_samples`] is the one conversion to a [`PvMode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PvKind {
    /// Enumerate the space ([`PvMode::Exact`]).
    Exact,
    /// Monte Carlo ([`PvMode::MonteCarlo`]).
    Mc,
}

impl PvKind {
    /// Every kind, in the order of [`PvKind::NAMES`].
    pub const ALL: [Self; 2] = [Self::Exact, Self::Mc];
    /// Their names (`exact`, `mc`).
    pub const NAMES: [&'static str; 2] = ["exact", "mc"];

    /// The name of this kind.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Mc => "mc",
        }
    }

    /// The mode of this kind; `samples` is ignored by [`PvKind::Exact`].
    pub const fn with_samples(self, samples: u16) -> PvMode {
        match self {
            Self::Exact => PvMode::Exact,
            Self::Mc => PvMode::MonteCarlo { samples },
        }
    }
}

impl fmt::Display for PvKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PvKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UnknownName::position(s, &Self::NAMES).map(|i| Self::ALL[i])
    }
}

/// Everything that decides how a search learns (the rest is space, cost and target).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SearchSettings {
    /// The reward.
    pub reward: Reward,
    /// How P(V) is computed (used by the rejection reward only).
    pub pv: PvMode,
    /// Adam learning rate on the logits.
    pub learning_rate: f64,
    /// Momentum of the moving-average baseline.
    pub baseline_momentum: f64,
    /// How losses become qualities.
    pub quality: QualityMap,
}

impl SearchSettings {
    /// The paper's rejection setting: Monte Carlo with `samples`, and the given rate.
    pub const fn rejection(pv: PvMode, learning_rate: f64) -> Self {
        Self {
            reward: Reward::Rejection,
            pv,
            learning_rate,
            baseline_momentum: EmaBaseline::DEFAULT_MOMENTUM,
            quality: QualityMap::OneMinusLoss,
        }
    }

    /// Checks the settings against a space and a Monte-Carlo buffer capacity.
    pub fn validate(&self, space: &SearchSpace, mc_capacity: usize) -> Result<(), SettingsError> {
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= MAX_LEARNING_RATE)
        {
            return Err(SettingsError::LearningRate);
        }
        if !(0.0..1.0).contains(&self.baseline_momentum) {
            return Err(SettingsError::BaselineMomentum);
        }
        if let Some(beta) = self.reward.beta() {
            if !(beta.is_finite() && (0.0..=MAX_BETA).contains(&beta)) {
                return Err(SettingsError::Beta);
            }
        }
        if self.reward.rejects_infeasible() {
            match self.pv {
                PvMode::Exact if space.cardinality() > MAX_EXACT_ENUMERATION => {
                    return Err(SettingsError::Pv(PvError::SpaceTooLarge {
                        cardinality: space.cardinality(),
                    }))
                }
                PvMode::MonteCarlo { samples: 0 } => {
                    return Err(SettingsError::Pv(PvError::NoSamples))
                }
                PvMode::MonteCarlo { samples } if samples as usize > mc_capacity => {
                    return Err(SettingsError::Pv(PvError::TooManySamples {
                        requested: samples as usize,
                        capacity: mc_capacity,
                    }))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The largest learning rate (Adam moves each logit by about this much per step; the
/// paper's rates are near 0.005).
pub const MAX_LEARNING_RATE: f64 = 1.0;
/// The largest penalty strength of the abs and MnasNet rewards.
pub const MAX_BETA: f64 = 1e6;

/// A setting that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    /// The learning rate is not in `(0, MAX_LEARNING_RATE]`.
    LearningRate,
    /// The baseline momentum is outside `[0, 1)`.
    BaselineMomentum,
    /// The penalty strength is negative or not finite.
    Beta,
    /// P(V) cannot be computed as asked.
    Pv(PvError),
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LearningRate => {
                write!(f, "learning rate must be in (0, {MAX_LEARNING_RATE}]")
            }
            Self::BaselineMomentum => write!(f, "baseline momentum must be in [0, 1)"),
            Self::Beta => write!(f, "beta must be in [0, {MAX_BETA}]"),
            Self::Pv(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for SettingsError {}

/// Why a saved search state cannot be resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResumeError {
    /// Its settings are invalid for the space.
    Settings(SettingsError),
    /// It was saved for a space of another shape.
    ShapeMismatch,
}

impl fmt::Display for ResumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Settings(e) => write!(f, "saved search settings: {e}"),
            Self::ShapeMismatch => write!(f, "saved search state is for another search space"),
        }
    }
}

impl core::error::Error for ResumeError {}

/// Measures the validation loss of an architecture (the platform seam the quality `Q`
/// is computed from).
pub trait LossEvaluator {
    /// Why an evaluation failed.
    type Error;
    /// The validation loss of `arch` (lower is better).
    fn loss(&mut self, arch: &Architecture) -> Result<f64, Self::Error>;
}

/// Why a step could not be taken. The search state is unchanged by any error.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum StepError<E = Infallible> {
    /// `propose` was called while a proposal awaits its loss.
    AwaitingLoss,
    /// `complete` was called with no proposal pending.
    NothingProposed,
    /// The feasibility test is over a space of another shape than the controller's.
    SpaceMismatch,
    /// The loss handed in is not finite.
    NonFiniteLoss {
        /// The loss given.
        loss: f64,
    },
    /// P(V) could not be computed.
    Pv(PvError),
    /// The reward, its advantage or the updated logits overflowed (the state is kept as
    /// it was before the step).
    Diverged,
    /// The validation loss could not be computed.
    Loss(E),
}

impl<E: fmt::Display> fmt::Display for StepError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AwaitingLoss => write!(f, "a proposed architecture still awaits its loss"),
            Self::NothingProposed => write!(f, "no architecture was proposed"),
            Self::SpaceMismatch => write!(f, "feasibility test is over another search space"),
            Self::NonFiniteLoss { loss } => write!(f, "validation loss must be finite, got {loss}"),
            Self::Pv(e) => e.fmt(f),
            Self::Diverged => write!(
                f,
                "the controller diverged (reward or logits overflowed); lower the learning \
                 rate or beta"
            ),
            Self::Loss(e) => write!(f, "the validation loss could not be computed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for StepError<E> {}

impl StepError<Infallible> {
    fn widen<E>(self) -> StepError<E> {
        match self {
            Self::AwaitingLoss => StepError::AwaitingLoss,
            Self::NothingProposed => StepError::NothingProposed,
            Self::SpaceMismatch => StepError::SpaceMismatch,
            Self::NonFiniteLoss { loss } => StepError::NonFiniteLoss { loss },
            Self::Pv(e) => StepError::Pv(e),
            Self::Diverged => StepError::Diverged,
            Self::Loss(never) => match never {},
        }
    }
}

/// What a finished step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepKind {
    /// The sample was infeasible under the rejection reward: nothing was updated.
    Rejected,
    /// Baseline and logits were updated.
    Updated,
    /// No Monte-Carlo sample was feasible: the baseline was updated, the logits were not.
    SkippedNoFeasibleSample,
}

/// The P(V) part of a step report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PvSummary {
    /// P(V) or its estimate.
    pub value: f64,
    /// Feasible architectures seen by the estimator.
    pub feasible: u32,
    /// Architectures looked at by the estimator.
    pub examined: u32,
}

impl From<&PvEstimate> for PvSummary {
    fn from(e: &PvEstimate) -> Self {
        Self {
            value: e.value,
            feasible: e.feasible,
            examined: e.examined,
        }
    }
}

/// What happened in one step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// 1-based index of this step.
    pub step: u32,
    /// The sampled architecture.
    pub arch: Architecture,
    /// Its cost.
    pub cost: f64,
    /// Whether it meets the target.
    pub feasible: bool,
    /// What the step did.
    pub kind: StepKind,
    /// Its validation loss (absent when rejected).
    pub loss: Option<f64>,
    /// Its reward (absent when rejected).
    pub reward: Option<f64>,
    /// Its advantage `R - Qavg` (absent when rejected).
    pub advantage: Option<f64>,
    /// P(V), when the reward needed it and it could be estimated (absent when skipped).
    pub pv: Option<PvSummary>,
    /// Feasible fraction of Monte-Carlo samples (Monte-Carlo P(V) only; zero when skipped).
    pub mc_feasible_fraction: Option<f64>,
}

/// The outcome of [`RlSearch::propose`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Proposal {
    /// The sample was rejected; the step is over.
    Rejected(StepReport),
    /// Measure this architecture's loss and call [`RlSearch::complete`].
    Evaluate {
        /// The architecture to evaluate.
        arch: Architecture,
        /// Its cost.
        cost: f64,
        /// Whether it meets the target (always true under the rejection reward).
        feasible: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum Phase {
    Ready,
    // The name a checkpoint holds.
    #[serde(rename = "AwaitingQuality")]
    AwaitingLoss {
        arch: Architecture,
        cost: f64,
        feasible: bool,
    },
}

/// Counts of what steps did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StepCounts {
    /// Steps finished.
    pub steps: u32,
    /// Steps that updated the logits.
    pub updated: u32,
    /// Steps whose sample was rejected.
    pub rejected: u32,
    /// Steps skipped for lack of a feasible Monte-Carlo sample.
    pub skipped: u32,
}

/// The learning state of a search (everything a checkpoint needs besides the RNG).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SearchState {
    /// The settings it runs with.
    pub settings: SearchSettings,
    /// The logits.
    pub controller: Controller,
    /// The optimizer.
    pub adam: Adam,
    /// The baseline.
    pub baseline: EmaBaseline,
    /// Step counters.
    pub counts: StepCounts,
    phase: Phase,
}

/// A TabNAS search with a Monte-Carlo buffer of `MC` samples.
#[derive(Debug, Clone)]
pub struct RlSearch<const MC: usize> {
    state: SearchState,
    mc: MonteCarloPv<MC>,
}

/// The final answer of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinalChoice {
    /// Most probable feasible architecture (the TabNAS answer), if any is feasible.
    pub feasible: Option<Selection>,
    /// Unconstrained argmax of `p` (where Abs/MnasNet rewards converge; may violate
    /// the target).
    pub unconstrained: Selection,
}

impl<const MC: usize> RlSearch<MC> {
    /// A fresh search (zero logits) over `space`.
    pub fn new(space: &SearchSpace, settings: SearchSettings) -> Result<Self, SettingsError> {
        settings.validate(space, MC)?;
        Ok(Self {
            state: SearchState {
                settings,
                controller: Controller::new(space),
                adam: Adam::new(settings.learning_rate),
                baseline: EmaBaseline::new(settings.baseline_momentum),
                counts: StepCounts::default(),
                phase: Phase::Ready,
            },
            mc: MonteCarloPv::new(),
        })
    }

    /// Resumes from a saved state, re-validating it against `space`.
    pub fn from_state(space: &SearchSpace, state: SearchState) -> Result<Self, ResumeError> {
        state
            .settings
            .validate(space, MC)
            .map_err(ResumeError::Settings)?;
        if state.controller.shape() != Shape::of(space) {
            return Err(ResumeError::ShapeMismatch);
        }
        if let Phase::AwaitingLoss { arch, .. } = state.phase {
            if !space.contains(&arch) {
                return Err(ResumeError::ShapeMismatch);
            }
        }
        Ok(Self {
            state,
            mc: MonteCarloPv::new(),
        })
    }

    /// The learning state (for checkpoints and reports).
    pub fn state(&self) -> &SearchState {
        &self.state
    }

    /// The current policy.
    pub fn policy(&self) -> Policy {
        self.state.controller.policy()
    }

    /// Step counters.
    pub fn counts(&self) -> StepCounts {
        self.state.counts
    }

    /// The Monte-Carlo samples of the last P(V) estimate.
    pub fn mc_samples(&self) -> &[crate::pv::McSample] {
        self.mc.samples()
    }

    /// Drops a pending proposal without learning from it (for example when its quality
    /// cannot be measured); the step does not count.
    pub fn abandon(&mut self) {
        self.state.phase = Phase::Ready;
    }

    fn check_space<C: CostModel + ?Sized>(
        &self,
        feasibility: &Feasibility<'_, C>,
    ) -> Result<(), StepError> {
        if Shape::of(feasibility.space()) == self.state.controller.shape() {
            Ok(())
        } else {
            Err(StepError::SpaceMismatch)
        }
    }

    /// Samples a child and judges it.
    pub fn propose<R: Rng + ?Sized, C: CostModel + ?Sized>(
        &mut self,
        rng: &mut R,
        feasibility: &Feasibility<'_, C>,
    ) -> Result<Proposal, StepError> {
        if !matches!(self.state.phase, Phase::Ready) {
            return Err(StepError::AwaitingLoss);
        }
        self.check_space(feasibility)?;
        let arch = self.policy().sample(rng);
        let j = feasibility.judge(&arch);
        if !j.feasible && self.state.settings.reward.rejects_infeasible() {
            let counts = &mut self.state.counts;
            counts.steps += 1;
            counts.rejected += 1;
            return Ok(Proposal::Rejected(StepReport {
                step: counts.steps,
                arch,
                cost: j.cost,
                feasible: false,
                kind: StepKind::Rejected,
                loss: None,
                reward: None,
                advantage: None,
                pv: None,
                mc_feasible_fraction: None,
            }));
        }
        self.state.phase = Phase::AwaitingLoss {
            arch,
            cost: j.cost,
            feasible: j.feasible,
        };
        Ok(Proposal::Evaluate {
            arch,
            cost: j.cost,
            feasible: j.feasible,
        })
    }

    /// Learns from the validation loss of the pending proposal.
    pub fn complete<R: Rng + ?Sized, C: CostModel + ?Sized>(
        &mut self,
        loss: f64,
        rng: &mut R,
        feasibility: &Feasibility<'_, C>,
    ) -> Result<StepReport, StepError> {
        let Phase::AwaitingLoss {
            arch,
            cost,
            feasible,
        } = self.state.phase
        else {
            return Err(StepError::NothingProposed);
        };
        if !loss.is_finite() {
            return Err(StepError::NonFiniteLoss { loss });
        }
        self.check_space(feasibility)?;
        let settings = self.state.settings;
        let policy = self.policy();

        // P(V) first, so that an error leaves baseline and logits untouched.
        let mut mc_fraction = None;
        let pv = if settings.reward.rejects_infeasible() {
            let est = match settings.pv {
                PvMode::Exact => exact_pv(&policy, feasibility),
                PvMode::MonteCarlo { samples } => {
                    let est = self
                        .mc
                        .estimate(samples as usize, &policy, feasibility, rng);
                    mc_fraction = Some(est.map(|e| e.map_or(0.0, |e| e.value)));
                    est
                }
            }
            .map_err(StepError::Pv)?;
            Some(est)
        } else {
            None
        };
        let mc_feasible_fraction = mc_fraction.map(|r| r.unwrap_or(0.0));

        let quality = settings.quality.quality(loss);
        let reward = settings.reward.value(quality, cost, feasibility.target());
        // Baseline and logits are updated on copies and kept only when finite, so an
        // overflow is an error that leaves the state (and its checkpoint) resumable.
        let mut baseline = self.state.baseline;
        let advantage = baseline.update(reward);
        if !(reward.is_finite() && advantage.is_finite()) {
            return Err(StepError::Diverged);
        }

        let mut grad = LogitGrid::zeros();
        policy.add_grad_log_prob(&arch, advantage, &mut grad);
        let kind = match &pv {
            Some(None) => StepKind::SkippedNoFeasibleSample,
            Some(Some(est)) => {
                grad.add_scaled(&est.grad_log, -advantage);
                StepKind::Updated
            }
            None => StepKind::Updated,
        };
        if kind == StepKind::Updated {
            let mut adam = self.state.adam;
            let mut controller = self.state.controller;
            adam.ascend(controller.logits_mut(), &grad);
            if !(controller.is_finite() && adam.is_finite()) {
                return Err(StepError::Diverged);
            }
            self.state.adam = adam;
            self.state.controller = controller;
            self.state.counts.updated += 1;
        } else {
            self.state.counts.skipped += 1;
        }
        self.state.baseline = baseline;
        let counts = &mut self.state.counts;
        counts.steps += 1;
        self.state.phase = Phase::Ready;
        Ok(StepReport {
            step: counts.steps,
            arch,
            cost,
            feasible,
            kind,
            loss: Some(loss),
            reward: Some(reward),
            advantage: Some(advantage),
            pv: pv.flatten().as_ref().map(PvSummary::from),
            mc_feasible_fraction,
        })
    }

    /// A whole step: propose, evaluate through `quality` if needed, complete.
    pub fn step<R: Rng + ?Sized, C: CostModel + ?Sized, Q: LossEvaluator>(
        &mut self,
        rng: &mut R,
        feasibility: &Feasibility<'_, C>,
        quality: &mut Q,
    ) -> Result<StepReport, StepError<Q::Error>> {
        let arch = match self.propose(rng, feasibility).map_err(StepError::widen)? {
            Proposal::Rejected(report) => return Ok(report),
            Proposal::Evaluate { arch, .. } => arch,
        };
        let loss = quality.loss(&arch).map_err(StepError::Loss)?;
        self.complete(loss, rng, feasibility)
            .map_err(StepError::widen)
    }

    /// The final answer under the current controller.
    pub fn final_choice<C: CostModel + ?Sized>(
        &self,
        feasibility: &Feasibility<'_, C>,
    ) -> FinalChoice {
        let policy = self.policy();
        FinalChoice {
            feasible: most_probable_feasible(&policy, feasibility),
            unconstrained: most_probable(&policy, feasibility),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{FfnParams, FfnShape};
    use rand_core::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn toy() -> (SearchSpace, FfnParams) {
        (
            SearchSpace::uniform(2, &[2, 3, 4]).unwrap(),
            FfnParams(FfnShape {
                input: 2,
                output: 1,
                biases: true,
            }),
        )
    }

    struct Fails;
    impl LossEvaluator for Fails {
        type Error = &'static str;
        fn loss(&mut self, _: &Architecture) -> Result<f64, &'static str> {
            Err("sensor unplugged")
        }
    }

    #[test]
    fn state_machine_refuses_out_of_order_calls_and_keeps_state_on_errors() {
        let (space, model) = toy();
        let f = Feasibility::new(&space, &model, 100.0).unwrap();
        let mut s: RlSearch<8> =
            RlSearch::new(&space, SearchSettings::rejection(PvMode::Exact, 0.1)).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
        assert_eq!(
            s.complete(0.5, &mut rng, &f),
            Err(StepError::NothingProposed)
        );
        let Proposal::Evaluate { .. } = s.propose(&mut rng, &f).unwrap() else {
            panic!("everything is feasible under 100 parameters")
        };
        assert_eq!(s.propose(&mut rng, &f), Err(StepError::AwaitingLoss));
        let before = *s.state();
        assert!(matches!(
            s.complete(f64::NAN, &mut rng, &f),
            Err(StepError::NonFiniteLoss { .. })
        ));
        assert_eq!(*s.state(), before);
        let r = s.complete(0.5, &mut rng, &f).unwrap();
        assert_eq!((r.step, r.kind), (1, StepKind::Updated));
        // A failing evaluator leaves the search waiting; abandon() frees it.
        assert!(matches!(
            s.step(&mut rng, &f, &mut Fails),
            Err(StepError::Loss("sensor unplugged"))
        ));
        assert_eq!(s.counts().steps, 1);
        assert_eq!(s.propose(&mut rng, &f), Err(StepError::AwaitingLoss));
        s.abandon();
        assert!(s.propose(&mut rng, &f).is_ok());
    }

    #[test]
    fn rejection_skips_infeasible_samples_without_learning() {
        let (space, model) = toy();
        // Only 2-2 (15 parameters) is feasible.
        let f = Feasibility::new(&space, &model, 15.0).unwrap();
        let mut s: RlSearch<8> =
            RlSearch::new(&space, SearchSettings::rejection(PvMode::Exact, 0.1)).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let mut saw_rejection = false;
        for _ in 0..30 {
            let before = *s.state();
            match s.propose(&mut rng, &f).unwrap() {
                Proposal::Rejected(r) => {
                    saw_rejection = true;
                    assert_eq!(r.kind, StepKind::Rejected);
                    assert_eq!(s.state().controller, before.controller);
                    assert_eq!(s.state().baseline, before.baseline);
                    assert_eq!(s.state().adam, before.adam);
                }
                Proposal::Evaluate { feasible, .. } => {
                    assert!(feasible);
                    let r = s.complete(0.2, &mut rng, &f).unwrap();
                    // With one feasible architecture p(y)/P(V) = 1: the gradient is zero up
                    // to rounding, which Adam's eps turns into a negligible move.
                    assert!(r.pv.unwrap().value > 0.0);
                    let mut moved = *s.state().controller.logits();
                    moved.add_scaled(before.controller.logits(), -1.0);
                    assert!(moved.max_abs() < 1e-6, "{}", moved.max_abs());
                }
            }
        }
        assert!(saw_rejection);
        assert_eq!(s.counts().steps, 30);
    }

    #[test]
    fn mc_step_with_no_feasible_sample_is_skipped_after_the_baseline_update() {
        let (space, model) = toy();
        let f = Feasibility::new(&space, &model, 15.0).unwrap();
        let settings = SearchSettings::rejection(PvMode::MonteCarlo { samples: 1 }, 0.1);
        let mut s: RlSearch<1> = RlSearch::new(&space, settings).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut skipped = 0;
        for _ in 0..200 {
            if let Proposal::Evaluate { .. } = s.propose(&mut rng, &f).unwrap() {
                let before = *s.state();
                let r = s.complete(0.2, &mut rng, &f).unwrap();
                if r.kind == StepKind::SkippedNoFeasibleSample {
                    skipped += 1;
                    assert_eq!(s.state().controller, before.controller);
                    assert_ne!(s.state().baseline, before.baseline);
                    assert_eq!(r.mc_feasible_fraction, Some(0.0));
                    assert_eq!(r.pv, None);
                }
            }
        }
        assert!(skipped > 0);
        assert_eq!(s.counts().skipped, skipped);
    }

    #[test]
    fn bad_settings_are_named() {
        let (space, _) = toy();
        let mut st = SearchSettings::rejection(PvMode::MonteCarlo { samples: 9 }, 0.1);
        assert_eq!(
            RlSearch::<8>::new(&space, st).err(),
            Some(SettingsError::Pv(PvError::TooManySamples {
                requested: 9,
                capacity: 8
            }))
        );
        st.pv = PvMode::MonteCarlo { samples: 0 };
        assert_eq!(
            RlSearch::<8>::new(&space, st).err(),
            Some(SettingsError::Pv(PvError::NoSamples))
        );
        st.pv = PvMode::Exact;
        st.learning_rate = -1.0;
        assert_eq!(
            RlSearch::<8>::new(&space, st).err(),
            Some(SettingsError::LearningRate)
        );
        st.learning_rate = 0.1;
        st.baseline_momentum = 1.0;
        assert_eq!(
            RlSearch::<8>::new(&space, st).err(),
            Some(SettingsError::BaselineMomentum)
        );
        st.baseline_momentum = 0.9;
        st.reward = Reward::Abs { beta: f64::NAN };
        assert_eq!(
            RlSearch::<8>::new(&space, st).err(),
            Some(SettingsError::Beta)
        );
        let other = SearchSpace::uniform(3, &[2, 3, 4]).unwrap();
        let (_, model) = toy();
        let f = Feasibility::new(&other, &model, 25.0).unwrap();
        let mut s =
            RlSearch::<8>::new(&space, SearchSettings::rejection(PvMode::Exact, 0.1)).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
        assert_eq!(s.propose(&mut rng, &f), Err(StepError::SpaceMismatch));
    }

    /// Prices every architecture at the largest finite number.
    struct Enormous;
    impl CostModel for Enormous {
        fn cost(&self, _: &SearchSpace, _: &Architecture) -> f64 {
            f64::MAX
        }
        fn unit(&self) -> &'static str {
            "us"
        }
    }

    #[test]
    fn an_overflowing_reward_is_an_error_that_keeps_the_state() {
        let (space, _) = toy();
        // The abs reward with a cost ratio of about 1e608 overflows to -inf: the step is an
        // error and the controller stays as it was.
        let f = Feasibility::new(&space, &Enormous, 1e-300).unwrap();
        let mut settings = SearchSettings::rejection(PvMode::Exact, 0.1);
        settings.reward = Reward::Abs { beta: MAX_BETA };
        let mut s: RlSearch<8> = RlSearch::new(&space, settings).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let Proposal::Evaluate { .. } = s.propose(&mut rng, &f).unwrap() else {
            panic!("the abs reward evaluates every sample")
        };
        let before = *s.state();
        assert_eq!(s.complete(0.5, &mut rng, &f), Err(StepError::Diverged));
        assert_eq!(*s.state(), before);
        assert!(s.state().controller.is_finite());
    }
}
