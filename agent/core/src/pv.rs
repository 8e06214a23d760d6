//! P(V), the probability that the policy samples a feasible architecture, and the
//! gradient of its logarithm — exactly by enumeration, or by the paper's Monte-Carlo
//! estimator with its samples in a fixed-size buffer.
//!
//! Both return `grad log P(V)` in the same form: `E[onehot(z) | z in V] - softmax`,
//! per layer. The exact version weights feasible `z` by `p(z)`; the Monte-Carlo one draws
//! `z_1..z_N ~ q = stopgrad(p)`, so `P^(V)` is the feasible fraction and
//! `grad log P^(V) = sum_{k feasible} grad log p(z_k) / n_feasible`. When no sample is
//! feasible (or `P(V)` underflows to zero) the estimate is `None` and the caller skips
//! the step.

use core::fmt;

use heapless::Vec;
use rand_core::Rng;

use crate::capacity::MAX_EXACT_ENUMERATION;
use crate::controller::Policy;
use crate::cost::CostModel;
use crate::feasibility::Feasibility;
use crate::grid::LogitGrid;
use crate::space::Architecture;

/// An estimate of P(V) and of `grad log P(V)` with respect to the logits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PvEstimate {
    /// `P(V)` (exact) or `P^(V)` (Monte Carlo).
    pub value: f64,
    /// `grad_logits log P(V)`.
    pub grad_log: LogitGrid,
    /// Feasible architectures seen (enumerated or sampled).
    pub feasible: u32,
    /// Architectures looked at.
    pub examined: u32,
}

/// Why P(V) could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PvError {
    /// Exact enumeration asked for on a space larger than
    /// [`MAX_EXACT_ENUMERATION`].
    SpaceTooLarge {
        /// Architectures in the space.
        cardinality: u64,
    },
    /// More Monte-Carlo samples asked for than the buffer holds.
    TooManySamples {
        /// Samples asked for.
        requested: usize,
        /// Buffer capacity.
        capacity: usize,
    },
    /// Zero Monte-Carlo samples asked for.
    NoSamples,
}

impl fmt::Display for PvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::SpaceTooLarge { cardinality } => write!(
                f,
                "exact P(V) enumerates the space every step; {cardinality} architectures \
                 exceed the limit of {MAX_EXACT_ENUMERATION}: use Monte Carlo"
            ),
            Self::TooManySamples {
                requested,
                capacity,
            } => write!(
                f,
                "{requested} Monte-Carlo samples requested, the buffer holds {capacity}"
            ),
            Self::NoSamples => write!(f, "Monte-Carlo P(V) needs at least one sample"),
        }
    }
}

impl core::error::Error for PvError {}

/// Turns per-(layer, choice) feasible mass into `grad log P(V)` in place.
/// Divides (rather than multiplying by `1 / total`) so a lone feasible architecture gets
/// a conditional mass of exactly 1.
fn finish(mut mass: LogitGrid, total: f64, policy: &Policy) -> LogitGrid {
    for x in mass.0.iter_mut().flatten() {
        *x /= total;
    }
    mass.add_scaled(policy.grid(), -1.0);
    mass
}

/// Exact P(V) by enumerating the whole space.
pub fn exact_pv<C: CostModel + ?Sized>(
    policy: &Policy,
    feasibility: &Feasibility<'_, C>,
) -> Result<Option<PvEstimate>, PvError> {
    let space = feasibility.space();
    let cardinality = space.cardinality();
    if cardinality > MAX_EXACT_ENUMERATION {
        return Err(PvError::SpaceTooLarge { cardinality });
    }
    let mut mass = LogitGrid::zeros();
    let mut total = 0.0;
    let mut feasible = 0u32;
    for arch in space.iter() {
        if !feasibility.judge(&arch).feasible {
            continue;
        }
        let p = policy.prob(&arch);
        total += p;
        feasible += 1;
        for (layer, &c) in arch.choices().iter().enumerate() {
            mass.0[layer][c as usize] += p;
        }
    }
    if total <= 0.0 {
        return Ok(None);
    }
    Ok(Some(PvEstimate {
        value: total,
        grad_log: finish(mass, total, policy),
        feasible,
        examined: cardinality as u32,
    }))
}

