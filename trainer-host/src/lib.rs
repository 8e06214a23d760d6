//! # tabnas-trainer
//!
//! The host side of tabnas and the `tabnas` command. It reuses the agent core for the
//! controller, rewards and P(V): there is one implementation of the search.
//!
//! * [`data`] loads tabular data, splits it and fits the recorded preprocessing.
//! * [`toy`] reproduces the paper's toy example and its hyperparameter sweeps.
#![deny(missing_docs)]

pub mod data;
pub mod toy;
