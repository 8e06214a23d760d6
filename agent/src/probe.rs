//! The platform seam for latency: a [`LatencyProbe`] loads a network and times single
//! inferences. [`TractProbe`] runs tract-onnx on this machine with a monotonic clock;
//! [`FakeProbe`] returns a deterministic latency computed from the network's shapes
//! (for tests and dry runs: exact expectations, no noise).

use std::time::Instant;

use tract_onnx::pb::ModelProto;

use crate::error::ProbeError;
use tabnas_bundle::{NetShape, TractNet};

/// Loads networks and times inferences of the loaded one.
pub trait LatencyProbe {
    /// Prepares `model`, whose inputs and output have `shape`, for timing at `batch` rows.
    fn load(&mut self, model: &ModelProto, shape: NetShape, batch: usize)
        -> Result<(), ProbeError>;
    /// Runs the loaded network once; returns the elapsed microseconds.
    fn run_once(&mut self) -> Result<f64, ProbeError>;
    /// The runtime and its version, for the record.
    fn runtime(&self) -> String;
}

/// Times tract-onnx inferences with `std::time::Instant` (monotonic).
#[derive(Debug, Default)]
pub struct TractProbe {
    net: Option<TractNet>,
    numeric: Vec<f32>,
    categorical: Vec<i64>,
}

impl LatencyProbe for TractProbe {
    fn load(
        &mut self,
        model: &ModelProto,
        shape: NetShape,
        batch: usize,
    ) -> Result<(), ProbeError> {
        let net = TractNet::with_shape(model, shape, batch)?;
        self.numeric = vec![0.5; batch * shape.numeric];
        self.categorical = vec![1; batch * shape.categorical];
        self.net = Some(net);
        Ok(())
    }

    fn run_once(&mut self) -> Result<f64, ProbeError> {
        let net = self.net.as_ref().ok_or(ProbeError::NotLoaded)?;
        let t = Instant::now();
        let out = net.run(&self.numeric, &self.categorical)?;
        let us = t.elapsed().as_secs_f64() * 1e6;
        std::hint::black_box(out);
        Ok(us)
    }

    fn runtime(&self) -> String {
        "tract-onnx 0.23.9".into()
    }
}

/// A deterministic latency: `base_us + per_mac_us * (multiply-accumulates of every
/// MatMul initializer, times the batch)`; never noisy.
#[derive(Debug, Clone)]
pub struct FakeProbe {
    /// Fixed cost of any run.
    pub base_us: f64,
    /// Cost per multiply-accumulate.
    pub per_mac_us: f64,
    current: Option<f64>,
    /// Networks loaded so far.
    pub loads: usize,
    /// Inferences run so far.
    pub runs: usize,
}

impl FakeProbe {
    /// A probe with the given constants.
    pub fn new(base_us: f64, per_mac_us: f64) -> Self {
        Self {
            base_us,
            per_mac_us,
            current: None,
            loads: 0,
            runs: 0,
        }
    }

    /// The latency it reports for `model` at `batch`.
    pub fn latency_of(&self, model: &ModelProto, batch: usize) -> f64 {
        let graph = model.graph.as_ref();
        let macs: i64 = graph
            .map(|g| {
                g.node
                    .iter()
                    .filter(|n| n.op_type == "MatMul")
                    .filter_map(|n| {
                        g.initializer
                            .iter()
                            .find(|t| Some(&t.name) == n.input.get(1))
                    })
                    .map(|t| t.dims.iter().product::<i64>())
                    .sum()
            })
            .unwrap_or(0);
        self.base_us + self.per_mac_us * (macs as f64) * batch as f64
    }
}

impl LatencyProbe for FakeProbe {
    fn load(
        &mut self,
        model: &ModelProto,
        _shape: NetShape,
        batch: usize,
    ) -> Result<(), ProbeError> {
        self.current = Some(self.latency_of(model, batch));
        self.loads += 1;
        Ok(())
    }

    fn run_once(&mut self) -> Result<f64, ProbeError> {
        self.runs += 1;
        self.current.ok_or(ProbeError::NotLoaded)
    }

    fn runtime(&self) -> String {
        format!(
            "fake ({} us + {} us per MAC)",
            self.base_us, self.per_mac_us
        )
    }
}
