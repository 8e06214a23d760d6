//! A Criteo or CSV file of any size, read in two streaming passes.
//!
//! Each row's split is a seeded hash of its position, so it is known as the row is read
//! and no list of rows is kept. The first pass fits the preprocessing on the training
//! rows (running sums per column), collects the distinct labels (a CSV's label mapping)
//! and counts what the checks need; the second encodes every row, appends the training
//! rows to a [`RowFile`] in the spill folder and keeps a uniform sample (reservoir
//! sampling, seeded) of at most `max_eval_rows` validation and test rows in memory.
//! Memory is the read buffer, the write buffer, the distinct labels and the two samples,
//! whatever the file's size; the split sizes are the fractions up to the binomial spread.
//!
//! [`RowFile`]: crate::supernet::RowFile

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tabnas_core::rng::{search_rng, SearchRng};

use super::checks::{check_split, SplitCounts};
use super::reservoir::Reservoir;
use super::snapshot::Snapshot;
use super::stream::{Columns, Stream, StreamRow};
use super::{check_columns, PrepareError, PrepareOptions, Prepared};
use crate::data::{
    CategoricalColumn, CriteoForm, DataError, LabelCollector, LabelMap, NumericStats,
    Preprocessing, SplitError, Task,
};
use crate::supernet::{RowFileError, RowFileWriter, TrainRows};

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

/// What the first pass learns.
struct FirstPass {
    rows: usize,
    parts: [usize; 3],
    stats: Vec<NumericStats>,
    rows_with_value: Vec<usize>,
    /// Rows of each distinct class label (in first-seen order), overall and in training.
    class_rows: Vec<usize>,
    class_train: Vec<usize>,
    labels: LabelMap,
    form: Option<CriteoForm>,
}

fn first_pass(
    stream: Stream<'_>,
    columns: &Columns,
    options: &PrepareOptions,
) -> Result<FirstPass, PrepareError> {
    let width = columns.numeric.len();
    let mut stats = vec![NumericStats::default(); width];
    let mut rows_with_value = vec![0; width];
    let mut parts = [0; 3];
    let (mut class_rows, mut class_train) = (Vec::new(), Vec::new());
    let mut collector = LabelCollector::new(stream.path(), &columns.label, columns.kind);
    let mut row = 0u64;
    let (rows, form) = stream.for_each(options.max_rows, |r: &StreamRow<'_>| {
        let part = part_of(options, row);
        row += 1;
        parts[part as usize] += 1;
        if let Some(d) = collector.push(r.line, r.label)?.class() {
            if d == class_rows.len() {
                class_rows.push(0);
                class_train.push(0);
            }
            class_rows[d] += 1;
            class_train[d] += usize::from(part == Part::Train);
        }
        for (c, &x) in r.numeric.iter().enumerate() {
            rows_with_value[c] += usize::from(!x.is_nan());
        }
        if part == Part::Train {
            for ((s, &x), &log1p) in stats.iter_mut().zip(r.numeric).zip(&columns.log1p) {
                s.push(x, log1p);
            }
        }
        Ok(())
    })?;
    if rows == 0 {
        return Err(PrepareError::Load(DataError::NoRows {
            path: stream.path().to_path_buf(),
        }));
    }
    let labels = collector.finish(columns.positive.as_deref())?;
    Ok(FirstPass {
        rows,
        parts,
        stats,
        rows_with_value,
        class_rows,
        class_train,
        labels,
        form,
    })
}

/// Creates the spill folder and the row file in it.
fn row_file_writer(
    spill: &Spill,
    numeric_width: usize,
    categorical_width: usize,
) -> Result<RowFileWriter, RowFileError> {
    std::fs::create_dir_all(&spill.dir).map_err(|e| RowFileError {
        path: spill.dir.clone(),
        doing: "create the spill folder".into(),
        detail: if spill.dir.exists() && !spill.dir.is_dir() {
            "it is a file, not a folder".into()
        } else {
            e.to_string()
        },
    })?;
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let file = spill
        .dir
        .join(format!("train-{}-{stamp}.rows", std::process::id()));
    RowFileWriter::create(&file, numeric_width, categorical_width)
}

