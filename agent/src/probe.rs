//! The platform seam for latency: a [`LatencyProbe`] holds loaded networks and times
//! runs of consecutive inferences of one of them. [`TractProbe`] runs tract-onnx on this
//! machine with a monotonic clock; [`FakeProbe`] returns a deterministic latency
//! computed from the network's shapes (for tests and dry runs: exact expectations, no
//! noise). What to time, how often and in which order is [`crate::measure`]'s job.

use std::time::Instant;

use tract_onnx::pb::ModelProto;

use std::fmt;
use tabnas_bundle::{NetShape, TractNet};

use tabnas_bundle::InferenceError;

/// A network loaded in a probe (valid until the next [`LatencyProbe::clear`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetId(pub usize);

/// Loads networks and times consecutive inferences of a loaded one.
pub trait LatencyProbe {
    /// Prepares `model`, whose inputs and output have `shape`, for timing at `batch`
    /// rows; other loaded networks stay loaded.
    fn load(
        &mut self,
        model: &ModelProto,
        shape: NetShape,
        batch: usize,
    ) -> Result<NetId, ProbeError>;
    /// Runs `net` `calls` times back to back; returns the elapsed microseconds of all of
    /// them (one pair of clock reads).
    fn time(&mut self, net: NetId, calls: u32) -> Result<f64, ProbeError>;
    /// Unloads every network.
    fn clear(&mut self);
    /// The runtime and its version, for the record.
    fn runtime(&self) -> String;
}

/// One network loaded in tract, with its input buffers.
#[derive(Debug)]
struct Loaded {
    net: TractNet,
    numeric: Vec<f32>,
    categorical: Vec<i64>,
}

/// Times tract-onnx inferences with `std::time::Instant` (monotonic).
#[derive(Debug, Default)]
pub struct TractProbe {
    nets: Vec<Loaded>,
}

impl LatencyProbe for TractProbe {
    fn load(
        &mut self,
        model: &ModelProto,
        shape: NetShape,
        batch: usize,
    ) -> Result<NetId, ProbeError> {
        let net = TractNet::with_shape(model, shape, batch)?;
        self.nets.push(Loaded {
            net,
            numeric: vec![0.5; batch * shape.numeric],
            categorical: vec![1; batch * shape.categorical],
        });
        Ok(NetId(self.nets.len() - 1))
    }

    fn time(&mut self, net: NetId, calls: u32) -> Result<f64, ProbeError> {
        let n = self.nets.get(net.0).ok_or(ProbeError::NotLoaded)?;
        let t = Instant::now();
        for _ in 0..calls {
            let out = n.net.run(&n.numeric, &n.categorical)?;
            std::hint::black_box(out);
        }
        Ok(t.elapsed().as_secs_f64() * 1e6)
    }

    fn clear(&mut self) {
        self.nets.clear();
    }

    fn runtime(&self) -> String {
        "tract-onnx 0.23.9".into()
    }
}

/// A deterministic latency: `base_us + per_mac_us * (multiply-accumulates of every
/// MatMul initializer, times the batch)` per call; never noisy.
#[derive(Debug, Clone)]
pub struct FakeProbe {
    /// Fixed cost of any call.
    pub base_us: f64,
    /// Cost per multiply-accumulate.
    pub per_mac_us: f64,
    nets: Vec<f64>,
    /// Networks loaded so far.
    pub loads: usize,
    /// Inferences run so far.
    pub runs: u64,
}

impl FakeProbe {
    /// A probe with the given constants.
    pub fn new(base_us: f64, per_mac_us: f64) -> Self {
        Self {
            base_us,
            per_mac_us,
            nets: Vec::new(),
            loads: 0,
            runs: 0,
        }
    }

    /// Multiply-accumulates of one row through `model`'s MatMul initializers.
    pub fn macs_of(model: &ModelProto) -> i64 {
        let graph = model.graph.as_ref();
        graph
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
            .unwrap_or(0)
    }

    /// The latency it reports for one call of `model` at `batch`.
    pub fn latency_of(&self, model: &ModelProto, batch: usize) -> f64 {
        self.base_us + self.per_mac_us * (Self::macs_of(model) as f64) * batch as f64
    }
}

impl LatencyProbe for FakeProbe {
    fn load(
        &mut self,
        model: &ModelProto,
        _shape: NetShape,
        batch: usize,
    ) -> Result<NetId, ProbeError> {
        self.nets.push(self.latency_of(model, batch));
        self.loads += 1;
        Ok(NetId(self.nets.len() - 1))
    }

    fn time(&mut self, net: NetId, calls: u32) -> Result<f64, ProbeError> {
        self.runs += calls as u64;
        let per_call = self.nets.get(net.0).ok_or(ProbeError::NotLoaded)?;
        Ok(per_call * calls as f64)
    }

    fn clear(&mut self) {
        self.nets.clear();
    }

    fn runtime(&self) -> String {
        format!(
            "fake ({} us + {} us per MAC)",
            self.base_us, self.per_mac_us
        )
    }
}

/// A latency probe that cannot load or time a network.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProbeError {
    /// A timing was asked for before any network was loaded.
    NotLoaded,
    /// tract could not load or run the network.
    Inference(InferenceError),
    /// Another runtime (ONNX Runtime) failed.
    Runtime {
        /// The runtime.
        runtime: &'static str,
        /// What it was doing.
        stage: String,
        /// Its message.
        detail: String,
    },
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLoaded => f.write_str("no network loaded"),
            Self::Inference(e) => write!(f, "{e}"),
            Self::Runtime {
                runtime,
                stage,
                detail,
            } => write!(f, "{runtime}: {stage}: {detail}"),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for ProbeError {}

impl From<InferenceError> for ProbeError {
    fn from(e: InferenceError) -> Self {
        Self::Inference(e)
    }
}
