//! # tabnas-agent
//!
//! The on-device TabNAS search agent. This crate has two layers:
//!
//! * **the core** (always built, `no_std`, no allocation): search spaces, the factorized
//!   controller, rewards, P(V) by enumeration or Monte Carlo in fixed-size buffers, cost
//!   models, the RL step state machine and the packed search configuration. Capacities
//!   live in [`capacity`]; randomness always comes from an explicitly seeded generator.
//! * **the runtime** (feature `std`, on by default): what runs the search on a board;
//!   [`bundle`] (feature `tract`) loads bundles, slices children and runs them.
//!
//! The algorithm follows C. Yang et al., "TabNAS: Rejection Sampling for Neural
//! Architecture Search on Tabular Datasets" (NeurIPS 2022).
//!
//! ```
//! use tabnas_agent::{toy, search::{PvMode, SearchSettings}};
//! let settings = SearchSettings::rejection(PvMode::Exact, 0.1);
//! let run = toy::run_toy::<1>(settings, 500, 0).unwrap();
//! assert!(run.final_feasible);
//! ```
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod adam;
pub mod baseline;
pub mod board;
#[cfg(feature = "tract")]
pub mod bundle;
pub mod capacity;
pub mod config;
pub mod controller;
pub mod cost;
pub mod feasibility;
pub mod grid;
mod packed;
pub mod paper;
pub mod protocol;
pub mod pv;
pub mod reward;
pub mod rng;
#[cfg(feature = "tract")]
pub mod runtime;
pub mod search;
pub mod select;
pub mod space;
pub mod toy;