/// Prepares a file in two streaming passes (see the module's documentation).
pub(super) fn prepare_streamed(
    stream: Stream<'_>,
    spill: &Spill,
    options: PrepareOptions,
) -> Result<Prepared, PrepareError> {
    let path = stream.path();
    let name = path.display().to_string();
    let snapshot = regular_file(path, &name)?;
    let columns = stream.columns()?;
    check_columns(&name, columns.numeric.len() + columns.categorical.len())?;
    // Then the row file: a folder that cannot hold it fails before any pass.
    let (numeric_width, categorical_width) = (columns.numeric.len(), columns.categorical.len());
    let mut writer = row_file_writer(spill, numeric_width, categorical_width)
        .map_err(|source| spill_error(&name, source))?;

    let first = first_pass(stream, &columns, &options)?;
    first.check(&name, &columns)?;
    let preprocessing = first.preprocessing(&columns, options.buckets);
    let encoding = Encoding {
        name: &name,
        columns: &columns,
        labels: &first.labels,
        preprocessing: &preprocessing,
    };
    if let Some(c) = preprocessing.unscalable_column() {
        return Err(encoding.scale(c));
    }

    let kept = second_pass(stream, &options, spill, &encoding, &mut writer)?;
    if kept.rows != first.rows {
        return Err(PrepareError::Changed {
            name,
            first_pass: first.rows,
            second_pass: kept.rows,
        });
    }
    if !snapshot.unchanged(path) {
        return Err(PrepareError::Modified { name });
    }
    let train_rows = writer
        .finish()
        .map_err(|source| spill_error(&name, source))?;
    let notes = kept.notes(&name, &first, &columns, spill);
    Ok(Prepared {
        name,
        task: first.labels.task.clone(),
        preprocessing,
        embedding_dim: options.embedding_dim,
        train: TrainRows::File(train_rows),
        valid: kept.valid.rows,
        test: kept.test.rows,
        notes,
    })
}

/// The error of the spill folder or its row file, for the source `name`.
fn spill_error(name: &str, source: RowFileError) -> PrepareError {
    PrepareError::Spill {
        name: name.to_string(),
        source,
    }
}

/// What `path` looks like now, when it is a regular file: it is read twice, and a pipe
/// would block on its second opening, or give no rows.
fn regular_file(path: &Path, name: &str) -> Result<Snapshot, PrepareError> {
    let meta = std::fs::metadata(path).map_err(|source| {
        PrepareError::Load(DataError::Open {
            path: path.to_path_buf(),
            source,
        })
    })?;
    if !meta.is_file() {
        return Err(PrepareError::NotRegularFile {
            name: name.to_string(),
        });
    }
    Ok(Snapshot::of(&meta))
}

impl FirstPass {
    /// Refuses a stream with too few rows, or whose split fails the checks every source
    /// passes.
    fn check(&self, name: &str, columns: &Columns) -> Result<(), PrepareError> {
        if self.rows < PrepareError::MIN_ROWS {
            return Err(PrepareError::TooFewRows {
                name: name.to_string(),
                rows: self.rows,
            });
        }
        let classes = match self.labels.task {
            Task::Binary { .. } => (0..self.labels.classes())
                .map(|d| {
                    let class = self.labels.text_of(d).to_string();
                    (class, self.class_rows[d], self.class_train[d])
                })
                .collect(),
            _ => Vec::new(),
        };
        let numeric = (columns.numeric.iter().enumerate())
            .map(|(c, column)| {
                let in_train = self.stats[c].count() as usize;
                (column.clone(), self.rows_with_value[c], in_train)
            })
            .collect();
        check_split(
            name,
            &SplitCounts {
                parts: self.parts,
                classes,
                numeric,
            },
        )
    }

    /// The preprocessing fitted on the training rows' running sums.
    fn preprocessing(&self, columns: &Columns, buckets: u32) -> Preprocessing {
        Preprocessing {
            numeric: (0..columns.numeric.len())
                .map(|c| self.stats[c].column(&columns.numeric[c], columns.log1p[c]))
                .collect(),
            categorical: columns
                .categorical
                .iter()
                .map(|name| CategoricalColumn {
                    name: name.clone(),
                    buckets,
                })
                .collect(),
            hash: "fnv1a64".into(),
        }
    }
}

/// How the second pass turns a row into the model's inputs and label.
struct Encoding<'a> {
    /// The source's name, for errors.
    name: &'a str,
    columns: &'a Columns,
    /// The label mapping the first pass found.
    labels: &'a LabelMap,
    preprocessing: &'a Preprocessing,
}

