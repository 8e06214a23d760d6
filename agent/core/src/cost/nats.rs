//! Multiply-accumulates of the NATS-Bench size search space (5 channel choices,
//! CIFAR-style input), computed exactly in closed form. These are what xautodl's counter,
//! NATS-Bench and the TabNAS paper call "FLOPs": one per multiply-accumulate of the
//! Conv2d and Linear layers (`docs/algorithm.md`).

use serde::{Deserialize, Serialize};

use super::{CostError, CostModel};
use crate::space::{Architecture, SearchSpace};

/// NATS-Bench size-space multiply-accumulates for input resolution `resolution` and `classes` outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatsSizeMacs {
    /// Input height = width (32 for CIFAR).
    pub resolution: u32,
    /// Number of classes (100 for CIFAR-100).
    pub classes: u32,
}

impl NatsSizeMacs {
    /// CIFAR-100 as in the paper's vision experiment.
    pub const CIFAR100: Self = Self {
        resolution: 32,
        classes: 100,
    };

    /// Multiply-accumulates for channels `a:b:c:d:e`.
    pub fn macs(&self, channels: [u32; 5]) -> f64 {
        let [a, b, c, d, e] = channels.map(|x| x as f64);
        let h2 = (self.resolution as f64) * (self.resolution as f64);
        let k = self.classes as f64;
        let neq = |x: f64, y: f64| if x != y { x * y } else { 0.0 };
        h2 * (27.0 * a + 45.0 * a * a)
            + h2 / 4.0 * (10.0 * a * b + 9.0 * b * b + 18.0 * b * c + 27.0 * c * c + neq(b, c))
            + h2 / 16.0 * (10.0 * c * d + 9.0 * d * d + 18.0 * d * e + 27.0 * e * e + neq(d, e))
            + k * e
            + k
    }
}

impl CostModel for NatsSizeMacs {
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64 {
        let mut ch = [0u32; 5];
        for (layer, slot) in ch.iter_mut().enumerate() {
            *slot = space.width(arch, layer);
        }
        self.macs(ch)
    }

    fn check_space(&self, space: &SearchSpace) -> Result<(), CostError> {
        if space.num_layers() != 5 {
            return Err(CostError::WrongLayerCount {
                expected: 5,
                found: space.num_layers(),
            });
        }
        Ok(())
    }

    fn unit(&self) -> &'static str {
        "macs"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published test vectors (CIFAR-100, millions of MACs, 6 decimals: exact).
    #[test]
    fn test_vectors() {
        let m = NatsSizeMacs::CIFAR100;
        assert_eq!(m.macs([8, 8, 8, 8, 8]), 4_481_924.0);
        assert_eq!(m.macs([8, 8, 16, 40, 40]), 11_816_964.0);
        assert_eq!(m.macs([64, 64, 64, 64, 64]), 274_405_732.0);
    }

    #[test]
    fn prices_a_space_and_rejects_other_depths() {
        let widths = [8, 16, 24, 32, 40, 48, 56, 64];
        let space = SearchSpace::uniform(5, &widths).unwrap();
        assert_eq!(space.cardinality(), 32_768);
        let m = NatsSizeMacs::CIFAR100;
        assert!(m.check_space(&space).is_ok());
        let arch = space.arch_from_widths(&[8, 8, 16, 40, 40]).unwrap();
        assert_eq!(m.cost(&space, &arch) / 1e6, 11.816964);
        let shallow = SearchSpace::uniform(3, &widths).unwrap();
        assert_eq!(
            m.check_space(&shallow),
            Err(CostError::WrongLayerCount {
                expected: 5,
                found: 3
            })
        );
    }
}
