//! Phase 2: the target of the run — the user's, or the median measured latency of the
//! children measured end to end — checked against the fastest child this run measured.
//!
//! Every latency this phase claims is a measurement: the fastest child is the fastest
//! one measured end to end (the model's own fastest child is among the children the
//! table measures), never a model's extrapolation.

use super::{widths, MeasuredTable, Progress, Session, Target};
use crate::device_search::RunError;
use crate::latency_model::fastest_child;
use crate::measure::Net;
use tabnas_bundle::NetShape;
use tabnas_core::target::LatencyTarget;

impl Session<'_, '_> {
    /// The target in microseconds and where it came from; fails below the fastest child
    /// measured.
    pub(super) fn resolve_target(&mut self, table: &MeasuredTable) -> Result<Target, RunError> {
        let space = &self.space;
        let block_sum = table
            .file
            .table(space)
            .map_err(|source| RunError::TableReuse {
                path: self.folder.table(),
                source,
            })?;
        // The model's fastest child bounds how far a tightening can lower the internal
        // target (below it the model holds no feasible child).
        let (model_fastest, model_floor_us) = fastest_child(space, &table.model, || {
            crate::latency_table::fastest_child(space, &block_sum).0
        });
        let (fastest, fastest_us) = match table.file.fastest_measured(space) {
            Some(measured) => measured,
            None => {
                // A table without children measured end to end (not written by this
                // agent): measure the model's fastest child rather than quote it.
                let w = widths(space, &model_fastest);
                let sizes: Vec<usize> = w.iter().map(|&x| x as usize).collect();
                let model = self.bundle.child_model(&sizes)?;
                let label = format!("child {}", tabnas_core::space::show_widths(&w));
                let m = self
                    .bench
                    .measure(Net {
                        label: &label,
                        model: &model,
                        shape: NetShape::of(&self.bundle.manifest),
                    })
                    .map_err(|source| RunError::Measure {
                        what: "the fastest child",
                        source,
                    })?;
                (w, m.latency_us)
            }
        };
        let (target_us, source) = match (self.options.target_us, table.file.measured_median_us()) {
            (Some(t), _) => (t.us(), "given".to_string()),
            (None, Some(median)) if median >= fastest_us => (
                median,
                format!(
                    "derived: the median measured latency of the {} children measured end to end",
                    table.file.points.len()
                ),
            ),
            (None, _) => (
                fastest_us * 1.1,
                "derived: 10% above the fastest child's measured latency".to_string(),
            ),
        };
        let target = LatencyTarget::new(target_us).map_err(RunError::BadTarget)?;
        if target_us < fastest_us {
            return Err(RunError::TargetBelowFastest {
                target_us,
                fastest,
                fastest_us,
            });
        }
        if self.options.target_us.is_none() {
            (self.progress)(Progress::Note(format!(
                "no target given: using {target_us:.1} us ({source})"
            )));
        }
        Ok(Target {
            target,
            source,
            fastest,
            fastest_us,
            model_floor_us: model_floor_us.max(fastest_us),
        })
    }
}
