//! Stand-alone training of given architectures from scratch (the Pareto reference the
//! paper compares TabNAS against): each network is trained alone on the training rows,
//! early-stopped on the validation rows (the weights of the lowest validation loss are
//! kept; training stops after `patience` measurements without a new lowest) and judged on
//! the test rows. Nothing here looks at the test rows before the weights are chosen.

use std::fmt;

use serde::Serialize;
use tabnas_bundle::LossError;
use tabnas_core::rng::search_rng;

use crate::host_search::MAX_STEPS;
use crate::prepare::Prepared;
use crate::supernet::{RowFileError, SizeError, Supernet};

/// How to train each reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceOptions {
    /// Adam steps.
    pub steps: u32,
    /// Batch size.
    pub batch: usize,
    /// Learning rate.
    pub learning_rate: f32,
    /// Decoupled weight decay (AdamW; 0 = plain Adam).
    pub weight_decay: f32,
    /// Seed of initialisation and batches (the split's seed is the data's).
    pub seed: u64,
    /// Validation loss is measured every this many steps; the weights with the lowest
    /// one are kept (early stopping, so that large networks are not judged overfitted).
    pub eval_every: u32,
    /// Training stops after this many measurements in a row without a new lowest
    /// validation loss (0: never before `steps`).
    pub patience: u32,
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
    /// Steps trained (fewer than asked when early stopping ended training).
    pub trained_steps: u32,
    /// Whether validation loss was still falling when the steps ran out: the lowest was
    /// at the last measurement, without early stopping (more steps might help).
    pub still_improving: bool,
    /// Training wall time, seconds.
    pub wall_s: f64,
}

/// Why a reference could not be trained.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReferenceError {
    /// No hidden layer, or a width of 0.
    Widths {
        /// The widths given.
        widths: Vec<u32>,
    },
    /// A batch size of 0.
    ZeroBatch,
    /// More steps than [`MAX_STEPS`].
    TooManySteps {
        /// The steps given.
        steps: u32,
    },
    /// The network or a batch would be too large to allocate.
    Size {
        /// The widths asked for.
        widths: Vec<u32>,
        /// Why.
        source: SizeError,
    },
    /// A training batch could not be read from the row file.
    Rows {
        /// The widths trained.
        widths: Vec<u32>,
        /// Why.
        source: RowFileError,
    },
    /// The loss could not be computed (the network diverged).
    Loss {
        /// The widths trained.
        widths: Vec<u32>,
        /// The step (0 = before training).
        step: u32,
        /// Which rows: `training`, `validation` or `test`.
        split: &'static str,
        /// Why.
        source: LossError,
    },
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Widths { widths } => write!(
                f,
                "reference widths {widths:?} need at least one layer, each at least 1 wide"
            ),
            Self::ZeroBatch => f.write_str("the batch size must be at least 1"),
            Self::TooManySteps { steps } => write!(
                f,
                "a reference may train at most {MAX_STEPS} steps, got {steps}"
            ),
            Self::Size { widths, .. } => write!(f, "reference {widths:?} does not fit in memory"),
            Self::Rows { widths, .. } => {
                write!(f, "reference {widths:?}: cannot read a training batch")
            }
            Self::Loss {
                widths,
                step,
                split,
                ..
            } => write!(f, "reference {widths:?}: {split} loss at step {step}"),
        }
    }
}

impl std::error::Error for ReferenceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Loss { source, .. } => Some(source),
            Self::Size { source, .. } => Some(source),
            Self::Rows { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Trains `widths` alone on `data`.
pub fn train_reference(
    data: &Prepared,
    widths: &[u32],
    options: ReferenceOptions,
) -> Result<ReferenceResult, ReferenceError> {
    if widths.is_empty() || widths.contains(&0) {
        return Err(ReferenceError::Widths {
            widths: widths.to_vec(),
        });
    }
    if options.batch == 0 {
        return Err(ReferenceError::ZeroBatch);
    }
    let loss_error = |step: u32, split: &'static str| {
        move |source: LossError| ReferenceError::Loss {
            widths: widths.to_vec(),
            step,
            split,
            source,
        }
    };
    if options.steps > MAX_STEPS {
        return Err(ReferenceError::TooManySteps {
            steps: options.steps,
        });
    }
    let spec = data.supernet_spec(widths.iter().map(|&w| vec![w]).collect());
    let size = |source| ReferenceError::Size {
        widths: widths.to_vec(),
        source,
    };
    spec.check_size().map_err(size)?;
    spec.check_batch(options.batch).map_err(size)?;
    let chunk = spec.rows_per_chunk(1024);
    let full: Vec<usize> = widths.iter().map(|&w| w as usize).collect();
    let mut rng = search_rng(options.seed);
    let mut net = Supernet::new(spec, options.learning_rate, &mut rng);
    net.set_weight_decay(options.weight_decay);
    let started = std::time::Instant::now();
    let every = options.eval_every.max(1);
    let valid_loss = |net: &Supernet, step: u32| {
        net.loss(&data.valid, &full, chunk)
            .map_err(loss_error(step, "validation"))
    };
    let mut best = (valid_loss(&net, 0)?, 0u32, net.clone());
    let mut since_best = 0u32;
    let mut trained_steps = 0;
    let mut stopped = false;
    for step in 1..=options.steps {
        let batch = data
            .train
            .sample(options.batch, &mut rng)
            .map_err(|source| ReferenceError::Rows {
                widths: widths.to_vec(),
                source,
            })?;
        net.train_step(&batch, &full)
            .map_err(loss_error(step, "training"))?;
        trained_steps = step;
        if step.is_multiple_of(every) || step == options.steps {
            let l = valid_loss(&net, step)?;
            if l < best.0 {
                best = (l, step, net.clone());
                since_best = 0;
            } else {
                since_best += 1;
                if options.patience > 0 && since_best >= options.patience {
                    stopped = true;
                    break;
                }
            }
        }
    }
    let (validation_loss, best_step, net) = best;
    let still_improving = !stopped && best_step == trained_steps;
    Ok(ReferenceResult {
        widths: widths.to_vec(),
        params: net.dense_params(&full),
        validation_loss,
        best_step,
        trained_steps,
        still_improving,
        test_loss: net
            .loss(&data.test, &full, chunk)
            .map_err(loss_error(best_step, "test"))?,
        wall_s: started.elapsed().as_secs_f64(),
    })
}
