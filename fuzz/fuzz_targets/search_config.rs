//! Fuzz target `search_config`: see `search_config` in `fuzz/src/formats.rs`.
#![no_main]

// Compiled in on its own rather than through the `tabnas_fuzz` library, so this target
// links only the crates that module uses (the core targets leave out tabnas-bundle and
// tract, and fuzz far faster for it).
#[path = "../src/formats.rs"]
#[allow(dead_code)]
mod formats;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    formats::search_config(data);
});