impl Encoding<'_> {
    /// The error of numeric column `c`, whose values overflow when standardised.
    fn scale(&self, c: usize) -> PrepareError {
        PrepareError::Scale {
            name: self.name.to_string(),
            column: self.columns.numeric[c].clone(),
        }
    }

    /// Encodes `r` into `numeric` and `categorical`; returns its label. A label the first
    /// pass did not see, or a value that overflows, is an error.
    fn encode(
        &self,
        r: &StreamRow<'_>,
        numeric: &mut [f32],
        categorical: &mut [i64],
    ) -> Result<f32, PrepareError> {
        let label = self
            .labels
            .value(r.label)
            .ok_or_else(|| PrepareError::ChangedLabel {
                name: self.name.to_string(),
                line: r.line,
                label: r.label.to_string(),
            })?;
        for (c, (x, &raw)) in numeric.iter_mut().zip(r.numeric).enumerate() {
            *x = self.preprocessing.numeric_value(c, raw);
            if !x.is_finite() {
                return Err(self.scale(c));
            }
        }
        for (c, (b, raw)) in categorical.iter_mut().zip(r.categorical).enumerate() {
            *b = self.preprocessing.bucket(c, *raw);
        }
        Ok(label)
    }
}

/// What the second pass keeps besides the row file: the rows it read and the samples of
/// the validation and test rows.
struct Kept {
    rows: usize,
    valid: Reservoir<SearchRng>,
    test: Reservoir<SearchRng>,
}

/// Encodes every row: training rows to `writer`, validation and test rows offered to
/// their samples. An error of a row (a value that overflows, a failed write) ends it.
fn second_pass(
    stream: Stream<'_>,
    options: &PrepareOptions,
    spill: &Spill,
    encoding: &Encoding<'_>,
    writer: &mut RowFileWriter,
) -> Result<Kept, PrepareError> {
    let (numeric_width, categorical_width) = (
        encoding.columns.numeric.len(),
        encoding.columns.categorical.len(),
    );
    let reservoir = |salt| {
        Reservoir::new(
            spill.max_eval_rows,
            numeric_width,
            categorical_width,
            search_rng(options.seed ^ salt),
        )
    };
    let (mut valid, mut test) = (reservoir(0x7661), reservoir(0x7465));
    let mut numeric = vec![0.0f32; numeric_width];
    let mut categorical = vec![0i64; categorical_width];
    let mut row = 0u64;
    let (rows, _) = stream.for_each(options.max_rows, |r: &StreamRow<'_>| {
        let part = part_of(options, row);
        row += 1;
        let label = encoding.encode(r, &mut numeric, &mut categorical)?;
        match part {
            Part::Train => writer
                .push(label, &numeric, &categorical)
                .map_err(|source| spill_error(encoding.name, source))?,
            Part::Valid => valid.offer(label, &numeric, &categorical),
            Part::Test => test.offer(label, &numeric, &categorical),
        }
        Ok(())
    })?;
    Ok(Kept { rows, valid, test })
}

impl Kept {
    /// What a person should know of the streamed read: where the training rows are, and
    /// which splits are samples.
    fn notes(
        &self,
        name: &str,
        first: &FirstPass,
        columns: &Columns,
        spill: &Spill,
    ) -> Vec<String> {
        let form = first.form.map(|f| format!(" in {f}")).unwrap_or_default();
        let train = first.parts[0];
        let record = 4 + 4 * columns.numeric.len() + 8 * columns.categorical.len();
        let mut notes = vec![format!(
            "read {name}{form} in two streaming passes; its {train} training rows are in an \
             unlinked row file in {} ({:.1} MB, read a batch at a time)",
            spill.dir.display(),
            train as f64 * record as f64 / 1e6
        )];
        for (split, kept) in [("validation", &self.valid), ("test", &self.test)] {
            if kept.seen as usize > kept.rows.rows {
                notes.push(format!(
                    "{split}: a uniform sample of {} of its {} rows is kept (--max-eval-rows)",
                    kept.rows.rows, kept.seen
                ));
            }
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{
        read_criteo, read_csv, ColumnRef, CsvOptions, LabelKind, PreprocessOptions,
        CRITEO_CAT_FIELDS, CRITEO_INT_FIELDS,
    };
    use crate::prepare::{prepare, DataSource};
    use rand_core::Rng;
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

    /// A CSV file with a header, a categorical and a log1p column, missing values and
    /// labels `kind` gives from row `r`.
    fn csv_file(rows: usize, label: impl Fn(usize) -> String) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "id,count,colour,score,y").unwrap();
        for r in 0..rows {
            let count = if r % 11 == 0 {
                "?".to_string()
            } else {
                ((r * 37) % 1000).to_string()
            };
            let colour = if r % 13 == 0 {
                String::new()
            } else {
                format!("c{}", r % 9)
            };
            let score = (r as f32 * 0.37).sin();
            writeln!(f, "{r},{count},{colour},{score},{}", label(r)).unwrap();
        }
        f
    }

