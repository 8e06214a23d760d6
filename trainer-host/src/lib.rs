//! # tabnas-trainer
//!
//! The host side of tabnas and the `tabnas` command. It reuses the agent core for the
//! controller, rewards and P(V): there is one implementation of the search.
//!
//! * [`toy`] reproduces the paper's toy example and its hyperparameter sweeps.
#![deny(missing_docs)]

pub mod toy;
