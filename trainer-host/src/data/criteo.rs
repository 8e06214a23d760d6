//! Criteo display-advertising rows in either form people have them:
//!
//! - **raw**: tab-separated label, 13 integer fields (may be empty or negative) and 26
//!   categorical fields (8-hex-digit hashes, may be empty), no header (Criteo's release);
//! - **Kaggle CSV**: a header line `Id,Label,I1,...,I13,C1,...,C26`, commas (the Kaggle
//!   display-advertising challenge's `train.csv`); columns are found by their header
//!   names, and the `Id` column is ignored.
//!
//! The form is told from the first non-empty line and returned, so that a command can say
//! which it saw. Criteo's terms forbid redistributing its rows, so tests use rows
//! generated in this format. Integers are kept raw here and marked for the usual
//! clip-at-0-then-log(x + 1) ([`RawTable::numeric_log1p`]), which preprocessing applies. A line longer than [`MAX_LINE_BYTES`] is
//! refused. Reading stops after `max_rows` rows when it is given.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::criteo_form::CriteoForm;
use super::error::DataError;
use super::limit::{LineLimit, LineTooLong, MAX_LINE_BYTES};
use super::table::RawTable;
use super::task::{LabelKind, Task};

/// Integer fields per row (I1..I13).
pub const CRITEO_INT_FIELDS: usize = 13;
/// Categorical fields per row (C1..C26).
pub const CRITEO_CAT_FIELDS: usize = 26;

/// Where each field of a row is, for one form.
struct Layout {
    form: CriteoForm,
    separator: char,
    fields: usize,
    label: usize,
    ints: [usize; CRITEO_INT_FIELDS],
    cats: [usize; CRITEO_CAT_FIELDS],
}

impl Layout {
    fn raw() -> Self {
        Self {
            form: CriteoForm::Raw,
            separator: '\t',
            fields: 1 + CRITEO_INT_FIELDS + CRITEO_CAT_FIELDS,
            label: 0,
            ints: std::array::from_fn(|k| 1 + k),
            cats: std::array::from_fn(|k| 1 + CRITEO_INT_FIELDS + k),
        }
    }

    /// The Kaggle layout from its header line (line 1 of `path`).
    fn kaggle(path: &Path, header: &str) -> Result<Self, DataError> {
        let names: Vec<&str> = header.split(',').map(str::trim).collect();
        let find = |name: &str| {
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(name))
                .ok_or_else(|| DataError::CriteoHeader {
                    path: path.to_path_buf(),
                    missing: name.to_string(),
                })
        };
        let mut ints = [0; CRITEO_INT_FIELDS];
        for (k, at) in ints.iter_mut().enumerate() {
            *at = find(&format!("I{}", k + 1))?;
        }
        let mut cats = [0; CRITEO_CAT_FIELDS];
        for (k, at) in cats.iter_mut().enumerate() {
            *at = find(&format!("C{}", k + 1))?;
        }
        Ok(Self {
            form: CriteoForm::Kaggle,
            separator: ',',
            fields: names.len(),
            label: find("Label")?,
            ints,
            cats,
        })
    }
}

/// Whether a first line is a Kaggle header: comma-separated, no tab, and a field named
/// `Id` or `Label`.
fn is_kaggle_header(line: &str) -> bool {
    !line.contains('\t')
        && line
            .split(',')
            .any(|f| f.trim().eq_ignore_ascii_case("id") || f.trim().eq_ignore_ascii_case("label"))
}

/// One parsed row, borrowed from the line it was read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CriteoRow<'a> {
    /// 1-based line of the file.
    pub line: u64,
    /// 0 or 1.
    pub label: f32,
    /// I1..I13, NaN where empty.
    pub ints: [f32; CRITEO_INT_FIELDS],
    /// C1..C26, `None` where empty.
    pub cats: [Option<&'a str>; CRITEO_CAT_FIELDS],
}

