//! Generic delimited text with numeric and categorical columns.
//!
//! Columns are numeric unless named categorical or ignored; exactly one is the label.
//! Fields are trimmed; a field equal to one of the missing markers (default: empty and
//! `?`) is missing. Every row must have as many fields as the first. A line or record
//! longer than [`MAX_LINE_BYTES`] is refused, and so is an input column with no value in
//! any row.
//!
//! [`CsvRows`] streams the rows to a visitor with memory bounded by one record and the
//! read buffer; [`read_csv`] is the visitor that collects them into a table. Errors name
//! the file's own line (any line ending, blank lines and multi-line fields counted).

use std::fs::File;
use std::path::{Path, PathBuf};

use csv::StringRecord;

use super::csv_options::{ColumnRef, CsvOptions};
use super::error::{ColumnRole, DataError};
use super::label::LabelCollector;
use super::limit::{
    line_at, LineLimit, LineTooLong, RecordTooLong, SharedLineBreaks, MAX_LINE_BYTES,
};
use super::table::RawTable;

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

/// The columns of a delimited file, as its first record and the options resolve them.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvLayout {
    /// Numeric input columns, in file order.
    pub numeric_names: Vec<String>,
    /// Whether each numeric input takes `ln(1 + x)` first.
    pub numeric_log1p: Vec<bool>,
    /// Categorical input columns, in file order.
    pub categorical_names: Vec<String>,
    /// The label column.
    pub label_name: String,
}

/// One data row, borrowed from its record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CsvRow<'a> {
    /// 1-based line of the file where the record starts.
    pub line: u64,
    /// The label's text (never missing).
    pub label: &'a str,
    /// Numeric inputs, NaN where missing.
    pub numeric: &'a [f32],
    /// Categorical inputs, `None` where missing.
    pub categorical: &'a [Option<&'a str>],
}

/// A delimited file opened for streaming: its columns are resolved from the first record,
/// then [`CsvRows::for_each`] visits the data rows. Memory is one record and the read
/// buffer, whatever the file's size.
pub struct CsvRows {
    path: PathBuf,
    reader: csv::Reader<LineLimit<File>>,
    /// The reader's line breaks: records are numbered by the file's lines.
    breaks: SharedLineBreaks,
    /// The record last read (one buffer for every row), and the line of the first when it
    /// is a data row (no header) still to be visited.
    record: StringRecord,
    pending: Option<u64>,
    width: usize,
    roles: Vec<Role>,
    names: Vec<String>,
    missing: Vec<String>,
    max_rows: usize,
    layout: CsvLayout,
}

/// Reads the next record into `record` and returns the line it starts on (`None` at the
/// end), refusing one longer than [`MAX_LINE_BYTES`].
fn next_record(
    path: &Path,
    reader: &mut csv::Reader<LineLimit<File>>,
    breaks: &SharedLineBreaks,
    record: &mut StringRecord,
) -> Result<Option<u64>, DataError> {
    if !reader
        .read_record(record)
        .map_err(|e| csv_error(path, e, breaks))?
    {
        return Ok(None);
    }
    let line = line_at(breaks, record.position().map_or(0, |p| p.byte()));
    // Every line is at most MAX_LINE_BYTES as it is read; a record spanning lines (a
    // quoted field with line breaks) is checked once read.
    if record.as_byte_record().as_slice().len() > MAX_LINE_BYTES {
        return Err(DataError::RecordTooLong {
            path: path.to_path_buf(),
            line,
            limit: MAX_LINE_BYTES,
        });
    }
    Ok(Some(line))
}

