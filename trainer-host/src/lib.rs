//! # tabnas-trainer
//!
//! The host side of tabnas and the `tabnas` command. It reuses the search core
//! ([`tabnas_core`]) for the controller, rewards and P(V): there is one implementation
//! of the search. Bundles are written through [`tabnas_bundle`], the format the agent
//! loads (`docs/formats.md`).
//!
//! * [`data`] loads tabular data, splits it and fits the recorded preprocessing.
//! * [`prepare`] turns a data source into encoded train / validation / test rows.
//! * [`host_search`] runs TabNAS with joint weight training on the host.
//! * [`reference`](mod@reference) trains given architectures alone, for the Pareto reference.
//! * [`export`] writes bundles and stand-alone children.
//! * [`finalize`] ends a search run: its references trained, its run folder written.
//! * [`run_folder`] owns an output folder for one run: its lock, earlier runs moved to
//!   `previous-N/`, atomic writes never through a planted link.
//! * [`supernet`] is the weight-sharing network and its training.
//! * [`toy`] reproduces the paper's toy example and its hyperparameter sweeps.
//!
//! Every fallible function returns its module's error enum ([`data::DataError`],
//! [`prepare::PrepareError`], [`host_search::HostSearchError`], ...), which names the
//! file, field or value at fault; command-line wording is the `tabnas` binary's.
#![deny(missing_docs)]

mod names;

pub mod compare;
pub mod constant;
pub mod data;
pub mod export;
pub mod finalize;
pub mod host_search;
pub mod prepare;
pub mod reference;
pub mod run_folder;
pub mod supernet;
pub mod toy;