    fn csv_options(kind: LabelKind) -> CsvOptions {
        let mut o = CsvOptions::new(ColumnRef::Name("y".into()), kind);
        o.header = true;
        o.categorical = vec![ColumnRef::Name("colour".into())];
        o.ignore = vec![ColumnRef::Name("id".into())];
        o.log1p = vec![ColumnRef::Name("count".into())];
        o
    }

    /// The streamed preparation of `f` against the table read whole: the expected task,
    /// the same columns, fit (1e-5) and encoding of the training rows.
    fn check_csv_stream_matches_table(f: &tempfile::NamedTempFile, kind: LabelKind, task: Task) {
        let dir = tempfile::tempdir().unwrap();
        let source = DataSource::Csv {
            path: f.path().to_path_buf(),
            options: csv_options(kind),
            spill: Some(Spill {
                dir: dir.path().to_path_buf(),
                max_eval_rows: 100_000,
            }),
        };
        let data = prepare(&source, options()).unwrap();
        let table = read_csv(f.path(), &csv_options(kind)).unwrap();
        assert_eq!((&data.task, &table.task), (&task, &task), "{kind:?}");
        let names = |p: &Preprocessing| -> (Vec<String>, Vec<String>) {
            (
                p.numeric.iter().map(|c| c.name.clone()).collect(),
                p.categorical.iter().map(|c| c.name.clone()).collect(),
            )
        };
        assert_eq!(
            names(&data.preprocessing),
            (vec!["count".into(), "score".into()], vec!["colour".into()])
        );
        let train: Vec<usize> = (0..table.rows())
            .filter(|&r| part_of(&options(), r as u64) == Part::Train)
            .collect();
        let fit = Preprocessing::fit(&table, &train, PreprocessOptions { buckets: 64 });
        assert_eq!(fit.categorical, data.preprocessing.categorical);
        for (a, b) in fit.numeric.iter().zip(&data.preprocessing.numeric) {
            assert_eq!((&a.name, a.log1p), (&b.name, b.log1p));
            assert!((a.mean - b.mean).abs() <= 1e-5 * a.mean.abs().max(1.0));
            assert!((a.std - b.std).abs() <= 1e-5 * a.std.abs().max(1.0));
        }
        let encoded = data.preprocessing.encode(&table, &train);
        let all: Vec<usize> = (0..train.len()).collect();
        let TrainRows::File(file) = &data.train else {
            panic!("a spilled source keeps its training rows in a file")
        };
        let batch = file.gather(&all).unwrap();
        assert_eq!(batch.numeric.len(), encoded.numeric.len());
        assert_eq!(batch.labels, encoded.labels, "{kind:?}");
        assert_eq!(batch.categorical, encoded.categorical);
        for (a, b) in batch.numeric.iter().zip(&encoded.numeric) {
            assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
        }
        assert_eq!(
            data.train.rows() + data.valid.rows + data.test.rows,
            table.rows()
        );
    }

    #[test]
    fn a_streamed_csv_is_the_table_read_whole_for_every_task() {
        let binary = csv_file(900, |r| {
            if (r * 7) % 5 < 2 { ">50K" } else { "<=50K" }.into()
        });
        let task = Task::Binary {
            positive: ">50K".into(),
            negative: "<=50K".into(),
        };
        check_csv_stream_matches_table(&binary, LabelKind::Binary, task);
        let multiclass = csv_file(900, |r| ["10", "9", "2", "33"][(r * 5) % 4].into());
        let classes = ["2", "9", "10", "33"].map(String::from).to_vec();
        let task = Task::Multiclass { classes };
        check_csv_stream_matches_table(&multiclass, LabelKind::Multiclass, task);
        let regression = csv_file(900, |r| format!("{}", r as f32 * 0.5 - 100.0));
        check_csv_stream_matches_table(&regression, LabelKind::Regression, Task::Regression);
    }

