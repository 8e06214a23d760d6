//! End-to-end tests across the tabnas crates live in `tests/` beside this file; this
//! library is empty on purpose (the package exists to hold them).
