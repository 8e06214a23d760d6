//! The packed formats of the core: what a board receives as bytes.
//!
//! Every blob is framed the same way ([`packed`](self)): one format-version byte, then
//! the postcard encoding, nothing after. Each type has one checked path from bytes
//! (`decode`) that rejects unknown versions, truncation, trailing bytes and any value
//! that the search could not run with, naming the field at fault. The byte layouts are
//! pinned by golden-byte tests; a change of bytes needs a version bump
//! (`docs/formats.md`).
//!
//! * [`search_config`]: one search (space, resource, target, settings, steps, seed).
//! * [`board`]: a board profile (measurement protocol, search defaults, services).
//! * [`measurement`]: the latency measurement protocol carried by the board profile.

pub mod board;
pub mod measurement;
mod packed;
pub mod search_config;

pub use board::{BoardConfig, BoardError};
pub use measurement::{MeasurementProtocol, MeasurementProtocolError, Statistic};
pub use search_config::{ConfigError, Resource, SearchConfig};
