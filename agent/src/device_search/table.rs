//! Phase 1: the latency model of the run, measured or completed from the run folder's
//! saved one, written back when anything was measured, and plotted
//! (`latency_model.svg`: predicted against measured latency of the held-out children).

use std::time::Instant;

use super::{MeasuredTable, Progress, Session, TableSummary};
use crate::atomic_file::{write_atomic, write_json};
use crate::device_search::RunError;
use crate::latency_model::show_holdout_error;
use crate::latency_table::{build_table, saved_table, SavedTable};

impl Session<'_, '_> {
    /// Moves a latency table this run cannot use (and its plot) out of the way.
    fn set_table_aside(&self) -> Result<std::path::PathBuf, RunError> {
        self.folder.set_aside(
            &["latency_table.json", "latency_model.svg"],
            "unused-caches",
        )
    }

    /// Measures (or completes) the table, chooses the model; reports its held-out error.
    pub(super) fn measure_table(&mut self) -> Result<MeasuredTable, RunError> {
        let started = Instant::now();
        let path = self.folder.table();
        // The table is a cache keyed by the bundle, the protocol and the machine: one
        // that was measured for anything else (or cannot be read) is ignored, said so,
        // and replaced.
        let saved = match saved_table(
            &path,
            self.bundle,
            &self.options.protocol,
            &self.environment,
        ) {
            SavedTable::Usable(t) => Some(*t),
            SavedTable::Missing => None,
            SavedTable::Unusable(why) => {
                let kept = self.set_table_aside()?;
                (self.progress)(Progress::Note(format!(
                    "{} is not reused: {why}; it is measured again (the file was moved to {})",
                    path.display(),
                    kept.display()
                )));
                None
            }
        };
        let had_table = saved.is_some();
        let limits = self.options.model_limits();
        let progress = &mut *self.progress;
        // Blocks measured before the model is chosen are saved at once, so that a failed
        // or interrupted choice does not lose them.
        let mut keep_failed = None;
        let built = build_table(
            &mut self.bench,
            self.bundle,
            &limits,
            saved,
            self.environment.clone(),
            &mut |phase, k, n| progress(Progress::Table(phase, k, n)),
            &mut |blocks| {
                if let Err(e) = write_json(&path, blocks) {
                    keep_failed = Some(e);
                }
            },
        );
        if let Some(e) = keep_failed {
            return Err(e.into());
        }
        let (file, work) = built.map_err(|source| RunError::Measure {
            what: "the latency model",
            source,
        })?;
        if !had_table || work.measured_blocks > 0 || work.measured_children > 0 {
            write_json(&path, &file)?;
        }
        let model = file
            .model(&self.space)
            .map_err(|source| RunError::TableReuse {
                path: path.clone(),
                source,
            })?;
        let svg = crate::latency_model::plot_svg(&file.points, file.choice.as_ref());
        write_atomic(&self.folder.model_plot(), svg.as_bytes())?;
        let summary = TableSummary::of(&file, &work);
        if let Some(choice) = &file.choice {
            let others: Vec<String> = choice
                .scores
                .iter()
                .map(|s| format!("{} {}", s.form.name(), show_holdout_error(s.holdout_mape)))
                .collect();
            (self.progress)(Progress::Note(format!(
                "latency model: {} ({}), held-out error {} (limit {:.0}%; {}); {} blocks \
                 measured, {} reused, {} children measured; noise floor {}",
                choice.form.name(),
                choice.reason,
                show_holdout_error(choice.score.holdout_mape),
                100.0 * choice.limit,
                others.join(", "),
                work.measured_blocks,
                work.reused_blocks,
                work.measured_children,
                file.noise_floor
                    .map_or("not measured".to_string(), |n| format!(
                        "{:.1}% (cv of a {:.2} us reference), drift {:+.1}%",
                        100.0 * n.cv,
                        n.reference_us,
                        100.0 * n.drift
                    )),
            )));
        }
        Ok(MeasuredTable {
            file,
            model,
            summary,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