impl CsvRows {
    /// Opens `path` and resolves its columns from the first record and `options`.
    pub fn open(path: &Path, options: &CsvOptions) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|source| DataError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let breaks = SharedLineBreaks::default();
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(options.separator)
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(LineLimit::new(file, MAX_LINE_BYTES, true).logging_breaks(breaks.clone()));
        let mut first = StringRecord::new();
        let Some(first_line) = next_record(path, &mut reader, &breaks, &mut first)? else {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        };
        let width = first.len();
        // A header's empty name (an unnamed index column) is named as without a header.
        let names: Vec<String> = if options.header {
            let names: Vec<String> = (first.iter().enumerate())
                .map(|(i, n)| {
                    if n.is_empty() {
                        format!("c{i}")
                    } else {
                        n.to_string()
                    }
                })
                .collect();
            let mut seen = std::collections::HashMap::with_capacity(names.len());
            for (j, name) in names.iter().enumerate() {
                if let Some(&i) = seen.get(name.as_str()) {
                    return Err(DataError::DuplicateHeader {
                        path: path.to_path_buf(),
                        name: name.clone(),
                        columns: [i, j],
                    });
                }
                seen.insert(name.as_str(), j);
            }
            names
        } else {
            (0..width).map(|i| format!("c{i}")).collect()
        };
        let (roles, log1p) = column_roles(path, options, &names)?;
        let picked =
            |role: Role| -> Vec<usize> { (0..width).filter(|&i| roles[i] == role).collect() };
        let numeric = picked(Role::Numeric);
        let layout = CsvLayout {
            numeric_names: numeric.iter().map(|&i| names[i].clone()).collect(),
            numeric_log1p: numeric.iter().map(|&i| log1p[i]).collect(),
            categorical_names: picked(Role::Categorical)
                .into_iter()
                .map(|i| names[i].clone())
                .collect(),
            label_name: picked(Role::Label)
                .first()
                .map(|&i| names[i].clone())
                .unwrap_or_default(),
        };
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            breaks,
            record: first,
            pending: (!options.header).then_some(first_line),
            width,
            roles,
            names,
            missing: options.missing.clone(),
            max_rows: options.max_rows.unwrap_or(usize::MAX),
            layout,
        })
    }

    /// The resolved columns.
    pub fn layout(&self) -> &CsvLayout {
        &self.layout
    }

    /// Visits every data row (at most `max_rows`: reading stops there) and returns how
    /// many. Blank lines are skipped. Refuses a row with another field count, a missing
    /// label, a numeric field that is not a finite `f32`, no data row at all, and an input
    /// column without any value. An error of `visit` ends the stream and is returned.
    pub fn for_each<E: From<DataError>>(
        mut self,
        mut visit: impl FnMut(&CsvRow<'_>) -> Result<(), E>,
    ) -> Result<usize, E> {
        let path = self.path.clone();
        let width = self.width;
        let mut numeric = Vec::with_capacity(self.layout.numeric_names.len());
        // Whether an input column has had a value (not missing) yet.
        let mut has_value = vec![false; width];
        let mut rows = 0usize;
        while rows < self.max_rows {
            let line = match self.pending.take() {
                Some(line) => line,
                None => {
                    match next_record(&path, &mut self.reader, &self.breaks, &mut self.record)? {
                        Some(line) => line,
                        None => break,
                    }
                }
            };
            let record = &self.record;
            if record.len() == 1 && record.get(0) == Some("") {
                continue; // blank line
            }
            if record.len() != width {
                return Err(DataError::FieldCount {
                    path,
                    line,
                    expected: width,
                    found: record.len(),
                    spans_lines: record.iter().any(|f| f.contains(['\n', '\r'])),
                }
                .into());
            }
            numeric.clear();
            let mut categorical = Vec::with_capacity(self.layout.categorical_names.len());
            let mut label = "";
            for (i, field) in record.iter().enumerate() {
                let missing = self.missing.iter().any(|m| m == field);
                has_value[i] |= !missing;
                match self.roles[i] {
                    Role::Ignored => {}
                    Role::Label if missing => {
                        return Err(DataError::MissingLabel {
                            path,
                            line,
                            column: self.names[i].clone(),
                        }
                        .into())
                    }
                    Role::Label => label = field,
                    Role::Categorical => categorical.push((!missing).then_some(field)),
                    Role::Numeric if missing => numeric.push(f32::NAN),
                    Role::Numeric => match field.parse::<f32>() {
                        Ok(x) if x.is_finite() => numeric.push(x),
                        _ => {
                            return Err(DataError::NotANumber {
                                path,
                                line,
                                column: self.names[i].clone(),
                                text: field.to_string(),
                            }
                            .into())
                        }
                    },
                }
            }
            visit(&CsvRow {
                line,
                label,
                numeric: &numeric,
                categorical: &categorical,
            })?;
            rows += 1;
        }
        if rows == 0 {
            return Err(DataError::NoDataRows { path }.into());
        }
        // A column without any value would be a constant input (0) that the model cannot
        // use: the user most likely meant to ignore it or gave the wrong missing markers.
        let empty: Vec<String> = (0..width)
            .filter(|&i| {
                matches!(self.roles[i], Role::Numeric | Role::Categorical) && !has_value[i]
            })
            .map(|i| self.names[i].clone())
            .collect();
        if !empty.is_empty() {
            return Err(DataError::NoValues {
                path,
                columns: empty,
                rows,
            }
            .into());
        }
        Ok(rows)
    }
}

