//! Rewards of resource-constrained RL search, as `docs/algorithm.md` states them.
//!
//! Sign convention: `beta > 0` is a penalty strength. The paper writes the Abs reward
//! as `Q + beta |T/T0 - 1|` with `beta < 0`; here it is `Q - beta |T/T0 - 1|`.
//! Quality `Q` comes from a loss through [`QualityMap`]; for the Abs and rejection
//! rewards `-loss` and `1 - loss` give identical advantages, while the MnasNet rewards
//! multiply `Q` and need it positive (`1 - loss`).

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

/// The name of a reward without its penalty strength: what a flag, a profile key or a
/// report names. [`RewardKind::with_beta`] is the one conversion to a [`Reward`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewardKind {
    /// TabNAS rejection ([`Reward::Rejection`]).
    Rejection,
    /// TuNAS Abs ([`Reward::Abs`]).
    Abs,
    /// MnasNet soft ([`Reward::MnasSoft`]).
    MnasSoft,
    /// MnasNet hard ([`Reward::MnasHard`]).
    MnasHard,
}

impl RewardKind {
    /// Every kind, in the order of [`RewardKind::NAMES`].
    pub const ALL: [Self; 4] = [Self::Rejection, Self::Abs, Self::MnasSoft, Self::MnasHard];
    /// Their names (`rejection`, `abs`, `mnas-soft`, `mnas-hard`).
    pub const NAMES: [&'static str; 4] = ["rejection", "abs", "mnas-soft", "mnas-hard"];

    /// The name of this kind.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rejection => "rejection",
            Self::Abs => "abs",
            Self::MnasSoft => "mnas-soft",
            Self::MnasHard => "mnas-hard",
        }
    }

    /// The reward of this kind; `beta` is ignored by [`RewardKind::Rejection`].
    pub const fn with_beta(self, beta: f64) -> Reward {
        match self {
            Self::Rejection => Reward::Rejection,
            Self::Abs => Reward::Abs { beta },
            Self::MnasSoft => Reward::MnasSoft { beta },
            Self::MnasHard => Reward::MnasHard { beta },
        }
    }
}

impl fmt::Display for RewardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of the accepted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownName {
    /// What was accepted.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected one of ")?;
        for (i, name) in self.expected.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl core::error::Error for UnknownName {}

impl UnknownName {
    /// The position of `name` in `names`, or the error listing them: the one parser of
    /// every named kind.
    pub fn position(name: &str, names: &'static [&'static str]) -> Result<usize, Self> {
        names
            .iter()
            .position(|n| *n == name)
            .ok_or(Self { expected: names })
    }
}

impl FromStr for RewardKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UnknownName::position(s, &Self::NAMES).map(|i| Self::ALL[i])
    }
}

/// The reward a search optimises.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Reward {
    /// TabNAS: infeasible samples are rejected (no update), feasible ones earn `Q`, and
    /// the gradient is corrected by P(V). No penalty strength to tune.
    Rejection,
    /// TuNAS: `Q - beta |T/T0 - 1|`.
    Abs {
        /// Penalty strength (`>= 0`).
        beta: f64,
    },
    /// MnasNet soft: `Q (T/T0)^(-beta)`.
    MnasSoft {
        /// Penalty exponent (`>= 0`).
        beta: f64,
    },
    /// MnasNet hard: `Q min((T/T0)^(-beta), 1)`.
    MnasHard {
        /// Penalty exponent (`>= 0`).
        beta: f64,
    },
}

impl Reward {
    /// The reward of a sample with quality `quality` and cost `cost` under `target`.
    /// For [`Reward::Rejection`] this is `quality`: infeasible samples never reach it.
    pub fn value(&self, quality: f64, cost: f64, target: f64) -> f64 {
        let ratio = cost / target;
        match *self {
            Self::Rejection => quality,
            Self::Abs { beta } => quality - beta * libm::fabs(ratio - 1.0),
            Self::MnasSoft { beta } => quality * libm::pow(ratio, -beta),
            Self::MnasHard { beta } => {
                let factor = libm::pow(ratio, -beta);
                quality * if factor < 1.0 { factor } else { 1.0 }
            }
        }
    }

    /// True for the rejection reward (infeasible samples skip the step).
    pub fn rejects_infeasible(&self) -> bool {
        matches!(self, Self::Rejection)
    }

    /// The penalty strength, if the reward has one.
    pub fn beta(&self) -> Option<f64> {
        match *self {
            Self::Rejection => None,
            Self::Abs { beta } | Self::MnasSoft { beta } | Self::MnasHard { beta } => Some(beta),
        }
    }

    /// Its kind (the reward without the penalty strength).
    pub const fn kind(&self) -> RewardKind {
        match self {
            Self::Rejection => RewardKind::Rejection,
            Self::Abs { .. } => RewardKind::Abs,
            Self::MnasSoft { .. } => RewardKind::MnasSoft,
            Self::MnasHard { .. } => RewardKind::MnasHard,
        }
    }

    /// Short name (`rejection`, `abs`, `mnas-soft`, `mnas-hard`).
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

impl fmt::Display for Reward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.beta() {
            Some(beta) => write!(f, "{} (beta = {beta})", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// How a validation loss becomes the quality `Q` that rewards use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum QualityMap {
    /// `Q = 1 - loss` (the toy example; keeps `Q > 0` for MnasNet rewards on small losses).
    #[default]
    OneMinusLoss,
    /// `Q = -loss`.
    NegLoss,
}

impl QualityMap {
    /// Quality of a loss.
    pub fn quality(&self, loss: f64) -> f64 {
        match self {
            Self::OneMinusLoss => 1.0 - loss,
            Self::NegLoss => -loss,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas() {
        let (q, t0) = (0.7, 25.0);
        assert_eq!(Reward::Rejection.value(q, 40.0, t0), q);
        let abs = Reward::Abs { beta: 2.0 };
        assert!((abs.value(q, 30.0, t0) - (0.7 - 2.0 * 0.2)).abs() < 1e-12);
        assert!((abs.value(q, 20.0, t0) - (0.7 - 2.0 * 0.2)).abs() < 1e-12);
        let soft = Reward::MnasSoft { beta: 0.5 };
        assert!((soft.value(q, 100.0, t0) - 0.7 * 0.5).abs() < 1e-12);
        assert!((soft.value(q, 6.25, t0) - 0.7 * 2.0).abs() < 1e-12);
        let hard = Reward::MnasHard { beta: 0.5 };
        assert!((hard.value(q, 100.0, t0) - 0.35).abs() < 1e-12);
        assert!((hard.value(q, 6.25, t0) - 0.7).abs() < 1e-12);
    }

    #[test]
    fn quality_maps_give_identical_abs_advantage_differences() {
        let r = Reward::Abs { beta: 1.0 };
        let a = |m: QualityMap, loss: f64| r.value(m.quality(loss), 30.0, 25.0);
        let d1 = a(QualityMap::OneMinusLoss, 0.3) - a(QualityMap::OneMinusLoss, 0.6);
        let d2 = a(QualityMap::NegLoss, 0.3) - a(QualityMap::NegLoss, 0.6);
        assert!((d1 - d2).abs() < 1e-12);
    }
}
