//! Running a supernet or child with tract-onnx at a fixed batch size.
//!
//! [`TractNet::new`] optimizes the graph for concrete input shapes once; [`TractNet::run`]
//! then checks the input lengths and runs one batch. [`TractNet::predict`] runs any
//! number of rows (padding the last batch) and [`TractNet::loss`] gives the mean task
//! loss on a [`ValidSet`].

use std::fmt;
use std::sync::Arc;

use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;

use crate::{mean_loss, LossError, Manifest, ValidSet};

/// tract failed, or inputs or outputs had the wrong size.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InferenceError {
    /// tract refused the model or failed while preparing or running it.
    Tract {
        /// What was being done (`load the model`, `optimize the model`, `run`, ...).
        stage: &'static str,
        /// tract's message, with its causes.
        detail: String,
    },
    /// The inputs have another number of values than the rows and the network's columns
    /// need.
    InputSize {
        /// Rows asked for (the batch for [`TractNet::run`]).
        rows: usize,
        /// Numeric values needed.
        expected_numeric: usize,
        /// Categorical values needed.
        expected_categorical: usize,
        /// Numeric values given.
        found_numeric: usize,
        /// Categorical values given.
        found_categorical: usize,
    },
    /// The network's output has another number of values than `batch x outputs`.
    OutputSize {
        /// Values expected.
        expected: usize,
        /// Values produced.
        found: usize,
    },
    /// The task loss of the outputs could not be computed.
    Loss(LossError),
}

impl fmt::Display for InferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tract { stage, detail } => write!(f, "tract could not {stage}: {detail}"),
            Self::InputSize {
                rows,
                expected_numeric,
                expected_categorical,
                found_numeric,
                found_categorical,
            } => write!(
                f,
                "{rows} rows need {expected_numeric} numeric and {expected_categorical} \
                 categorical values, got {found_numeric} and {found_categorical}"
            ),
            Self::OutputSize { expected, found } => {
                write!(f, "output has {found} values, expected {expected}")
            }
            Self::Loss(e) => write!(f, "{e}"),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for InferenceError {}

impl From<LossError> for InferenceError {
    fn from(e: LossError) -> Self {
        Self::Loss(e)
    }
}

fn err(stage: &'static str) -> impl Fn(TractError) -> InferenceError {
    move |e| InferenceError::Tract {
        stage,
        detail: format!("{e:#}"),
    }
}

/// Inputs and output of a network: `numeric` f32 columns, `categorical` i64 columns
/// (second input, absent when 0), `outputs` f32 columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetShape {
    /// Columns of the first (f32) input.
    pub numeric: usize,
    /// Columns of the second (i64) input, 0 if there is none.
    pub categorical: usize,
    /// Columns of the output.
    pub outputs: usize,
}

impl NetShape {
    /// The shape of a bundle's supernet and children.
    pub fn of(manifest: &Manifest) -> Self {
        Self {
            numeric: manifest.inputs.numeric.len(),
            categorical: manifest.inputs.categorical.len(),
            outputs: manifest.task.outputs as usize,
        }
    }
}

/// An optimized, runnable network for a fixed batch size.
#[derive(Debug, Clone)]
pub struct TractNet {
    plan: Arc<TypedRunnableModel>,
    batch: usize,
    numeric: usize,
    categorical: usize,
    outputs: usize,
}

impl TractNet {
    /// Optimizes `model` (built under `manifest`) for `batch` rows.
    pub fn new(
        model: &ModelProto,
        manifest: &Manifest,
        batch: usize,
    ) -> Result<Self, InferenceError> {
        Self::with_shape(model, NetShape::of(manifest), batch)
    }

    /// Optimizes any model with the given input and output shape for `batch` rows.
    pub fn with_shape(
        model: &ModelProto,
        shape: NetShape,
        batch: usize,
    ) -> Result<Self, InferenceError> {
        let batch = batch.max(1);
        let NetShape {
            numeric,
            categorical,
            outputs,
        } = shape;
        let mut m = tract_onnx::onnx()
            .model_for_proto_model(model)
            .map_err(err("load the model"))?
            .with_input_fact(0, f32::fact([batch, numeric]).into())
            .map_err(err("shape the numeric input"))?;
        if categorical > 0 {
            m = m
                .with_input_fact(1, i64::fact([batch, categorical]).into())
                .map_err(err("shape the categorical input"))?;
        }
        let plan = m
            .into_optimized()
            .map_err(err("optimize the model"))?
            .into_runnable()
            .map_err(err("plan the model"))?;
        Ok(Self {
            plan,
            batch,
            numeric,
            categorical,
            outputs,
        })
    }

    /// The batch size it was optimized for.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Runs exactly one batch; returns `batch x outputs` values.
    pub fn run(&self, numeric: &[f32], categorical: &[i64]) -> Result<Vec<f32>, InferenceError> {
        let mut state = self.plan.spawn().map_err(err("start a run"))?;
        let mut out = vec![0.0; self.batch * self.outputs];
        self.run_into(&mut state, numeric, categorical, &mut out)?;
        Ok(out)
    }