/// Streams the rows of a Criteo file in either form to `visit`, at most `max_rows` of
/// them when given (reading stops there); returns the form it saw and the rows visited.
/// Memory is one line (at most [`MAX_LINE_BYTES`]) and the read buffer, whatever the
/// file's size. An error of `visit` ends the stream and is returned.
pub fn for_each_criteo_row<E: From<DataError>>(
    path: &Path,
    max_rows: Option<usize>,
    mut visit: impl FnMut(&CriteoRow<'_>) -> Result<(), E>,
) -> Result<(CriteoForm, usize), E> {
    let file = File::open(path).map_err(|source| DataError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut layout: Option<Layout> = None;
    let max_rows = max_rows.unwrap_or(usize::MAX);
    let mut rows = 0usize;
    let mut reader = BufReader::with_capacity(1 << 16, LineLimit::new(file, MAX_LINE_BYTES, false));
    let mut buffer = String::new();
    let mut n = 0u64;
    // A line longer than MAX_LINE_BYTES fails as it is read, never held whole.
    while rows < max_rows {
        buffer.clear();
        n += 1;
        let read =
            reader
                .read_line(&mut buffer)
                .map_err(|source| match LineTooLong::of(&source) {
                    Some(LineTooLong { line, limit }) => DataError::LineTooLong {
                        path: path.to_path_buf(),
                        line,
                        limit,
                    },
                    None => DataError::Read {
                        path: path.to_path_buf(),
                        line: n,
                        source,
                    },
                })?;
        if read == 0 {
            break;
        }
        let line = buffer.strip_suffix('\n').unwrap_or(&buffer);
        let line = line.strip_suffix('\r').unwrap_or(line);
        // A byte-order mark (editors on Windows write one) opens the first line only.
        let line = if n == 1 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        if line.is_empty() {
            continue;
        }
        let layout = match &layout {
            Some(l) => l,
            None if is_kaggle_header(line) => {
                layout = Some(Layout::kaggle(path, line)?);
                continue;
            }
            None => layout.insert(Layout::raw()),
        };
        let parts: Vec<&str> = line.split(layout.separator).collect();
        if parts.len() != layout.fields {
            return Err(DataError::CriteoFieldCount {
                path: path.to_path_buf(),
                line: n,
                form: layout.form,
                expected: layout.fields,
                found: parts.len(),
            }
            .into());
        }
        let label = match parts[layout.label] {
            "0" => 0.0,
            "1" => 1.0,
            other => {
                return Err(DataError::NotZeroOrOne {
                    path: path.to_path_buf(),
                    line: n,
                    text: other.to_string(),
                }
                .into())
            }
        };
        let mut ints = [f32::NAN; CRITEO_INT_FIELDS];
        for (k, &at) in layout.ints.iter().enumerate() {
            let f = parts[at];
            if !f.is_empty() {
                ints[k] = f.parse::<i64>().map_err(|_| DataError::NotAnInteger {
                    path: path.to_path_buf(),
                    line: n,
                    column: format!("I{}", k + 1),
                    text: f.to_string(),
                })? as f32;
            }
        }
        let cats = std::array::from_fn(|k| {
            let f = parts[layout.cats[k]];
            (!f.is_empty()).then_some(f)
        });
        visit(&CriteoRow {
            line: n,
            label,
            ints,
            cats,
        })?;
        rows += 1;
    }
    Ok((layout.map_or(CriteoForm::Raw, |l| l.form), rows))
}

/// Reads a Criteo file in either form, at most `max_rows` rows when given; returns the
/// rows and the form it saw.
pub fn read_criteo(
    path: &Path,
    max_rows: Option<usize>,
) -> Result<(RawTable, CriteoForm), DataError> {
    let mut numeric = Vec::new();
    let mut categorical = Vec::new();
    let mut labels = Vec::new();
    let (form, _) = for_each_criteo_row(path, max_rows, |row| {
        labels.push(row.label);
        numeric.extend_from_slice(&row.ints);
        categorical.extend(row.cats.iter().map(|c| c.map(str::to_string)));
        Ok(())
    })?;
    if labels.is_empty() {
        return Err(DataError::NoRows {
            path: path.to_path_buf(),
        });
    }
    if labels.iter().all(|&l| l == labels[0]) {
        return Err(DataError::OneClass {
            path: path.to_path_buf(),
            column: "label".into(),
            kind: LabelKind::Binary,
            class: (labels[0] as u8).to_string(),
        });
    }
    let table = RawTable {
        numeric_names: (1..=CRITEO_INT_FIELDS).map(|k| format!("I{k}")).collect(),
        numeric_log1p: vec![true; CRITEO_INT_FIELDS],
        categorical_names: (1..=CRITEO_CAT_FIELDS).map(|k| format!("C{k}")).collect(),
        numeric,
        categorical,
        labels,
        task: Task::Binary {
            positive: "1".into(),
            negative: "0".into(),
        },
    };
    Ok((table, form))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand_core::Rng;
    use std::io::Write;
    use tabnas_core::rng::search_rng;

    /// Generated rows in Criteo's format: empty fields, negative integers, random hashes.
    pub(crate) fn generated_rows(rows: usize, seed: u64) -> String {
        let mut rng = search_rng(seed);
        let mut out = String::new();
        for _ in 0..rows {
            let mut fields = vec![(rng.next_u32() % 2).to_string()];
            for _ in 0..CRITEO_INT_FIELDS {
                fields.push(match rng.next_u32() % 5 {
                    0 => String::new(),
                    1 => format!("-{}", rng.next_u32() % 3),
                    _ => (rng.next_u32() % 5000).to_string(),
                });
            }
            for _ in 0..CRITEO_CAT_FIELDS {
                fields.push(match rng.next_u32() % 6 {
                    0 => String::new(),
                    _ => format!("{:08x}", rng.next_u32() % 64),
                });
            }
            out.push_str(&fields.join("\t"));
            out.push('\n');
        }
        out
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_generated_rows() {
        let text = generated_rows(200, 1);
        let t = read_criteo(file(&text).path(), None).unwrap().0;
        assert_eq!(t.rows(), 200);
        assert_eq!(t.numeric.len(), 200 * 13);
        assert_eq!(t.categorical.len(), 200 * 26);
        assert!(t.numeric.iter().any(|x| x.is_nan()));
        assert!(t.numeric.iter().any(|&x| x < 0.0));
        assert!(t.categorical.iter().any(Option::is_none));
        let first: Vec<&str> = text.lines().next().unwrap().split('\t').collect();
        assert_eq!(t.labels[0], first[0].parse::<f32>().unwrap());
        assert_eq!(t.categorical_row(0)[25].as_deref().unwrap_or(""), first[39]);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_as_it_streams() {
        let mut text = generated_rows(2, 3);
        text.push_str(&"\r".repeat(MAX_LINE_BYTES + 1));
        let e = read_criteo(file(&text).path(), None).unwrap_err();
        assert!(matches!(e, DataError::LineTooLong { line: 3, .. }), "{e:?}");
        assert!(e.to_string().contains(":3: line longer than 1 MiB"), "{e}");
        if Path::new("/dev/zero").exists() {
            let e = read_criteo(Path::new("/dev/zero"), None).unwrap_err();
            assert!(matches!(e, DataError::LineTooLong { line: 1, .. }), "{e:?}");
        }
    }

    #[test]
    fn bad_rows_are_named() {
        let good = generated_rows(2, 2);
        let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
        lines[1] = lines[1].replacen('\t', "\t\t", 1);
        let e = read_criteo(file(&lines.join("\n")).path(), None).unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.to_string().contains("expected 40"), "{e}");
        let mut bad = good
            .lines()
            .next()
            .unwrap()
            .split('\t')
            .map(str::to_string)
            .collect::<Vec<_>>();
        bad[3] = "x7".into();
        let e = read_criteo(file(&bad.join("\t")).path(), None).unwrap_err();
        assert_eq!(e.field(), Some("I3"));
        bad[3] = "7".into();
        bad[0] = "2".into();
        let e = read_criteo(file(&bad.join("\t")).path(), None).unwrap_err();
        assert_eq!(e.field(), Some("label"));
        assert!(read_criteo(file("").path(), None)
            .unwrap_err()
            .to_string()
            .contains("no rows"));
        bad[0] = "1".into();
        let one = vec![bad.join("\t"); 3].join("\n");
        let e = read_criteo(file(&one).path(), None).unwrap_err();
        assert!(matches!(e, DataError::OneClass { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("field `label`: a binary task needs at least 2 distinct labels, but every row has `1`"),
            "{e}"
        );
    }

    /// The same rows in the Kaggle CSV form: a header with `Id`, commas.
    pub(crate) fn kaggle_rows(raw: &str) -> String {
        let mut out = String::from("Id,Label");
        for k in 1..=CRITEO_INT_FIELDS {
            out.push_str(&format!(",I{k}"));
        }
        for k in 1..=CRITEO_CAT_FIELDS {
            out.push_str(&format!(",C{k}"));
        }
        out.push_str("\r\n");
        for (i, line) in raw.lines().enumerate() {
            out.push_str(&format!(
                "{},{}\r\n",
                10_000_000 + i,
                line.replace('\t', ",")
            ));
        }
        out
    }

    #[test]
    fn both_forms_read_to_the_same_rows_and_say_which_they_are() {
        let raw = generated_rows(50, 4);
        let (a, form_a) = read_criteo(file(&raw).path(), None).unwrap();
        let (b, form_b) = read_criteo(file(&kaggle_rows(&raw)).path(), None).unwrap();
        assert_eq!((form_a, form_b), (CriteoForm::Raw, CriteoForm::Kaggle));
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.categorical, b.categorical);
        assert_eq!(format!("{:?}", a.numeric), format!("{:?}", b.numeric));
        assert!(form_b.to_string().contains("Kaggle CSV"));
        // `max_rows` stops reading.
        let (c, _) = read_criteo(file(&kaggle_rows(&raw)).path(), Some(7)).unwrap();
        assert_eq!(c.labels, a.labels[..7]);
        // A byte-order mark before the first row (or header) changes nothing.
        for text in [raw.clone(), kaggle_rows(&raw)] {
            let (d, _) = read_criteo(file(&format!("\u{feff}{text}")).path(), None).unwrap();
            assert_eq!(d.labels, a.labels);
        }
    }

    #[test]
    fn a_wrong_form_is_named_with_a_hint() {
        let raw = generated_rows(3, 5);
        // A comma-separated file without the Kaggle header.
        let e = read_criteo(file(&raw.replace('\t', ",")).path(), None).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(":1: expected 40 tab-separated fields (Criteo's raw form), found 1;"),
            "{text}"
        );
        assert!(text.contains("Kaggle CSV form needs its header"), "{text}");
        // A Kaggle header without C26.
        let kaggle = kaggle_rows(&raw).replacen(",C26", "", 1);
        let e = read_criteo(file(&kaggle).path(), None).unwrap_err();
        assert!(e.to_string().contains("header has no column `C26`"), "{e}");
        // A Kaggle row with a missing field.
        let kaggle = kaggle_rows(&raw).replacen("\r\n10000001,", "\r\n", 1);
        let e = read_criteo(file(&kaggle).path(), None).unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert!(
            e.to_string()
                .contains("expected 41 comma-separated fields (Criteo's Kaggle CSV form"),
            "{e}"
        );
    }
}