/// Each column's role and whether it takes `ln(1 + x)`, from `options` and the names.
fn column_roles(
    path: &Path,
    options: &CsvOptions,
    names: &[String],
) -> Result<(Vec<Role>, Vec<bool>), DataError> {
    let width = names.len();
    let named = |r: &ColumnRef| matches!(r, ColumnRef::Name(_));
    if !options.header
        && (named(&options.label)
            || options
                .categorical
                .iter()
                .chain(&options.ignore)
                .chain(&options.log1p)
                .any(named))
    {
        return Err(DataError::NamesNeedHeader {
            path: path.to_path_buf(),
        });
    }
    let mut roles = vec![Role::Numeric; width];
    let label_at = resolve(path, &options.label, names, ColumnRole::Label)?;
    roles[label_at] = Role::Label;
    let given = options
        .categorical
        .iter()
        .map(|r| (r, ColumnRole::Categorical, Role::Categorical))
        .chain(
            options
                .ignore
                .iter()
                .map(|r| (r, ColumnRole::Ignored, Role::Ignored)),
        );
    let role_before = |role: Role| match role {
        Role::Numeric => None,
        Role::Label => Some(ColumnRole::Label),
        Role::Categorical => Some(ColumnRole::Categorical),
        Role::Ignored => Some(ColumnRole::Ignored),
    };
    for (r, role, as_role) in given {
        let at = resolve(path, r, names, role)?;
        match role_before(roles[at]) {
            // Naming a column twice in the same list is harmless.
            Some(b) if b == role => {}
            Some(first) => {
                return Err(DataError::TwoRoles {
                    path: path.to_path_buf(),
                    column: names[at].clone(),
                    first,
                    second: role,
                })
            }
            None => roles[at] = as_role,
        }
    }
    let mut log1p = vec![false; width];
    for r in &options.log1p {
        let at = resolve(path, r, names, ColumnRole::Log1p)?;
        if let Some(first) = role_before(roles[at]) {
            return Err(DataError::TwoRoles {
                path: path.to_path_buf(),
                column: names[at].clone(),
                first,
                second: ColumnRole::Log1p,
            });
        }
        log1p[at] = true;
    }
    Ok((roles, log1p))
}

/// Reads a delimited file into a [`RawTable`].
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<RawTable, DataError> {
    let rows = CsvRows::open(path, options)?;
    let layout = rows.layout().clone();
    let mut collector = LabelCollector::new(path, &layout.label_name, options.label_kind);
    let mut numeric = Vec::new();
    let mut categorical = Vec::new();
    let mut codes = Vec::new();
    rows.for_each(|row: &CsvRow<'_>| {
        numeric.extend_from_slice(row.numeric);
        categorical.extend(row.categorical.iter().map(|c| c.map(str::to_string)));
        codes.push(collector.push(row.line, row.label)?);
        Ok::<(), DataError>(())
    })?;
    let map = collector.finish(options.positive.as_deref())?;
    Ok(RawTable {
        labels: codes.into_iter().map(|c| map.value_of(c)).collect(),
        task: map.task,
        numeric_names: layout.numeric_names,
        numeric_log1p: layout.numeric_log1p,
        categorical_names: layout.categorical_names,
        numeric,
        categorical,
    })
}

