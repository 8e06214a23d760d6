//! The defaults compiled into the `tabnas-agent` binary, shipped inside this package
//! (`agent/defaults/`; `models/higgs-demo` and `firmware-config/host.toml` link to them).

use std::path::Path;

use tabnas_bundle::{Bundle, BundleError};

/// The host profile, `firmware-config/host.toml`.
pub const PROFILE_NAME: &str = "firmware-config/host.toml (embedded)";
/// Its TOML text.
pub const PROFILE_TOML: &str = include_str!("../../defaults/host.toml");

/// Where the default bundle comes from, for messages.
#[cfg(feature = "demo-bundle")]
pub const DEMO_BUNDLE_SOURCE: &str = "the embedded demo bundle";
/// Where the default bundle comes from, for messages.
#[cfg(not(feature = "demo-bundle"))]
pub const DEMO_BUNDLE_SOURCE: &str =
    "the default bundle ./models/higgs-demo (this build does not embed it; pass --bundle DIR)";

/// The demo bundle, `models/higgs-demo`.
#[cfg(feature = "demo-bundle")]
pub fn demo_bundle() -> Result<Bundle, BundleError> {
    Bundle::from_parts(
        Path::new("<embedded>/models/higgs-demo"),
        include_bytes!("../../defaults/higgs-demo/manifest.json"),
        include_bytes!("../../defaults/higgs-demo/supernet.onnx"),
        include_bytes!("../../defaults/higgs-demo/valid.bin"),
    )
}

/// The demo bundle, `models/higgs-demo`, read from the working directory: this binary was
/// built without feature `demo-bundle` (board builds), so it is not compiled in.
#[cfg(not(feature = "demo-bundle"))]
pub fn demo_bundle() -> Result<Bundle, BundleError> {
    Bundle::load(Path::new("models/higgs-demo"))
}
