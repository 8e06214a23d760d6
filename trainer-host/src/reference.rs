//! Stand-alone training of given architectures from scratch (the Pareto reference the
//! paper compares TabNAS against): each network is trained alone on the training rows
//! and judged on the test rows.

use anyhow::Result;
use serde::Serialize;
use tabnas_agent::rng::search_rng;

use crate::prepare::Prepared;
use crate::supernet::Supernet;

/// How to train each reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceOptions {
    /// Adam steps.
    pub steps: u32,
    /// Batch size.
    pub batch: usize,
    /// Learning rate.
    pub learning_rate: f32,
    /// Seed of initialisation and batches.
    pub seed: u64,
    /// Validation loss is measured every this many steps; the weights with the lowest
    /// one are kept (early stopping, so that large networks are not judged overfitted).
    pub eval_every: u32,
}

/// One trained reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceResult {
    /// Hidden widths.
    pub widths: Vec<u32>,
    /// Dense parameters (hidden layers and head, with biases).
    pub params: u64,
    /// Loss on the validation split after training.
    pub validation_loss: f64,
    /// Loss on the test split after training.
    pub test_loss: f64,
    /// Step whose weights were kept (lowest validation loss).
    pub best_step: u32,
    /// Training wall time, seconds.
    pub wall_s: f64,
}

/// Trains `widths` alone on `data`.
pub fn train_reference(
    data: &Prepared,
    widths: &[u32],
    options: ReferenceOptions,
) -> Result<ReferenceResult> {
    let spec = data.supernet_spec(widths.iter().map(|&w| vec![w]).collect());
    let full: Vec<usize> = widths.iter().map(|&w| w as usize).collect();
    let mut rng = search_rng(options.seed);
    let mut net = Supernet::new(spec, options.learning_rate, &mut rng);
    let started = std::time::Instant::now();
    let every = options.eval_every.max(1);
    let mut best = (net.loss(&data.valid, &full, 1024)?, 0u32, net.clone());
    for step in 1..=options.steps {
        let batch = data.train.sample(options.batch, &mut rng);
        net.train_step(&batch, &full)?;
        if step % every == 0 || step == options.steps {
            let l = net.loss(&data.valid, &full, 1024)?;
            if l < best.0 {
                best = (l, step, net.clone());
            }
        }
    }
    let (validation_loss, best_step, net) = best;
    Ok(ReferenceResult {
        widths: widths.to_vec(),
        params: net.dense_params(&full),
        validation_loss,
        best_step,
        test_loss: net.loss(&data.test, &full, 1024)?,
        wall_s: started.elapsed().as_secs_f64(),
    })
}