    /// Runs one batch on `state`, writing its `batch x outputs` values to `out`.
    fn run_into(
        &self,
        state: &mut TypedSimpleState,
        numeric: &[f32],
        categorical: &[i64],
        out: &mut [f32],
    ) -> Result<(), InferenceError> {
        if numeric.len() != self.batch * self.numeric
            || categorical.len() != self.batch * self.categorical
        {
            return Err(InferenceError::InputSize {
                rows: self.batch,
                expected_numeric: self.batch * self.numeric,
                expected_categorical: self.batch * self.categorical,
                found_numeric: numeric.len(),
                found_categorical: categorical.len(),
            });
        }
        let mut inputs: TVec<TValue> =
            tvec!(Tensor::from_shape(&[self.batch, self.numeric], numeric)
                .map_err(err("shape the numeric input"))?
                .into());
        if self.categorical > 0 {
            inputs.push(
                Tensor::from_shape(&[self.batch, self.categorical], categorical)
                    .map_err(err("shape the categorical input"))?
                    .into(),
            );
        }
        let result = state.run(inputs).map_err(err("run the model"))?;
        let first = result.first().ok_or(InferenceError::OutputSize {
            expected: self.batch * self.outputs,
            found: 0,
        })?;
        let view = first.try_as_plain_ram().map_err(err("read the output"))?;
        let values = view.as_slice::<f32>().map_err(err("read the output"))?;
        if values.len() != out.len() {
            return Err(InferenceError::OutputSize {
                expected: out.len(),
                found: values.len(),
            });
        }
        out.copy_from_slice(values);
        Ok(())
    }

    /// Outputs for all rows of the given inputs (`rows x outputs`); inputs of another
    /// length than `rows` rows are an [`InferenceError::InputSize`].
    pub fn predict(
        &self,
        numeric: &[f32],
        categorical: &[i64],
        rows: usize,
    ) -> Result<Vec<f32>, InferenceError> {
        self.predict_on(numeric, categorical, rows, 1)
    }

    /// [`TractNet::predict`] on `threads` threads: each runs a contiguous range of the
    /// batches with its own run state and buffers. Every batch is computed alone, so the
    /// outputs are the same, bit for bit, whatever `threads` is.
    pub fn predict_on(
        &self,
        numeric: &[f32],
        categorical: &[i64],
        rows: usize,
        threads: usize,
    ) -> Result<Vec<f32>, InferenceError> {
        if numeric.len() != rows * self.numeric || categorical.len() != rows * self.categorical {
            return Err(InferenceError::InputSize {
                rows,
                expected_numeric: rows * self.numeric,
                expected_categorical: rows * self.categorical,
                found_numeric: numeric.len(),
                found_categorical: categorical.len(),
            });
        }
        let mut out = vec![0.0f32; rows * self.outputs];
        let batches = rows.div_ceil(self.batch);
        let parts = threads.clamp(1, batches.max(1));
        // Part `p` runs batches `first(p)..first(p + 1)`.
        let first = |p: usize| batches * p / parts;
        let mut slices = Vec::with_capacity(parts);
        let mut rest = out.as_mut_slice();
        for p in 0..parts {
            let part_rows = (first(p + 1) * self.batch).min(rows) - first(p) * self.batch;
            let (head, tail) = rest.split_at_mut(part_rows * self.outputs);
            slices.push((first(p) * self.batch, head));
            rest = tail;
        }
        let run_part =
            |(start, out): (usize, &mut [f32])| self.predict_rows(numeric, categorical, start, out);
        let mut slices = slices.into_iter();
        let mine = slices.next();
        std::thread::scope(|scope| {
            // A thread that cannot be started is an error, not a panic; the threads
            // started are joined first.
            let mut started = Ok(());
            let mut others = Vec::new();
            for part in slices {
                match std::thread::Builder::new().spawn_scoped(scope, move || run_part(part)) {
                    Ok(handle) => others.push(handle),
                    Err(e) => {
                        started = Err(InferenceError::Tract {
                            stage: "start a thread",
                            detail: e.to_string(),
                        });
                        break;
                    }
                }
            }
            let mut result = started.and_then(|()| mine.map_or(Ok(()), run_part));
            for handle in others {
                let r = handle.join().unwrap_or_else(|_| {
                    Err(InferenceError::Tract {
                        stage: "run the model",
                        detail: "a worker thread panicked".into(),
                    })
                });
                result = result.and(r);
            }
            result
        })?;
        Ok(out)
    }

    /// Runs the rows from `start` on, as many as `out` holds outputs for, one batch at a
    /// time (the last padded with zeros) on one run state.
    fn predict_rows(
        &self,
        numeric: &[f32],
        categorical: &[i64],
        start: usize,
        out: &mut [f32],
    ) -> Result<(), InferenceError> {
        let mut state = self.plan.spawn().map_err(err("start a run"))?;
        let mut num = vec![0.0f32; self.batch * self.numeric];
        let mut cat = vec![0i64; self.batch * self.categorical];
        let mut y = vec![0.0f32; self.batch * self.outputs];
        for (b, out) in out
            .chunks_mut((self.batch * self.outputs).max(1))
            .enumerate()
        {
            let row = start + b * self.batch;
            let n = out.len() / self.outputs.max(1);
            num.fill(0.0);
            cat.fill(0);
            num[..n * self.numeric]
                .copy_from_slice(&numeric[row * self.numeric..(row + n) * self.numeric]);
            cat[..n * self.categorical].copy_from_slice(
                &categorical[row * self.categorical..(row + n) * self.categorical],
            );
            self.run_into(&mut state, &num, &cat, &mut y)?;
            out.copy_from_slice(&y[..out.len()]);
        }
        Ok(())
    }

    /// Mean task loss on `valid`.
    pub fn loss(&self, valid: &ValidSet, manifest: &Manifest) -> Result<f64, InferenceError> {
        self.loss_on(valid, manifest, 1)
    }

    /// [`TractNet::loss`] with the rows run on `threads` threads (the same value, bit for
    /// bit, whatever `threads` is).
    pub fn loss_on(
        &self,
        valid: &ValidSet,
        manifest: &Manifest,
        threads: usize,
    ) -> Result<f64, InferenceError> {
        let y = self.predict_on(&valid.numeric, &valid.categorical, valid.rows, threads)?;
        Ok(mean_loss(
            manifest.task.loss,
            &y,
            &valid.labels,
            self.outputs,
            None,
        )?)
    }
}
