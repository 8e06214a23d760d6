//! The `tabnas` subcommands beyond the toy: raw flags (`args`) and what each command does.

pub mod args;
pub mod export;
pub mod reference;
pub mod search;
