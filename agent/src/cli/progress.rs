//! Progress of a device search for a person: a progress bar on a terminal, and one log
//! line per phase and every few seconds otherwise (a log file, CI, `ssh` without a tty),
//! so a run of minutes is never silent.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tabnas_agent::Progress;

/// Seconds between log lines when not on a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Shows [`Progress`] as a bar or as log lines.
pub struct Reporter {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Option<Instant>,
    phase: String,
    quiet: bool,
}

impl Reporter {
    /// A bar on a terminal, log lines elsewhere; `quiet` keeps only the notes.
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) = ProgressStyle::with_template(
                "{elapsed_precise} {prefix:>11} [{bar:30}] {pos}/{len} {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Self {
            bar,
            started: Instant::now(),
            last_line: None,
            phase: String::new(),
            quiet,
        }
    }

    /// Shows one progress event.
    pub fn show(&mut self, p: Progress<'_>) {
        match p {
            Progress::Table(phase, k, n) => self.at(phase, k as u64, n as u64, String::new()),
            Progress::Step(point, total) => {
                let msg = format!(
                    "{} {:.1} us P(V) {}",
                    tabnas_core::space::show_widths(&point.arch),
                    point.predicted_us,
                    point.pv.map_or("-".into(), |v| format!("{v:.3}"))
                );
                self.at("search", point.step as u64, total as u64, msg);
            }
            Progress::Policy(_) | Progress::Verifying => {}
            Progress::Note(text) => match &self.bar {
                Some(bar) => bar.println(text),
                None => out!("{text}"),
            },
        }
    }

    fn at(&mut self, phase: &str, k: u64, n: u64, msg: String) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(phase.to_string());
            bar.set_length(n);
            bar.set_position(k);
            if !msg.is_empty() && k.is_multiple_of(10) {
                bar.set_message(msg);
            }
            return;
        }
        if self.quiet {
            return;
        }
        let new_phase = self.phase != phase;
        let due = self.last_line.is_none_or(|t| t.elapsed() >= LOG_EVERY);
        if new_phase || due || k == n {
            out!(
                "[{:7.1} s] {phase}: {k}/{n}{}",
                self.started.elapsed().as_secs_f64(),
                if msg.is_empty() {
                    String::new()
                } else {
                    format!(" ({msg})")
                }
            );
            self.phase = phase.to_string();
            self.last_line = Some(Instant::now());
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
