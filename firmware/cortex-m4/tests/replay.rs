//! Host checks of the firmware's library: the forward pass against a plain reference,
//! the blob parser, a whole search on a small synthetic model written out as the chip's
//! log and replayed, and (when scripts/boards.sh sets TABNAS_CM4_LOG, TABNAS_CM4_CONFIG
//! and TABNAS_CM4_MODEL) the replay of a real run under qemu-system-arm.
use std::fmt::Write;

use tabnas_cm4::forward::{bce, child_loss};
use tabnas_cm4::model::{encode, Model, ModelError};
use tabnas_cm4::replay::replay;
use tabnas_cm4::report::{loss_lines, result_lines, table_lines};
use tabnas_cm4::search::{measure_table, run, Clock, ForwardQuality};
use tabnas_core::cost::LatencyTable;
use tabnas_core::formats::{Resource, SearchConfig};
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_core::space::SearchSpace;

/// Bytes in u32 storage, so the floats are aligned.
struct Blob(Vec<u32>, usize);
impl Blob {
    fn new(bytes: &[u8]) -> Self {
        let mut w = vec![0u32; bytes.len().div_ceil(4)];
        for (i, b) in bytes.iter().enumerate() {
            w[i / 4] |= (*b as u32) << (8 * (i % 4));
        }
        Self(w, bytes.len())
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: u32 storage viewed as bytes.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast::<u8>(), self.1) }
    }
}

/// A deterministic synthetic model: 5 inputs, hidden widths up to [6, 4], 40 rows.
fn synthetic() -> Vec<u8> {
    let mut s = 12345u32;
    let mut r = move || {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
        ((s >> 8) as f32 / (1u32 << 24) as f32) - 0.5
    };
    let dims = [(5, 6), (6, 4), (4, 1)];
    let layers: Vec<(Vec<f32>, Vec<f32>)> = dims
        .iter()
        .map(|&(i, o)| {
            (
                (0..i * o).map(|_| r()).collect(),
                (0..o).map(|_| r() * 0.1).collect(),
            )
        })
        .collect();
    let x: Vec<f32> = (0..40 * 5).map(|_| r() * 4.0).collect();
    let y: Vec<f32> = (0..40).map(|k| (k % 3 == 0) as u8 as f32).collect();
    let dense: Vec<(&[f32], &[f32])> = layers.iter().map(|(w, b)| (&w[..], &b[..])).collect();
    encode(5, &[6, 4], &dense, &x, &y)
}

#[test]
fn forward_pass_equals_a_plain_reference_on_leading_units() {
    let blob = Blob::new(&synthetic());
    let m = Model::parse(blob.bytes()).unwrap();
    for widths in [[1usize, 1], [3, 2], [6, 4]] {
        let mut total = 0f64;
        for r in 0..m.rows {
            let mut h: Vec<f64> = m.row(r).iter().map(|&v| v as f64).collect();
            for (l, &w) in widths.iter().chain([1usize].iter()).enumerate() {
                let d = &m.dense[l];
                let mut o: Vec<f64> = (0..w).map(|j| d.bias[j] as f64).collect();
                for (i, hi) in h.iter().enumerate() {
                    for (j, oj) in o.iter_mut().enumerate() {
                        *oj += hi * d.weight[i * d.outputs + j] as f64;
                    }
                }
                if l < widths.len() {
                    o.iter_mut().for_each(|v| *v = v.max(0.0));
                }
                h = o;
            }
            let (z, y) = (h[0], m.y[r] as f64);
            total += z.max(0.0) - z * y + (-z.abs()).exp().ln_1p();
        }
        let reference = total / m.rows as f64;
        let got = child_loss(&m, &widths);
        assert!(
            (got - reference).abs() < 1e-5,
            "{widths:?}: {got} vs {reference}"
        );
    }
    assert!((bce(0.0, 1.0) - 2f64.ln()).abs() < 1e-15);
}

#[test]
fn bad_blobs_are_refused() {
    let good = synthetic();
    let blob = Blob::new(&good[..good.len() - 4]);
    assert_eq!(
        Model::parse(blob.bytes()).unwrap_err(),
        ModelError::Truncated
    );
    let mut more = good.clone();
    more.extend_from_slice(&[0; 4]);
    assert_eq!(
        Model::parse(Blob::new(&more).bytes()).unwrap_err(),
        ModelError::TrailingBytes
    );
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(
        Model::parse(Blob::new(&bad).bytes()).unwrap_err(),
        ModelError::BadMagic
    );
    let mut v2 = good;
    v2[4] = 2;
    assert_eq!(
        Model::parse(Blob::new(&v2).bytes()).unwrap_err(),
        ModelError::Version(2)
    );
}

