//! Adam (Kingma & Ba) over flat parameter slices, as PyTorch's `torch.optim.Adam`
//! (betas 0.9 / 0.999, eps 1e-8, bias correction, no weight decay unless given).
//!
//! Large tensors are updated in chunks on the products' threads
//! ([`super::kernels::threads`]), each chunk with the widest vector instructions the
//! CPU has (`pulp` picks them at run time). Every value's update is the same
//! arithmetic in the same order whichever thread and instructions make it, so results
//! do not depend on either.

use rayon::prelude::*;

use super::kernels;

/// Values per chunk of a parallel update (64 KiB of each of the four streams).
const CHUNK: usize = 1 << 14;

/// Adam state for a list of parameter tensors of fixed sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamW {
    lr: f32,
    weight_decay: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    t: i32,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl AdamW {
    /// State for tensors of the given sizes.
    pub fn new(sizes: &[usize], lr: f32, weight_decay: f32) -> Self {
        Self {
            lr,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            m: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            v: sizes.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// Sets the decoupled weight decay (AdamW: each step multiplies every parameter by
    /// `1 - lr * weight_decay` before the Adam move; 0 is plain Adam).
    pub fn set_weight_decay(&mut self, weight_decay: f32) {
        self.weight_decay = weight_decay;
    }

    /// Starts a step (advances the bias correction).
    pub fn begin_step(&mut self) {
        self.t += 1;
    }

    /// Updates tensor `k` from its gradient (call once per tensor per step).
    pub fn update(&mut self, k: usize, param: &mut [f32], grad: &[f32]) {
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        let step = Step {
            b1,
            b2,
            step: self.lr / c1,
            c2_sqrt: c2.sqrt(),
            decay: 1.0 - self.lr * self.weight_decay,
            eps: self.eps,
        };
        let (m, v) = (&mut self.m[k], &mut self.v[k]);
        if param.len() <= CHUNK || kernels::threads() == 1 {
            step.dispatch(param, grad, m, v);
        } else {
            param
                .par_chunks_mut(CHUNK)
                .zip(grad.par_chunks(CHUNK))
                .zip(m.par_chunks_mut(CHUNK).zip(v.par_chunks_mut(CHUNK)))
                .for_each(|((p, g), (m, v))| step.dispatch(p, g, m, v));
        }
    }
}

/// The constants of one step.
#[derive(Clone, Copy)]
struct Step {
    b1: f32,
    b2: f32,
    step: f32,
    c2_sqrt: f32,
    decay: f32,
    eps: f32,
}

impl Step {
    /// [`Step::apply`] compiled for the CPU's vector instructions.
    fn dispatch(self, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
        pulp::Arch::new().dispatch(|| self.apply(param, grad, m, v));
    }

    #[inline(always)]
    fn apply(self, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
        let Self {
            b1,
            b2,
            step,
            c2_sqrt,
            decay,
            eps,
        } = self;
        for ((p, &g), (m, v)) in param
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut().zip(v.iter_mut()))
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p = *p * decay - step * *m / ((*v).sqrt() / c2_sqrt + eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_by_lr_against_the_gradient_sign() {
        let mut a = AdamW::new(&[2], 0.01, 0.0);
        let mut p = vec![1.0f32, -1.0];
        a.begin_step();
        a.update(0, &mut p, &[0.5, -3.0]);
        assert!(
            (p[0] - 0.99).abs() < 1e-6 && (p[1] + 0.99).abs() < 1e-6,
            "{p:?}"
        );
    }

    #[test]
    fn weight_decay_shrinks_a_parameter_without_gradient() {
        let mut a = AdamW::new(&[1], 0.1, 0.0);
        a.set_weight_decay(0.5);
        let mut p = vec![2.0f32];
        a.begin_step();
        a.update(0, &mut p, &[0.0]);
        // 2 * (1 - 0.1 * 0.5); a zero gradient moves nothing else.
        assert!((p[0] - 1.9).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn minimises_a_quadratic() {
        let mut a = AdamW::new(&[1], 0.1, 0.0);
        let mut p = vec![5.0f32];
        for _ in 0..500 {
            a.begin_step();
            let g = [2.0 * (p[0] - 2.0)];
            a.update(0, &mut p, &g);
        }
        assert!((p[0] - 2.0).abs() < 1e-2, "{p:?}");
    }
}
