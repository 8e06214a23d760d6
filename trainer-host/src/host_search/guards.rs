//! What keeps a host search honest: its training guards (weight decay, validation
//! checks, early stopping, rejection resampling) and the warnings that its result carries
//! when the answer should not be trusted as it is.

use serde::Serialize;

/// The answer's final probability below which a search is reported as not converged.
pub const CONVERGED_PROBABILITY: f64 = 0.5;

/// Share of rejected controller samples above which a search warns that the target
/// leaves little of the space.
pub const REJECTED_SHARE_WARNING: f64 = 0.5;

/// Relative rise of the last validation measurement above the lowest that counts as
/// "validation loss has been rising".
pub const RISING: f64 = 0.01;

/// Training guards of a host search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Guards {
    /// Decoupled weight decay of the shared weights (AdamW; 0 = plain Adam).
    pub weight_decay: f32,
    /// Measure the current answer's validation loss every this many steps after the
    /// warm-up (and at the last step); 0 = never.
    pub eval_every: u32,
    /// Stop after this many measurements without a new lowest (0 = never).
    pub patience: u32,
    /// Rejected samples replaced per step before the step counts as rejected.
    pub max_resamples: u32,
}

impl Default for Guards {
    /// Plain Adam, a measurement every 100 steps, no early stop, no resampling (the
    /// paper's loop: a rejected sample is a step).
    fn default() -> Self {
        Self {
            weight_decay: 0.0,
            eval_every: 100,
            patience: 0,
            max_resamples: 0,
        }
    }
}

/// One validation measurement of the answer so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationPoint {
    /// Step (1-based, warm-up included).
    pub step: u32,
    /// The answer at that step (most probable feasible architecture).
    pub arch: Vec<u32>,
    /// Its shared-weight loss on the whole validation split.
    pub loss: f64,
}

/// What the warnings are judged from.
pub(super) struct Facts<'a> {
    pub feasible: bool,
    pub probability: f64,
    pub rejected_share: f64,
    pub validation_loss: f64,
    pub constant_validation: f64,
    pub curve: &'a [ValidationPoint],
    pub stopped_at: Option<u32>,
}

/// The warnings of a result, each one line.
pub(super) fn warnings(f: &Facts<'_>) -> Vec<String> {
    let mut w = Vec::new();
    if f.validation_loss >= f.constant_validation {
        w.push(format!(
            "the answer's validation loss {:.4} is no better than the constant predictor's \
             {:.4}: it has learnt nothing that generalises (too few rows, or overfitting: \
             try --weight-decay, --patience, fewer --steps or a larger --lr)",
            f.validation_loss, f.constant_validation
        ));
    }
    if let (Some(last), Some(low)) = (
        f.curve.last(),
        f.curve.iter().min_by(|a, b| a.loss.total_cmp(&b.loss)),
    ) {
        if last.step > low.step && last.loss > low.loss * (1.0 + RISING) {
            w.push(format!(
                "validation loss has been rising: {:.4} at step {} against {:.4} at step {} \
                 (overfitting; the bundle keeps the better weights of the two for the answer)",
                last.loss, last.step, low.loss, low.step
            ));
        }
    }
    if f.feasible && f.probability < CONVERGED_PROBABILITY {
        w.push(format!(
            "the search has not converged: the final policy gives the answer probability \
             {:.3} (below {CONVERGED_PROBABILITY}); raise --steps or --rl-lr",
            f.probability
        ));
    }
    if f.rejected_share > REJECTED_SHARE_WARNING {
        w.push(format!(
            "{:.0}% of the controller's samples broke the target and were rejected; the \
             target leaves little of the space (raise --max-resamples or the target)",
            100.0 * f.rejected_share
        ));
    }
    if let Some(step) = f.stopped_at {
        w.push(format!(
            "early stopping ended the search at step {step}: validation loss stopped \
             improving"
        ));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(curve: &[ValidationPoint]) -> Facts<'_> {
        Facts {
            feasible: true,
            probability: 0.9,
            rejected_share: 0.1,
            validation_loss: 0.4,
            constant_validation: 0.69,
            curve,
            stopped_at: None,
        }
    }

    fn point(step: u32, loss: f64) -> ValidationPoint {
        ValidationPoint {
            step,
            arch: vec![8],
            loss,
        }
    }

    #[test]
    fn each_warning_fires_on_its_case_only() {
        let falling = [point(100, 0.5), point(200, 0.45)];
        assert!(warnings(&facts(&falling)).is_empty());
        let rising = [point(100, 0.5), point(200, 0.45), point(300, 0.46)];
        let w = warnings(&facts(&rising));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("validation loss has been rising: 0.4600 at step 300"));
        // Within 1% of the lowest is noise, not a rise.
        let flat = [point(100, 0.45), point(200, 0.4540)];
        assert!(warnings(&facts(&flat)).is_empty());
        let mut f = facts(&falling);
        f.validation_loss = 0.7;
        assert!(warnings(&f)[0].contains("no better than the constant predictor's 0.6900"));
        let mut f = facts(&falling);
        f.probability = 0.07;
        assert!(warnings(&f)[0].contains("has not converged"));
        let mut f = facts(&falling);
        f.rejected_share = 0.95;
        assert!(warnings(&f)[0].starts_with("95% of the controller's samples"));
    }
}
