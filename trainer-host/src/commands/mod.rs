//! The `tabnas` subcommands: raw flags (`args` for the shared ones), what each command
//! does, and how library errors are worded as flags.

pub mod args;
pub mod compare;
pub mod device;
pub mod export;
pub mod latency_from;
pub mod progress;
pub mod reference;
pub mod run_folder;
pub mod search;
pub mod toy;
