//! Writes what the Cortex-M4 firmware (`firmware/cortex-m4`) embeds in flash: the model
//! blob (a bundle's supernet cut to the firmware space's largest widths through the
//! bundle's own leading-units slicing, and its first validation rows) and the packed
//! search configuration (`tabnas_core::formats::SearchConfig`, latency in microseconds);
//! and, for a few children, their loss computed with tract on the same rows, which the
//! firmware's host tests compare with their forward pass.
//!
//! ```sh
//! cargo run --release -p tabnas-e2e --example cm4_blob -- --out DIR \
//!     [--bundle agent/defaults/higgs-demo] [--widths 8,16,32,64,96,128] [--layers 3] \
//!     [--rows 256] [--profile firmware-config/cortex-m4.toml] \
//!     [--target-us 1000] [--steps 500] [--n 64] [--lr 0.05] [--seed 0]
//! ```
//! `--profile` takes the search settings, steps, seed and `target_us` from a board
//! profile (the flags after it override them).
//! scripts/boards.sh runs it; the layout of `model.bin` is in
//! `firmware/cortex-m4/src/model.rs`.
use std::path::{Path, PathBuf};

use tabnas_bundle::{Bundle, TractNet, ValidSet};
use tabnas_core::formats::{Resource, SearchConfig};
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_core::space::SearchSpace;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = None;
    let mut bundle = PathBuf::from("agent/defaults/higgs-demo");
    let mut widths: Vec<u32> = vec![8, 16, 32, 64, 96, 128];
    let (mut layers, mut rows, mut steps, mut seed) = (3usize, 256usize, 500u32, 0u64);
    let mut target = 1000.0f64;
    let mut settings = SearchSettings::rejection(PvMode::MonteCarlo { samples: 64 }, 0.05);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--out" => out = Some(PathBuf::from(value)),
            "--bundle" => bundle = PathBuf::from(value),
            "--widths" => widths = value.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "--layers" => layers = value.parse()?,
            "--rows" => rows = value.parse()?,
            "--profile" => {
                let board =
                    tabnas_agent::profile::parse_profile(&value, &std::fs::read_to_string(&value)?)
                        .map_err(|e| e.to_string())?;
                target = board
                    .search
                    .target_us
                    .ok_or("the profile has no search.target_us")?
                    .us();
                settings = board.search.settings;
                steps = board.search.steps;
                seed = board.search.seed;
            }
            "--target-us" => target = value.parse()?,
            "--steps" => steps = value.parse()?,
            "--n" => {
                settings.pv = PvMode::MonteCarlo {
                    samples: value.parse()?,
                }
            }
            "--lr" => settings.learning_rate = value.parse()?,
            "--seed" => seed = value.parse()?,
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }
    let out = out.ok_or("--out DIR is required")?;
    std::fs::create_dir_all(&out)?;

    let b = Bundle::load(&bundle)?;
    let m = &b.manifest;
    if b.valid.categorical_width() != 0 || b.weights.layers.len() != layers + 1 {
        return Err(
            "the firmware takes numeric inputs and a bundle with --layers hidden layers".into(),
        );
    }
    let space = SearchSpace::uniform(layers, &widths)?;
    let top = *widths.iter().max().ok_or("no widths")? as usize;
    let cut = b.weights.child(m, &vec![top; layers])?;
    let rows = rows.min(b.valid.rows);
    let inputs = b.valid.numeric_width();
    let valid = ValidSet {
        rows,
        numeric: b.valid.numeric[..rows * inputs].to_vec(),
        categorical: Vec::new(),
        labels: b.valid.labels[..rows].to_vec(),
    };

    // model.bin (firmware/cortex-m4/src/model.rs).
    let mut blob = Vec::new();
    blob.extend_from_slice(b"TNM4");
    for w in [1, inputs, layers]
        .into_iter()
        .chain(vec![top; layers])
        .chain([rows])
    {
        blob.extend_from_slice(&(w as u32).to_le_bytes());
    }
    for d in &cut.layers {
        blob.extend(d.weight.iter().chain(&d.bias).flat_map(|v| v.to_le_bytes()));
    }
    blob.extend(
        valid
            .numeric
            .iter()
            .chain(&valid.labels)
            .flat_map(|v| v.to_le_bytes()),
    );
    write_if_changed(&out.join("model.bin"), &blob)?;

    let config = SearchConfig {
        space,
        resource: Resource::LatencyUs,
        target,
        settings,
        steps,
        seed,
    };
    let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
    write_if_changed(&out.join("config.bin"), config.encode(&mut buf)?)?;

    // Reference losses with tract (the agent's runner) for the smallest, a middle and the
    // largest child.
    let mut reference = String::new();
    let mid = widths[widths.len() / 2] as usize;
    for child in [
        vec![widths[0] as usize; layers],
        vec![mid; layers],
        vec![top; layers],
    ] {
        let net = TractNet::new(&b.child_model(&child)?, m, rows)?;
        let loss = net.loss(&valid, m)?;
        let name: Vec<String> = child.iter().map(usize::to_string).collect();
        reference.push_str(&format!("{} {loss:.17e}\n", name.join("-")));
    }
    write_if_changed(&out.join("reference.txt"), reference.as_bytes())?;
    println!(
        "cm4 blob: {} bytes model ({rows} rows x {inputs} inputs, widths up to {top}), {} bytes config -> {}",
        blob.len(),
        config.encode(&mut buf)?.len(),
        out.display()
    );
    Ok(())
}

/// Leaves an identical file alone, so that the firmware (whose build script watches these
/// files) is not rebuilt for nothing.
fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes)
}
