//! The factorized controller: one logit vector per layer, a softmax policy over them, and
//! sampling, log-probabilities and their gradients.
//!
//! [`Controller`] owns the trainable logits (zero-initialised, temperature 1).
//! [`Policy`] is a snapshot of their softmax, computed once per step, so that sampling
//! thousands of Monte-Carlo architectures does not recompute exponentials. The softmax
//! subtracts the row maximum first, so it never overflows. Sampling draws one uniform
//! `f64` per layer from the caller's seeded [`rand_core::Rng`]; the same seed gives the
//! same samples on every platform.

use rand_core::Rng;
use serde::{Deserialize, Serialize};

use crate::capacity::MAX_LAYERS;
use crate::grid::LogitGrid;
use crate::space::{Architecture, SearchSpace};

/// Trainable logits of a factorized policy over a [`SearchSpace`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Controller {
    logits: LogitGrid,
    shape: Shape,
}

/// Layer count and per-layer choice counts of a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    layers: u8,
    choices: [u8; MAX_LAYERS],
}

impl Shape {
    /// The shape of `space`.
    pub fn of(space: &SearchSpace) -> Self {
        let mut choices = [0u8; MAX_LAYERS];
        for (layer, c) in choices.iter_mut().enumerate().take(space.num_layers()) {
            *c = space.num_choices(layer) as u8;
        }
        Self {
            layers: space.num_layers() as u8,
            choices,
        }
    }

    /// Number of layers.
    pub fn layers(&self) -> usize {
        self.layers as usize
    }

    /// Number of choices of `layer`.
    pub fn choices(&self, layer: usize) -> usize {
        self.choices[layer] as usize
    }
}

impl Controller {
    /// Zero logits (the uniform policy) shaped like `space`.
    pub fn new(space: &SearchSpace) -> Self {
        Self {
            logits: LogitGrid::zeros(),
            shape: Shape::of(space),
        }
    }

    /// The shape this controller was built for.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// True when every logit is finite.
    pub fn is_finite(&self) -> bool {
        self.logits.is_finite()
    }

    /// The raw logits.
    pub fn logits(&self) -> &LogitGrid {
        &self.logits
    }

    /// Mutable logits (for optimizers and tests; entries outside the shape are ignored).
    pub fn logits_mut(&mut self) -> &mut LogitGrid {
        &mut self.logits
    }

    /// The softmax policy of the current logits.
    pub fn policy(&self) -> Policy {
        let mut probs = LogitGrid::zeros();
        for layer in 0..self.shape.layers() {
            let n = self.shape.choices(layer);
            softmax(&self.logits.0[layer][..n], &mut probs.0[layer][..n]);
        }
        Policy {
            probs,
            shape: self.shape,
        }
    }
}

/// Numerically stable softmax of `logits` into `out` (same length).
pub fn softmax(logits: &[f64], out: &mut [f64]) {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = libm::exp(l - max);
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// A snapshot of the controller's per-layer probabilities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    probs: LogitGrid,
    shape: Shape,
}

impl Policy {
    /// The policy over `space` with per-layer probabilities `rows` (as a snapshot of
    /// [`Policy::layer`] recorded them); `None` when the rows do not match the space's
    /// layers and choices or a probability is not finite and non-negative.
    pub fn from_probs<R: AsRef<[f64]>>(space: &SearchSpace, rows: &[R]) -> Option<Self> {
        let shape = Shape::of(space);
        if rows.len() != shape.layers() {
            return None;
        }
        let mut probs = LogitGrid::zeros();
        for (layer, row) in rows.iter().enumerate() {
            let row = row.as_ref();
            if row.len() != shape.choices(layer) || !row.iter().all(|p| p.is_finite() && *p >= 0.0)
            {
                return None;
            }
            probs.0[layer][..row.len()].copy_from_slice(row);
        }
        Some(Self { probs, shape })
    }

    /// The shape of the space this policy is over.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Probabilities of the choices of `layer`.
    pub fn layer(&self, layer: usize) -> &[f64] {
        &self.probs.0[layer][..self.shape.choices(layer)]
    }

    /// All probabilities as a grid (zero outside the shape).
    pub fn grid(&self) -> &LogitGrid {
        &self.probs
    }

    /// `p(arch) = prod_i softmax(l_i)[arch_i]`.
    pub fn prob(&self, arch: &Architecture) -> f64 {
        arch.choices()
            .iter()
            .enumerate()
            .map(|(layer, &c)| self.probs.0[layer][c as usize])
            .product()
    }

    /// `log p(arch)`.
    pub fn log_prob(&self, arch: &Architecture) -> f64 {
        arch.choices()
            .iter()
            .enumerate()
            .map(|(layer, &c)| libm::log(self.probs.0[layer][c as usize]))
            .sum()
    }

