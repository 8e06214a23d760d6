//! Preparing a CSV file read whole against read in two streaming passes: seconds, rows
//! per second and peak resident memory of each, side by side in one run.
//!
//! `cargo bench -p tabnas-trainer --bench csv_stream -- [--rows N] [--file PATH]
//! [--max-rows M]` writes a generated file of N rows (default 200,000; at PATH, which
//! must then have N rows) and 42 columns (an id, 30 numeric, 10 categorical, a text
//! label) unless it exists, then prepares it in a child process per way (peak memory is
//! per process: `VmHWM` of /proc/self/status, Linux) as `tabnas search --csv FILE` does,
//! with and without `--spill-dir`, and with `--max-rows M` (default 5,000) each way. One
//! JSON line per run.

mod support;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rand_core::Rng;
use support::{arg, peak_mib};
use tabnas_core::rng::search_rng;
use tabnas_trainer::data::{ColumnRef, CsvOptions, LabelKind};
use tabnas_trainer::prepare::{prepare, DataSource, PrepareOptions, Spill};

const NUMERIC: usize = 30;
const CATEGORICAL: usize = 10;

fn generate(path: &Path, rows: usize) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut header = vec!["id".to_string()];
    header.extend((0..NUMERIC).map(|k| format!("x{k}")));
    header.extend((0..CATEGORICAL).map(|k| format!("c{k}")));
    header.push("income".into());
    writeln!(out, "{}", header.join(","))?;
    let mut rng = search_rng(11);
    let mut line = String::with_capacity(512);
    for r in 0..rows {
        line.clear();
        line.push_str(&r.to_string());
        for _ in 0..NUMERIC {
            line.push(',');
            if !rng.next_u32().is_multiple_of(20) {
                let v = (rng.next_u32() % 2_000_000) as f64 / 1000.0 - 1000.0;
                line.push_str(&format!("{v:.3}"));
            }
        }
        for _ in 0..CATEGORICAL {
            line.push(',');
            if !rng.next_u32().is_multiple_of(10) {
                line.push_str(&format!("cat{}", rng.next_u32() % 5000));
            }
        }
        line.push_str(if rng.next_u32().is_multiple_of(4) {
            ",>50K\n"
        } else {
            ",<=50K\n"
        });
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

fn csv_options() -> CsvOptions {
    let mut o = CsvOptions::new(ColumnRef::Name("income".into()), LabelKind::Binary);
    o.header = true;
    o.ignore = vec![ColumnRef::Name("id".into())];
    o.categorical = (0..CATEGORICAL)
        .map(|k| ColumnRef::Name(format!("c{k}")))
        .collect();
    o
}

/// One preparation in this process of a file of `rows` rows; prints its JSON line.
fn child(file: &Path, rows: usize, streamed: bool, max_rows: Option<usize>) {
    let spill = tempfile::tempdir_in(std::env::temp_dir()).expect("spill folder");
    let source = DataSource::Csv {
        path: file.to_path_buf(),
        options: csv_options(),
        spill: streamed.then(|| Spill {
            dir: spill.path().to_path_buf(),
            max_eval_rows: 200_000,
        }),
    };
    let before = peak_mib();
    let t = Instant::now();
    let data = prepare(
        &source,
        PrepareOptions {
            max_rows,
            ..PrepareOptions::default()
        },
    )
    .expect("prepare the file");
    let s = t.elapsed().as_secs_f64();
    // A streamed source keeps a sample of large evaluation splits: rows read are the
    // file's, up to --max-rows.
    let read = max_rows.map_or(rows, |m| m.min(rows));
    let kept = data.train.rows() + data.valid.rows + data.test.rows;
    println!(
        "{{\"way\":\"{}\",\"max_rows\":{},\"rows_read\":{read},\"rows_kept\":{kept},\
         \"seconds\":{s:.2},\"rows_per_s\":{:.0},\"peak_mib_before\":{},\"peak_mib_after\":{}}}",
        if streamed { "streamed" } else { "whole" },
        max_rows.map_or("null".into(), |m| m.to_string()),
        read as f64 / s,
        before.map_or("null".into(), |m| format!("{m:.1}")),
        peak_mib().map_or("null".into(), |m| format!("{m:.1}")),
    );
}

fn main() {
    let file = arg("--file").map(PathBuf::from);
    let rows: usize = arg("--rows")
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    if let (Some(file), Some(way)) = (&file, arg("--child")) {
        let max_rows = arg("--max-rows").and_then(|v| v.parse().ok());
        child(file, rows, way == "streamed", max_rows);
        return;
    }
    let max_rows: usize = arg("--max-rows")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let file = file.unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "tabnas-csv-{rows}x{}.csv",
            NUMERIC + CATEGORICAL + 2
        ))
    });
    if !file.exists() {
        let t = Instant::now();
        generate(&file, rows).expect("write the generated file");
        eprintln!(
            "wrote {} in {:.1} s",
            file.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "{{\"file\":\"{}\",\"file_bytes\":{bytes},\"columns\":{}}}",
        file.display(),
        NUMERIC + CATEGORICAL + 2
    );
    let me = std::env::current_exe().expect("this bench's path");
    for max in [None, Some(max_rows)] {
        for way in ["whole", "streamed"] {
            let mut c = Command::new(&me);
            c.args(["--file", &file.display().to_string(), "--child", way]);
            c.args(["--rows", &rows.to_string()]);
            if let Some(m) = max {
                c.args(["--max-rows", &m.to_string()]);
            }
            let out = c.output().expect("run a child");
            std::io::stdout().write_all(&out.stdout).ok();
            if !out.status.success() {
                eprintln!("{way}: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
}
