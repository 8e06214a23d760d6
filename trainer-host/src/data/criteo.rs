//! Criteo display-advertising rows: tab-separated label, 13 integer fields (may be empty
//! or negative) and 26 categorical fields (8-hex-digit hashes, may be empty).
//!
//! Criteo's terms forbid redistributing its rows, so tests use rows generated in this
//! format. Integers are kept raw here; [`super::PreprocessOptions::log1p`] applies the
//! usual clip-at-0-then-log(x + 1). A line longer than [`MAX_LINE_BYTES`] is refused.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::error::DataError;
use super::label::Task;
use super::limit::{LineLimit, LineTooLong, MAX_LINE_BYTES};
use super::table::RawTable;

/// Integer fields per row (I1..I13).
pub const CRITEO_INT_FIELDS: usize = 13;
/// Categorical fields per row (C1..C26).
pub const CRITEO_CAT_FIELDS: usize = 26;

/// Reads a Criteo-format file.
pub fn read_criteo(path: &Path) -> Result<RawTable, DataError> {
    let file = File::open(path).map_err(|source| DataError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let width = 1 + CRITEO_INT_FIELDS + CRITEO_CAT_FIELDS;
    let mut numeric = Vec::new();
    let mut categorical = Vec::new();
    let mut labels = Vec::new();
    // A line longer than MAX_LINE_BYTES fails as it is read, never held whole.
    let lines = BufReader::new(LineLimit::new(file, MAX_LINE_BYTES, false)).lines();
    for (i, line) in lines.enumerate() {
        let n = i as u64 + 1;
        let line = line.map_err(|source| match LineTooLong::of(&source) {
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
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != width {
            return Err(DataError::CriteoFieldCount {
                path: path.to_path_buf(),
                line: n,
                found: fields.len(),
            });
        }
        labels.push(match fields[0] {
            "0" => 0.0,
            "1" => 1.0,
            other => {
                return Err(DataError::NotZeroOrOne {
                    path: path.to_path_buf(),
                    line: n,
                    text: other.to_string(),
                })
            }
        });
        for (k, f) in fields[1..=CRITEO_INT_FIELDS].iter().enumerate() {
            numeric.push(if f.is_empty() {
                f32::NAN
            } else {
                f.parse::<i64>().map_err(|_| DataError::NotAnInteger {
                    path: path.to_path_buf(),
                    line: n,
                    column: format!("I{}", k + 1),
                    text: f.to_string(),
                })? as f32
            });
        }
        for f in &fields[1 + CRITEO_INT_FIELDS..] {
            categorical.push((!f.is_empty()).then(|| f.to_string()));
        }
    }
    if labels.is_empty() {
        return Err(DataError::NoRows {
            path: path.to_path_buf(),
        });
    }
    if labels.iter().all(|&l| l == labels[0]) {
        return Err(DataError::OneClass {
            path: path.to_path_buf(),
            column: "label".into(),
            kind: super::LabelKind::Binary,
            class: (labels[0] as u8).to_string(),
        });
    }
    Ok(RawTable {
        numeric_names: (1..=CRITEO_INT_FIELDS).map(|k| format!("I{k}")).collect(),
        categorical_names: (1..=CRITEO_CAT_FIELDS).map(|k| format!("C{k}")).collect(),
        numeric,
        categorical,
        labels,
        task: Task::Binary {
            positive: "1".into(),
            negative: "0".into(),
        },
    })
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
        let t = read_criteo(file(&text).path()).unwrap();
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
        let e = read_criteo(file(&text).path()).unwrap_err();
        assert!(matches!(e, DataError::LineTooLong { line: 3, .. }), "{e:?}");
        assert!(e.to_string().contains(":3: line longer than 1 MiB"), "{e}");
        if Path::new("/dev/zero").exists() {
            let e = read_criteo(Path::new("/dev/zero")).unwrap_err();
            assert!(matches!(e, DataError::LineTooLong { line: 1, .. }), "{e:?}");
        }
    }

    #[test]
    fn bad_rows_are_named() {
        let good = generated_rows(2, 2);
        let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
        lines[1] = lines[1].replacen('\t', "\t\t", 1);
        let e = read_criteo(file(&lines.join("\n")).path()).unwrap_err();
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
        let e = read_criteo(file(&bad.join("\t")).path()).unwrap_err();
        assert_eq!(e.field(), Some("I3"));
        bad[3] = "7".into();
        bad[0] = "2".into();
        let e = read_criteo(file(&bad.join("\t")).path()).unwrap_err();
        assert_eq!(e.field(), Some("label"));
        assert!(read_criteo(file("").path())
            .unwrap_err()
            .to_string()
            .contains("no rows"));
        bad[0] = "1".into();
        let one = vec![bad.join("\t"); 3].join("\n");
        let e = read_criteo(file(&one).path()).unwrap_err();
        assert!(matches!(e, DataError::OneClass { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("field `label`: a binary task needs at least 2 distinct labels, but every row has `1`"),
            "{e}"
        );
    }
}
