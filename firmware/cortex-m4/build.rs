//! Puts the packed search configuration and the model blob into the firmware image
//! (`TABNAS_CM4_CONFIG`, `TABNAS_CM4_MODEL`: paths written by the host-side generator,
//! `cargo run -p tabnas-e2e --example cm4_blob`), and the memory map into its link.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for (var, name) in [
        ("TABNAS_CM4_CONFIG", "config.bin"),
        ("TABNAS_CM4_MODEL", "model.bin"),
    ] {
        println!("cargo:rerun-if-env-changed={var}");
        let bytes = match env::var(var) {
            Ok(path) => {
                println!("cargo:rerun-if-changed={path}");
                fs::read(&path).unwrap_or_else(|e| panic!("{var}={path}: {e}"))
            }
            // Host builds (unit tests) do not embed anything; a firmware built without
            // the variables reports that it has no configuration.
            Err(_) => Vec::new(),
        };
        fs::write(out.join(name), bytes).unwrap();
    }
    if env::var("TARGET").unwrap().starts_with("thumb") {
        let dir = env::var("CARGO_MANIFEST_DIR").unwrap();
        println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
        println!(
            "cargo:rustc-link-arg-bins=-Map={}/tabnas-cm4.map",
            out.display()
        );
        println!("cargo:rerun-if-changed=link.ld");
    }
}
