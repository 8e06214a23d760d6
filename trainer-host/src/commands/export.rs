//! `tabnas export`: re-export a checked bundle, or one child as a stand-alone ONNX file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tabnas_bundle::Bundle;
use tabnas_trainer::export::write_child;

use super::args::widths_flag;

/// Flags of `tabnas export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The bundle folder (e.g. RUN/bundle from `tabnas search`).
    #[arg(long)]
    pub bundle: PathBuf,
    /// Export only this child (hidden widths, e.g. 64-32-16) as one ONNX file.
    #[arg(long)]
    pub child: Option<String>,
    /// Output: a folder for the bundle, or a file with --child.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `tabnas export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    let bundle = Bundle::load(&args.bundle)
        .with_context(|| format!("cannot load the bundle {}", args.bundle.display()))?;
    match &args.child {
        Some(w) => {
            let widths: Vec<usize> = widths_flag("--child", w)?
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
            let hash = Bundle::write(&args.out, &bundle.manifest, &bundle.weights, &bundle.valid)
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
