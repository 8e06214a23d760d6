//! Phase 4: the answer on the device. The `candidates` most probable feasible children
//! under the final controller are evaluated on the validation rows; in order of
//! validation loss, each is decided sequentially against the user's target and, when
//! the decision says it meets it, measured in full. The first whose full measurement
//! meets the target is the answer (`best.onnx`, `result.json`), reported beside the
//! paper's answer (the most probable feasible child). When none does, the paper's answer
//! is measured in full to confirm the miss, and the internal target tightens by it.

use std::time::Instant;

use super::report::{Candidate, PredictionCheck};
use super::{
    widths, Checkpoint, DeviceResult, MeasuredTable, Progress, Session, Target, Tightening, Timings,
};
use crate::atomic_file::{write_atomic, write_json};
use crate::confirm::confirm;
use crate::device_search::RunError;
use crate::latency_model::LatencyModel;
use crate::load::MachineLoad;
use crate::measure::MeasureError;
use crate::measure::{Decision, Measurement, Net};
use crate::validation_loss::BundleLosses;
use tabnas_bundle::{encode_model, NetShape};
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::controller::Policy;
use tabnas_core::cost::CostModel;
use tabnas_core::feasibility::Feasibility;
use tabnas_core::search::{LossEvaluator, RlSearch};
use tabnas_core::select::top_feasible;
use tabnas_core::space::{show_widths, Architecture};
use tabnas_core::target::LatencyTarget;

/// The chosen child and what the device said about it.
pub(super) struct Answer {
    arch: Architecture,
    widths: Vec<usize>,
    predicted_us: f64,
    probability: f64,
    decision: Decision,
    latency: Measurement,
    rule: String,
    paper: Candidate,
    candidates: Vec<Candidate>,
}

/// Whether a candidate meets the target on the device.
pub(super) enum Verdict {
    /// One does.
    Meets(Box<Answer>),
    /// None does: the paper's answer's widths and measured latency.
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

/// The `k` most probable feasible children under `policy`, most probable first (exact, by
/// the core's branch and bound), `first` (the paper's answer) leading.
fn candidates(
    policy: &Policy,
    feasibility: &Feasibility<'_, LatencyModel>,
    first: Architecture,
    k: usize,
) -> Vec<Architecture> {
    let mut top = vec![None; k.max(1)];
    top_feasible(policy, feasibility, &mut top);
    std::iter::once(first)
        .chain(
            top.into_iter()
                .flatten()
                .map(|s| s.arch)
                .filter(|a| *a != first),
        )
        .take(k.max(1))
        .collect()
}

impl Session<'_, '_> {
    fn child_net(&self, w: &[usize]) -> Result<(tract_onnx::pb::ModelProto, String), RunError> {
        let model = self.bundle.child_model(w)?;
        let label = format!(
            "child {}",
            show_widths(&w.iter().map(|&x| x as u32).collect::<Vec<_>>())
        );
        Ok((model, label))
    }

    /// The answer under the current internal target: the controller's candidates
    /// checked on the device and, after a miss that tightening cannot answer (the
    /// model's floor reached, or the tightenings spent), the children the table
    /// measured, as the last resort.
    pub(super) fn answer(
        &mut self,
        rl: &RlSearch<DEFAULT_MC_CAPACITY>,
        ck: &Checkpoint,
        table: &MeasuredTable,
        target: &Target,
        quality: &mut BundleLosses<'_>,
    ) -> Result<Outcome, RunError> {
        let bar = Bar {
            target_us: ck.target_us.us(),
            remeasure_spread: table.file.remeasure_spread(),
            confidence: self.options.protocol.confidence,
        };
        let outcome = self.verify_answer(rl, ck, &table.model, target, quality, &bar)?;
        if let Verdict::Meets(_) = outcome.verdict {
            return Ok(outcome);
        }
        let spent = ck.tightenings.len() as u32 >= self.options.max_tightenings;
        if ck.internal_target_us.us() > target.model_floor_us && !spent {
            return Ok(outcome);
        }
        match self.fallback_answer(rl, table, &table.model, &bar, quality)? {
            Some(fallback) => Ok(Outcome {
                seconds: outcome.seconds + fallback.seconds,
                verdict: fallback.verdict,
            }),
            None => Ok(outcome),
        }
    }

