//! # tabnas-core
//!
//! The TabNAS search core: `no_std`, no allocation, no features to enable. Everything a
//! search needs except measuring and evaluating networks lives here, so the same code
//! runs on the host trainer, on an ARM Linux board and on a microcontroller:
//!
//! * the search space and architectures ([`space`]), capacities ([`capacity`]), the
//!   latency target ([`target`]);
//! * the factorized controller ([`controller`], [`grid`]), Adam on its logits
//!   ([`adam`]) and the moving-average baseline ([`baseline`]);
//! * rewards ([`reward`]), P(V) exactly or by Monte Carlo in fixed-size buffers
//!   ([`pv`]), the one feasibility test ([`feasibility`]) and the final selection
//!   ([`select`]);
//! * cost models: parameters, FLOPs, NATS-Bench MACs and the measured latency table
//!   ([`cost`]);
//! * the RL step state machine ([`search`]), the seeded generator ([`rng`]);
//! * the packed formats a board receives ([`formats`]): search configuration, board
//!   configuration and measurement protocol;
//! * the wire protocol between a host and a board ([`protocol`]): requests, responses,
//!   COBS frames;
//! * the paper's spaces ([`paper`]) and its toy example ([`toy`]).
//!
//! The algorithm follows C. Yang et al., "TabNAS: Rejection Sampling for Neural
//! Architecture Search on Tabular Datasets" (NeurIPS 2022); `docs/algorithm.md` in the
//! repository states it as implemented.
//!
//! ```
//! use tabnas_core::{toy, search::{PvMode, SearchSettings}};
//! let settings = SearchSettings::rejection(PvMode::Exact, 0.1);
//! let run = toy::run_toy::<1>(settings, 500, 0).unwrap();
//! assert!(run.final_feasible);
//! ```
#![cfg_attr(not(test), no_std)]

pub mod adam;
pub mod baseline;
pub mod capacity;
pub mod controller;
pub mod cost;
pub mod feasibility;
pub mod formats;
pub mod grid;
pub mod paper;
pub mod protocol;
pub mod pv;
pub mod reward;
pub mod rng;
pub mod search;
pub mod select;
pub mod space;
pub mod target;
pub mod toy;
