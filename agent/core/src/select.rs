//! Choosing the final architecture from a trained controller.
//!
//! [`most_probable_feasible`] is the TabNAS answer: `argmax p(y)` over the feasible set,
//! found exactly by branch and bound (layers' choices visited in decreasing probability;
//! a branch is cut once its best possible completion cannot beat the best feasible
//! architecture found so far). It never enumerates more than the whole space and, for a
//! peaked controller, looks at a handful of architectures. [`most_probable`] is the
//! unconstrained argmax, which is where Abs and MnasNet rewards converge and which may be
//! infeasible; it reports its verdict so that callers can flag it. [`top_feasible`] is
//! the same search for the `k` most probable feasible architectures (the candidates a
//! device checks, the finalists a comparison trains), into a caller's buffer.

use crate::capacity::{MAX_CHOICES, MAX_LAYERS};
use crate::controller::Policy;
use crate::cost::CostModel;
use crate::feasibility::Feasibility;
use crate::space::Architecture;

/// A chosen architecture with its probability and verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Selection {
    /// The architecture.
    pub arch: Architecture,
    /// `p(arch)` under the policy.
    pub prob: f64,
    /// Its cost.
    pub cost: f64,
    /// Whether it meets the target.
    pub feasible: bool,
}

/// The unconstrained argmax of `p`, with its verdict.
pub fn most_probable<C: CostModel + ?Sized>(
    policy: &Policy,
    feasibility: &Feasibility<'_, C>,
) -> Selection {
    let arch = policy.argmax();
    let j = feasibility.judge(&arch);
    Selection {
        arch,
        prob: policy.prob(&arch),
        cost: j.cost,
        feasible: j.feasible,
    }
}

/// The most probable feasible architecture, or `None` if no architecture is feasible.
/// Ties go to the architecture met first in decreasing-probability order.
pub fn most_probable_feasible<C: CostModel + ?Sized>(
    policy: &Policy,
    feasibility: &Feasibility<'_, C>,
) -> Option<Selection> {
    let mut best = [None];
    top_feasible(policy, feasibility, &mut best);
    best[0]
}

/// The `out.len()` most probable feasible architectures, most probable first, into
/// `out[..n]`; returns `n` (fewer when fewer are feasible) and leaves the rest `None`.
/// Exact, by the branch and bound of [`most_probable_feasible`] cut against the `k`-th
/// best found; ties keep the order they are met in (decreasing probability per layer).
pub fn top_feasible<C: CostModel + ?Sized>(
    policy: &Policy,
    feasibility: &Feasibility<'_, C>,
    out: &mut [Option<Selection>],
) -> usize {
    out.fill(None);
    if out.is_empty() {
        return 0;
    }
    let shape = policy.shape();
    let layers = shape.layers();
    let mut order = [[0u8; MAX_CHOICES]; MAX_LAYERS];
    // bound[l] = product of the largest probabilities of layers l.. (bound[layers] = 1).
    let mut bound = [1.0f64; MAX_LAYERS + 1];
    for (layer, row) in order.iter_mut().enumerate().take(layers) {
        let probs = policy.layer(layer);
        let row = &mut row[..probs.len()];
        for (i, slot) in row.iter_mut().enumerate() {
            *slot = i as u8;
        }
        // Stable insertion sort by decreasing probability.
        for i in 1..row.len() {
            let mut j = i;
            while j > 0 && probs[row[j - 1] as usize] < probs[row[j] as usize] {
                row.swap(j - 1, j);
                j -= 1;
            }
        }
    }
    for layer in (0..layers).rev() {
        bound[layer] = bound[layer + 1] * policy.layer(layer)[order[layer][0] as usize];
    }
    let mut search = BranchAndBound {
        policy,
        feasibility,
        order: &order,
        bound: &bound,
        best: out,
        found: 0,
    };
    let Some(mut arch) = Architecture::from_choices(&[0; MAX_LAYERS][..layers]) else {
        return 0;
    };
    search.visit(0, 1.0, &mut arch);
    search.found
}