    /// Evaluates the candidates and checks them on the device (see the module docs).
    fn verify_answer(
        &mut self,
        rl: &RlSearch<DEFAULT_MC_CAPACITY>,
        ck: &Checkpoint,
        model: &LatencyModel,
        target: &Target,
        quality: &mut BundleLosses<'_>,
        bar: &Bar,
    ) -> Result<Outcome, RunError> {
        let feasibility = Feasibility::new(&self.space, model, ck.internal_target_us.us())
            .map_err(RunError::Target)?;
        let Some(chosen) = rl.final_choice(&feasibility).feasible else {
            return Err(RunError::NoFeasibleChild {
                target_us: ck.internal_target_us.us(),
                fastest_us: target.model_floor_us,
            });
        };
        let policy = rl.policy();
        let archs = candidates(&policy, &feasibility, chosen.arch, self.options.candidates);
        let rule = if archs.len() == 1 {
            "the most probable feasible child (the paper's answer)".to_string()
        } else {
            format!(
                "the lowest validation loss among the {} most probable feasible children that \
                 re-measures under the target",
                archs.len()
            )
        };
        let probability = |a: &Architecture| policy.prob(a);
        self.check_candidates(&archs, &probability, model, bar, quality, rule)
    }

    /// The last resort when tightening reached the model's floor and the answer still
    /// missed: the children the table measured end to end at least 10% under the target
    /// (a margin for the device having slowed since), the `candidates` with the lowest
    /// validation loss among them, checked like the controller's candidates. The device
    /// decides, as for any answer; the rule says that this is a fallback.
    fn fallback_answer(
        &mut self,
        rl: &RlSearch<DEFAULT_MC_CAPACITY>,
        table: &MeasuredTable,
        model: &LatencyModel,
        bar: &Bar,
        quality: &mut BundleLosses<'_>,
    ) -> Result<Option<Outcome>, RunError> {
        let mut measured = table.file.measured_children(&self.space);
        measured.retain(|(_, us)| *us <= 0.9 * bar.target_us);
        measured.sort_by_key(|(a, _)| self.space.index_of(a));
        measured.dedup_by_key(|(a, _)| self.space.index_of(a));
        if measured.is_empty() {
            return Ok(None);
        }
        let mut by_loss = Vec::with_capacity(measured.len());
        for (a, _) in &measured {
            by_loss.push((quality.loss(a)?, *a));
        }
        by_loss.sort_by(|x, y| x.0.total_cmp(&y.0));
        let archs: Vec<Architecture> = by_loss
            .into_iter()
            .take(self.options.candidates.max(1))
            .map(|(_, a)| a)
            .collect();
        (self.progress)(Progress::Note(format!(
            "no child the controller prefers met the target on the device; checking the {} \
             children with the lowest validation loss that the table measured at least 10% \
             under it",
            archs.len()
        )));
        let policy = rl.policy();
        let probability = |a: &Architecture| policy.prob(a);
        let rule = format!(
            "fallback: the lowest validation loss among the {} children measured at least 10% \
             under the target that re-measures under it (no child the controller preferred met \
             the target on the device)",
            archs.len()
        );
        let outcome = self.check_candidates(&archs, &probability, model, bar, quality, rule)?;
        Ok(matches!(outcome.verdict, Verdict::Meets(_)).then_some(outcome))
    }

