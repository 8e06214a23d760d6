//! Phase 1: the latency table of the run, measured or completed from the run folder's
//! saved table, written back when anything was measured.

use std::time::Instant;

use super::{MeasuredTable, Progress, Session, TableSummary};
use crate::atomic_file::{read_json, write_json};
use crate::error::RunError;
use crate::latency_table::{build_table, TableFile};

impl Session<'_, '_> {
    /// Measures (or completes) and calibrates the table; reports its held-out error.
    pub(super) fn measure_table(&mut self) -> Result<MeasuredTable, RunError> {
        let started = Instant::now();
        let path = self.folder.table();
        let saved: Option<TableFile> = read_json(&path)?;
        if let Some(t) = &saved {
            t.check(self.bundle)
                .map_err(|source| RunError::TableReuse {
                    path: path.clone(),
                    source,
                })?;
        }
        let had_table = saved.is_some();
        let progress = &mut *self.progress;
        let (file, work) = build_table(
            &mut *self.probe,
            self.bundle,
            &self.options.protocol,
            self.options.calibration_children,
            self.options.seed,
            saved,
            self.environment.clone(),
            |phase, k, n| progress(Progress::Table(phase, k, n)),
        )
        .map_err(|source| RunError::Measure {
            what: "the latency table",
            source,
        })?;
        if !had_table || work.measured_blocks > 0 || work.calibration_children > 0 {
            write_json(&path, &file)?;
        }
        let table = file
            .table(&self.space)
            .map_err(|source| RunError::TableReuse { path, source })?;
        let summary = TableSummary::of(&file, work.measured_blocks, work.reused_blocks);
        (self.progress)(Progress::Note(format!(
            "latency table: {} blocks measured, {} reused; held-out MAPE {:.1}%, worst error {:.1} us",
            work.measured_blocks,
            work.reused_blocks,
            100.0 * summary.holdout_mape,
            summary.holdout_max_error_us
        )));
        Ok(MeasuredTable {
            table,
            summary,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
