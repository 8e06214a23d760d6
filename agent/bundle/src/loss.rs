//! The task losses, shared by the trainer (value and gradient) and the agent (value):
//! one implementation, so the host's and the board's validation losses agree.
//!
//! Binary: `max(z, 0) - z y + ln(1 + e^-|z|)` (stable BCE with logits). Multiclass:
//! `logsumexp(z) - z_y`. Regression: `(z - y)^2`. All are means over rows, summed in f64.

use std::fmt;

use crate::LossKind;

/// A loss could not be computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LossError {
    /// The network produced a non-finite output at this row.
    NonFiniteOutput {
        /// Row index.
        row: usize,
    },
    /// Outputs and labels disagree in length.
    Shape {
        /// Output values.
        outputs: usize,
        /// Labels.
        labels: usize,
        /// Outputs per row.
        width: usize,
    },
}

impl fmt::Display for LossError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFiniteOutput { row } => {
                write!(f, "the network output of row {row} is not finite")
            }
            Self::Shape {
                outputs,
                labels,
                width,
            } => write!(
                f,
                "{outputs} outputs of width {width} do not match {labels} labels"
            ),
        }
    }
}

impl std::error::Error for LossError {}

/// Mean loss of `outputs` (`rows x width`, row-major) against `labels`; if `grad` is
/// given it receives d(mean loss)/d(outputs).
pub fn mean_loss(
    kind: LossKind,
    outputs: &[f32],
    labels: &[f32],
    width: usize,
    mut grad: Option<&mut [f32]>,
) -> Result<f64, LossError> {
    let rows = labels.len();
    if width == 0
        || outputs.len() != rows * width
        || grad.as_ref().is_some_and(|g| g.len() != outputs.len())
    {
        return Err(LossError::Shape {
            outputs: outputs.len(),
            labels: rows,
            width,
        });
    }
    let inv = 1.0 / rows.max(1) as f64;
    let mut total = 0.0f64;
    for (row, (z, &y)) in outputs.chunks_exact(width).zip(labels).enumerate() {
        if z.iter().any(|v| !v.is_finite()) {
            return Err(LossError::NonFiniteOutput { row });
        }
        let y = y as f64;
        let g = grad
            .as_deref_mut()
            .map(|g| &mut g[row * width..(row + 1) * width]);
        match kind {
            LossKind::BinaryCrossEntropy => {
                let z0 = z[0] as f64;
                total += z0.max(0.0) - z0 * y + (-z0.abs()).exp().ln_1p();
                if let Some(g) = g {
                    let s = 1.0 / (1.0 + (-z0).exp());
                    g[0] = ((s - y) * inv) as f32;
                }
            }
            LossKind::SoftmaxCrossEntropy => {
                let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
                let sum: f64 = z.iter().map(|&v| (v as f64 - m).exp()).sum();
                let lse = m + sum.ln();
                let class = y as usize;
                total += lse - z[class.min(width - 1)] as f64;
                if let Some(g) = g {
                    for (k, (gk, &v)) in g.iter_mut().zip(z).enumerate() {
                        let p = (v as f64 - lse).exp();
                        *gk = ((p - (k == class) as u8 as f64) * inv) as f32;
                    }
                }
            }
            LossKind::MeanSquaredError => {
                let d = z[0] as f64 - y;
                total += d * d;
                if let Some(g) = g {
                    g[0] = (2.0 * d * inv) as f32;
                }
            }
        }
    }
    Ok(total * inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_closed_forms() {
        let bce = mean_loss(
            LossKind::BinaryCrossEntropy,
            &[0.0, 2.0],
            &[1.0, 0.0],
            1,
            None,
        )
        .unwrap();
        let expected = (2f64.ln() + (1.0 + 2f64.exp()).ln()) / 2.0;
        assert!((bce - expected).abs() < 1e-12);
        let ce = mean_loss(
            LossKind::SoftmaxCrossEntropy,
            &[0.0, 0.0, 0.0],
            &[2.0],
            3,
            None,
        )
        .unwrap();
        assert!((ce - 3f64.ln()).abs() < 1e-12);
        let mse = mean_loss(
            LossKind::MeanSquaredError,
            &[1.0, 3.0],
            &[0.0, 1.0],
            1,
            None,
        )
        .unwrap();
        assert!((mse - 2.5).abs() < 1e-12);
        // Large logits stay finite.
        let big = mean_loss(LossKind::BinaryCrossEntropy, &[80.0], &[0.0], 1, None).unwrap();
        assert!((big - 80.0).abs() < 1e-9);
    }

    #[test]
    fn gradients_match_finite_differences() {
        for (kind, width, labels) in [
            (LossKind::BinaryCrossEntropy, 1, vec![1.0f32, 0.0]),
            (LossKind::SoftmaxCrossEntropy, 3, vec![2.0, 0.0]),
            (LossKind::MeanSquaredError, 1, vec![0.5, -1.0]),
        ] {
            let z: Vec<f32> = (0..labels.len() * width)
                .map(|i| 0.3 * i as f32 - 0.4)
                .collect();
            let mut g = vec![0.0; z.len()];
            mean_loss(kind, &z, &labels, width, Some(&mut g)).unwrap();
            for i in 0..z.len() {
                let (mut a, mut b) = (z.clone(), z.clone());
                a[i] += 1e-3;
                b[i] -= 1e-3;
                let fd = (mean_loss(kind, &a, &labels, width, None).unwrap()
                    - mean_loss(kind, &b, &labels, width, None).unwrap())
                    / 2e-3;
                assert!(
                    (fd - g[i] as f64).abs() < 1e-3,
                    "{kind:?} {i}: {fd} vs {}",
                    g[i]
                );
            }
        }
    }

    #[test]
    fn bad_outputs_are_named() {
        assert_eq!(
            mean_loss(LossKind::MeanSquaredError, &[f32::NAN], &[0.0], 1, None),
            Err(LossError::NonFiniteOutput { row: 0 })
        );
        assert!(matches!(
            mean_loss(LossKind::MeanSquaredError, &[0.0, 1.0], &[0.0], 1, None),
            Err(LossError::Shape { .. })
        ));
    }
}
