//! The statistics measurements are judged by: quantiles, the normal and Student's t
//! quantile functions, distribution-free bounds on a quantile from order statistics,
//! and the prediction bound for one more measurement. Pure functions of their inputs.

/// The quantile `q` of sorted values (linear interpolation).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error
/// below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// One-sided confidence bounds at level `confidence` for the `q` quantile of the
/// distribution the sorted samples came from (order statistics; an infinite bound
/// when too few samples exist to make one).
pub fn quantile_bounds(sorted: &[f64], q: f64, confidence: f64) -> (f64, f64) {
    let n = sorted.len() as f64;
    let z = normal_quantile(confidence);
    let half = z * (n * q * (1.0 - q)).sqrt();
    let lo = (n * q - half).floor() - 1.0;
    let hi = (n * q + half).ceil();
    let lower = if lo >= 0.0 {
        sorted[lo as usize]
    } else {
        f64::NEG_INFINITY
    };
    let upper = if hi <= n - 1.0 {
        sorted[hi as usize]
    } else {
        f64::INFINITY
    };
    (lower, upper)
}

/// The one-sided prediction bound at `confidence` for one more value from the
/// distribution `values` came from, assuming it normal: `mean + t * s * sqrt(1 + 1/n)`
/// with Student's `t` on `n - 1` degrees of freedom. Infinite for fewer than 2 values.
pub fn prediction_bound(values: &[f64], confidence: f64) -> f64 {
    let n = values.len();
    if n < 2 {
        return f64::INFINITY;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = student_t_quantile(confidence, (n - 1) as f64);
    mean + t * var.sqrt() * (1.0 + 1.0 / n as f64).sqrt()
}

/// Quantile `p` of Student's t with `df` degrees of freedom (Hill's 1970 expansion in
/// the normal quantile; within 1% of the tables for `df >= 4` at levels up to 0.99, and
/// within 0.1% at 0.95).
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    let z = normal_quantile(p);
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df.powi(3))
}

/// The standard deviation of `ln(a / b)` over the pairs (two measurements of one
/// thing): how far apart two measurements typically are, relatively. `None` with fewer
/// than `min_pairs` pairs of positive values.
pub fn log_ratio_sd(pairs: &[(f64, f64)], min_pairs: usize) -> Option<f64> {
    let d: Vec<f64> = pairs
        .iter()
        .filter(|(a, b)| *a > 0.0 && *b > 0.0)
        .map(|(a, b)| (a / b).ln())
        .collect();
    if d.len() < min_pairs.max(2) {
        return None;
    }
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (d.len() - 1) as f64;
    Some(var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles() {
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.01) + 2.326348).abs() < 1e-5);
    }

    #[test]
    fn quantiles_interpolate() {
        let s = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&s, 0.5), 3.0);
        assert_eq!(quantile(&s, 0.95), 4.8);
    }

    /// The median bounds cover the true median at about the stated rate: over 2,000
    /// seeded samples of 30 uniform(0, 1) values, the 95% lower bound exceeds 0.5 in
    /// about 5% of them (binomial order statistics are conservative; we accept up to 7%).
    #[test]
    fn median_bounds_have_their_coverage() {
        let mut state = 0x1234_5678u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut low_miss, mut high_miss) = (0, 0);
        for _ in 0..2000 {
            let mut v: Vec<f64> = (0..30).map(|_| next()).collect();
            v.sort_by(f64::total_cmp);
            let (lo, hi) = quantile_bounds(&v, 0.5, 0.95);
            low_miss += (lo > 0.5) as u32;
            high_miss += (hi < 0.5) as u32;
        }
        assert!(low_miss < 140 && high_miss < 140, "{low_miss} {high_miss}");
    }

    /// Against the printed table of Student's t (one-sided): within 1% for 4+ degrees of
    /// freedom up to 0.99, and within 0.1% at 0.95 with 4 (what five confirmations use).
    #[test]
    fn t_quantiles_match_the_tables() {
        for (p, df, table) in [
            (0.95, 4.0, 2.132),
            (0.95, 10.0, 1.812),
            (0.99, 4.0, 3.747),
            (0.90, 4.0, 1.533),
            (0.975, 4.0, 2.776),
        ] {
            let t = student_t_quantile(p, df);
            assert!(
                (t / table - 1.0).abs() < 0.01,
                "t({p}, {df}) = {t}, table {table}"
            );
        }
        assert!((student_t_quantile(0.95, 4.0) / 2.132 - 1.0).abs() < 0.001);
    }

    /// A prediction bound covers one more draw at about its level: over 4,000 seeded
    /// trials of 5 + 1 normal draws, the sixth exceeds the 95% bound of the first five in
    /// 5% of them (we accept 3.5% to 6.5%, four standard errors).
    #[test]
    fn prediction_bounds_have_their_coverage() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut misses = 0;
        let trials = 4000;
        for _ in 0..trials {
            let draws: Vec<f64> = (0..6)
                .map(|_| 5.0 + 0.1 * normal_quantile(uniform()))
                .collect();
            misses += (draws[5] > prediction_bound(&draws[..5], 0.95)) as u32;
        }
        let rate = misses as f64 / trials as f64;
        assert!((0.035..=0.065).contains(&rate), "miss rate {rate}");
    }

    #[test]
    fn one_value_bounds_nothing() {
        assert_eq!(prediction_bound(&[5.0], 0.95), f64::INFINITY);
        assert!((prediction_bound(&[5.0, 5.0, 5.0], 0.95) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn log_ratio_spread() {
        assert_eq!(log_ratio_sd(&[(1.0, 1.0)], 2), None);
        let same = [(2.0, 2.0), (3.0, 3.0), (5.0, 5.0)];
        assert_eq!(log_ratio_sd(&same, 2), Some(0.0));
        // ln ratios of +-10%: 0.0953 and -0.1054, sd of the two 0.1415.
        let sd = log_ratio_sd(&[(1.1, 1.0), (1.0, 1.1 / 0.99)], 2).unwrap();
        assert!((sd - 0.1415).abs() < 1e-3, "{sd}");
    }
}