    /// Checks `archs` on the device in order of validation loss (a sequential decision,
    /// then a full measurement); the first whose measurement meets `target_us` is the
    /// answer. `archs[0]` is reported as the paper's answer.
    fn check_candidates(
        &mut self,
        archs: &[Architecture],
        probability: &dyn Fn(&Architecture) -> f64,
        model: &LatencyModel,
        bar: &Bar,
        quality: &mut BundleLosses<'_>,
        rule: String,
    ) -> Result<Outcome, RunError> {
        let target_us = bar.target_us;
        let mut candidates = Vec::with_capacity(archs.len());
        for a in archs {
            candidates.push(Candidate {
                widths: widths(&self.space, a),
                probability: probability(a),
                validation_loss: quality.loss(a)?,
                predicted_us: model.cost(&self.space, a),
                decided_us: None,
                meets_target: None,
            });
        }
        let mut order: Vec<usize> = (0..archs.len()).collect();
        order.sort_by(|&a, &b| {
            candidates[a]
                .validation_loss
                .total_cmp(&candidates[b].validation_loss)
        });
        let started = Instant::now();
        let shape = NetShape::of(&self.bundle.manifest);
        let failed = |source: MeasureError| RunError::Measure {
            what: "the answer",
            source,
        };
        let mut paper_latency = None;
        for k in order {
            let w: Vec<usize> = candidates[k].widths.iter().map(|&x| x as usize).collect();
            let (child, label) = self.child_net(&w)?;
            let net = Net {
                label: &label,
                model: &child,
                shape,
            };
            let decision = self.bench.decide(net, target_us).map_err(failed)?;
            candidates[k].decided_us = Some(decision.latency_us);
            candidates[k].meets_target = Some(decision.feasible);
            if !decision.feasible {
                continue;
            }
            // A confirmed measurement for the report; it must agree with the decision,
            // with the confidence the protocol asks, for one more measurement too.
            let mut latency = confirm(&mut self.bench, net).map_err(failed)?;
            latency.upper_us = bar.bound(&latency);
            if k == 0 {
                paper_latency = Some(latency.latency_us);
            }
            if latency.upper_us > target_us {
                candidates[k].meets_target = Some(false);
                continue;
            }
            return Ok(Outcome {
                verdict: meets(archs[k], w, k, candidates, decision, latency, rule),
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        // No candidate met the target: confirm the paper's answer's miss in full (with
        // the protocol's retries of noisy samples) before the search tightens.
        let measured_us = match paper_latency {
            Some(us) => us,
            None => {
                let w: Vec<usize> = candidates[0].widths.iter().map(|&x| x as usize).collect();
                let (child, label) = self.child_net(&w)?;
                let net = Net {
                    label: &label,
                    model: &child,
                    shape,
                };
                let mut latency = confirm(&mut self.bench, net).map_err(failed)?;
                latency.upper_us = bar.bound(&latency);
                if latency.upper_us <= target_us {
                    // The full measurement disagrees with the decision and meets the
                    // target: the paper's answer is the answer.
                    let decision = self.bench.decide(net, target_us).map_err(failed)?;
                    candidates[0].meets_target = Some(true);
                    return Ok(Outcome {
                        verdict: meets(archs[0], w, 0, candidates, decision, latency, rule),
                        seconds: started.elapsed().as_secs_f64(),
                    });
                }
                latency.latency_us
            }
        };
        Ok(Outcome {
            verdict: Verdict::Misses {
                widths: candidates[0].widths.clone(),
                measured_us,
            },
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// After a miss: tightens the internal target by the miss (by at least 1%, never
    /// below the fastest child) and plans more steps, or fails when tightening cannot
    /// help.
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
                target_us: ck.target_us.us(),
                tightenings: ck.tightenings.len(),
            });
        }
        let old = ck.internal_target_us.us();
        let target_us = ck.target_us.us();
        // At the fastest child's latency the search can only return the fastest child;
        // if even that misses, fail.
        if old <= target.model_floor_us {
            return Err(RunError::FastestMisses {
                widths,
                measured_us,
                target_us: ck.target_us.us(),
                fastest: (target.fastest.clone(), target.fastest_us),
            });
        }
        // A tightening never loosens: a miss measured above the target lowers it by the
        // miss, and at least by 1%.
        let by_miss = old * (target_us / measured_us.max(target_us)) * 0.99;
        let new = by_miss.min(old * 0.99).max(target.model_floor_us);
        (self.progress)(Progress::Note(format!(
            "{} measured {measured_us:.1} us > target {:.1} us on the device: tightening the \
             search target from {old:.1} to {new:.1} us and continuing",
            show_widths(&widths),
            target_us
        )));
        ck.tightenings.push(Tightening {
            step: ck.step,
            widths,
            measured_us,
            old_target_us: old,
            new_target_us: new,
        });
        ck.internal_target_us = LatencyTarget::new(new).map_err(RunError::BadTarget)?;
        ck.planned_steps += (self.options.steps / 4).max(1);
        Ok(())
    }

    /// Writes `best.onnx` and `result.json` for an answer that meets the target.
    #[allow(clippy::too_many_arguments)] // the pieces of the result, each from its phase
    pub(super) fn finish(
        &mut self,
        answer: Box<Answer>,
        table: &MeasuredTable,
        target: &Target,
        ck: &Checkpoint,
        quality: &BundleLosses<'_>,
        timings: Timings,
    ) -> Result<DeviceResult, RunError> {
        let answer = *answer;
        let bundle = self.bundle;
        let child = bundle.child_model(&answer.widths)?;
        write_atomic(&self.folder.best(), &encode_model(&child))?;
        let validation_loss = match quality.cache.get(self.space.index_of(&answer.arch)) {
            Some(l) => l,
            None => quality.compute(&answer.widths)?,
        };
        // The noise floor again at the end: with the one at the start, the drift over the
        // run, which the result reports with the load averages.
        let first = self.bench.noise_floor();
        let last = self
            .bench
            .recheck_noise()
            .map_err(|source| RunError::Measure {
                what: "the noise floor at the end",
                source,
            })?
            .zip(self.bench.noise_floor_now());
        let load = MachineLoad::of(self.load_start, first, last, self.bench.noise_stats());
        let stated_error = table.summary.model.as_ref().map_or(f64::NAN, |m| {
            m.score.holdout_max_rel_error.max(m.score.holdout_mape)
        });
        let prediction =
            PredictionCheck::of(answer.predicted_us, answer.latency.latency_us, stated_error);
        let result = DeviceResult {
            architecture: answer.widths.iter().map(|&x| x as u32).collect(),
            latency_us: answer.latency.latency_us,
            target_us: ck.target_us.us(),
            target_source: ck.target_source.clone(),
            feasible: true,
            validation_loss,
            params: bundle.manifest.dense_params(&answer.widths),
            predicted_latency_us: answer.predicted_us,
            probability: answer.probability,
            answer_rule: answer.rule,
            paper_answer: answer.paper,
            candidates: answer.candidates,
            noise_floor: table.summary.noise_floor,
            model_error: table.summary.holdout_mape,
            latency: answer.latency,
            decision: answer.decision,
            protocol: self.options.protocol,
            fastest: (target.fastest.clone(), target.fastest_us),
            prediction: Some(prediction),
            load: Some(load),
            tightenings: ck.tightenings.clone(),
            trace_file: "trace.jsonl".to_string(),
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

/// The verdict for candidate `k` (of `candidates`, the paper's answer first) meeting
/// the target with `decision` and `latency`.
fn meets(
    arch: Architecture,
    widths: Vec<usize>,
    k: usize,
    candidates: Vec<Candidate>,
    decision: Decision,
    latency: Measurement,
    rule: String,
) -> Verdict {
    Verdict::Meets(Box::new(Answer {
        arch,
        widths,
        predicted_us: candidates[k].predicted_us,
        probability: candidates[k].probability,
        decision,
        latency,
        rule,
        paper: candidates[0].clone(),
        candidates,
    }))
}

/// What an answer must meet on the device: its target, with the confidence the
/// protocol asks, for a measurement at another moment or in another process too.
pub(super) struct Bar {
    /// The user's target.
    target_us: f64,
    /// How far apart two measurements of one child at different moments are here (the
    /// standard deviation of their log ratio, from the table's children measured twice).
    remeasure_spread: Option<f64>,
    /// The protocol's confidence.
    confidence: f64,
}

impl Bar {
    /// The bound a confirmed measurement `m` must keep under the target: its own
    /// (the prediction bound over its confirmations, see [`crate::confirm`]) and, where
    /// the table measured children twice, its latency raised by the one-sided quantile
    /// of the spread between two measurements. Confirmations taken back to back agree
    /// more than a measurement taken later, or by another process, agrees with them:
    /// on a 2-vCPU VM five of them spread 0.6% while a fresh process read the same
    /// child up to 4% slower, which the table's pairs (about 2.5%) foresee.
    fn bound(&self, m: &Measurement) -> f64 {
        let own = if m.upper_us.is_finite() {
            m.upper_us
        } else {
            m.latency_us
        };
        let later = self.remeasure_spread.map_or(f64::NEG_INFINITY, |sd| {
            m.latency_us * (crate::stats::normal_quantile(self.confidence) * sd).exp()
        });
        own.max(later)
    }
}
