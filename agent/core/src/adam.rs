//! Adam (Kingma & Ba) on a [`LogitGrid`], used to *ascend* the REINFORCE objective.
//!
//! The update is PyTorch's: bias-corrected first and second moments, `eps` added to the
//! square root of the corrected second moment. The caller passes a freshly computed
//! gradient every step: nothing accumulates between steps (the official PyTorch
//! notebook forgets `zero_grad()`; this type cannot make that mistake).

use serde::{Deserialize, Serialize};

use crate::grid::LogitGrid;

/// Adam state and hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    /// Learning rate.
    pub learning_rate: f64,
    /// First-moment decay (0.9 in the paper).
    pub beta1: f64,
    /// Second-moment decay (0.999 in the paper).
    pub beta2: f64,
    /// Denominator guard (1e-8 in the paper).
    pub eps: f64,
    t: u32,
    m: LogitGrid,
    v: LogitGrid,
}

impl Adam {
    /// True when both moments are finite.
    pub fn is_finite(&self) -> bool {
        self.m.is_finite() && self.v.is_finite()
    }

    /// Adam(0.9, 0.999, 1e-8) with the given learning rate and zero moments.
    pub const fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            m: LogitGrid::zeros(),
            v: LogitGrid::zeros(),
        }
    }

    /// Number of updates applied so far.
    pub fn steps(&self) -> u32 {
        self.t
    }

    /// Moves `params` one step *up* the gradient `grad`.
    pub fn ascend(&mut self, params: &mut LogitGrid, grad: &LogitGrid) {
        self.t += 1;
        let bc1 = 1.0 - libm::pow(self.beta1, self.t as f64);
        let bc2 = 1.0 - libm::pow(self.beta2, self.t as f64);
        let cells = params
            .0
            .iter_mut()
            .flatten()
            .zip(grad.0.iter().flatten())
            .zip(
                self.m
                    .0
                    .iter_mut()
                    .flatten()
                    .zip(self.v.0.iter_mut().flatten()),
            );
        for ((p, &g), (m, v)) in cells {
            *m = self.beta1 * *m + (1.0 - self.beta1) * g;
            *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
            let m_hat = *m / bc1;
            let v_hat = *v / bc2;
            *p += self.learning_rate * m_hat / (libm::sqrt(v_hat) + self.eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_by_learning_rate_in_gradient_sign() {
        let mut adam = Adam::new(0.1);
        let mut p = LogitGrid::zeros();
        let mut g = LogitGrid::zeros();
        g.0[0][0] = 3.0;
        g.0[1][2] = -0.5;
        adam.ascend(&mut p, &g);
        // m_hat / sqrt(v_hat) = g / |g|, less eps: 0.1 * |g| / (|g| + 1e-8).
        assert!((p.0[0][0] - 0.1 * 3.0 / (3.0 + 1e-8)).abs() < 1e-15);
        assert!((p.0[1][2] + 0.1 * 0.5 / (0.5 + 1e-8)).abs() < 1e-15);
        assert_eq!(p.0[0][1], 0.0);
        assert_eq!(adam.steps(), 1);
    }

    /// Reference values from PyTorch's Adam formula worked by hand for g = 1 then g = -1:
    /// step 2 has m_hat = (0.09 - 0.1) / 0.19 and v_hat = 1, so it moves by lr * m_hat.
    #[test]
    fn second_step_matches_bias_corrected_formula() {
        let mut adam = Adam::new(0.1);
        let mut p = LogitGrid::zeros();
        let mut g = LogitGrid::zeros();
        g.0[0][0] = 1.0;
        adam.ascend(&mut p, &g);
        g.0[0][0] = -1.0;
        adam.ascend(&mut p, &g);
        let m_hat = (0.9 * 0.1 - 0.1) / (1.0 - 0.81);
        let expected = 0.1 / (1.0 + 1e-8) + 0.1 * m_hat / (1.0 + 1e-8);
        assert!(
            (p.0[0][0] - expected).abs() < 1e-12,
            "{} vs {expected}",
            p.0[0][0]
        );
    }

    /// Ascending a concave quadratic converges to its maximum.
    #[test]
    fn ascends_a_concave_objective() {
        let mut adam = Adam::new(0.05);
        let mut p = LogitGrid::zeros();
        for _ in 0..2000 {
            let mut g = LogitGrid::zeros();
            g.0[0][0] = -2.0 * (p.0[0][0] - 1.5);
            adam.ascend(&mut p, &g);
        }
        assert!((p.0[0][0] - 1.5).abs() < 1e-3, "{}", p.0[0][0]);
    }
}
