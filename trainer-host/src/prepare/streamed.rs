//! A Criteo file of any size, read in two streaming passes.
//!
//! Each row's split is a seeded hash of its position, so it is known as the row is read
//! and no list of rows is kept. The first pass fits the preprocessing on the training
//! rows (running sums per column) and counts what the checks need; the second encodes
//! every row, appends the training rows to a [`RowFile`] in the spill folder and keeps a
//! uniform sample (reservoir sampling, seeded) of at most `max_eval_rows` validation and
//! test rows in memory. Memory is the read buffer, the write buffer and the two samples,
//! whatever the file's size; the split sizes are the fractions up to the binomial spread.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rand_core::Rng;
use tabnas_core::rng::search_rng;

use super::{PrepareError, PrepareOptions, Prepared};
use crate::data::{
    for_each_criteo_row, CategoricalColumn, CriteoRow, DataError, LabelKind, NumericStats,
    Preprocessing, SplitError, Task, CRITEO_CAT_FIELDS, CRITEO_INT_FIELDS,
};
use crate::supernet::{RowFileError, RowFileWriter, Rows, TrainRows};

/// Where a streamed source keeps its training rows, and how many evaluation rows it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Spill {
    /// Folder of the training row file (created if missing; the file is removed when the
    /// rows are no longer used).
    pub dir: PathBuf,
    /// Validation and test rows kept in memory, each: a uniform sample when the split has
    /// more.
    pub max_eval_rows: usize,
}

/// The split of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Train,
    Valid,
    Test,
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Refuses fractions that are not in `[0, 1)` or leave no training rows, as the
/// in-memory split does.
pub(super) fn check_fractions(options: &PrepareOptions) -> Result<(), SplitError> {
    let (valid, test) = (options.valid_fraction, options.test_fraction);
    let ok = |f: f64| (0.0..1.0).contains(&f);
    if ok(valid) && ok(test) && valid + test < 1.0 {
        Ok(())
    } else {
        Err(SplitError::Fractions { valid, test })
    }
}

/// The split of row `row` (0-based) under `options`' seed and fractions.
fn part_of(options: &PrepareOptions, row: u64) -> Part {
    let u = (splitmix64(options.seed ^ splitmix64(row)) >> 11) as f64 / (1u64 << 53) as f64;
    if u < options.valid_fraction {
        Part::Valid
    } else if u < options.valid_fraction + options.test_fraction {
        Part::Test
    } else {
        Part::Train
    }
}

/// A uniform sample of at most `cap` encoded rows of a stream (Algorithm R).
struct Reservoir<R> {
    cap: usize,
    seen: u64,
    rows: Rows,
    rng: R,
}

impl<R: Rng> Reservoir<R> {
    fn new(cap: usize, rng: R) -> Self {
        Self {
            cap,
            seen: 0,
            rows: Rows {
                rows: 0,
                numeric_width: CRITEO_INT_FIELDS,
                categorical_width: CRITEO_CAT_FIELDS,
                numeric: Vec::new(),
                categorical: Vec::new(),
                labels: Vec::new(),
            },
            rng,
        }
    }

    fn offer(&mut self, label: f32, numeric: &[f32], categorical: &[i64]) {
        self.seen += 1;
        let r = &mut self.rows;
        if r.rows < self.cap {
            r.numeric.extend_from_slice(numeric);
            r.categorical.extend_from_slice(categorical);
            r.labels.push(label);
            r.rows += 1;
            return;
        }
        let j = (self.rng.next_u64() % self.seen) as usize;
        if j < self.cap {
            let (nw, cw) = (r.numeric_width, r.categorical_width);
            r.numeric[j * nw..(j + 1) * nw].copy_from_slice(numeric);
            r.categorical[j * cw..(j + 1) * cw].copy_from_slice(categorical);
            r.labels[j] = label;
        }
    }
}

