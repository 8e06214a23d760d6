//! The constant predictor: the loss of a model that ignores its inputs and always
//! predicts what the training labels say on average (the class prior of a binary or
//! multiclass task, the mean of a regression). A trained network whose loss is not below
//! it has learnt nothing that generalises; every result is printed beside it.
//!
//! The loss is computed by the same [`mean_loss`] as the networks', from constant
//! outputs: the prior's logit (binary), the log priors (multiclass) or the mean
//! (regression). Priors are smoothed by half a row per class, `(count + 0.5) / (n +
//! 0.5 k)`, so that a class absent from the training rows gives a finite loss.

use tabnas_bundle::{mean_loss, LossError, LossKind};

use crate::prepare::Prepared;
use crate::supernet::{LabelSummary, Rows};

/// The constant predictor's outputs (one row) fitted on training labels summarised by
/// `train`.
pub fn constant_outputs(loss: LossKind, outputs: usize, train: &LabelSummary) -> Vec<f32> {
    let n = train.rows as f64;
    match loss {
        LossKind::BinaryCrossEntropy => {
            let ones = train.count(1) as f64;
            let p = (ones + 0.5) / (n + 1.0);
            vec![(p / (1.0 - p)).ln() as f32]
        }
        LossKind::SoftmaxCrossEntropy => (0..outputs)
            .map(|k| ((train.count(k) as f64 + 0.5) / (n + 0.5 * outputs as f64)).ln() as f32)
            .collect(),
        LossKind::MeanSquaredError => vec![(train.sum / n.max(1.0)) as f32],
    }
}

/// The constant predictor's mean loss on `rows`, fitted on `train`.
pub fn constant_loss(
    loss: LossKind,
    outputs: usize,
    train: &LabelSummary,
    rows: &Rows,
) -> Result<f64, LossError> {
    let one = constant_outputs(loss, outputs, train);
    let all: Vec<f32> = (0..rows.labels.len())
        .flat_map(|_| one.iter().copied())
        .collect();
    mean_loss(loss, &all, &rows.labels, outputs, None)
}

/// The constant predictor's losses on the validation and test splits of `data`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ConstantLoss {
    /// On the validation split.
    pub validation: f64,
    /// On the test split.
    pub test: f64,
}

impl ConstantLoss {
    /// Fitted on the training split of `data`.
    pub fn of(data: &Prepared) -> Result<Self, LossError> {
        let (loss, outputs) = data.loss_and_outputs();
        let train = data.train.labels();
        Ok(Self {
            validation: constant_loss(loss, outputs, &train, &data.valid)?,
            test: constant_loss(loss, outputs, &train, &data.test)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(labels: &[f32]) -> Rows {
        Rows {
            rows: labels.len(),
            numeric_width: 0,
            categorical_width: 0,
            numeric: vec![],
            categorical: vec![],
            labels: labels.to_vec(),
        }
    }

    fn summary(rows: &Rows) -> LabelSummary {
        LabelSummary::of(&rows.labels)
    }

    #[test]
    fn the_prior_gives_the_entropy_of_the_labels() {
        // 1 in 4 positive: log-loss of the prior is the binary entropy H(0.25).
        let train = rows(&[1.0, 0.0, 0.0, 0.0].repeat(250));
        let l = constant_loss(LossKind::BinaryCrossEntropy, 1, &summary(&train), &train).unwrap();
        let h = -(0.25f64 * 0.25f64.ln() + 0.75 * 0.75f64.ln());
        assert!((l - h).abs() < 1e-3, "{l} vs {h}");
        // Regression: the variance of the labels.
        let train = rows(&[1.0, 3.0]);
        let l = constant_loss(LossKind::MeanSquaredError, 1, &summary(&train), &train).unwrap();
        assert!((l - 1.0).abs() < 1e-9, "{l}");
        // Multiclass: finite even for a class absent from training.
        let train = rows(&[0.0, 1.0, 1.0]);
        let l = constant_loss(
            LossKind::SoftmaxCrossEntropy,
            3,
            &summary(&train),
            &rows(&[2.0]),
        )
        .unwrap();
        assert!(l.is_finite() && l > 1.0, "{l}");
    }
}
