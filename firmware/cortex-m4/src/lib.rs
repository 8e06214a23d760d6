//! The TabNAS device search on a Cortex-M4, without `std` or allocation.
//!
//! The pieces that do not touch the chip live here so that the host can run them too
//! (unit tests, `tests/replay.rs`, `examples/replay.rs`): the model blob in flash
//! ([`model`]), the `f32` forward pass over leading units ([`forward`]), the latency
//! table measured with a cycle counter and the search driver on tabnas-core's
//! `RlSearch` ([`search`]), and the result lines the firmware prints and the host parses
//! ([`report`]), and the wire protocol the board answers on its UART after the search
//! ([`serve`]). `main.rs` adds the start-up code, the clock, the UART and semihosting.
#![cfg_attr(not(test), no_std)]

#[cfg(feature = "std")]
extern crate std;

pub mod forward;
pub mod model;
#[cfg(feature = "std")]
pub mod replay;
pub mod report;
pub mod search;
pub mod serve;

/// Monte-Carlo P(V) buffer of the firmware's search (the packed `n` may not exceed it).
pub const MC_CAPACITY: usize = 256;
/// Largest space (children) the quality cache holds.
pub const MAX_CHILDREN: usize = 512;
