//! A latency model over the network's arithmetic: `intercept + per_mac * MACs +
//! per_unit * units`, where MACs are the multiply-accumulates of one row through the
//! dense layers and units the activations they produce (hidden widths and outputs).
//! Fitted on the device from whole children measured end to end (relative least
//! squares); it prices any architecture of an FFN space without a per-block table.

use serde::{Deserialize, Serialize};

use super::{CostModel, FfnShape};
use crate::space::{Architecture, SearchSpace};

/// `intercept_us + per_mac_us * MACs + per_unit_us * units` (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AffineMacs {
    /// The FFN's fixed ends.
    pub shape: FfnShape,
    /// Fixed cost of one inference, microseconds.
    pub intercept_us: f64,
    /// Cost per multiply-accumulate (of one row), microseconds.
    pub per_mac_us: f64,
    /// Cost per produced activation (of one row), microseconds.
    pub per_unit_us: f64,
}

impl AffineMacs {
    /// The two features of `arch`: (multiply-accumulates, units) of one row.
    pub fn features(shape: &FfnShape, space: &SearchSpace, arch: &Architecture) -> (f64, f64) {
        let (mut macs, mut units) = (0u64, 0u64);
        shape.for_each_layer(space, arch, |i, o| {
            macs += i * o;
            units += o;
        });
        (macs as f64, units as f64)
    }

    /// Fits the model to `(macs, units, measured_us)` triples, minimising the squared
    /// *relative* error (each row weighted by `1 / measured^2`). `None` when the triples
    /// do not determine the three coefficients or a value is not finite and positive.
    pub fn fit(shape: FfnShape, points: &[(f64, f64, f64)]) -> Option<Self> {
        // Normal equations A^T W A c = A^T W y with rows (1, macs, units).
        let mut m = [[0.0f64; 3]; 3];
        let mut v = [0.0f64; 3];
        for &(macs, units, y) in points {
            if !(macs.is_finite() && units.is_finite() && y.is_finite() && y > 0.0) {
                return None;
            }
            let w = 1.0 / (y * y);
            let row = [1.0, macs, units];
            for r in 0..3 {
                for c in 0..3 {
                    m[r][c] += w * row[r] * row[c];
                }
                v[r] += w * row[r] * y;
            }
        }
        let c = solve3(m, v)?;
        Some(Self {
            shape,
            intercept_us: c[0],
            per_mac_us: c[1],
            per_unit_us: c[2],
        })
    }

    /// [`AffineMacs::fit`] whose slopes are never negative: a network does not get faster
    /// as it grows, and a negative slope (noise, or too few points) extrapolates wrongly
    /// at the ends of a space. When the free fit has a negative slope, the better (lower
    /// weighted squared relative error) of the fits on one feature alone with a
    /// non-negative slope is returned; `None` when neither has one.
    pub fn fit_nonnegative(shape: FfnShape, points: &[(f64, f64, f64)]) -> Option<Self> {
        let free = Self::fit(shape, points);
        if let Some(m) = free.filter(|m| m.per_mac_us >= 0.0 && m.per_unit_us >= 0.0) {
            return Some(m);
        }
        let on_macs = fit_one(points, |p| p.0).map(|(a, b)| Self {
            shape,
            intercept_us: a,
            per_mac_us: b,
            per_unit_us: 0.0,
        });
        let on_units = fit_one(points, |p| p.1).map(|(a, b)| Self {
            shape,
            intercept_us: a,
            per_mac_us: 0.0,
            per_unit_us: b,
        });
        let error = |m: &Self| {
            points
                .iter()
                .map(|&(macs, units, y)| {
                    let r = (m.intercept_us + m.per_mac_us * macs + m.per_unit_us * units - y) / y;
                    r * r
                })
                .sum::<f64>()
        };
        [on_macs, on_units]
            .into_iter()
            .flatten()
            .filter(|m| m.per_mac_us >= 0.0 && m.per_unit_us >= 0.0)
            .min_by(|a, b| error(a).total_cmp(&error(b)))
    }
}

/// Weighted (`1 / y^2`) least squares of `y = a + b * x(point)`; `None` when `x` does not
/// vary or a value is not finite and positive.
fn fit_one(points: &[(f64, f64, f64)], x: impl Fn(&(f64, f64, f64)) -> f64) -> Option<(f64, f64)> {
    let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in points {
        let (xi, y) = (x(p), p.2);
        if !(xi.is_finite() && y.is_finite() && y > 0.0) {
            return None;
        }
        let w = 1.0 / (y * y);
        sw += w;
        sx += w * xi;
        sy += w * y;
        sxx += w * xi * xi;
        sxy += w * xi * y;
    }
    let det = sw * sxx - sx * sx;
    if !(det.is_finite() && det > 1e-12 * sw * sxx) {
        return None;
    }
    let b = (sw * sxy - sx * sy) / det;
    let a = (sy - b * sx) / sw;
    Some((a, b))
}

