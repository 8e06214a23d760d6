//! Phase 2: the target of the run — the user's, or the median measured latency of the
//! children measured end to end — checked against the fastest child the model predicts.

use super::{widths, MeasuredTable, Progress, Session, Target};
use crate::error::RunError;
use crate::latency_model::fastest_child;

impl Session<'_, '_> {
    /// The target in microseconds and where it came from; fails below the fastest child.
    pub(super) fn resolve_target(&mut self, table: &MeasuredTable) -> Result<Target, RunError> {
        let space = &self.space;
        let block_sum = table
            .file
            .table(space)
            .map_err(|source| RunError::TableReuse {
                path: self.folder.table(),
                source,
            })?;
        let (fastest, fastest_us) = fastest_child(space, &table.model, || {
            crate::latency_table::fastest_child(space, &block_sum).0
        });
        let fastest = widths(space, &fastest);
        let (target_us, source) = match (self.options.target_us, table.file.measured_median_us()) {
            (Some(t), _) => (t, "given".to_string()),
            (None, Some(median)) if median >= fastest_us => (
                median,
                format!(
                    "derived: the median measured latency of the {} children measured end to end",
                    table.file.points.len()
                ),
            ),
            (None, _) => (
                fastest_us * 1.1,
                "derived: 10% above the fastest child's predicted latency".to_string(),
            ),
        };
        if !(target_us.is_finite() && target_us > 0.0) {
            return Err(RunError::BadTarget { target_us });
        }
        if target_us < fastest_us {
            // With every child measured, the model's fastest child is a measurement.
            let measured = match table.model {
                crate::latency_model::LatencyModel::Direct(_) => {
                    Some((fastest.clone(), fastest_us))
                }
                _ => table.file.fastest_measured(),
            };
            return Err(RunError::TargetBelowFastest {
                target_us,
                fastest,
                fastest_us,
                measured,
            });
        }
        if self.options.target_us.is_none() {
            (self.progress)(Progress::Note(format!(
                "no target given: using {target_us:.1} us ({source})"
            )));
        }
        Ok(Target {
            target_us,
            source,
            fastest,
            fastest_us,
        })
    }
}
