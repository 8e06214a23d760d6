//! Phase 2: the target of the run — the user's, or one derived from the table — checked
//! against the fastest child the table predicts.

use super::{widths, Progress, Session, Target};
use crate::error::RunError;
use crate::latency_table::fastest_child;
use tabnas_core::cost::{CostModel, LatencyTable};
use tabnas_core::space::Architecture;

impl Session<'_, '_> {
    /// The target in microseconds and where it came from; fails below the fastest child.
    pub(super) fn resolve_target(&mut self, table: &LatencyTable) -> Result<Target, RunError> {
        let space = &self.space;
        let (fastest, fastest_us) = fastest_child(space, table);
        let (target_us, source) = match self.options.target_us {
            Some(t) => (t, "given".to_string()),
            None => {
                let mut median = Architecture::with_len(space.num_layers());
                for l in 0..space.num_layers() {
                    median.set_choice(l, space.num_choices(l) / 2);
                }
                (
                    table.cost(space, &median),
                    format!(
                        "derived: the predicted latency of the median child {:?}",
                        widths(space, &median)
                    ),
                )
            }
        };
        if !(target_us.is_finite() && target_us > 0.0) {
            return Err(RunError::BadTarget { target_us });
        }
        let fastest = widths(space, &fastest);
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
            target_us,
            source,
            fastest,
            fastest_us,
        })
    }
}
