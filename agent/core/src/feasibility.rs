//! The one feasibility test of a search: `cost(y) <= target` under one cost model.
//!
//! Both the sampled child and every P(V) evaluation go through [`Feasibility::judge`],
//! so the rejection test and P(V) can never disagree. A `NaN` cost (for example an
//! unmeasured latency block) is infeasible.

use core::fmt;

use crate::cost::{CostError, CostModel};
use crate::space::{Architecture, SearchSpace};

/// The verdict on one architecture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    /// Its cost in the model's unit.
    pub cost: f64,
    /// `cost <= target`.
    pub feasible: bool,
}

/// Why a feasibility test could not be set up.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FeasibilityError {
    /// The target is not a finite positive number.
    BadTarget {
        /// The target given.
        target: f64,
    },
    /// The cost model cannot price this space.
    Cost(CostError),
}

impl fmt::Display for FeasibilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadTarget { target } => {
                write!(f, "target must be a finite positive number, got {target}")
            }
            Self::Cost(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for FeasibilityError {}

/// A space, a cost model and a target: the feasible set `V`.
#[derive(Debug, Clone, Copy)]
pub struct Feasibility<'a, C: ?Sized> {
    space: &'a SearchSpace,
    model: &'a C,
    target: f64,
}

impl<'a, C: CostModel + ?Sized> Feasibility<'a, C> {
    /// Checks that `model` fits `space` and that `target` is usable.
    pub fn new(
        space: &'a SearchSpace,
        model: &'a C,
        target: f64,
    ) -> Result<Self, FeasibilityError> {
        if !(target.is_finite() && target > 0.0) {
            return Err(FeasibilityError::BadTarget { target });
        }
        model.check_space(space).map_err(FeasibilityError::Cost)?;
        Ok(Self {
            space,
            model,
            target,
        })
    }

    /// Cost and verdict for `arch`.
    pub fn judge(&self, arch: &Architecture) -> Judgement {
        let cost = self.model.cost(self.space, arch);
        Judgement {
            cost,
            feasible: cost <= self.target,
        }
    }

    /// The space.
    pub fn space(&self) -> &'a SearchSpace {
        self.space
    }

    /// The cost model.
    pub fn model(&self) -> &'a C {
        self.model
    }

    /// The target, in the model's unit.
    pub fn target(&self) -> f64 {
        self.target
    }

    /// The same space and model under another target.
    pub fn with_target(&self, target: f64) -> Result<Self, FeasibilityError> {
        Self::new(self.space, self.model, target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{FfnParams, FfnShape, NatsSizeMacs};

    #[test]
    fn boundary_is_feasible_and_bad_targets_are_refused() {
        let space = SearchSpace::uniform(2, &[2, 3, 4]).unwrap();
        let model = FfnParams(FfnShape {
            input: 2,
            output: 1,
            biases: true,
        });
        let f = Feasibility::new(&space, &model, 25.0).unwrap();
        let j = f.judge(&space.arch_from_widths(&[4, 2]).unwrap());
        assert_eq!(
            j,
            Judgement {
                cost: 25.0,
                feasible: true
            }
        );
        assert!(!f.judge(&space.arch_from_widths(&[3, 4]).unwrap()).feasible);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Feasibility::new(&space, &model, bad),
                Err(FeasibilityError::BadTarget { .. })
            ));
        }
        assert!(matches!(
            Feasibility::new(&space, &NatsSizeMacs::CIFAR100, 1.0),
            Err(FeasibilityError::Cost(_))
        ));
    }
}
