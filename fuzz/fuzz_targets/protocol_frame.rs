//! Fuzz target `protocol_frame`: see `protocol_frame` in `fuzz/src/formats.rs`.
#![no_main]

// Compiled in on its own rather than through the `tabnas_fuzz` library, so this target
// links only the crates that module uses.
#[path = "../src/formats.rs"]
#[allow(dead_code)]
mod formats;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    formats::protocol_frame(data);
});