/// One Monte-Carlo sample and its verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McSample {
    /// The sampled architecture.
    pub arch: Architecture,
    /// Its cost.
    pub cost: f64,
    /// Whether it is feasible.
    pub feasible: bool,
}

/// Monte-Carlo P(V) with room for `CAP` samples (no allocation).
#[derive(Debug, Clone)]
pub struct MonteCarloPv<const CAP: usize> {
    samples: Vec<McSample, CAP>,
}

impl<const CAP: usize> Default for MonteCarloPv<CAP> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CAP: usize> MonteCarloPv<CAP> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Self {
            samples: Vec::new(),
        }
    }

    /// The buffer's capacity (largest usable `N`).
    pub const fn capacity(&self) -> usize {
        CAP
    }

    /// The samples of the last estimate.
    pub fn samples(&self) -> &[McSample] {
        &self.samples
    }

    /// Draws `n` architectures from `policy` and estimates P(V) and its log-gradient.
    pub fn estimate<R: Rng + ?Sized, C: CostModel + ?Sized>(
        &mut self,
        n: usize,
        policy: &Policy,
        feasibility: &Feasibility<'_, C>,
        rng: &mut R,
    ) -> Result<Option<PvEstimate>, PvError> {
        if n == 0 {
            return Err(PvError::NoSamples);
        }
        if n > CAP {
            return Err(PvError::TooManySamples {
                requested: n,
                capacity: CAP,
            });
        }
        self.samples.clear();
        let mut mass = LogitGrid::zeros();
        let mut feasible = 0u32;
        for _ in 0..n {
            let arch = policy.sample(rng);
            let j = feasibility.judge(&arch);
            if j.feasible {
                feasible += 1;
                for (layer, &c) in arch.choices().iter().enumerate() {
                    mass.0[layer][c as usize] += 1.0;
                }
            }
            // Capacity was checked above.
            let _ = self.samples.push(McSample {
                arch,
                cost: j.cost,
                feasible: j.feasible,
            });
        }
        if feasible == 0 {
            return Ok(None);
        }
        Ok(Some(PvEstimate {
            value: feasible as f64 / n as f64,
            grad_log: finish(mass, feasible as f64, policy),
            feasible,
            examined: n as u32,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::{uniform01, Controller};
    use crate::cost::{FfnParams, FfnShape};
    use crate::space::SearchSpace;
    use rand_core::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn setup(seed: u64) -> (SearchSpace, FfnParams, Controller) {
        let space = SearchSpace::new(&[&[2, 3, 4, 6], &[2, 3, 4], &[1, 5, 9]]).unwrap();
        let model = FfnParams(FfnShape {
            input: 3,
            output: 1,
            biases: true,
        });
        let mut c = Controller::new(&space);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        for layer in 0..space.num_layers() {
            for k in 0..space.num_choices(layer) {
                c.logits_mut().0[layer][k] = 3.0 * (uniform01(&mut rng) - 0.5);
            }
        }
        (space, model, c)
    }

    fn log_exact(c: &Controller, f: &Feasibility<'_, FfnParams>) -> f64 {
        libm::log(exact_pv(&c.policy(), f).unwrap().unwrap().value)
    }

    #[test]
    fn exact_matches_brute_force_sum() {
        let (space, model, c) = setup(11);
        let f = Feasibility::new(&space, &model, 60.0).unwrap();
        let policy = c.policy();
        let brute: f64 = space
            .iter()
            .filter(|a| f.judge(a).feasible)
            .map(|a| policy.prob(&a))
            .sum();
        let est = exact_pv(&policy, &f).unwrap().unwrap();
        assert!((est.value - brute).abs() < 1e-14);
        assert!(est.value > 0.05 && est.value < 0.95, "{}", est.value);
    }

    /// grad log P(V) (exact) against central finite differences of log P(V).
    #[test]
    fn exact_gradient_matches_finite_differences() {
        let (space, model, c) = setup(5);
        let f = Feasibility::new(&space, &model, 60.0).unwrap();
        let est = exact_pv(&c.policy(), &f).unwrap().unwrap();
        let h = 1e-6;
        for layer in 0..space.num_layers() {
            for k in 0..space.num_choices(layer) {
                let (mut plus, mut minus) = (c, c);
                plus.logits_mut().0[layer][k] += h;
                minus.logits_mut().0[layer][k] -= h;
                let fd = (log_exact(&plus, &f) - log_exact(&minus, &f)) / (2.0 * h);
                let g = est.grad_log.0[layer][k];
                assert!(
                    (fd - g).abs() < 1e-7,
                    "layer {layer} choice {k}: {fd} vs {g}"
                );
            }
        }
    }

    /// P^(V) -> P(V) as N grows. For each N, 40 seeded estimates; the RMS error must be
    /// within 3x the binomial standard error sqrt(P(1-P)/N) and shrink with N. The
    /// gradient estimate must approach the exact gradient likewise (max abs error < 0.05
    /// at N = 4096, where its per-entry standard error is about 0.01).
    #[test]
    fn monte_carlo_converges_to_exact() {
        let (space, model, c) = setup(2);
        let f = Feasibility::new(&space, &model, 60.0).unwrap();
        let policy = c.policy();
        let exact = exact_pv(&policy, &f).unwrap().unwrap();
        let mut mc: MonteCarloPv<4096> = MonteCarloPv::new();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        let mut last_rms = f64::INFINITY;
        for n in [16usize, 256, 4096] {
            let reps = 40;
            let mut sq = 0.0;
            let mut grad_err: f64 = 0.0;
            for _ in 0..reps {
                let est = mc.estimate(n, &policy, &f, &mut rng).unwrap().unwrap();
                sq += (est.value - exact.value).powi(2);
                let mut d = est.grad_log;
                d.add_scaled(&exact.grad_log, -1.0);
                grad_err = grad_err.max(d.max_abs());
                assert_eq!(mc.samples().len(), n);
            }
            let rms = (sq / reps as f64).sqrt();
            let se = (exact.value * (1.0 - exact.value) / n as f64).sqrt();
            assert!(rms < 3.0 * se, "N = {n}: rms {rms} vs se {se}");
            assert!(
                rms < last_rms,
                "N = {n}: rms {rms} did not shrink from {last_rms}"
            );
            last_rms = rms;
            if n == 4096 {
                assert!(grad_err < 0.05, "gradient error {grad_err}");
            }
        }
    }

    #[test]
    fn no_feasible_sample_gives_none_and_limits_are_checked() {
        let (space, model, c) = setup(1);
        let f = Feasibility::new(&space, &model, 1.0).unwrap();
        let policy = c.policy();
        let mut mc: MonteCarloPv<8> = MonteCarloPv::new();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
        assert_eq!(mc.estimate(8, &policy, &f, &mut rng), Ok(None));
        assert_eq!(exact_pv(&policy, &f), Ok(None));
        assert_eq!(
            mc.estimate(9, &policy, &f, &mut rng),
            Err(PvError::TooManySamples {
                requested: 9,
                capacity: 8
            })
        );
        assert_eq!(
            mc.estimate(0, &policy, &f, &mut rng),
            Err(PvError::NoSamples)
        );
    }

    #[test]
    fn exact_refuses_huge_spaces() {
        let widths: std::vec::Vec<u32> = (1..=20).collect();
        let space = SearchSpace::uniform(6, &widths).unwrap();
        let model = FfnParams(FfnShape {
            input: 3,
            output: 1,
            biases: true,
        });
        let f = Feasibility::new(&space, &model, 100.0).unwrap();
        let policy = Controller::new(&space).policy();
        assert_eq!(
            exact_pv(&policy, &f),
            Err(PvError::SpaceTooLarge {
                cardinality: 64_000_000
            })
        );
    }
}