    /// Draws one architecture, layer by layer, independently.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Architecture {
        let mut arch = Architecture::with_len(self.shape.layers());
        for layer in 0..self.shape.layers() {
            arch.set_choice(layer, sample_index(self.layer(layer), rng));
        }
        arch
    }

    /// Adds `scale * grad_logits log p(arch)` to `out`, where the gradient with respect
    /// to layer `i`'s logits is `onehot(arch_i) - softmax(l_i)`.
    pub fn add_grad_log_prob(&self, arch: &Architecture, scale: f64, out: &mut LogitGrid) {
        for (layer, &c) in arch.choices().iter().enumerate() {
            let row = &mut out.0[layer];
            for (g, &p) in row.iter_mut().zip(self.layer(layer)) {
                *g -= scale * p;
            }
            row[c as usize] += scale;
        }
    }

    /// The most probable architecture of the whole space (per-layer argmax; ties go to
    /// the lower index).
    pub fn argmax(&self) -> Architecture {
        let mut arch = Architecture::with_len(self.shape.layers());
        for layer in 0..self.shape.layers() {
            arch.set_choice(layer, argmax(self.layer(layer)));
        }
        arch
    }
}

/// Index of the largest entry (first of equals).
fn argmax(xs: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best
}

/// A uniform draw in `[0, 1)` with 53 random bits.
pub fn uniform01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Draws an index with the given probabilities (which sum to 1 up to rounding).
fn sample_index<R: Rng + ?Sized>(probs: &[f64], rng: &mut R) -> usize {
    let u = uniform01(rng);
    let mut acc = 0.0;
    let mut last_positive = 0;
    for (i, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            last_positive = i;
        }
        acc += p;
        if u < acc {
            return i;
        }
    }
    // Rounding left `acc` a hair under `u`: the mass belongs to the last live choice.
    last_positive
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::MAX_CHOICES;
    use rand_core::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn space() -> SearchSpace {
        SearchSpace::new(&[&[2, 3, 4], &[5, 6], &[1, 2, 3, 4, 5]]).unwrap()
    }

    fn controller_with_logits(space: &SearchSpace, rng: &mut Xoshiro256PlusPlus) -> Controller {
        let mut c = Controller::new(space);
        for layer in 0..space.num_layers() {
            for k in 0..space.num_choices(layer) {
                c.logits_mut().0[layer][k] = 4.0 * (uniform01(rng) - 0.5);
            }
        }
        c
    }

    #[test]
    fn softmax_is_stable_and_normalised() {
        let mut out = [0.0; 3];
        softmax(&[1000.0, 1000.0, -1000.0], &mut out);
        assert!((out[0] - 0.5).abs() < 1e-12 && out[2] == 0.0);
        softmax(&[0.0, 0.0, 0.0], &mut out);
        assert!(out.iter().all(|&p| (p - 1.0 / 3.0).abs() < 1e-15));
    }

    #[test]
    fn probabilities_sum_to_one_over_the_space() {
        let space = space();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let policy = controller_with_logits(&space, &mut rng).policy();
        let total: f64 = space.iter().map(|a| policy.prob(&a)).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }

    /// Sampled frequencies match the softmax. 200,000 draws per layer: the standard error
    /// of a frequency is at most sqrt(0.25 / 2e5) = 1.1e-3, so 5e-3 is > 4 sigma.
    #[test]
    fn sampled_frequencies_match_softmax() {
        let space = space();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let policy = controller_with_logits(&space, &mut rng).policy();
        let mut counts = [[0u32; MAX_CHOICES]; MAX_LAYERS];
        let draws = 200_000;
        for _ in 0..draws {
            let a = policy.sample(&mut rng);
            for (layer, &c) in a.choices().iter().enumerate() {
                counts[layer][c as usize] += 1;
            }
        }
        for (layer, row) in counts.iter().enumerate().take(space.num_layers()) {
            for (k, &p) in policy.layer(layer).iter().enumerate() {
                let freq = row[k] as f64 / draws as f64;
                assert!(
                    (freq - p).abs() < 5e-3,
                    "layer {layer} choice {k}: {freq} vs {p}"
                );
            }
        }
    }

    /// grad log p(y) against central finite differences (step 1e-6, tolerance 1e-7).
    #[test]
    fn grad_log_prob_matches_finite_differences() {
        let space = space();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let controller = controller_with_logits(&space, &mut rng);
        let policy = controller.policy();
        for arch in space.iter().step_by(5) {
            let mut grad = LogitGrid::zeros();
            policy.add_grad_log_prob(&arch, 1.0, &mut grad);
            for layer in 0..space.num_layers() {
                for k in 0..space.num_choices(layer) {
                    let h = 1e-6;
                    let mut plus = controller;
                    plus.logits_mut().0[layer][k] += h;
                    let mut minus = controller;
                    minus.logits_mut().0[layer][k] -= h;
                    let fd = (plus.policy().log_prob(&arch) - minus.policy().log_prob(&arch))
                        / (2.0 * h);
                    assert!(
                        (fd - grad.0[layer][k]).abs() < 1e-7,
                        "{fd} vs {}",
                        grad.0[layer][k]
                    );
                }
            }
        }
    }

    #[test]
    fn argmax_picks_each_layers_mode() {
        let space = space();
        let mut c = Controller::new(&space);
        c.logits_mut().0[0][2] = 1.0;
        c.logits_mut().0[2][3] = 0.5;
        assert_eq!(c.policy().argmax().choices(), &[2, 0, 3]);
    }
}
