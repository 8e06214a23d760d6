//! One step of a host search: a child trained on a training batch, then (after the
//! warm-up) a controller step judged on a validation batch, its trace point, and the
//! snapshots and validation measurements that fall due.

use tabnas_core::controller::uniform01;
use tabnas_core::search::Proposal;
use tabnas_core::space::Architecture;

use super::{
    evaluation, uniform_arch, widths_of, Distribution, HostSearchError, Session, TracePoint,
    ValidationPoint,
};

impl Session<'_> {
    /// Runs step `step` (0-based); returns its trace point, which only a step after the
    /// warm-up has.
    pub(super) fn step(&mut self, step: u32) -> Result<Option<&TracePoint>, HostSearchError> {
        let widths = self.child_widths(step);
        let train_loss = self.train(step, &widths)?;
        self.train_losses.push(train_loss);
        if step < self.warmup {
            return Ok(None);
        }
        let point = self.controller_step(step, train_loss)?;
        self.trace.push(point);
        self.snapshot_if_due(step);
        self.measure_if_due(step)?;
        Ok(self.trace.last())
    }

    /// The child to train: in the warm-up the full network with a probability falling
    /// from 1 to 0, else a uniform child; after it the controller's sample, resampled
    /// (up to 64 times) until it meets the target.
    fn child_widths(&mut self, step: u32) -> Vec<usize> {
        if step < self.warmup {
            let p_full = 1.0 - step as f64 / self.warmup as f64;
            if uniform01(&mut self.rngs.child) < p_full {
                return self.full.clone();
            }
            let arch = uniform_arch(self.space, &mut self.rngs.child);
            return widths_of(self.space, &arch);
        }
        let policy = self.rl.policy();
        let mut arch = policy.sample(&mut self.rngs.child);
        for _ in 0..64 {
            if self.feasibility.judge(&arch).feasible {
                break;
            }
            arch = policy.sample(&mut self.rngs.child);
        }
        widths_of(self.space, &arch)
    }

    /// Trains the child with hidden `widths` on one training batch; returns its loss.
    fn train(&mut self, step: u32, widths: &[usize]) -> Result<f64, HostSearchError> {
        let batch = self
            .data
            .train
            .sample(self.options.batch, &mut self.rngs.batch)
            .map_err(|source| HostSearchError::Rows {
                step: step + 1,
                source,
            })?;
        self.supernet
            .train_step(&batch, widths)
            .map_err(|source| HostSearchError::Training {
                step: step + 1,
                source,
            })
    }

    /// One controller update: a sample the target rejects costs a cost lookup and is
    /// replaced (up to `max_resamples` times) so that the step ends in an update; the
    /// proposal is judged by its shared-weight loss on a validation batch.
    fn controller_step(
        &mut self,
        step: u32,
        train_loss: f64,
    ) -> Result<TracePoint, HostSearchError> {
        let controller = |source| HostSearchError::Controller {
            step: step + 1,
            source,
        };
        let mut proposal = self
            .rl
            .propose(&mut self.rngs.rl, &self.feasibility)
            .map_err(controller)?;
        let mut resampled = 0;
        while matches!(proposal, Proposal::Rejected(_))
            && resampled < self.options.guards.max_resamples
        {
            resampled += 1;
            proposal = self
                .rl
                .propose(&mut self.rngs.rl, &self.feasibility)
                .map_err(controller)?;
        }
        let report = match proposal {
            Proposal::Rejected(report) => report,
            Proposal::Evaluate { arch, .. } => {
                let loss = self.validation_batch_loss(step, &arch)?;
                self.rl
                    .complete(loss, &mut self.rngs.rl, &self.feasibility)
                    .map_err(controller)?
            }
        };
        let mut point = TracePoint::from_report(step + 1, self.space, &report, train_loss);
        point.rejected_before = resampled;
        Ok(point)
    }

    /// The shared-weight loss of `arch` on a validation batch drawn for it.
    fn validation_batch_loss(
        &mut self,
        step: u32,
        arch: &Architecture,
    ) -> Result<f64, HostSearchError> {
        let batch = self
            .data
            .valid
            .sample(self.options.valid_batch, &mut self.rngs.batch);
        self.supernet
            .batch_loss(&batch, &widths_of(self.space, arch))
            .map_err(|source| HostSearchError::Validation {
                step: step + 1,
                source,
            })
    }

    /// Records the controller's distribution every `snapshot_every` steps after the
    /// warm-up, and at the last step.
    fn snapshot_if_due(&mut self, step: u32) {
        if (step + 1 - self.warmup).is_multiple_of(self.snapshot_every)
            || step + 1 == self.options.steps
        {
            self.distributions
                .push(Distribution::of(step + 1, &self.rl.policy()));
        }
    }

    /// Every `eval_every` steps after the warm-up (and at the last step) measures the
    /// current answer's loss on the whole validation split, keeping the weights of the
    /// lowest and counting the measurements since.
    fn measure_if_due(&mut self, step: u32) -> Result<(), HostSearchError> {
        let every = self.options.guards.eval_every;
        let due = every > 0
            && ((step + 1 - self.warmup).is_multiple_of(every) || step + 1 == self.options.steps);
        if !due {
            return Ok(());
        }
        let choice = self.rl.final_choice(&self.feasibility);
        let now = choice.feasible.unwrap_or(choice.unconstrained);
        let widths = widths_of(self.space, &now.arch);
        let loss = self
            .supernet
            .loss(&self.data.valid, &widths, self.eval_chunk)
            .map_err(evaluation("validation"))?;
        self.curve.push(ValidationPoint {
            step: step + 1,
            arch: widths.iter().map(|&w| w as u32).collect(),
            loss,
        });
        if self.best.as_ref().is_none_or(|(b, _, _)| loss < *b) {
            self.best = Some((loss, step + 1, self.supernet.clone()));
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        Ok(())
    }
}
