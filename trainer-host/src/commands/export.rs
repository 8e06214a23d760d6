//! `tabnas export`: re-export a checked bundle, or one child as a stand-alone ONNX file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tabnas_bundle::{Bundle, MANIFEST_FILE, SUPERNET_FILE, VALID_FILE};
use tabnas_trainer::export::write_child;

use super::args::{folder, widths_flag};
use super::run_folder::{command_line, open_run_folder, set_aside};

/// Flags of `tabnas export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The bundle folder (e.g. RUN/bundle from `tabnas search`).
    #[arg(long)]
    pub bundle: PathBuf,
    /// Export only this child (hidden widths, e.g. 64-32-16) as one ONNX file
    /// (`--child` is an older name of this flag).
    #[arg(long, alias = "child")]
    pub widths: Option<String>,
    /// Output: a folder for the bundle (an earlier bundle there is moved to
    /// previous-N/), or a file with --widths (replaced atomically).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `tabnas export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    folder("--out", &args.out)?;
    let bundle = Bundle::load(&args.bundle)
        .with_context(|| format!("cannot load the bundle {}", args.bundle.display()))?;
    match &args.widths {
        Some(w) => {
            let widths: Vec<usize> = widths_flag("--widths", w)?
                .into_iter()
                .map(|w| w as usize)
                .collect();
            write_child(&bundle, &widths, &args.out)?;
            println!(
                "wrote the child {widths:?} ({} dense params) to {}",
                bundle.manifest.dense_params(&widths),
                args.out.display()
            );
        }
        None => {
            let out = open_run_folder(&args.out, &command_line("tabnas"))?;
            set_aside(&out, &[SUPERNET_FILE, MANIFEST_FILE, VALID_FILE])?;
            let hash = Bundle::write(out.dir(), &bundle.manifest, &bundle.weights, &bundle.valid)
                .with_context(|| {
                format!("cannot write the bundle to {}", args.out.display())
            })?;
            println!(
                "wrote the bundle {} ({} validation rows, sha256 {})",
                args.out.display(),
                bundle.valid.rows,
                &hash[..16]
            );
        }
    }
    Ok(())
}