/// What the first pass learns.
struct FirstPass {
    rows: usize,
    parts: [usize; 3],
    stats: [NumericStats; CRITEO_INT_FIELDS],
    rows_with_value: [usize; CRITEO_INT_FIELDS],
    /// Rows with label 0 and 1, overall and in training.
    class_rows: [usize; 2],
    class_train: [usize; 2],
    form: String,
}

fn first_pass(path: &Path, options: &PrepareOptions) -> Result<FirstPass, DataError> {
    let mut pass = FirstPass {
        rows: 0,
        parts: [0; 3],
        stats: [NumericStats::default(); CRITEO_INT_FIELDS],
        rows_with_value: [0; CRITEO_INT_FIELDS],
        class_rows: [0; 2],
        class_train: [0; 2],
        form: String::new(),
    };
    let (form, rows) = for_each_criteo_row(path, options.max_rows, |row: &CriteoRow<'_>| {
        let part = part_of(options, pass.rows as u64);
        pass.rows += 1;
        pass.parts[part as usize] += 1;
        let class = (row.label == 1.0) as usize;
        pass.class_rows[class] += 1;
        for (c, &x) in row.ints.iter().enumerate() {
            pass.rows_with_value[c] += !x.is_nan() as usize;
        }
        if part == Part::Train {
            pass.class_train[class] += 1;
            for (stats, &x) in pass.stats.iter_mut().zip(&row.ints) {
                stats.push(x, true);
            }
        }
        Ok(())
    })?;
    pass.rows = rows;
    pass.form = form.to_string();
    Ok(pass)
}

