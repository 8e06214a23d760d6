//! The REINFORCE baseline: a bias-corrected exponential moving average of rewards.
//!
//! `num = m num + (1 - m) R; den = m den + (1 - m); Qavg = num / den; A = R - Qavg`, with
//! the current reward folded in before the advantage is taken (as in `docs/algorithm.md` and the
//! reference notebooks). The first advantage is therefore always zero.

use serde::{Deserialize, Serialize};

/// Moving-average baseline state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmaBaseline {
    momentum: f64,
    num: f64,
    den: f64,
}

impl EmaBaseline {
    /// Momentum of the paper and the reference code.
    pub const DEFAULT_MOMENTUM: f64 = 0.9;

    /// A fresh baseline; `momentum` must be in `[0, 1)` (checked by the search config).
    pub const fn new(momentum: f64) -> Self {
        Self {
            momentum,
            num: 0.0,
            den: 0.0,
        }
    }

    /// Folds `reward` in and returns its advantage `reward - Qavg`.
    pub fn update(&mut self, reward: f64) -> f64 {
        self.num = self.momentum * self.num + (1.0 - self.momentum) * reward;
        self.den = self.momentum * self.den + (1.0 - self.momentum);
        reward - self.value().unwrap_or(reward)
    }

    /// The current bias-corrected average, or `None` before the first reward.
    pub fn value(&self) -> Option<f64> {
        (self.den > 0.0).then(|| self.num / self.den)
    }
}

impl Default for EmaBaseline {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MOMENTUM)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_recurrence() {
        let mut b = EmaBaseline::default();
        assert_eq!(b.value(), None);
        assert_eq!(b.update(0.4), 0.0);
        // num = 0.09*... worked out: after 0.4 then 1.0, num = 0.036 + 0.1, den = 0.19.
        let a = b.update(1.0);
        let avg = (0.9 * 0.1 * 0.4 + 0.1 * 1.0) / (0.9 * 0.1 + 0.1);
        assert!((a - (1.0 - avg)).abs() < 1e-12);
        assert!((b.value().unwrap() - avg).abs() < 1e-12);
    }

    #[test]
    fn constant_rewards_have_zero_advantage() {
        let mut b = EmaBaseline::new(0.5);
        for _ in 0..10 {
            assert!(b.update(2.5).abs() < 1e-12);
        }
    }
}