/// Solves a 3x3 system by Gaussian elimination with partial pivoting (scaled so the
/// very different magnitudes of MACs and units do not hide a singular system).
#[allow(clippy::needless_range_loop)] // matrix code reads best with indices
fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> Option<[f64; 3]> {
    // Scale columns to unit diagonal magnitude.
    let mut scale = [1.0f64; 3];
    for c in 0..3 {
        let d = libm::sqrt(libm::fabs(m[c][c]));
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        scale[c] = d;
    }
    for r in 0..3 {
        for c in 0..3 {
            m[r][c] /= scale[r] * scale[c];
        }
        v[r] /= scale[r];
    }
    for col in 0..3 {
        let pivot =
            (col..3).max_by(|&a, &b| libm::fabs(m[a][col]).total_cmp(&libm::fabs(m[b][col])))?;
        if libm::fabs(m[pivot][col]) < 1e-10 {
            return None;
        }
        m.swap(col, pivot);
        v.swap(col, pivot);
        for r in (col + 1)..3 {
            let f = m[r][col] / m[col][col];
            for c in col..3 {
                m[r][c] -= f * m[col][c];
            }
            v[r] -= f * v[col];
        }
    }
    let mut x = [0.0f64; 3];
    for r in (0..3).rev() {
        let mut s = v[r];
        for c in (r + 1)..3 {
            s -= m[r][c] * x[c];
        }
        x[r] = s / m[r][r];
    }
    for c in 0..3 {
        x[c] /= scale[c];
    }
    if x.iter().all(|c| c.is_finite()) {
        Some(x)
    } else {
        None
    }
}

impl CostModel for AffineMacs {
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64 {
        let (macs, units) = Self::features(&self.shape, space, arch);
        self.intercept_us + self.per_mac_us * macs + self.per_unit_us * units
    }

    fn unit(&self) -> &'static str {
        "us"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(macs, units, latency)` of every child of a 3-layer space under the affine model
    /// `5 + 4e-5 * macs + per_unit_us * units`, exactly.
    fn exact_points(per_unit_us: f64) -> (FfnShape, std::vec::Vec<(f64, f64, f64)>) {
        let shape = FfnShape {
            input: 28,
            output: 1,
            biases: true,
        };
        let space = SearchSpace::uniform(3, &[8, 16, 64, 256]).unwrap();
        let truth = AffineMacs {
            shape,
            intercept_us: 5.0,
            per_mac_us: 4e-5,
            per_unit_us,
        };
        let points = space
            .iter()
            .map(|a| {
                let (m, u) = AffineMacs::features(&shape, &space, &a);
                (m, u, truth.cost(&space, &a))
            })
            .collect();
        (shape, points)
    }

    /// Exact data from known coefficients is fitted back exactly (to 1e-9 relative).
    #[test]
    fn recovers_known_coefficients() {
        let (shape, points) = exact_points(2e-3);
        let fit = AffineMacs::fit(shape, &points).unwrap();
        for (got, want) in [
            (fit.intercept_us, 5.0),
            (fit.per_mac_us, 4e-5),
            (fit.per_unit_us, 2e-3),
        ] {
            assert!(((got - want) / want).abs() < 1e-9, "{got} vs {want}");
        }
        // A single point cannot determine three coefficients.
        assert!(AffineMacs::fit(shape, &points[..1]).is_none());
        assert!(AffineMacs::fit(shape, &[(1.0, 1.0, f64::NAN)]).is_none());
    }

    /// Data whose units cost is negative (a child with more units is faster at equal
    /// MACs): the free fit finds the negative slope, the non-negative fit drops it and
    /// keeps the MACs slope, and no slope it returns is negative.
    #[test]
    fn a_negative_slope_is_never_returned() {
        let (shape, points) = exact_points(-1e-3);
        let free = AffineMacs::fit(shape, &points).unwrap();
        assert!(free.per_unit_us < 0.0, "{free:?}");
        let kept = AffineMacs::fit_nonnegative(shape, &points).unwrap();
        assert_eq!(kept.per_unit_us, 0.0, "{kept:?}");
        assert!(kept.per_mac_us > 0.0, "{kept:?}");
        // Where the free fit has no negative slope, it is what is returned.
        let good: std::vec::Vec<_> = points
            .iter()
            .map(|&(m, u, _)| (m, u, 5.0 + 4e-5 * m + 2e-3 * u))
            .collect();
        assert_eq!(
            AffineMacs::fit_nonnegative(shape, &good),
            AffineMacs::fit(shape, &good)
        );
        // Latency falling with both features has no non-negative fit.
        let falling: std::vec::Vec<_> = points
            .iter()
            .map(|&(m, u, _)| (m, u, 50.0 - 1e-5 * m - 1e-3 * u))
            .collect();
        assert_eq!(AffineMacs::fit_nonnegative(shape, &falling), None);
    }
}
