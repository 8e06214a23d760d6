//! Fuzz target `manifest_json`: see `manifest_json` in `fuzz/src/bundle.rs`.
#![no_main]

// Compiled in on its own rather than through the `tabnas_fuzz` library, so this target
// links only the crates that module uses (the core targets leave out tabnas-bundle and
// tract, and fuzz far faster for it).
#[path = "../src/bundle.rs"]
#[allow(dead_code)]
mod bundle;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bundle::manifest_json(data);
});
