//! # tabnas-agent
//!
//! The device runtime of tabnas: what runs a search on a board, on top of
//! `tabnas-core` (the search) and `tabnas-bundle` (the bundle contract).
//!
//! * [`probe`]: the latency seam ([`LatencyProbe`]) with tract-onnx, ONNX Runtime
//!   (feature `ort`, `ort_probe`) and a deterministic fake.
//! * [`measure`](mod@measure): the measurement protocol's execution and the sequential
//!   decision; [`confirm`]: a latency claim confirmed by repeated measurements.
//! * [`latency_table`]: per-block table measured on the device and the children measured
//!   end to end; [`latency_model`]: the model forms compared on them, and the one kept.
//! * [`validation_loss`]: child validation loss from the bundle, cached.
//! * [`device_search`]: the search under a latency target: a short driver over one
//!   function per phase, the run folder, checkpoints and resume, the report.
//! * [`profile`]: TOML board profiles -> the core's packed
//!   [`tabnas_core::formats::board::BoardConfig`].
//! * [`service`]: the agent as a service over serial and HTTP (`tabnas-agent serve`).
//! * [`atomic_file`]: files replaced atomically.
//! * [`environment`]: what a result was measured on.
//! * [`stats`]: quantiles, bounds and prediction bounds.
//!
//! Each module keeps its own typed errors beside it ([`RunError`] for a search, which
//! wraps the others).
//!
//! The `tabnas-agent` binary (feature `cli`, on by default) adds argument parsing, the
//! embedded defaults and progress display.

pub mod atomic_file;
pub mod confirm;
pub mod device_search;
pub mod environment;
pub mod latency_model;
pub mod latency_table;
pub mod load;
pub mod measure;
#[cfg(feature = "ort")]
pub mod ort_probe;
pub mod probe;
pub mod profile;
pub mod service;
pub mod stats;
pub mod validation_loss;

pub use device_search::{
    run_device_search, run_device_search_until, Checkpoint, DeviceResult, DeviceSearchOptions,
    Progress, RunError, RunFolder, SearchOverrides, StepPoint, TraceLog,
};
pub use environment::{pin_current_thread, Environment};
pub use measure::{Bench, Decision, Measurement, Net, NoiseFloor};
#[cfg(feature = "ort")]
pub use ort_probe::OrtProbe;
pub use probe::{FakeProbe, LatencyProbe, NetId, TractProbe};
pub use validation_loss::{BundleLosses, LossCache};
