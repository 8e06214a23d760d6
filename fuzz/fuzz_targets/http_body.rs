//! Fuzz target `http_body`: see `http_body` in `fuzz/src/http.rs`.
#![no_main]

// Compiled in on its own rather than through the `tabnas_fuzz` library, so this target
// links only the crates that module uses.
#[path = "../src/http.rs"]
#[allow(dead_code)]
mod http;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    http::http_body(data);
});
