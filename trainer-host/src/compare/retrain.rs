//! Every answer and the baseline's pick trained again with initialisation seeds no
//! choice saw, so that the mean test loss judges the architecture apart from the luck of
//! one initialisation.

use super::comparison::{Comparison, Retrained};
use super::error::CompareError;
use super::CompareOptions;
use crate::prepare::Prepared;
use crate::reference::{train_reference, ReferenceOptions};

/// Trains every answer of `c` and the baseline's pick again with `options.retrain_seeds`
/// initialisation seeds after the stand-alone one, once per distinct architecture.
pub(super) fn retrain(
    c: &Comparison,
    data: &Prepared,
    options: &CompareOptions,
    note: &mut dyn FnMut(&str),
) -> Result<Vec<Retrained>, CompareError> {
    if options.retrain_seeds == 0 {
        return Ok(Vec::new());
    }
    let mut archs: Vec<&[u32]> = Vec::new();
    let picks = c.found.iter().map(|f| &f.standalone);
    let baseline = c.best_feasible_sample().map(|(b, _)| &b.standalone);
    for r in picks.chain(baseline) {
        if !archs.contains(&r.widths.as_slice()) {
            archs.push(&r.widths);
        }
    }
    let seeds: Vec<u64> = (1..=u64::from(options.retrain_seeds))
        .map(|k| options.reference.seed.wrapping_add(k))
        .collect();
    let mut out = Vec::new();
    for widths in archs {
        let mut losses = Vec::new();
        for &seed in &seeds {
            let reference = ReferenceOptions {
                seed,
                ..options.reference
            };
            let r = train_reference(data, widths, reference).map_err(CompareError::Reference)?;
            losses.push(r.test_loss);
        }
        let r = Retrained::of(widths.to_vec(), seeds.clone(), losses);
        note(&format!(
            "retrained {widths:?} with {} more seeds: test loss {:.4} +- {:.4}",
            seeds.len(),
            r.mean,
            r.sd
        ));
        out.push(r);
    }
    Ok(out)
}