fn csv_error(path: &Path, source: csv::Error, breaks: &SharedLineBreaks) -> DataError {
    if let csv::ErrorKind::Io(e) = source.kind() {
        if let Some(LineTooLong { line, limit }) = LineTooLong::of(e) {
            return DataError::LineTooLong {
                path: path.to_path_buf(),
                line,
                limit,
            };
        }
        if let Some(RecordTooLong { line, limit }) = RecordTooLong::of(e) {
            return DataError::RecordTooLong {
                path: path.to_path_buf(),
                line,
                limit,
            };
        }
    }
    DataError::Csv {
        path: path.to_path_buf(),
        line: source.position().map(|p| line_at(breaks, p.byte())),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{LabelKind, Task};
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

    /// Header names identify columns: two alike are refused, an empty one is named by its
    /// position, and names in the options are trimmed as header fields are.
    #[test]
    fn header_names_are_unique_and_column_lists_trimmed() {
        let mut o = CsvOptions::new(ColumnRef::Name("label".into()), LabelKind::Binary);
        o.header = true;
        let e = read_csv(file("x,x,label\n1,2,a\n3,4,b\n").path(), &o).unwrap_err();
        assert!(
            matches!(
                &e,
                DataError::DuplicateHeader {
                    columns: [0, 1],
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains("names columns 0 and 1 alike, `x`"),
            "{e}"
        );
        o.categorical = vec![" y".parse().unwrap()];
        let t = read_csv(file(",y,label\n1,p,a\n3,q,b\n").path(), &o).unwrap();
        assert_eq!(t.numeric_names, ["c0"]);
        assert_eq!(t.categorical_names, ["y"]);
        assert_eq!(" 2 ".parse::<ColumnRef>().unwrap(), ColumnRef::Index(2));
    }

    /// Lines are the file's: `\r\n` and `\r` line ends, blank lines and quoted fields over
    /// several lines are counted as an editor counts them.
    #[test]
    fn errors_name_the_files_own_line_for_every_line_ending() {
        let mut o = CsvOptions::new(ColumnRef::Name("label".into()), LabelKind::Binary);
        o.header = true;
        o.categorical = vec![ColumnRef::Name("name".into())];
        for (text, line) in [
            ("name,x,label\r\na,1,p\r\n\r\nb,2,q\r\nc,oops,p\r\n", 5),
            ("name,x,label\ra,1,p\rb,oops,q\r", 3),
            ("name,x,label\na,1,p\n\n\n  \nb,oops,q\n", 6),
            ("name,x,label\n\"multi\nline\",1,p\nb,oops,q\n", 4),
            ("name,x,label\na,1,p\n\nb,oops,q\n", 4),
            ("name,x,label\r\na,1,p\r\n\r\n\r\nb,oops,q\r\n", 5),
            ("\n\nname,x,label\na,1,p\nb,oops,q\n", 5),
        ] {
            let e = read_csv(file(text).path(), &o).unwrap_err();
            assert!(matches!(e, DataError::NotANumber { .. }), "{e}");
            assert_eq!(e.line(), Some(line), "{text:?}: {e}");
        }
        // An unclosed quote swallows the lines after it: the message says so.
        let e = read_csv(file("name,x,label\na,1,p\n\"b,2,q\nc,3,p\n").path(), &o).unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert!(e.to_string().contains("is a closing quote missing?"), "{e}");
        // In a long file of short lines, the record an unclosed quote opens is refused once
        // it outgrows the limit, not held until the end of the file.
        let mut text = String::from("name,x,label\na,1,p\n\"b,2,q\n");
        while text.len() < MAX_LINE_BYTES + (200 << 10) {
            text.push_str("c,3,p\n");
        }
        let e = read_csv(file(&text).path(), &o).unwrap_err();
        assert!(
            matches!(e, DataError::RecordTooLong { line: 3, .. }),
            "{e:?}"
        );
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
        let e = read_csv(file("a,b\n\n\n").path(), &header_only).unwrap_err();
        assert!(e.to_string().contains("no data rows"), "{e}");
    }

    #[test]
    fn non_finite_and_out_of_range_numbers_name_line_and_column() {
        let mut o = CsvOptions::new(ColumnRef::Name("y".into()), LabelKind::Binary);
        o.header = true;
        for bad in [
            "nan", "NaN", "inf", "-inf", "infinity", "1e400", "1e39", "0x10",
        ] {
            let text = format!("x,y\n1,0\n2,1\n{bad},1\n");
            let e = read_csv(file(&text).path(), &o).unwrap_err();
            assert_eq!((e.line(), e.field()), (Some(4), Some("x")), "{bad}: {e}");
            assert!(e.to_string().contains(&format!("`{bad}`")), "{e}");
        }
        for big in ["1e39", "-1e400"] {
            let e = read_csv(file(&format!("x,y\n{big},0\n")).path(), &o).unwrap_err();
            assert!(
                e.to_string().contains("beyond the range of 32-bit floats"),
                "{e}"
            );
        }
        let e = read_csv(file("x,y\ninf,0\n").path(), &o).unwrap_err();
        assert!(e.to_string().contains("not a finite number"), "{e}");
        let t = read_csv(file("x,y\n3.4e38,0\n-3.4e38,1\n").path(), &o).unwrap();
        assert_eq!(t.rows(), 2);
    }

    #[test]
    fn lines_and_records_longer_than_the_limit_are_refused_as_they_stream() {
        let o = CsvOptions::new(ColumnRef::Index(1), LabelKind::Binary);
        let long = format!("1,0\n2,1\n{},1\n", "9".repeat(MAX_LINE_BYTES + 1));
        let e = read_csv(file(&long).path(), &o).unwrap_err();
        assert!(matches!(e, DataError::LineTooLong { line: 3, .. }), "{e:?}");
        assert!(
            e.to_string()
                .ends_with(":3: line longer than 1 MiB (1048576 bytes), the most a data line may have; is this a text data file?"),
            "{e}"
        );
        // A line of exactly the limit is read (and then judged on its content).
        let at_limit = format!("1,0\n{},1\n", "9".repeat(MAX_LINE_BYTES - 2));
        let e = read_csv(file(&at_limit).path(), &o).unwrap_err();
        assert!(matches!(e, DataError::NotANumber { line: 2, .. }), "{e:?}");
        // A character device without line breaks ends in the same error, not in memory
        // growth. Random bytes may also make a short first line (a newline byte comes
        // 1 time in 256), which is a header without the label column.
        for device in ["/dev/zero", "/dev/urandom"] {
            if Path::new(device).exists() {
                let e = read_csv(Path::new(device), &o).unwrap_err();
                assert!(
                    matches!(
                        e,
                        DataError::LineTooLong { .. }
                            | DataError::Csv { .. }
                            | DataError::NoSuchColumn { .. }
                    ),
                    "{device}: {e:?}"
                );
                assert!(e.to_string().len() < 300, "{e}");
            }
        }
        // A quoted field spanning lines may not make a record longer than the limit.
        let lines = "a".repeat(1000) + "\n";
        let open = format!("1,0\n\"{}\",1\n", lines.repeat(MAX_LINE_BYTES / 1000 + 1));
        let e = read_csv(file(&open).path(), &o).unwrap_err();
        assert!(
            matches!(e, DataError::RecordTooLong { line: 2, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("is a closing quote missing?"), "{e}");
    }

    #[test]
    fn errors_quote_at_most_80_characters_of_a_field() {
        // Under the line limit (a longer field is a line too long).
        let huge = "x".repeat(1_000_000);
        let mut o = CsvOptions::new(ColumnRef::Index(1), LabelKind::Binary);
        let e = read_csv(file(&format!("1,0\n{huge},1\n")).path(), &o).unwrap_err();
        let text = e.to_string();
        assert!(text.len() < 400, "{} bytes", text.len());
        assert!(
            text.contains(&format!(
                "`{}…` (1000000 characters) is not a finite",
                &huge[..80]
            )),
            "{text}"
        );
        // Labels, header names and the column named in `field` are cut alike.
        let e = read_csv(file(&format!("1,a\n2,b\n3,{huge}\n")).path(), &o).unwrap_err();
        assert!(matches!(e, DataError::ThirdLabel { .. }), "{e:?}");
        assert!(e.to_string().len() < 400, "{e}");
        o.header = true;
        o.label = ColumnRef::Name("y".into());
        let e = read_csv(file(&format!("{huge},y\nabc,1\n1,0\n")).path(), &o).unwrap_err();
        assert_eq!(e.field().map(str::len), Some(huge.len()));
        let text = e.to_string();
        assert!(
            text.len() < 400 && text.contains(": field `xxx") && text.contains("…` ("),
            "{text}"
        );
        o.label = ColumnRef::Name(huge.clone());
        let header: Vec<String> = (0..100).map(|i| format!("{i}{}", &huge[..5000])).collect();
        let e = read_csv(file(&(header.join(",") + "\n")).path(), &o).unwrap_err();
        let text = e.to_string();
        assert!(text.len() < 2000, "{} bytes", text.len());
        assert!(text.contains("(100 column(s): `0xxx"), "{text}");
        assert!(text.ends_with(" and 92 more)"), "{text}");
    }

    #[test]
    fn input_columns_without_any_value_are_refused_by_name() {
        let mut o = CsvOptions::new(ColumnRef::Name("y".into()), LabelKind::Binary);
        o.header = true;
        let e = read_csv(file("x,y\n,0\n?,1\n\n").path(), &o).unwrap_err();
        assert!(matches!(&e, DataError::NoValues { columns, rows: 2, .. } if columns == &["x"]));
        assert!(
            e.to_string().ends_with(
                ": column `x` has no value in any of the 2 rows (every field is empty or a \
                 missing marker); drop it with --ignore, or check --missing and --separator"
            ),
            "{e}"
        );
        // Every feature column empty, categorical ones included: all are named.
        o.categorical = vec![ColumnRef::Name("c".into())];
        let e = read_csv(file("a,c,b,y\n,?,,0\n?,,,1\n").path(), &o).unwrap_err();
        assert!(
            e.to_string()
                .contains("columns `a`, `c`, `b` have no value in any of the 2 rows"),
            "{e}"
        );
        // One value is enough; an ignored empty column is fine; a constant one is kept.
        o.ignore = vec![ColumnRef::Name("b".into())];
        let t = read_csv(file("a,c,b,y\n,k,,0\n3,,,1\n").path(), &o).unwrap();
        assert_eq!(t.numeric_names, ["a"]);
        let t = read_csv(file("a,c,b,y\n5,k,,0\n5,k,,1\n").path(), &o).unwrap();
        assert_eq!(t.numeric, [5.0, 5.0]);
    }

    #[test]
    fn a_column_has_one_role() {
        let text = "x,y,c\n1,0,a\n2,1,b\n";
        let mut o = CsvOptions::new(ColumnRef::Name("y".into()), LabelKind::Binary);
        o.header = true;
        o.ignore = vec![ColumnRef::Name("y".into())];
        let e = read_csv(file(text).path(), &o).unwrap_err();
        assert!(
            e.to_string()
                .contains("column `y` is the label column and cannot also be ignored"),
            "{e}"
        );
        o.ignore = vec![ColumnRef::Index(2)];
        o.categorical = vec![ColumnRef::Name("c".into()), ColumnRef::Name("c".into())];
        let e = read_csv(file(text).path(), &o).unwrap_err();
        assert!(
            e.to_string()
                .contains("column `c` is a categorical column and cannot also be ignored"),
            "{e}"
        );
        o.ignore = vec![];
        assert_eq!(
            read_csv(file(text).path(), &o).unwrap().categorical_names,
            ["c"]
        );
    }

    #[test]
    fn log1p_columns_are_marked_and_must_be_numeric() {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), "a,b,c,y\n1,2,x,0\n-3,4,z,1\n").unwrap();
        let mut o = CsvOptions::new(ColumnRef::Name("y".into()), LabelKind::Binary);
        o.header = true;
        o.categorical = vec![ColumnRef::Name("c".into())];
        o.log1p = vec![ColumnRef::Name("b".into())];
        let t = read_csv(f.path(), &o).unwrap();
        assert_eq!(t.numeric_names, ["a", "b"]);
        assert_eq!(t.numeric_log1p, [false, true]);
        o.log1p = vec![ColumnRef::Name("c".into())];
        let e = read_csv(f.path(), &o).unwrap_err().to_string();
        assert!(
            e.contains("column `c` is a categorical column and cannot also be log1p-transformed"),
            "{e}"
        );
        o.log1p = vec![ColumnRef::Name("d".into())];
        let e = read_csv(f.path(), &o).unwrap_err().to_string();
        assert!(e.contains("`d`"), "{e}");
    }

    #[test]
    fn max_rows_stops_reading() {
        // The third data row is malformed: it is never read with max_rows = 2.
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), "x,y\n1,0\n2,1\nbad\n").unwrap();
        let mut o = CsvOptions::new(ColumnRef::Name("y".into()), LabelKind::Binary);
        o.header = true;
        assert!(read_csv(f.path(), &o).is_err());
        o.max_rows = Some(2);
        assert_eq!(read_csv(f.path(), &o).unwrap().rows(), 2);
    }
}
