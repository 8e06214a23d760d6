//! Loads an ONNX file written by the agent (`best.onnx`) in tract and prints its mean
//! validation loss on a bundle's `valid.bin`; with `--expect LOSS` it fails unless the
//! loss agrees within 1e-6 (scripts/boards.sh checks a board's answer this way).
//!
//! ```sh
//! cargo run --release -p tabnas-e2e --example onnx_loss -- --onnx RUN/best.onnx \
//!     [--bundle agent/defaults/higgs-demo] [--expect 0.6277]
//! ```
use std::path::PathBuf;

use tabnas_bundle::{decode_model, Bundle, TractNet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut onnx, mut expect) = (None, None);
    let mut bundle = PathBuf::from("agent/defaults/higgs-demo");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--onnx" => onnx = Some(PathBuf::from(value)),
            "--bundle" => bundle = PathBuf::from(value),
            "--expect" => expect = Some(value.parse::<f64>()?),
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }
    let onnx = onnx.ok_or("--onnx FILE is required")?;
    let b = Bundle::load(&bundle)?;
    let model = decode_model(&std::fs::read(&onnx)?)?;
    let net = TractNet::new(&model, &b.manifest, b.valid.rows.min(256))?;
    let loss = net.loss(&b.valid, &b.manifest)?;
    println!("{}: validation loss {loss:.10} in tract", onnx.display());
    if let Some(e) = expect {
        if (loss - e).abs() > 1e-6 {
            return Err(format!("expected {e}, tract gives {loss}").into());
        }
    }
    Ok(())
}