struct BranchAndBound<'p, 'f, 'a, C: ?Sized> {
    policy: &'p Policy,
    feasibility: &'f Feasibility<'a, C>,
    order: &'p [[u8; MAX_CHOICES]; MAX_LAYERS],
    bound: &'p [f64; MAX_LAYERS + 1],
    /// The best found, most probable first: `best[..found]`.
    best: &'p mut [Option<Selection>],
    found: usize,
}

impl<C: CostModel + ?Sized> BranchAndBound<'_, '_, '_, C> {
    /// Whether an architecture of probability at most `prob` cannot enter the buffer.
    fn beaten(&self, prob: f64) -> bool {
        self.found == self.best.len()
            && self.best[self.found - 1].is_some_and(|worst| prob <= worst.prob)
    }

    /// Puts `s` after every kept one at least as probable, dropping the last when full.
    fn keep(&mut self, s: Selection) {
        let at = self.best[..self.found]
            .iter()
            .position(|b| b.is_some_and(|b| b.prob < s.prob))
            .unwrap_or(self.found);
        if self.found < self.best.len() {
            self.found += 1;
        }
        self.best[at..self.found].rotate_right(1);
        self.best[at] = Some(s);
    }

    fn visit(&mut self, layer: usize, prefix: f64, arch: &mut Architecture) {
        let layers = arch.len();
        if layer == layers {
            let j = self.feasibility.judge(arch);
            if j.feasible && !self.beaten(prefix) {
                self.keep(Selection {
                    arch: *arch,
                    prob: prefix,
                    cost: j.cost,
                    feasible: true,
                });
            }
            return;
        }
        let probs = self.policy.layer(layer);
        for &c in &self.order[layer][..probs.len()] {
            let p = prefix * probs[c as usize];
            if self.beaten(p * self.bound[layer + 1]) {
                break; // later choices of this layer are no more probable
            }
            arch.set_choice(layer, c as usize);
            self.visit(layer + 1, p, arch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::{uniform01, Controller, Policy};
    use crate::cost::{FfnParams, FfnShape};
    use crate::space::SearchSpace;
    use rand_core::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// A 60-architecture space and its parameter count.
    fn space_and_model() -> (SearchSpace, FfnParams) {
        let space = SearchSpace::new(&[&[2, 4, 8, 16], &[3, 5, 7], &[1, 2, 4, 8, 16]]).unwrap();
        let model = FfnParams(FfnShape {
            input: 4,
            output: 1,
            biases: true,
        });
        (space, model)
    }

    /// A controller over `space` with logits uniform in [-3, 3).
    fn random_controller(space: &SearchSpace, rng: &mut Xoshiro256PlusPlus) -> Controller {
        let mut c = Controller::new(space);
        for layer in 0..space.num_layers() {
            for k in 0..space.num_choices(layer) {
                c.logits_mut().0[layer][k] = 6.0 * (uniform01(rng) - 0.5);
            }
        }
        c
    }

    /// Branch and bound agrees with brute force on random controllers and targets.
    #[test]
    fn matches_brute_force() {
        let (space, model) = space_and_model();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
        for trial in 0..200 {
            let c = random_controller(&space, &mut rng);
            let policy = c.policy();
            let target = 20.0 + 300.0 * uniform01(&mut rng);
            let f = Feasibility::new(&space, &model, target).unwrap();
            let brute = space
                .iter()
                .filter(|a| f.judge(a).feasible)
                .map(|a| (policy.prob(&a), a))
                .fold(
                    None,
                    |best: Option<(f64, Architecture)>, (p, a)| match best {
                        Some((bp, _)) if bp >= p => best,
                        _ => Some((p, a)),
                    },
                );
            let found = most_probable_feasible(&policy, &f);
            match (brute, found) {
                (None, None) => {}
                (Some((bp, _)), Some(sel)) => {
                    assert!(sel.feasible);
                    assert!((sel.prob - bp).abs() < 1e-15, "trial {trial}");
                }
                other => panic!("trial {trial}: {other:?}"),
            }
        }
    }

    /// The k best agree with brute force's k largest probabilities, in order; a policy
    /// rebuilt from its probabilities is the same policy.
    #[test]
    fn top_k_matches_brute_force() {
        let (space, model) = space_and_model();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(23);
        for trial in 0..200 {
            let c = random_controller(&space, &mut rng);
            let original = c.policy();
            let rows: [&[f64]; 3] = [original.layer(0), original.layer(1), original.layer(2)];
            let policy = Policy::from_probs(&space, &rows).unwrap();
            assert_eq!(policy, original);
            let target = 20.0 + 300.0 * uniform01(&mut rng);
            let f = Feasibility::new(&space, &model, target).unwrap();
            let mut brute = [0.0f64; 60];
            let mut feasible = 0;
            for a in space.iter().filter(|a| f.judge(a).feasible) {
                brute[feasible] = policy.prob(&a);
                feasible += 1;
            }
            brute[..feasible].sort_by(|a, b| b.total_cmp(a));
            let k = trial % 7;
            let mut out = [None; 6];
            let out = &mut out[..k.min(6)];
            let n = top_feasible(&policy, &f, out);
            assert_eq!(n, out.len().min(feasible), "trial {trial}");
            for (i, sel) in out.iter().enumerate() {
                match sel {
                    Some(s) if i < n => {
                        assert!(s.feasible && f.judge(&s.arch).feasible);
                        assert!((s.prob - brute[i]).abs() < 1e-15, "trial {trial}, rank {i}");
                        assert!(!out[..i].iter().any(|o| o.is_some_and(|o| o.arch == s.arch)));
                    }
                    None if i >= n => {}
                    other => panic!("trial {trial}, rank {i}: {other:?}"),
                }
            }
        }
        // Ties keep the order they are met in: under the uniform policy, the first feasible
        // architectures in the order of the choices.
        let uniform = Controller::new(&space).policy();
        let f = Feasibility::new(&space, &model, 60.0).unwrap();
        let mut out = [None; 5];
        assert_eq!(top_feasible(&uniform, &f, &mut out), 5);
        let first: std::vec::Vec<_> = space
            .iter()
            .filter(|a| f.judge(a).feasible)
            .take(5)
            .collect();
        let got: std::vec::Vec<_> = out.iter().map(|s| s.unwrap().arch).collect();
        assert_eq!(got, first);
        // Rows that do not fit the space are refused.
        assert!(Policy::from_probs(&space, &[[0.5, 0.5]]).is_none());
        let bad: [&[f64]; 3] = [&[0.25; 4], &[0.5, 0.5], &[0.2; 5]];
        assert!(Policy::from_probs(&space, &bad).is_none());
        let nan: [&[f64]; 3] = [&[0.25; 4], &[f64::NAN, 0.5, 0.5], &[0.2; 5]];
        assert!(Policy::from_probs(&space, &nan).is_none());
    }

    #[test]
    fn unconstrained_argmax_reports_infeasibility() {
        let space = SearchSpace::uniform(2, &[2, 3, 4]).unwrap();
        let model = FfnParams(FfnShape {
            input: 2,
            output: 1,
            biases: true,
        });
        let mut c = Controller::new(&space);
        c.logits_mut().0[0][2] = 3.0;
        c.logits_mut().0[1][2] = 3.0;
        let f = Feasibility::new(&space, &model, 25.0).unwrap();
        let sel = most_probable(&c.policy(), &f);
        assert_eq!(sel.arch.choices(), &[2, 2]);
        assert!(!sel.feasible && sel.cost == 37.0);
        let best = most_probable_feasible(&c.policy(), &f).unwrap();
        assert_eq!(std::format!("{}", space.display(&best.arch)), "4-2");
    }
}
