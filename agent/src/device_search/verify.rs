//! Phase 4: the answer on the device. The most probable feasible child is decided
//! sequentially, then measured in full (to report it, or to confirm a miss with the
//! protocol's retries before the search tightens). An answer that meets the target is
//! written (`best.onnx`, `result.json`); a miss tightens the internal target.

use std::time::Instant;

use super::{
    widths, Checkpoint, DeviceResult, MeasuredTable, Progress, Session, StepPoint, Target,
    Tightening, Timings,
};
use crate::atomic_file::{write_atomic, write_json};
use crate::error::{MeasureError, RunError};
use crate::measure::{decide, measure, Decision, Measurement};
use crate::quality::BundleQuality;
use tabnas_bundle::{encode_model, NetShape};
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::cost::LatencyTable;
use tabnas_core::feasibility::Feasibility;
use tabnas_core::search::RlSearch;
use tabnas_core::space::Architecture;

/// The chosen child and what the device said about it.
pub(super) struct Answer {
    arch: Architecture,
    widths: Vec<usize>,
    predicted_us: f64,
    probability: f64,
    decision: Decision,
    latency: Measurement,
}

/// Whether the chosen child meets the target on the device.
pub(super) enum Verdict {
    /// It does.
    Meets(Box<Answer>),
    /// It does not: its widths and measured latency.
    Misses {
        /// The child.
        widths: Vec<u32>,
        /// Its measured statistic.
        measured_us: f64,
    },
}

/// A verdict and the seconds it took.
pub(super) struct Outcome {
    pub(super) verdict: Verdict,
    pub(super) seconds: f64,
}

impl Session<'_, '_> {
    /// Measures the controller's answer under the internal target against the user's.
    pub(super) fn verify_answer(
        &mut self,
        rl: &RlSearch<DEFAULT_MC_CAPACITY>,
        ck: &Checkpoint,
        table: &LatencyTable,
        target: &Target,
    ) -> Result<Outcome, RunError> {
        let feasibility = Feasibility::new(&self.space, table, ck.internal_target_us)
            .map_err(RunError::Target)?;
        let Some(chosen) = rl.final_choice(&feasibility).feasible else {
            return Err(RunError::NoFeasibleChild {
                target_us: ck.internal_target_us,
                fastest_us: target.fastest_us,
            });
        };
        let w: Vec<usize> = widths(&self.space, &chosen.arch)
            .into_iter()
            .map(|x| x as usize)
            .collect();
        let model = self.bundle.child_model(&w)?;
        let started = Instant::now();
        let shape = NetShape::of(&self.bundle.manifest);
        let answer_failed = |source| RunError::Measure {
            what: "the answer",
            source: MeasureError::Probe(source),
        };
        let protocol = &self.options.protocol;
        let decision = decide(&mut *self.probe, &model, shape, protocol, ck.target_us)
            .map_err(answer_failed)?;
        // A full measurement follows either way: for the report when the decision says
        // feasible, and to confirm a miss (with the protocol's retries of noisy runs)
        // before tightening, so one noisy burst does not change the search.
        let latency = measure(&mut *self.probe, &model, shape, protocol).map_err(answer_failed)?;
        let seconds = started.elapsed().as_secs_f64();
        let verdict = if latency.latency_us <= ck.target_us {
            Verdict::Meets(Box::new(Answer {
                arch: chosen.arch,
                widths: w,
                predicted_us: chosen.cost,
                probability: chosen.prob,
                decision,
                latency,
            }))
        } else {
            Verdict::Misses {
                widths: w.iter().map(|&x| x as u32).collect(),
                measured_us: latency.latency_us,
            }
        };
        Ok(Outcome { verdict, seconds })
    }

    /// After a miss: tightens the internal target by the miss (never below the fastest
    /// child) and plans more steps, or fails when tightening cannot help.
    pub(super) fn tighten(
        &mut self,
        ck: &mut Checkpoint,
        target: &Target,
        widths: Vec<u32>,
        measured_us: f64,
    ) -> Result<(), RunError> {
        if ck.tightenings.len() as u32 >= self.options.max_tightenings {
            return Err(RunError::AnswerMisses {
                widths,
                measured_us,
                target_us: ck.target_us,
                tightenings: ck.tightenings.len(),
            });
        }
        let old = ck.internal_target_us;
        // At the fastest child's latency the search can only return the fastest child;
        // if even that misses, fail.
        if old <= target.fastest_us {
            return Err(RunError::FastestMisses {
                widths,
                measured_us,
                target_us: ck.target_us,
            });
        }
        let new = (old * (ck.target_us / measured_us) * 0.99).max(target.fastest_us);
        (self.progress)(Progress::Note(format!(
            "{} measured {measured_us:.1} us > target {:.1} us on the device: tightening the \
             search target from {old:.1} to {new:.1} us and continuing",
            tabnas_core::space::show_widths(&widths),
            ck.target_us
        )));
        ck.tightenings.push(Tightening {
            step: ck.step,
            widths,
            measured_us,
            old_target_us: old,
            new_target_us: new,
        });
        ck.internal_target_us = new;
        ck.planned_steps += (self.options.steps / 4).max(1);
        Ok(())
    }

    /// Writes `best.onnx` and `result.json` for an answer that meets the target.
    #[allow(clippy::too_many_arguments)] // the pieces of the result, each from its phase
    pub(super) fn finish(
        &mut self,
        answer: Answer,
        table: &MeasuredTable,
        target: &Target,
        ck: &Checkpoint,
        quality: &BundleQuality<'_>,
        trace: Vec<StepPoint>,
        timings: Timings,
    ) -> Result<DeviceResult, RunError> {
        let bundle = self.bundle;
        let child = bundle.child_model(&answer.widths)?;
        write_atomic(&self.folder.best(), &encode_model(&child))?;
        let validation_loss = match quality.cache.get(self.space.index_of(&answer.arch)) {
            Some(l) => l,
            None => quality.compute(&answer.widths)?,
        };
        let result = DeviceResult {
            architecture: answer.widths.iter().map(|&x| x as u32).collect(),
            latency_us: answer.latency.latency_us,
            target_us: ck.target_us,
            target_source: ck.target_source.clone(),
            feasible: true,
            validation_loss,
            params: bundle.manifest.dense_params(&answer.widths),
            predicted_latency_us: answer.predicted_us,
            probability: answer.probability,
            latency: answer.latency,
            decision: answer.decision,
            protocol: self.options.protocol,
            fastest: (target.fastest.clone(), target.fastest_us),
            tightenings: ck.tightenings.clone(),
            trace,
            settings: self.options.settings,
            seed: self.options.seed,
            steps: ck.step,
            environment: self.environment.clone(),
            table: table.summary.clone(),
            quality_cache: (quality.hits, quality.misses),
            timings,
        };
        write_json(&self.folder.result(), &result)?;
        Ok(result)
    }
}
