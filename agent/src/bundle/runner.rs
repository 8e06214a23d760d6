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

use super::{mean_loss, Manifest, ValidSet};

/// tract failed, or inputs had the wrong size.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceError(pub String);

impl fmt::Display for InferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InferenceError {}

fn err(context: &str) -> impl Fn(TractError) -> InferenceError + '_ {
    move |e| InferenceError(format!("{context}: {e:#}"))
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
            .map_err(err("tract could not load the model"))?
            .with_input_fact(0, f32::fact([batch, numeric]).into())
            .map_err(err("numeric input"))?;
        if categorical > 0 {
            m = m
                .with_input_fact(1, i64::fact([batch, categorical]).into())
                .map_err(err("categorical input"))?;
        }
        let plan = m
            .into_optimized()
            .map_err(err("tract could not optimize the model"))?
            .into_runnable()
            .map_err(err("tract could not plan the model"))?;
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
        if numeric.len() != self.batch * self.numeric
            || categorical.len() != self.batch * self.categorical
        {
            return Err(InferenceError(format!(
                "a batch of {} rows needs {} numeric and {} categorical values, got {} and {}",
                self.batch,
                self.batch * self.numeric,
                self.batch * self.categorical,
                numeric.len(),
                categorical.len()
            )));
        }
        let mut inputs: TVec<TValue> =
            tvec!(Tensor::from_shape(&[self.batch, self.numeric], numeric)
                .map_err(err("numeric input"))?
                .into());
        if self.categorical > 0 {
            inputs.push(
                Tensor::from_shape(&[self.batch, self.categorical], categorical)
                    .map_err(err("categorical input"))?
                    .into(),
            );
        }
        let out = self.plan.run(inputs).map_err(err("tract run"))?;
        let view = out[0].try_as_plain_ram().map_err(err("output"))?;
        let values = view.as_slice::<f32>().map_err(err("output"))?;
        if values.len() != self.batch * self.outputs {
            return Err(InferenceError(format!(
                "output has {} values, expected {}",
                values.len(),
                self.batch * self.outputs
            )));
        }
        Ok(values.to_vec())
    }

    /// Outputs for all rows of the given inputs (`rows x outputs`).
    pub fn predict(
        &self,
        numeric: &[f32],
        categorical: &[i64],
        rows: usize,
    ) -> Result<Vec<f32>, InferenceError> {
        let mut out = Vec::with_capacity(rows * self.outputs);
        let mut num = vec![0.0f32; self.batch * self.numeric];
        let mut cat = vec![0i64; self.batch * self.categorical];
        let mut start = 0;
        while start < rows {
            let n = self.batch.min(rows - start);
            num.fill(0.0);
            cat.fill(0);
            num[..n * self.numeric]
                .copy_from_slice(&numeric[start * self.numeric..(start + n) * self.numeric]);
            cat[..n * self.categorical].copy_from_slice(
                &categorical[start * self.categorical..(start + n) * self.categorical],
            );
            let y = self.run(&num, &cat)?;
            out.extend_from_slice(&y[..n * self.outputs]);
            start += n;
        }
        Ok(out)
    }

    /// Mean task loss on `valid`.
    pub fn loss(&self, valid: &ValidSet, manifest: &Manifest) -> Result<f64, InferenceError> {
        let y = self.predict(&valid.numeric, &valid.categorical, valid.rows)?;
        mean_loss(manifest.task.loss, &y, &valid.labels, self.outputs, None)
            .map_err(|e| InferenceError(e.to_string()))
    }
}