    #[test]
    fn a_streamed_csv_stops_at_max_rows_and_names_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Some(Spill {
            dir: dir.path().to_path_buf(),
            max_eval_rows: 1000,
        });
        let source = |f: &tempfile::NamedTempFile| DataSource::Csv {
            path: f.path().to_path_buf(),
            options: csv_options(LabelKind::Binary),
            spill: spill.clone(),
        };
        // A broken row after --max-rows is never read.
        let mut f = csv_file(300, |r| (r % 2).to_string());
        writeln!(f, "this row is broken").unwrap();
        let max = PrepareOptions {
            max_rows: Some(200),
            ..options()
        };
        let data = prepare(&source(&f), max).unwrap();
        assert_eq!(data.train.rows() + data.valid.rows + data.test.rows, 200);
        let e = prepare(&source(&f), options()).unwrap_err();
        assert!(
            matches!(
                &e,
                PrepareError::Load(DataError::FieldCount { line: 302, .. })
            ),
            "{e:?}"
        );
        // A third label in a binary task is named at its line, in the first pass.
        let f = csv_file(300, |r| {
            if r == 250 { "maybe" } else { ["a", "b"][r % 2] }.into()
        });
        let e = prepare(&source(&f), options()).unwrap_err();
        assert!(
            matches!(
                &e,
                PrepareError::Load(DataError::ThirdLabel { line: 252, .. })
            ),
            "{e:?}"
        );
        // A column of the options that the header lacks, before any folder is made.
        let mut missing = csv_options(LabelKind::Binary);
        missing.categorical.push(ColumnRef::Name("shape".into()));
        let folder = dir.path().join("never");
        let e = prepare(
            &DataSource::Csv {
                path: f.path().to_path_buf(),
                options: missing,
                spill: Some(Spill {
                    dir: folder.clone(),
                    max_eval_rows: 10,
                }),
            },
            options(),
        )
        .unwrap_err();
        assert!(
            matches!(&e, PrepareError::Load(DataError::NotInHeader { .. })),
            "{e:?}"
        );
        assert!(!folder.exists());
        // Every column but the label ignored: no input.
        let mut none = csv_options(LabelKind::Binary);
        none.categorical.clear();
        none.log1p.clear();
        none.ignore = ["id", "count", "colour", "score"]
            .map(|c| ColumnRef::Name(c.into()))
            .to_vec();
        let e = prepare(
            &DataSource::Csv {
                path: f.path().to_path_buf(),
                options: none,
                spill: spill.clone(),
            },
            options(),
        )
        .unwrap_err();
        assert!(matches!(e, PrepareError::NoInputs { .. }), "{e:?}");
    }

    #[test]
    fn a_file_written_to_while_it_is_read_is_told_by_size_or_time() {
        let f = criteo_file(20, 5);
        let snapshot = Snapshot::of(&std::fs::metadata(f.path()).unwrap());
        assert!(snapshot.unchanged(f.path()));
        // Same size, another modification time (an edit that kept the row count).
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(f.path())
            .unwrap();
        let earlier = snapshot.modified.unwrap() - std::time::Duration::from_secs(60);
        file.set_modified(earlier).unwrap();
        assert!(!snapshot.unchanged(f.path()));
        // An append.
        let snapshot = Snapshot::of(&std::fs::metadata(f.path()).unwrap());
        let appending = std::fs::OpenOptions::new()
            .append(true)
            .open(f.path())
            .unwrap();
        writeln!(&appending, "1{}", "\t".repeat(39)).unwrap();
        file.set_modified(earlier).unwrap();
        assert!(!snapshot.unchanged(f.path()));
        // An edit in place whose modification time is set back (`touch -r`): the status
        // change time tells it (after a pause longer than a coarse file-system clock tick).
        #[cfg(unix)]
        {
            let snapshot = Snapshot::of(&std::fs::metadata(f.path()).unwrap());
            std::thread::sleep(std::time::Duration::from_millis(50));
            write!(&file, "1").unwrap();
            file.set_modified(snapshot.modified.unwrap()).unwrap();
            let now = Snapshot::of(&std::fs::metadata(f.path()).unwrap());
            assert_eq!((now.len, now.modified), (snapshot.len, snapshot.modified));
            assert!(!snapshot.unchanged(f.path()));
        }
        // Gone.
        let snapshot = Snapshot::of(&std::fs::metadata(f.path()).unwrap());
        let path = f.path().to_path_buf();
        drop(f);
        assert!(!snapshot.unchanged(&path));
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
