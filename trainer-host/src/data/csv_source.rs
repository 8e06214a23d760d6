//! Generic delimited text with numeric and categorical columns.
//!
//! Columns are numeric unless named categorical or ignored; exactly one is the label.
//! Fields are trimmed; a field equal to one of the missing markers (default: empty and
//! `?`) is missing. Every row must have as many fields as the first.

use std::fs::File;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{ColumnRole, DataError};
use super::label::{encode_labels, LabelKind};
use super::table::RawTable;

/// A column by 0-based index or by header name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnRef {
    /// 0-based position.
    Index(usize),
    /// Header name (needs a header row).
    Name(String),
}

impl std::str::FromStr for ColumnRef {
    type Err = std::convert::Infallible;
    /// A number is an index, anything else a name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.parse::<usize>()
            .map(ColumnRef::Index)
            .unwrap_or_else(|_| ColumnRef::Name(s.to_string())))
    }
}

/// How to read a delimited file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Field separator (one byte).
    pub separator: u8,
    /// Whether the first row names the columns.
    pub header: bool,
    /// The label column.
    pub label: ColumnRef,
    /// What the labels are.
    pub label_kind: LabelKind,
    /// Binary tasks: the label text that means 1.
    pub positive: Option<String>,
    /// Columns holding categories.
    pub categorical: Vec<ColumnRef>,
    /// Columns to drop.
    pub ignore: Vec<ColumnRef>,
    /// Field texts that mean "missing".
    pub missing: Vec<String>,
}

impl CsvOptions {
    /// Comma-separated, no header, label in column 0, binary, missing = "" or "?".
    pub fn new(label: ColumnRef, label_kind: LabelKind) -> Self {
        Self {
            separator: b',',
            header: false,
            label,
            label_kind,
            positive: None,
            categorical: Vec::new(),
            ignore: Vec::new(),
            missing: vec![String::new(), "?".to_string()],
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Numeric,
    Categorical,
    Label,
    Ignored,
}

fn resolve(
    path: &Path,
    r: &ColumnRef,
    names: &[String],
    role: ColumnRole,
) -> Result<usize, DataError> {
    match r {
        ColumnRef::Index(i) if *i < names.len() => Ok(*i),
        ColumnRef::Index(i) => Err(DataError::NoSuchColumn {
            path: path.to_path_buf(),
            role,
            index: *i,
            columns: names.len(),
        }),
        ColumnRef::Name(n) => {
            names
                .iter()
                .position(|x| x == n)
                .ok_or_else(|| DataError::NotInHeader {
                    path: path.to_path_buf(),
                    role,
                    name: n.clone(),
                    header: names.to_vec(),
                })
        }
    }
}

/// Reads a delimited file into a [`RawTable`].
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<RawTable, DataError> {
    let file = File::open(path).map_err(|source| DataError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.separator)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let mut records = reader.records();
    let first = match records.next() {
        None => {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            })
        }
        Some(r) => r.map_err(|e| csv_error(path, e))?,
    };
    let width = first.len();
    let names: Vec<String> = if options.header {
        first.iter().map(str::to_string).collect()
    } else {
        (0..width).map(|i| format!("c{i}")).collect()
    };
    let named = |r: &ColumnRef| matches!(r, ColumnRef::Name(_));
    if !options.header
        && (named(&options.label) || options.categorical.iter().chain(&options.ignore).any(named))
    {
        return Err(DataError::NamesNeedHeader {
            path: path.to_path_buf(),
        });
    }
    let mut roles = vec![Role::Numeric; width];
    let label_at = resolve(path, &options.label, &names, ColumnRole::Label)?;
    for r in &options.categorical {
        roles[resolve(path, r, &names, ColumnRole::Categorical)?] = Role::Categorical;
    }
    for r in &options.ignore {
        roles[resolve(path, r, &names, ColumnRole::Ignored)?] = Role::Ignored;
    }
    roles[label_at] = Role::Label;
    let numeric_names: Vec<String> = (0..width)
        .filter(|&i| roles[i] == Role::Numeric)
        .map(|i| names[i].clone())
        .collect();
    let categorical_names: Vec<String> = (0..width)
        .filter(|&i| roles[i] == Role::Categorical)
        .map(|i| names[i].clone())
        .collect();

