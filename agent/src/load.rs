//! The machine's load while a run measures: the operating system's load averages (Linux
//! `/proc/loadavg`; absent elsewhere) and what the bench saw (the noise floor at the
//! start and the end of the run, the drift between them, and what noise cost in extra
//! samples). A board in the field runs other things; a result says how busy it was.

use serde::{Deserialize, Serialize};

use crate::measure::{NoiseFloor, NoiseStats};

/// The 1-, 5- and 15-minute load averages, where the system reports them.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    parse_loadavg(&text)
}

/// Parses the first three fields of `/proc/loadavg`.
fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// How busy the machine was during a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MachineLoad {
    /// Logical CPUs.
    pub cpus: usize,
    /// Load averages (1, 5, 15 minutes) when the run started.
    pub load_average_start: Option<[f64; 3]>,
    /// Load averages when it ended.
    pub load_average_end: Option<[f64; 3]>,
    /// The reference network's robust CV at the first measurement of the run.
    pub noise_floor_start: Option<f64>,
    /// The same at the end of the run.
    pub noise_floor_end: Option<f64>,
    /// Relative change of the reference network's latency from start to end.
    pub drift: Option<f64>,
    /// What noise cost the run's measurements.
    pub noise: NoiseStats,
}

impl MachineLoad {
    /// The load from the start's load averages, the bench's noise floor at the start
    /// (`first`) and at the end (`last`, measured again), and its statistics.
    pub fn of(
        load_average_start: Option<[f64; 3]>,
        first: Option<NoiseFloor>,
        last: Option<(NoiseFloor, f64)>,
        noise: NoiseStats,
    ) -> Self {
        Self {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_average_start,
            load_average_end: load_average(),
            noise_floor_start: first.map(|n| n.cv),
            noise_floor_end: last.map(|(_, cv)| cv),
            drift: last.map(|(n, _)| n.drift).filter(|d| d.is_finite()),
            noise,
        }
    }

    /// One line for people: `load 1.93 on 2 CPUs (start 0.10); noise floor 1.2% -> 3.4%,
    /// drift +2.0%; 5 of 1400 networks needed more samples (2.1 s); 20% of 42000 samples
    /// ran at least 10% slower than the reference speed (at most 1.45x) and were corrected`.
    pub fn describe(&self) -> String {
        let load = match (self.load_average_start, self.load_average_end) {
            (Some(s), Some(e)) => format!(
                "load average {:.2} at the end on {} CPUs ({:.2} at the start)",
                e[0], self.cpus, s[0]
            ),
            (None, Some(e)) => format!("load average {:.2} on {} CPUs", e[0], self.cpus),
            _ => format!("load average not reported here ({} CPUs)", self.cpus),
        };
        let pct = |v: Option<f64>| v.map_or("?".to_string(), |v| format!("{:.1}%", 100.0 * v));
        let floor = format!(
            "noise floor {} -> {}{}",
            pct(self.noise_floor_start),
            pct(self.noise_floor_end),
            self.drift
                .map_or(String::new(), |d| format!(", drift {:+.1}%", 100.0 * d))
        );
        let n = &self.noise;
        let cost = if n.resampled + n.extended_decisions == 0 {
            format!("no network of {} needed more samples", n.networks)
        } else {
            format!(
                "{} of {} networks needed more samples ({} extra, {:.1} s){}",
                n.resampled,
                n.networks,
                n.extra_samples,
                n.extra_seconds,
                if n.extended_decisions > 0 {
                    format!(", {} decisions took longer", n.extended_decisions)
                } else {
                    String::new()
                }
            )
        };
        let slowed = if n.samples == 0 {
            String::new()
        } else {
            format!(
                "; {:.0}% of {} samples ran at least {:.0}% slower than the reference speed \
                 (at most {:.2}x) and were corrected",
                100.0 * n.slowed_samples as f64 / n.samples as f64,
                n.samples,
                100.0 * crate::measure::SLOWED,
                n.max_slowdown
            )
        };
        format!("{load}; {floor}; {cost}{slowed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg_is_parsed_and_garbage_is_not() {
        assert_eq!(
            parse_loadavg("1.93 0.50 0.25 3/412 12345\n"),
            Some([1.93, 0.5, 0.25])
        );
        assert_eq!(parse_loadavg("1.0 x 2.0"), None);
        assert_eq!(parse_loadavg(""), None);
    }

    #[test]
    fn the_description_names_the_load_and_the_cost_of_noise() {
        let load = MachineLoad {
            cpus: 2,
            load_average_start: Some([0.1, 0.1, 0.1]),
            load_average_end: Some([1.93, 1.0, 0.5]),
            noise_floor_start: Some(0.012),
            noise_floor_end: Some(0.034),
            drift: Some(0.02),
            noise: NoiseStats {
                networks: 1400,
                resampled: 5,
                extra_samples: 75,
                extra_seconds: 2.1,
                max_robust_cv: 0.3,
                extended_decisions: 0,
                samples: 42000,
                slowed_samples: 8400,
                max_slowdown: 1.45,
            },
        };
        assert_eq!(
            load.describe(),
            "load average 1.93 at the end on 2 CPUs (0.10 at the start); noise floor 1.2% -> \
             3.4%, drift +2.0%; 5 of 1400 networks needed more samples (75 extra, 2.1 s); \
             20% of 42000 samples ran at least 10% slower than the reference speed (at most \
             1.45x) and were corrected"
        );
    }
}
