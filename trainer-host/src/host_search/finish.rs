//! The end of a host search: the answer under the final controller, the weights that
//! give it the lower validation loss, its test loss, the warnings, and the result.

use tabnas_core::select::Selection;

use super::{
    evaluation, guards, widths_of, Distribution, HostSearchError, HostSearchRun, SearchResult,
    Session, CONVERGED_PROBABILITY,
};
use crate::constant::ConstantLoss;

/// What the end of a search measured of its answer.
struct HostAnswer {
    /// The answer: the most probable feasible architecture, else the unconstrained argmax.
    chosen: Selection,
    /// Whether any architecture is feasible under the final policy.
    feasible: bool,
    /// Its hidden widths.
    widths: Vec<usize>,
    /// The unconstrained argmax.
    unconstrained: Selection,
    validation_loss: f64,
    test_loss: f64,
    /// The step of the exported weights.
    weights_step: u32,
    constant_loss: ConstantLoss,
}

impl Session<'_> {
    /// Ends the search that ran `wall_s` seconds: the answer, the weights exported with
    /// it and the result.
    pub(super) fn finish(mut self, wall_s: f64) -> Result<HostSearchRun, HostSearchError> {
        if let Some(step) = self.stopped_at {
            self.distributions
                .push(Distribution::of(step, &self.rl.policy()));
        }
        let choice = self.rl.final_choice(&self.feasibility);
        let chosen = choice.feasible.unwrap_or(choice.unconstrained);
        let widths = widths_of(self.space, &chosen.arch);
        let (validation_loss, weights_step) = self.keep_best_weights(&widths)?;
        let test_loss = self
            .supernet
            .loss(&self.data.test, &widths, self.eval_chunk)
            .map_err(evaluation("test"))?;
        let answer = HostAnswer {
            chosen,
            feasible: choice.feasible.is_some(),
            widths,
            unconstrained: choice.unconstrained,
            validation_loss,
            test_loss,
            weights_step,
            constant_loss: ConstantLoss::of(self.data).map_err(evaluation("validation"))?,
        };
        let result = self.result(answer, wall_s);
        Ok(HostSearchRun {
            supernet: self.supernet,
            result,
        })
    }

    /// The exported weights: the lowest-validation snapshot if it gives the answer with
    /// hidden `widths` a lower validation loss than the last weights do. Returns that
    /// loss and the step of the weights kept.
    fn keep_best_weights(&mut self, widths: &[usize]) -> Result<(f64, u32), HostSearchError> {
        let mut validation_loss = self
            .supernet
            .loss(&self.data.valid, widths, self.eval_chunk)
            .map_err(evaluation("validation"))?;
        let mut weights_step = self.stopped_at.unwrap_or(self.options.steps);
        if let Some((_, step, snapshot)) = self.best.take() {
            let l = snapshot
                .loss(&self.data.valid, widths, self.eval_chunk)
                .map_err(evaluation("validation"))?;
            if l < validation_loss {
                validation_loss = l;
                weights_step = step;
                self.supernet = snapshot;
            }
        }
        Ok((validation_loss, weights_step))
    }

    /// The search's report, with its warnings.
    fn result(&mut self, answer: HostAnswer, wall_s: f64) -> SearchResult {
        let (options, chosen) = (self.options, &answer.chosen);
        let counts = self.rl.counts();
        let rejected_share = if counts.steps == 0 {
            0.0
        } else {
            counts.rejected as f64 / counts.steps as f64
        };
        let warnings = guards::warnings(&guards::Facts {
            feasible: answer.feasible,
            probability: chosen.prob,
            rejected_share,
            validation_loss: answer.validation_loss,
            constant_validation: answer.constant_loss.validation,
            curve: &self.curve,
            stopped_at: self.stopped_at,
        });
        let unconstrained_widths = widths_of(self.space, &answer.unconstrained.arch);
        SearchResult {
            dataset: self.data.name.clone(),
            architecture: answer.widths.iter().map(|&w| w as u32).collect(),
            feasible: answer.feasible,
            resource: options.resource,
            latency_source: options.latency.as_ref().map(|l| l.source.clone()),
            board_check: None,
            cost: chosen.cost,
            target: options.target,
            params: self.supernet.dense_params(&answer.widths),
            probability: chosen.prob,
            validation_loss: answer.validation_loss,
            test_loss: answer.test_loss,
            unconstrained_argmax: unconstrained_widths.iter().map(|&w| w as u32).collect(),
            unconstrained_cost: answer.unconstrained.cost,
            unconstrained_feasible: answer.unconstrained.feasible,
            settings: options.settings,
            space: options.space.clone(),
            steps: options.steps,
            warmup_steps: self.warmup,
            rl_steps: counts.steps,
            rl_updated: counts.updated,
            rl_rejected: counts.rejected,
            rl_skipped: counts.skipped,
            batch: options.batch,
            valid_batch: options.valid_batch,
            learning_rate: options.learning_rate as f64,
            seed: options.seed,
            wall_s,
            final_train_loss: self.train_losses.last().copied().unwrap_or(f64::NAN),
            constant_loss: answer.constant_loss,
            rejected_share,
            converged: chosen.prob >= CONVERGED_PROBABILITY,
            weights_step: answer.weights_step,
            stopped_at: self.stopped_at,
            validation_curve: std::mem::take(&mut self.curve),
            guards: options.guards,
            warnings,
            trace: std::mem::take(&mut self.trace),
            distributions: std::mem::take(&mut self.distributions),
        }
    }
}
