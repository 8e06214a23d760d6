//! Streaming a large Criteo-format file: rows per second and peak memory of the
//! reader ([`for_each_criteo_row`]) doing the per-row work of preprocessing (clip and
//! log1p of the integers, FNV-1a bucket of each category), whatever the file's size.
//!
//! `cargo bench -p tabnas-trainer --bench criteo_stream -- [--rows N] [--file PATH]
//! [--form raw|kaggle] [--max-rows M] [--train STEPS]`: writes a generated file of N
//! rows (default 10,000,000) in the given form unless PATH exists, streams it, and
//! prints one JSON line: rows, file bytes, seconds, rows per second, MB/s and the peak
//! resident memory (`VmHWM` of /proc/self/status, Linux) before and after the stream.
//!
//! With `--train STEPS`, it then prepares the file as `tabnas search --criteo FILE
//! --spill-dir DIR` does (two streaming passes, training rows to a row file) and trains
//! the paper's Criteo supernet (embeddings of 39, three layers of 512) on batches of 512
//! read from the row file, timing the reads apart from the steps; a second JSON line
//! gives the preparation's rows per second, the row file's size, the read and step
//! times and the peak resident memory after each phase.

mod support;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use rand_core::Rng;
use support::{arg, peak_mib};
use tabnas_bundle::LossKind;
use tabnas_core::paper::CRITEO_WIDTHS;
use tabnas_core::rng::search_rng;
use tabnas_trainer::data::{fnv1a64, for_each_criteo_row, DataError};
use tabnas_trainer::prepare::{prepare, DataSource, PrepareOptions, Spill};
use tabnas_trainer::supernet::{Supernet, SupernetSpec, TrainRows};

fn generate(path: &PathBuf, rows: usize, kaggle: bool) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let sep = if kaggle { ',' } else { '\t' };
    if kaggle {
        write!(out, "Id,Label")?;
        for k in 1..=13 {
            write!(out, ",I{k}")?;
        }
        for k in 1..=26 {
            write!(out, ",C{k}")?;
        }
        writeln!(out)?;
    }
    let mut rng = search_rng(7);
    let mut line = String::with_capacity(512);
    for r in 0..rows {
        line.clear();
        if kaggle {
            line.push_str(&(10_000_000 + r).to_string());
            line.push(sep);
        }
        line.push_str(if rng.next_u32().is_multiple_of(4) {
            "1"
        } else {
            "0"
        });
        for _ in 0..13 {
            line.push(sep);
            match rng.next_u32() % 8 {
                0 => {}
                1 => line.push_str("-1"),
                _ => line.push_str(&(rng.next_u32() % 3000).to_string()),
            }
        }
        for _ in 0..26 {
            line.push(sep);
            if !rng.next_u32().is_multiple_of(6) {
                line.push_str(&format!("{:08x}", rng.next_u32() % 100_000));
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

fn main() {
    let rows: usize = arg("--rows")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let kaggle = arg("--form").as_deref() == Some("kaggle");
    let max_rows: Option<usize> = arg("--max-rows").and_then(|v| v.parse().ok());
    let file = arg("--file").map(PathBuf::from).unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "tabnas-criteo-{rows}-{}.txt",
            if kaggle { "kaggle" } else { "raw" }
        ))
    });
    if !file.exists() {
        let t = Instant::now();
        generate(&file, rows, kaggle).expect("write the generated file");
        eprintln!(
            "wrote {} in {:.1} s",
            file.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let before = peak_mib();
    let t = Instant::now();
    let (mut sum, mut buckets) = (0.0f64, 0u64);
    let (form, n) = for_each_criteo_row(&file, max_rows, |row| {
        for x in row.ints {
            if !x.is_nan() {
                sum += (x.max(0.0) as f64).ln_1p();
            }
        }
        for c in row.cats.iter().flatten() {
            buckets = buckets.wrapping_add(1 + fnv1a64(c.as_bytes()) % 999);
        }
        Ok::<(), DataError>(())
    })
    .expect("stream the file");
    let s = t.elapsed().as_secs_f64();
    println!(
        "{{\"form\":\"{form:?}\",\"rows\":{n},\"file_bytes\":{bytes},\"seconds\":{s:.2},\
         \"rows_per_s\":{:.0},\"mb_per_s\":{:.1},\"peak_mib_before\":{},\"peak_mib_after\":{},\
         \"checksum\":{:.1}}}",
        n as f64 / s,
        bytes as f64 / 1e6 / s * (n as f64 / rows.max(1) as f64).min(1.0),
        before.map_or("null".into(), |m| format!("{m:.1}")),
        peak_mib().map_or("null".into(), |m| format!("{m:.1}")),
        sum + (buckets % 1000) as f64
    );
    if let Some(steps) = arg("--train").and_then(|v| v.parse::<usize>().ok()) {
        train_from_spill(&file, max_rows, n, steps);
    }
}

/// Prepares `file` through a spill folder and trains `steps` steps on it (see the
/// module's documentation).
fn train_from_spill(
    file: &std::path::Path,
    max_rows: Option<usize>,
    rows_read: usize,
    steps: usize,
) {
    let spill = tempfile::tempdir_in(std::env::temp_dir()).expect("spill folder");
    let t = Instant::now();
    let source = DataSource::Criteo {
        path: file.to_path_buf(),
        spill: Some(Spill {
            dir: spill.path().to_path_buf(),
            max_eval_rows: 200_000,
        }),
    };
    let options = PrepareOptions {
        embedding_dim: 39,
        max_rows,
        ..PrepareOptions::default()
    };
    let data = prepare(&source, options).expect("prepare the file");
    let prepare_s = t.elapsed().as_secs_f64();
    let peak_prepared = peak_mib();
    let TrainRows::File(rows) = &data.train else {
        panic!("a spilled source keeps its training rows in a file")
    };
    let row_file_bytes = std::fs::metadata(rows.path()).map_or(0, |m| m.len());
    let spec: SupernetSpec = data.supernet_spec(vec![CRITEO_WIDTHS.to_vec(); 3]);
    assert_eq!(spec.loss, LossKind::BinaryCrossEntropy);
    let mut rng = search_rng(0);
    let mut net = Supernet::new(spec, 1e-3, &mut rng);
    let full = [512usize; 3];
    let (mut read_s, mut step_s) = (0.0, 0.0);
    for _ in 0..steps {
        let t = Instant::now();
        let batch = data.train.sample(512, &mut rng).expect("read a batch");
        read_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        net.train_step(&batch, &full).expect("train");
        step_s += t.elapsed().as_secs_f64();
    }
    println!(
        "{{\"part\":\"train_from_spill\",\"prepare_seconds\":{prepare_s:.1},\
         \"prepare_rows_per_s\":{:.0},\"train_rows\":{},\"row_file_bytes\":{row_file_bytes},\
         \"steps\":{steps},\"batch\":512,\"read_ms_per_batch\":{:.2},\"step_ms\":{:.2},\
         \"peak_mib_after_prepare\":{},\"peak_mib_after_training\":{}}}",
        rows_read as f64 / prepare_s,
        data.train.rows(),
        1e3 * read_s / steps.max(1) as f64,
        1e3 * step_s / steps.max(1) as f64,
        peak_prepared.map_or("null".into(), |m| format!("{m:.1}")),
        peak_mib().map_or("null".into(), |m| format!("{m:.1}")),
    );
}