/// A clock that advances by a fixed amount per read, as a cycle counter would.
struct Ticks(u32);
impl Clock for Ticks {
    fn now(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(97);
        self.0
    }
    fn hz(&self) -> u32 {
        25_000_000
    }
}

#[test]
fn a_whole_search_written_as_a_log_replays_identically() {
    let model_bytes = synthetic();
    let blob = Blob::new(&model_bytes);
    let m = Model::parse(blob.bytes()).unwrap();
    let space = SearchSpace::new(&[&[1, 2, 4, 6], &[1, 2, 4]]).unwrap();
    // A table with varied entries (a real clock's, made up here).
    let mut table = LatencyTable::new(&space, 0.0);
    measure_table(&m, &space, &mut Ticks(0), 4, 2, &mut table);
    assert_eq!(table.missing(), 0);
    for b in 0..table.num_blocks() {
        let (di, dout) = table.block_dims(b);
        for i in 0..di {
            for o in 0..dout {
                table
                    .set(b, i, o, 0.5 + (b * 7 + i * 3 + o) as f64 * 0.25)
                    .unwrap();
            }
        }
    }
    let config = SearchConfig {
        space: space.clone(),
        resource: Resource::LatencyUs,
        target: 9.0,
        settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 64 }, 0.1),
        steps: 300,
        seed: 7,
    };
    let mut packed = [0u8; SearchConfig::MAX_ENCODED_LEN];
    let packed = config.encode(&mut packed).unwrap().to_vec();
    let mut quality = ForwardQuality::new(&m, &space);
    let outcome = run(&config, &table, &mut quality, |_| {}).unwrap();
    assert_eq!(outcome.counts.steps, 300);
    assert!(outcome.best.is_some());
    assert!(quality.evaluated > 0);
    let mut log = String::new();
    table_lines(&mut log, &table).unwrap();
    loss_lines(&mut log, quality.losses()).unwrap();
    result_lines(&mut log, &space, &outcome).unwrap();
    let lines = replay(&packed, blob.bytes(), &log).unwrap();
    assert!(lines.contains("REPLAY agrees"), "{lines}");

    // A changed loss, a changed table entry or a changed answer is caught.
    let first_loss = log
        .lines()
        .find(|l| l.starts_with("LOSS"))
        .unwrap()
        .to_string();
    let mut tampered = first_loss.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    assert!(replay(&packed, blob.bytes(), &log.replace(&first_loss, &tampered)).is_err());
    let trace = log
        .lines()
        .find(|l| l.starts_with("TRACE"))
        .unwrap()
        .to_string();
    assert!(replay(&packed, blob.bytes(), &log.replace(&trace, "TRACE 0")).is_err());
    let mut wrong_table = String::new();
    for l in log.lines() {
        if l.starts_with("TABLE 0 0 0 ") {
            writeln!(wrong_table, "TABLE 0 0 0 {:08x} 9", 9f32.to_bits()).unwrap();
        } else {
            writeln!(wrong_table, "{l}").unwrap();
        }
    }
    assert!(replay(&packed, blob.bytes(), &wrong_table).is_err());
}

/// The run under qemu-system-arm that scripts/boards.sh made, replayed here.
#[test]
fn the_firmware_run_under_qemu_replays_here() {
    let (Ok(log), Ok(config), Ok(model)) = (
        std::env::var("TABNAS_CM4_LOG"),
        std::env::var("TABNAS_CM4_CONFIG"),
        std::env::var("TABNAS_CM4_MODEL"),
    ) else {
        eprintln!("skipped: TABNAS_CM4_LOG/CONFIG/MODEL not set (scripts/boards.sh sets them)");
        return;
    };
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        log.contains("\nDONE"),
        "the firmware did not finish:\n{log}"
    );
    let blob = Blob::new(&std::fs::read(model).unwrap());
    let lines = replay(&std::fs::read(config).unwrap(), blob.bytes(), &log)
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{lines}");
    // The forward pass against tract (the agent's runner) on the same rows, for the
    // children the generator wrote (`cm4_blob`'s reference.txt).
    if let Ok(reference) = std::env::var("TABNAS_CM4_REFERENCE") {
        let m = Model::parse(blob.bytes()).unwrap();
        let text = std::fs::read_to_string(reference).unwrap();
        for line in text.lines() {
            let (widths, loss) = line.split_once(' ').unwrap();
            let widths: Vec<usize> = widths.split('-').map(|w| w.parse().unwrap()).collect();
            let tract: f64 = loss.parse().unwrap();
            let mine = child_loss(&m, &widths);
            println!("tract {line}: forward pass {mine:.17e}");
            assert!(
                (mine - tract).abs() < 1e-5,
                "{widths:?}: {mine} here, {tract} in tract"
            );
        }
    }
}
