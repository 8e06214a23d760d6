//! What a comparison found: each method's answer, the stand-alone sample with its
//! Pareto front and the baseline's pick, and the retrainings.

use serde::Serialize;

use crate::constant::ConstantLoss;
use crate::host_search::HostResource;
use crate::reference::ReferenceResult;

/// An architecture trained again with initialisation seeds no choice saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retrained {
    /// Hidden widths.
    pub widths: Vec<u32>,
    /// The initialisation seeds.
    pub seeds: Vec<u64>,
    /// Stand-alone test loss of each.
    pub test_losses: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (0 for one seed).
    pub sd: f64,
}

impl Retrained {
    /// Mean and sample standard deviation of `test_losses`.
    pub(super) fn of(widths: Vec<u32>, seeds: Vec<u64>, test_losses: Vec<f64>) -> Self {
        let n = test_losses.len().max(1) as f64;
        let mean = test_losses.iter().sum::<f64>() / n;
        let sd = if test_losses.len() > 1 {
            (test_losses.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Self {
            widths,
            seeds,
            test_losses,
            mean,
            sd,
        }
    }
}

/// One method's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    /// The method (`rejection, exact P(V)`, `abs, beta 2`, ...).
    pub method: String,
    /// Its answer, trained stand-alone.
    pub standalone: ReferenceResult,
    /// The answer's cost.
    pub cost: f64,
    /// Whether it meets the target.
    pub feasible: bool,
    /// Its probability under the final policy (absent for random search).
    pub probability: Option<f64>,
    /// Its shared-weight validation loss.
    pub shared_validation_loss: f64,
    /// Shared-weight training steps of the search.
    pub search_steps: u32,
    /// Wall time of the search, seconds.
    pub search_wall_s: f64,
    /// Stand-alone training steps spent choosing the answer among finalists (0 for the
    /// other methods).
    pub selection_steps: u64,
}

/// One architecture of the stand-alone sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sampled {
    /// Trained stand-alone.
    pub standalone: ReferenceResult,
    /// Its cost.
    pub cost: f64,
    /// Whether it meets the target.
    pub feasible: bool,
}

/// The comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Dataset.
    pub dataset: String,
    /// What the target limits.
    pub resource: HostResource,
    /// The target.
    pub target: f64,
    /// The constant predictor's losses.
    pub constant_loss: ConstantLoss,
    /// Each method's answer.
    pub found: Vec<Found>,
    /// The stand-alone sample.
    pub sample: Vec<Sampled>,
    /// Methods left out, and why (exact P(V) on a space too large to enumerate).
    pub skipped: Vec<String>,
    /// Every answer and the baseline's pick trained again (`retrain_seeds`), once per
    /// distinct architecture.
    pub retrained: Vec<Retrained>,
}

impl Comparison {
    /// The stand-alone sample's Pareto front: `(cost, test loss)` of every architecture
    /// that no cheaper one beats on test loss, cheapest first.
    pub fn front(&self) -> Vec<(f64, f64)> {
        let mut points: Vec<(f64, f64)> = self
            .sample
            .iter()
            .map(|s| (s.cost, s.standalone.test_loss))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut front: Vec<(f64, f64)> = Vec::new();
        for p in points {
            if front.last().is_none_or(|l| p.1 < l.1) {
                front.push(p);
            }
        }
        front
    }

    /// The best feasible architecture of the sample chosen on validation loss (the
    /// random-search baseline trained stand-alone), with how many were feasible.
    pub fn best_feasible_sample(&self) -> Option<(&Sampled, usize)> {
        let feasible: Vec<&Sampled> = self.sample.iter().filter(|s| s.feasible).collect();
        feasible
            .iter()
            .min_by(|a, b| {
                a.standalone
                    .validation_loss
                    .total_cmp(&b.standalone.validation_loss)
            })
            .map(|&b| (b, feasible.len()))
    }

    /// The retraining of the architecture with hidden `widths`, if it was retrained.
    pub fn retrained(&self, widths: &[u32]) -> Option<&Retrained> {
        self.retrained.iter().find(|r| r.widths == widths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampled(cost: f64, test: f64, validation: f64, feasible: bool) -> Sampled {
        Sampled {
            standalone: ReferenceResult {
                widths: vec![cost as u32],
                params: cost as u64,
                validation_loss: validation,
                test_loss: test,
                best_step: 1,
                trained_steps: 1,
                still_improving: false,
                wall_s: 0.0,
            },
            cost,
            feasible,
        }
    }

    #[test]
    fn the_front_keeps_what_no_cheaper_one_beats_and_the_baseline_uses_validation() {
        let c = Comparison {
            dataset: "d".into(),
            resource: HostResource::Params,
            target: 25.0,
            constant_loss: ConstantLoss {
                validation: 0.7,
                test: 0.7,
            },
            found: vec![],
            sample: vec![
                sampled(30.0, 0.40, 0.50, false),
                sampled(10.0, 0.50, 0.52, true),
                sampled(20.0, 0.55, 0.45, true),
                sampled(15.0, 0.45, 0.60, true),
            ],
            skipped: vec![],
            retrained: vec![],
        };
        assert_eq!(c.front(), [(10.0, 0.50), (15.0, 0.45), (30.0, 0.40)]);
        // Chosen on validation loss (0.45), not on test loss (0.45 at cost 15).
        let (best, n) = c.best_feasible_sample().unwrap();
        assert_eq!((best.cost, n), (20.0, 3));
    }
}
