//! The std runtime of the agent (feature `tract`): what runs a search on a board.
//!
//! * [`probe`]: the latency seam ([`LatencyProbe`]) with tract-onnx and a
//!   deterministic fake.
//! * [`measure`](mod@measure): the measurement protocol's execution and the sequential decision.
//! * [`latency_table`]: per-block table measured on the device, and its calibration.
//! * [`quality`]: child validation loss from the bundle, cached.
//! * [`device_search`]: the search under a latency target, checkpoints and resume.
//! * [`profile`]: TOML board profiles -> the core's packed [`crate::board::BoardConfig`].
//! * [`checkpoint`]: atomic files.
//! * [`environment`]: what a result was measured on.

pub mod checkpoint;
pub mod device_search;
pub mod environment;
pub mod latency_table;
pub mod measure;
#[cfg(feature = "ort")]
pub mod ort_probe;
pub mod probe;
pub mod profile;
pub mod quality;

pub use device_search::{
    run_device_search, Checkpoint, DeviceResult, DeviceSearchOptions, Progress, RunError, RunFolder,
};
pub use environment::{pin_current_thread, Environment};
pub use measure::{decide, measure, Decision, Measurement};
#[cfg(feature = "ort")]
pub use ort_probe::OrtProbe;
pub use probe::{FakeProbe, LatencyProbe, TractProbe};
pub use quality::{BundleQuality, QualityCache};
