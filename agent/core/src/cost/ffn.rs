//! Analytical costs of a plain feed-forward network: parameters and FLOPs.

use serde::{Deserialize, Serialize};

use super::{CostError, CostModel};
use crate::space::{Architecture, SearchSpace};

/// The fixed ends of an FFN: input size, output size, and whether layers have biases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FfnShape {
    /// Size of the input vector (after embeddings).
    pub input: u32,
    /// Size of the output (1 for a binary logit).
    pub output: u32,
    /// Whether every dense layer has a bias vector.
    pub biases: bool,
}

impl FfnShape {
    /// Calls `f(d_in, d_out)` for every dense layer of `arch`, input to output.
    pub(crate) fn for_each_layer(
        &self,
        space: &SearchSpace,
        arch: &Architecture,
        mut f: impl FnMut(u64, u64),
    ) {
        let mut d_in = self.input as u64;
        for layer in 0..arch.len() {
            let d_out = space.width(arch, layer) as u64;
            f(d_in, d_out);
            d_in = d_out;
        }
        f(d_in, self.output as u64);
    }

    /// Checks that `layer_cost(d_in, d_out)` summed over the layers cannot overflow for
    /// any architecture of `space`: both ends are non-zero and the widest architecture
    /// (the most expensive, as every layer's cost grows with both sizes) fits in `u64`.
    fn check_space(
        &self,
        space: &SearchSpace,
        layer_cost: impl Fn(u64, u64) -> Option<u64>,
    ) -> Result<(), CostError> {
        if self.input == 0 || self.output == 0 {
            return Err(CostError::EmptyFfnEnd);
        }
        let widest = (0..space.num_layers())
            .map(|l| space.choices(l).iter().copied().max().unwrap_or(0) as u64);
        let mut d_in = self.input as u64;
        let mut total = 0u64;
        for d_out in widest.chain([self.output as u64]) {
            total = layer_cost(d_in, d_out)
                .and_then(|c| total.checked_add(c))
                .ok_or(CostError::Overflow)?;
            d_in = d_out;
        }
        Ok(())
    }
}

/// Parameter count: `sum_i d_i d_(i+1) (+ d_(i+1) with biases)` over
/// `[input, w_1, ..., w_L, output]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FfnParams(pub FfnShape);

impl FfnParams {
    /// Exact parameter count as an integer.
    pub fn count(&self, space: &SearchSpace, arch: &Architecture) -> u64 {
        let mut total = 0;
        let bias = self.0.biases as u64;
        self.0
            .for_each_layer(space, arch, |i, o| total += i * o + bias * o);
        total
    }
}

impl CostModel for FfnParams {
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64 {
        self.count(space, arch) as f64
    }
    fn check_space(&self, space: &SearchSpace) -> Result<(), CostError> {
        let bias = self.0.biases as u64;
        self.0
            .check_space(space, |i, o| i.checked_mul(o)?.checked_add(bias * o))
    }
    fn unit(&self) -> &'static str {
        "params"
    }
}

/// Floating-point operations of one forward pass of one example: each output of a dense
/// layer costs `d_in` multiplications and `d_in` additions with a bias (`d_in - 1`
/// without). Activations are not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FfnFlops(pub FfnShape);

impl FfnFlops {
    /// Exact FLOPs as an integer.
    pub fn count(&self, space: &SearchSpace, arch: &Architecture) -> u64 {
        let mut total = 0;
        let bias = self.0.biases as u64;
        self.0
            .for_each_layer(space, arch, |i, o| total += o * (2 * i - 1 + bias));
        total
    }
}

impl CostModel for FfnFlops {
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64 {
        self.count(space, arch) as f64
    }
    fn check_space(&self, space: &SearchSpace) -> Result<(), CostError> {
        let bias = self.0.biases as u64;
        self.0
            .check_space(space, |i, o| o.checked_mul(2 * i - 1 + bias))
    }
    fn unit(&self) -> &'static str {
        "flops"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteo() -> (SearchSpace, FfnParams) {
        (
            crate::paper::criteo_space(3).unwrap(),
            crate::paper::CRITEO_PARAMS,
        )
    }

    /// The paper: 32-144-24 has exactly 41,153 parameters and 856 of the 8,000
    /// architectures are within that limit.
    #[test]
    fn criteo_reference_architecture_and_feasible_count() {
        let (space, model) = criteo();
        let reference = space.arch_from_widths(&[32, 144, 24]).unwrap();
        assert_eq!(model.count(&space, &reference), 41_153);
        assert_eq!(space.cardinality(), 8_000);
        let feasible = space
            .iter()
            .filter(|a| model.cost(&space, a) <= 41_153.0)
            .count();
        assert_eq!(feasible, 856);
    }

    #[test]
    fn toy_parameter_counts() {
        let space = SearchSpace::uniform(2, &[2, 3, 4]).unwrap();
        let model = FfnParams(FfnShape {
            input: 2,
            output: 1,
            biases: true,
        });
        let counts: std::vec::Vec<u64> = space.iter().map(|a| model.count(&space, &a)).collect();
        assert_eq!(counts, [15, 19, 23, 20, 25, 30, 25, 31, 37]);
    }

    #[test]
    fn flops_count_multiplies_and_adds() {
        let space = SearchSpace::new(&[&[3]]).unwrap();
        let arch = space.arch_at(0).unwrap();
        let shape = FfnShape {
            input: 2,
            output: 1,
            biases: true,
        };
        // 2 -> 3: 3 outputs x (2 mul + 2 add); 3 -> 1: 1 x (3 mul + 3 add).
        assert_eq!(FfnFlops(shape).count(&space, &arch), 12 + 6);
        let no_bias = FfnShape {
            biases: false,
            ..shape
        };
        assert_eq!(FfnFlops(no_bias).count(&space, &arch), 9 + 5);
        assert_eq!(FfnParams(no_bias).count(&space, &arch), 6 + 3);
    }

    #[test]
    fn check_space_refuses_empty_ends_and_overflow() {
        // Found by fuzzing (fuzz/regressions/search_config/): a zero input made the FLOPs
        // count subtract below zero.
        let space = SearchSpace::uniform(2, &[2, 3]).unwrap();
        let shape = |input, output| FfnShape {
            input,
            output,
            biases: true,
        };
        assert_eq!(FfnParams(shape(2, 1)).check_space(&space), Ok(()));
        assert_eq!(FfnFlops(shape(2, 1)).check_space(&space), Ok(()));
        for (i, o) in [(0, 1), (2, 0)] {
            assert_eq!(
                FfnFlops(shape(i, o)).check_space(&space),
                Err(CostError::EmptyFfnEnd)
            );
            assert_eq!(
                FfnParams(shape(i, o)).check_space(&space),
                Err(CostError::EmptyFfnEnd)
            );
        }
        let wide = SearchSpace::uniform(8, &[1, u32::MAX]).unwrap();
        let huge = shape(u32::MAX, u32::MAX);
        assert_eq!(FfnParams(huge).check_space(&wide), Err(CostError::Overflow));
        assert_eq!(FfnFlops(huge).check_space(&wide), Err(CostError::Overflow));
    }
}
