//! The reporter of a long command for a person: a progress bar when standard error is a
//! terminal, otherwise one log line on standard output at the first step, every
//! [`LOG_EVERY`] and at the last step, so that a run of minutes written to a log file
//! (CI, `nohup`, a pipe) is never silent. `quiet` shows nothing.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Time between log lines when not on a terminal.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// A bar, log lines, or nothing.
pub struct Reporter {
    bar: Option<ProgressBar>,
    lines: bool,
    what: &'static str,
    total: u64,
    started: Instant,
    last_line: Option<Instant>,
}

impl Reporter {
    /// A reporter of `total` steps of `what` (`search`, ...).
    pub fn new(what: &'static str, total: u64, quiet: bool) -> Self {
        let on_terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && on_terminal).then(|| {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:32}] {pos}/{len} {msg} (eta {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Self {
            bar,
            lines: !quiet && !on_terminal,
            what,
            total,
            started: Instant::now(),
            last_line: None,
        }
    }

    /// Step `step` of the total is done; `message` (built only when shown) says how it
    /// went.
    pub fn at(&mut self, step: u64, message: impl FnOnce() -> String) {
        if let Some(bar) = &self.bar {
            bar.set_position(step);
            if step.is_multiple_of(10) {
                bar.set_message(message());
            }
            return;
        }
        if !self.lines {
            return;
        }
        let due = self.last_line.is_none_or(|t| t.elapsed() >= LOG_EVERY);
        if due || step == self.total {
            self.last_line = Some(Instant::now());
            println!(
                "{} step {step}/{} ({:.0}%, {:.1} s): {}",
                self.what,
                self.total,
                100.0 * step as f64 / self.total.max(1) as f64,
                self.started.elapsed().as_secs_f64(),
                message()
            );
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