    let mut numeric = Vec::new();
    let mut categorical = Vec::new();
    let mut labels = Vec::new();
    let data_rows = (!options.header)
        .then_some(Ok(first))
        .into_iter()
        .chain(records);
    for record in data_rows {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record.get(0) == Some("") {
            continue; // blank line
        }
        if record.len() != width {
            return Err(DataError::FieldCount {
                path: path.to_path_buf(),
                line,
                expected: width,
                found: record.len(),
            });
        }
        for (i, field) in record.iter().enumerate() {
            let missing = options.missing.iter().any(|m| m == field);
            match roles[i] {
                Role::Ignored => {}
                Role::Label if missing => {
                    return Err(DataError::MissingLabel {
                        path: path.to_path_buf(),
                        line,
                        column: names[i].clone(),
                    })
                }
                Role::Label => labels.push((line, field.to_string())),
                Role::Categorical => categorical.push((!missing).then(|| field.to_string())),
                Role::Numeric if missing => numeric.push(f32::NAN),
                Role::Numeric => match field.parse::<f32>() {
                    Ok(x) if x.is_finite() => numeric.push(x),
                    _ => {
                        return Err(DataError::NotANumber {
                            path: path.to_path_buf(),
                            line,
                            column: names[i].clone(),
                            text: field.to_string(),
                        })
                    }
                },
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::NoDataRows {
            path: path.to_path_buf(),
        });
    }
    let (labels, task) = encode_labels(
        path,
        &names[label_at],
        &labels,
        options.label_kind,
        options.positive.as_deref(),
    )?;
    Ok(RawTable {
        numeric_names,
        categorical_names,
        numeric,
        categorical,
        labels,
        task,
    })
}

fn csv_error(path: &Path, source: csv::Error) -> DataError {
    DataError::Csv {
        path: path.to_path_buf(),
        line: source.position().map(|p| p.line()),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Task;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_mixed_columns_with_missing_values() {
        let f = file("age,job,score,label\n39, State-gov, 1.5, <=50K\n50, ?, , >50K\n\n");
        let mut o = CsvOptions::new(ColumnRef::Name("label".into()), LabelKind::Binary);
        o.header = true;
        o.categorical = vec![ColumnRef::Name("job".into())];
        let t = read_csv(f.path(), &o).unwrap();
        assert_eq!(t.numeric_names, ["age", "score"]);
        assert_eq!(t.categorical_names, ["job"]);
        assert_eq!(t.rows(), 2);
        assert_eq!(t.numeric_row(0), [39.0, 1.5]);
        assert!(t.numeric_row(1)[1].is_nan());
        assert_eq!(t.categorical_row(0), [Some("State-gov".to_string())]);
        assert_eq!(t.categorical_row(1), [None]);
        assert_eq!(t.labels, [0.0, 1.0]);
        assert!(matches!(t.task, Task::Binary { .. }));
    }

    #[test]
    fn bad_files_name_file_line_and_field() {
        let o = CsvOptions::new(ColumnRef::Index(0), LabelKind::Binary);
        let e = read_csv(file("").path(), &o).unwrap_err();
        assert!(e.to_string().ends_with("file is empty"), "{e}");
        let e = read_csv(file("1,2.0,3\n0,1.0\n").path(), &o).unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.to_string().contains("expected 3 fields, found 2"), "{e}");
        assert!(matches!(
            e,
            DataError::FieldCount {
                expected: 3,
                found: 2,
                ..
            }
        ));
        let e = read_csv(file("1,2.0\n0,abc\n").path(), &o).unwrap_err();
        assert_eq!((e.line(), e.field()), (Some(2), Some("c1")));
        let e = read_csv(file("1,2\n0,3\n2,4\n").path(), &o).unwrap_err();
        assert!(e.to_string().contains("third distinct label"), "{e}");
        let e = read_csv(Path::new("/nonexistent/x.csv"), &o).unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent/x.csv: cannot open"),
            "{e}"
        );
        let mut named = o.clone();
        named.label = ColumnRef::Name("y".into());
        let e = read_csv(file("1,2\n").path(), &named).unwrap_err();
        assert!(e.to_string().contains("need a header"), "{e}");
        named.header = true;
        let e = read_csv(file("a,b\n1,2\n").path(), &named).unwrap_err();
        assert!(e.to_string().contains("`y` is not in the header"), "{e}");
        let e = read_csv(file("a,b\n").path(), &named).unwrap_err();
        assert!(e.to_string().contains("label column"), "{e}");
        let mut header_only = o;
        header_only.header = true;
        let e = read_csv(file("a,b\n").path(), &header_only).unwrap_err();
        assert!(e.to_string().contains("no data rows"), "{e}");
    }
}
