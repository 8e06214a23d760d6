//! A latency target: microseconds that are finite, positive and at most
//! [`LatencyTarget::MAX_US`]. It is checked once, where it enters (a flag, a profile, a
//! request body, a checkpoint), and cannot hold anything else afterwards: NaN, zero and
//! negative targets are unrepresentable. Serialized as a plain number, so the formats
//! that carried an `f64` read and write it unchanged.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

/// A latency target in microseconds (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct LatencyTarget(f64);

/// Why a number is not a latency target.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum TargetError {
    /// The text is not a number.
    NotANumber,
    /// The number is not in (0, [`LatencyTarget::MAX_US`]] (or is NaN).
    OutOfRange {
        /// The number given.
        given: f64,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotANumber => write!(
                f,
                "a latency target must be a number of microseconds (e.g. 12.5)"
            ),
            Self::OutOfRange { given } => write!(
                f,
                "a latency target must be a positive number of microseconds up to {}, got \
                 {given}",
                LatencyTarget::MAX_US
            ),
        }
    }
}

impl core::error::Error for TargetError {}

impl LatencyTarget {
    /// The largest target, in microseconds (1000 s).
    pub const MAX_US: f64 = 1e9;

    /// `us` as a target, when it is finite, positive and at most [`Self::MAX_US`].
    pub fn new(us: f64) -> Result<Self, TargetError> {
        if us.is_finite() && us > 0.0 && us <= Self::MAX_US {
            Ok(Self(us))
        } else {
            Err(TargetError::OutOfRange { given: us })
        }
    }

    /// The target in microseconds.
    pub fn us(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for LatencyTarget {
    type Error = TargetError;

    fn try_from(us: f64) -> Result<Self, TargetError> {
        Self::new(us)
    }
}

impl From<LatencyTarget> for f64 {
    fn from(t: LatencyTarget) -> f64 {
        t.0
    }
}

impl FromStr for LatencyTarget {
    type Err = TargetError;

    fn from_str(s: &str) -> Result<Self, TargetError> {
        let us: f64 = s.trim().parse().map_err(|_| TargetError::NotANumber)?;
        Self::new(us)
    }
}

impl fmt::Display for LatencyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_finite_bounded_numbers_are_targets() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e9, -0.0] {
            assert_eq!(
                LatencyTarget::new(bad).map(LatencyTarget::us).ok(),
                None,
                "{bad}"
            );
        }
        assert_eq!(LatencyTarget::new(12.5).unwrap().us(), 12.5);
        assert_eq!(LatencyTarget::new(1e9).unwrap().us(), 1e9);
    }

    #[test]
    fn text_and_json_parse_through_the_same_check() {
        assert_eq!("12.5".parse::<LatencyTarget>().unwrap().us(), 12.5);
        assert_eq!(
            "fast".parse::<LatencyTarget>(),
            Err(TargetError::NotANumber)
        );
        assert!(matches!(
            "-3".parse::<LatencyTarget>(),
            Err(TargetError::OutOfRange { .. })
        ));
        let t: LatencyTarget = serde_json::from_str("7.5").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "7.5");
        let e = serde_json::from_str::<LatencyTarget>("0").unwrap_err();
        assert!(
            e.to_string().contains("positive number of microseconds"),
            "{e}"
        );
    }
}
