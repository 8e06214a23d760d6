//! Fuzz target `bundle_bytes`: see `bundle_bytes` in `fuzz/src/bundle.rs`.
#![no_main]

// Compiled in on its own rather than through the `tabnas_fuzz` library, so this target
// links only the crates that module uses (the core targets leave out tabnas-bundle and
// tract, and fuzz far faster for it).
#[path = "../src/bundle.rs"]
#[allow(dead_code)]
mod bundle;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bundle::bundle_bytes(data);
});