/// Prepares a Criteo file in two streaming passes (see the module's documentation).
pub(super) fn prepare_streamed(
    path: &Path,
    spill: &Spill,
    options: PrepareOptions,
) -> Result<Prepared, PrepareError> {
    let name = path.display().to_string();
    // Read twice: a pipe would block on its second opening, or give no rows.
    let meta = std::fs::metadata(path).map_err(|source| {
        PrepareError::Load(DataError::Open {
            path: path.to_path_buf(),
            source,
        })
    })?;
    if !meta.is_file() {
        return Err(PrepareError::NotRegularFile { name });
    }
    // Then the row file: a folder that cannot hold it fails before any pass.
    let spill_error = |source| PrepareError::Spill {
        name: name.clone(),
        source,
    };
    std::fs::create_dir_all(&spill.dir).map_err(|e| {
        spill_error(RowFileError {
            path: spill.dir.clone(),
            doing: "create the spill folder".into(),
            detail: if spill.dir.exists() && !spill.dir.is_dir() {
                "it is a file, not a folder".into()
            } else {
                e.to_string()
            },
        })
    })?;
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let file = spill
        .dir
        .join(format!("train-{}-{stamp}.rows", std::process::id()));
    let mut writer =
        RowFileWriter::create(&file, CRITEO_INT_FIELDS, CRITEO_CAT_FIELDS).map_err(spill_error)?;

    let first = first_pass(path, &options).map_err(PrepareError::Load)?;
    if first.rows == 0 {
        return Err(PrepareError::Load(DataError::NoRows {
            path: path.to_path_buf(),
        }));
    }
    for class in 0..2 {
        if first.class_rows[class] == 0 {
            return Err(PrepareError::Load(DataError::OneClass {
                path: path.to_path_buf(),
                column: "label".into(),
                kind: LabelKind::Binary,
                class: (1 - class).to_string(),
            }));
        }
    }
    if first.rows < PrepareError::MIN_ROWS {
        return Err(PrepareError::TooFewRows {
            name,
            rows: first.rows,
        });
    }
    let [train, valid, test] = first.parts;
    if train == 0 || valid == 0 || test == 0 {
        return Err(PrepareError::EmptyPart { train, valid, test });
    }
    for (class, label) in ["0", "1"].into_iter().enumerate() {
        if first.class_train[class] == 0 {
            return Err(PrepareError::ClassNotInTraining {
                name,
                class: label.to_string(),
                rows_with_class: first.class_rows[class],
                train,
            });
        }
    }
    let int_name = |c: usize| format!("I{}", c + 1);
    for c in 0..CRITEO_INT_FIELDS {
        if first.rows_with_value[c] > 0 && first.stats[c].count() == 0 {
            return Err(PrepareError::NoTrainingValues {
                name,
                column: int_name(c),
                rows_with_value: first.rows_with_value[c],
                train,
            });
        }
    }
    let preprocessing = Preprocessing {
        numeric: (0..CRITEO_INT_FIELDS)
            .map(|c| first.stats[c].column(&int_name(c), true))
            .collect(),
        categorical: (1..=CRITEO_CAT_FIELDS)
            .map(|k| CategoricalColumn {
                name: format!("C{k}"),
                buckets: options.buckets,
            })
            .collect(),
        hash: "fnv1a64".into(),
    };
    let scale = |c: usize| PrepareError::Scale {
        name: name.clone(),
        column: int_name(c),
    };
    if let Some(c) = preprocessing.unscalable_column() {
        return Err(scale(c));
    }

    let mut valid_rows = Reservoir::new(spill.max_eval_rows, search_rng(options.seed ^ 0x7661));
    let mut test_rows = Reservoir::new(spill.max_eval_rows, search_rng(options.seed ^ 0x7465));
    let mut numeric = [0.0f32; CRITEO_INT_FIELDS];
    let mut categorical = [0i64; CRITEO_CAT_FIELDS];
    let mut row = 0u64;
    // An error of a row (a value that overflows, a failed write) ends the pass.
    let second = for_each_criteo_row(path, options.max_rows, |r: &CriteoRow<'_>| {
        let part = part_of(&options, row);
        row += 1;
        for (c, (x, &raw)) in numeric.iter_mut().zip(&r.ints).enumerate() {
            *x = preprocessing.numeric_value(c, raw);
            if !x.is_finite() {
                return Err(scale(c));
            }
        }
        for (c, (b, raw)) in categorical.iter_mut().zip(&r.cats).enumerate() {
            *b = preprocessing.bucket(c, *raw);
        }
        match part {
            Part::Train => writer
                .push(r.label, &numeric, &categorical)
                .map_err(spill_error)?,
            Part::Valid => valid_rows.offer(r.label, &numeric, &categorical),
            Part::Test => test_rows.offer(r.label, &numeric, &categorical),
        }
        Ok(())
    })?;
    if second.1 != first.rows {
        return Err(PrepareError::Changed {
            name,
            first_pass: first.rows,
            second_pass: second.1,
        });
    }
    let train_rows = writer.finish().map_err(spill_error)?;
    let mut notes = vec![format!(
        "read {name} in {} in two streaming passes; its {train} training rows are in an \
         unlinked row file in {} ({:.1} MB, read a batch at a time)",
        first.form,
        spill.dir.display(),
        train as f64 * (4 + 4 * CRITEO_INT_FIELDS + 8 * CRITEO_CAT_FIELDS) as f64 / 1e6
    )];
    for (split, kept) in [("validation", &valid_rows), ("test", &test_rows)] {
        if kept.seen as usize > kept.rows.rows {
            notes.push(format!(
                "{split}: a uniform sample of {} of its {} rows is kept (--max-eval-rows)",
                kept.rows.rows, kept.seen
            ));
        }
    }
    Ok(Prepared {
        name,
        task: Task::Binary {
            positive: "1".into(),
            negative: "0".into(),
        },
        preprocessing,
        embedding_dim: options.embedding_dim,
        train: TrainRows::File(train_rows),
        valid: valid_rows.rows,
        test: test_rows.rows,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{read_criteo, PreprocessOptions};
    use crate::prepare::{prepare, DataSource};
    use std::io::Write;

    /// Rows in Criteo's raw form: both labels, empty and negative integers, categories
    /// from a small vocabulary.
    fn criteo_file(rows: usize, seed: u64) -> tempfile::NamedTempFile {
        let mut rng = search_rng(seed);
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for _ in 0..rows {
            let mut fields = vec![u8::from(rng.next_u32().is_multiple_of(4)).to_string()];
            for _ in 0..CRITEO_INT_FIELDS {
                let v = rng.next_u32() % 300;
                fields.push(match v {
                    0..=20 => String::new(),
                    21..=30 => "-1".into(),
                    v => (v * v).to_string(),
                });
            }
            for _ in 0..CRITEO_CAT_FIELDS {
                let v = rng.next_u32() % 50;
                fields.push(if v < 5 {
                    String::new()
                } else {
                    format!("{v:08x}")
                });
            }
            writeln!(f, "{}", fields.join("\t")).unwrap();
        }
        f
    }

    fn options() -> PrepareOptions {
        PrepareOptions {
            seed: 3,
            buckets: 64,
            ..PrepareOptions::default()
        }
    }

    #[test]
    fn streamed_rows_are_the_rows_read_whole_split_by_hash() {
        let f = criteo_file(2000, 1);
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill {
            dir: dir.path().join("spill"),
            max_eval_rows: 100_000,
        };
        let source = DataSource::Criteo {
            path: f.path().to_path_buf(),
            spill: Some(spill),
        };
        let data = prepare(&source, options()).unwrap();
        // The same split, fit and encoding from the table read whole.
        let (table, _) = read_criteo(f.path(), None).unwrap();
        let parts: Vec<Part> = (0..2000).map(|r| part_of(&options(), r)).collect();
        let rows_of = |p: Part| -> Vec<usize> { (0..2000).filter(|&r| parts[r] == p).collect() };
        let (train, valid, test) = (
            rows_of(Part::Train),
            rows_of(Part::Valid),
            rows_of(Part::Test),
        );
        // 15% / 15% / 70% of 2000 rows, within 4 standard deviations of the binomial.
        for (n, share) in [(valid.len(), 0.15), (test.len(), 0.15), (train.len(), 0.7)] {
            let sd = (2000.0f64 * share * (1.0 - share)).sqrt();
            assert!(
                (n as f64 - 2000.0 * share).abs() < 4.0 * sd,
                "{n} rows for {share}"
            );
        }
        let fit = Preprocessing::fit(&table, &train, PreprocessOptions { buckets: 64 });
        for (a, b) in fit.numeric.iter().zip(&data.preprocessing.numeric) {
            assert!(
                (a.mean - b.mean).abs() <= 1e-5 * a.mean.abs().max(1.0),
                "{a:?} {b:?}"
            );
            assert!(
                (a.std - b.std).abs() <= 1e-5 * a.std.abs().max(1.0),
                "{a:?} {b:?}"
            );
        }
        let TrainRows::File(file) = &data.train else {
            panic!("a spilled source keeps its training rows in a file")
        };
        assert_eq!(file.rows(), train.len());
        assert!(file.path().starts_with(dir.path().join("spill")));
        // Unlinked: the folder is empty while the rows are in use.
        assert_eq!(
            std::fs::read_dir(dir.path().join("spill")).unwrap().count(),
            0
        );
        let encoded = data.preprocessing.encode(&table, &train);
        let all: Vec<usize> = (0..train.len()).collect();
        let batch = file.gather(&all).unwrap();
        assert_eq!(batch.labels, encoded.labels);
        assert_eq!(batch.categorical, encoded.categorical);
        for (a, b) in batch.numeric.iter().zip(&encoded.numeric) {
            assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
        }
        // Under the cap the evaluation splits are kept whole, in file order.
        assert_eq!(
            data.valid.labels,
            data.preprocessing.encode(&table, &valid).labels
        );
        assert_eq!(data.test.rows, test.len());
    }

    #[test]
    fn evaluation_splits_beyond_the_cap_are_a_seeded_sample() {
        let f = criteo_file(3000, 2);
        let dir = tempfile::tempdir().unwrap();
        let source = |cap| DataSource::Criteo {
            path: f.path().to_path_buf(),
            spill: Some(Spill {
                dir: dir.path().to_path_buf(),
                max_eval_rows: cap,
            }),
        };
        let a = prepare(&source(50), options()).unwrap();
        let b = prepare(&source(50), options()).unwrap();
        assert_eq!((a.valid.rows, a.test.rows), (50, 50));
        assert_eq!(a.valid, b.valid, "the same seed keeps the same sample");
        assert!(
            a.notes.iter().any(|n| n.contains("uniform sample of 50")),
            "{:?}",
            a.notes
        );
        assert_eq!(a.train.rows(), b.train.rows());
    }

    #[test]
    fn bad_streams_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Some(Spill {
            dir: dir.path().to_path_buf(),
            max_eval_rows: 10,
        });
        // Every label 0: one class, as the in-memory reader says.
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for _ in 0..40 {
            writeln!(f, "0{}", "\t".repeat(39)).unwrap();
        }
        let source = DataSource::Criteo {
            path: f.path().to_path_buf(),
            spill: spill.clone(),
        };
        let e = prepare(&source, options()).unwrap_err();
        assert!(
            matches!(&e, PrepareError::Load(DataError::OneClass { class, .. }) if class == "0"),
            "{e}"
        );
        // The one row with label 1 falls outside the training split.
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let first_valid = (0..)
            .find(|&r| part_of(&options(), r) != Part::Train)
            .unwrap();
        for r in 0..40 {
            let label = u8::from(r == first_valid);
            writeln!(f, "{label}{}", "\t".repeat(39)).unwrap();
        }
        let source = DataSource::Criteo {
            path: f.path().to_path_buf(),
            spill: spill.clone(),
        };
        let e = prepare(&source, options()).unwrap_err();
        assert!(
            matches!(&e, PrepareError::ClassNotInTraining { class, rows_with_class: 1, .. } if class == "1"),
            "{e}"
        );
        // A pipe cannot be read twice; a missing file is named before any folder is made.
        let source = DataSource::Criteo {
            path: PathBuf::from("/dev/stdin"),
            spill: spill.clone(),
        };
        if std::fs::metadata("/dev/stdin").is_ok_and(|m| !m.is_file()) {
            let e = prepare(&source, options()).unwrap_err();
            assert!(matches!(e, PrepareError::NotRegularFile { .. }), "{e}");
        }
        let missing = dir.path().join("no-such-folder");
        let source = DataSource::Criteo {
            path: PathBuf::from("/nonexistent/criteo.txt"),
            spill: Some(Spill {
                dir: missing.clone(),
                max_eval_rows: 10,
            }),
        };
        let e = prepare(&source, options()).unwrap_err();
        assert!(
            matches!(e, PrepareError::Load(DataError::Open { .. })),
            "{e}"
        );
        assert!(!missing.exists());
        // Fractions that leave no training rows are refused before any reading.
        let source = DataSource::Criteo {
            path: PathBuf::from("/nonexistent/criteo.txt"),
            spill: spill.clone(),
        };
        let bad = PrepareOptions {
            valid_fraction: 0.6,
            test_fraction: 0.5,
            ..options()
        };
        let e = prepare(&source, bad).unwrap_err();
        assert!(matches!(e, PrepareError::Split(_)), "{e}");
        // No rows at all.
        let empty = tempfile::NamedTempFile::new().unwrap();
        let source = DataSource::Criteo {
            path: empty.path().to_path_buf(),
            spill: spill.clone(),
        };
        let e = prepare(&source, options()).unwrap_err();
        assert!(
            matches!(e, PrepareError::Load(DataError::NoRows { .. })),
            "{e}"
        );
        // A spill folder that cannot be created (a file is in the way).
        let blocker = tempfile::NamedTempFile::new().unwrap();
        let f = criteo_file(200, 4);
        let source = DataSource::Criteo {
            path: f.path().to_path_buf(),
            spill: Some(Spill {
                dir: blocker.path().join("sub"),
                max_eval_rows: 10,
            }),
        };
        let e = prepare(&source, options()).unwrap_err();
        assert!(matches!(e, PrepareError::Spill { .. }), "{e}");
        assert!(
            e.to_string().contains("cannot keep the training rows"),
            "{e}"
        );
    }
}
