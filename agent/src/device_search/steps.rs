//! Phase 3: controller steps up to the planned count, each traced, with a checkpoint
//! every `checkpoint_every` steps (but at most one per [`MIN_CHECKPOINT_INTERVAL`]) and
//! at the last one.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{widths, Checkpoint, Progress, Session, StepPoint, TraceLog, MIN_CHECKPOINT_INTERVAL};
use crate::device_search::RunError;
use crate::latency_model::LatencyModel;
use crate::validation_loss::BundleLosses;
use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::feasibility::Feasibility;
use tabnas_core::search::RlSearch;

impl Session<'_, '_> {
    /// Runs the steps from `ck.step` to `ck.planned_steps` under the internal target.
    pub(super) fn run_steps(
        &mut self,
        rl: &mut RlSearch<DEFAULT_MC_CAPACITY>,
        ck: &mut Checkpoint,
        model: &LatencyModel,
        quality: &mut BundleLosses<'_>,
        log: &mut TraceLog,
    ) -> Result<(), RunError> {
        let every = self.options.checkpoint_every.max(1);
        let space = self.space.clone();
        let feasibility = Feasibility::new(&space, model, ck.internal_target_us.us())
            .map_err(RunError::Target)?;
        while ck.step < ck.planned_steps {
            if self.stop.load(Ordering::Relaxed) {
                self.save(ck, quality, log)?;
                return Err(RunError::Stopped {
                    dir: self.folder.dir.clone(),
                    step: ck.step,
                });
            }
            let t = Instant::now();
            let q0 = quality.seconds;
            let r = rl
                .step(&mut ck.rng, &feasibility, quality)
                .map_err(RunError::Step)?;
            ck.step_seconds += t.elapsed().as_secs_f64();
            ck.quality_seconds += quality.seconds - q0;
            ck.step += 1;
            let point = StepPoint {
                step: ck.step,
                arch: widths(&space, &r.arch),
                predicted_us: r.cost,
                kind: r.kind,
                loss: r.loss,
                pv: r.pv.map(|p| p.value),
                mc_feasible_fraction: r.mc_feasible_fraction,
                target_us: ck.internal_target_us.us(),
            };
            log.push(&point)?;
            ck.state = *rl.state();
            let due = ck.step.is_multiple_of(every)
                && self.last_save.elapsed() >= MIN_CHECKPOINT_INTERVAL;
            if due || ck.step == ck.planned_steps {
                self.save(ck, quality, log)?;
            }
            (self.progress)(Progress::Step(&point, ck.planned_steps));
            (self.progress)(Progress::Policy(&rl.policy()));
        }
        Ok(())
    }
}
