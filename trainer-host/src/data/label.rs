//! Turning label strings into numbers for a task, with the mapping recorded.
//!
//! Binary: exactly two distinct labels. The positive one is the one given, else `1` when
//! the labels are the numbers 0 and 1, else the later of the two in sorted order (for
//! UCI Adult, `>50K`). Multiclass: classes are the distinct labels in sorted order (a
//! numeric sort when all are numbers). Regression: labels must be finite numbers.
//!
//! [`LabelCollector`] finds the mapping as rows stream by, refusing a bad label at its
//! line, with memory bounded by the distinct labels (at most [`MAX_CLASSES`]); the
//! in-memory reader and the two-pass streamed path both use it, so both map alike.

use std::collections::HashMap;
use std::path::Path;

use super::error::DataError;
use super::task::{LabelKind, Task, MAX_CLASSES};

fn as_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A regression label as the model computes with it: finite in `f32`.
fn as_f32(s: &str) -> Option<f32> {
    s.parse::<f32>().ok().filter(|x| x.is_finite())
}

/// A label as a stream gave it. [`LabelMap::value_of`] turns it into the model's label
/// once the stream has been read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LabelCode {
    /// A class label: its first-seen index among the distinct labels.
    Class(u32),
    /// A regression label's value.
    Value(f32),
}

impl LabelCode {
    /// The first-seen index of a class label (`None` for a regression value).
    pub(crate) fn class(self) -> Option<usize> {
        match self {
            Self::Class(d) => Some(d as usize),
            Self::Value(_) => None,
        }
    }
}

/// The distinct labels of a stream, checked for the task as they arrive: a label that is
/// not a number (regression), a third label (binary) or one class too many (multiclass)
/// is refused at its line. Memory is the distinct labels, at most [`MAX_CLASSES`] of them.
pub(crate) struct LabelCollector<'p> {
    path: &'p Path,
    field: &'p str,
    kind: LabelKind,
    /// Distinct class labels in first-seen order (none for regression).
    distinct: Vec<String>,
    index: HashMap<String, usize>,
}

impl<'p> LabelCollector<'p> {
    /// No labels yet.
    pub(crate) fn new(path: &'p Path, field: &'p str, kind: LabelKind) -> Self {
        Self {
            path,
            field,
            kind,
            distinct: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Adds the label on `line`.
    pub(crate) fn push(&mut self, line: u64, text: &str) -> Result<LabelCode, DataError> {
        if self.kind == LabelKind::Regression {
            return as_f32(text)
                .map(LabelCode::Value)
                .ok_or_else(|| DataError::LabelNotANumber {
                    path: self.path.to_path_buf(),
                    line,
                    column: self.field.to_string(),
                    text: text.to_string(),
                });
        }
        if let Some(&d) = self.index.get(text) {
            return Ok(LabelCode::Class(d as u32));
        }
        match self.kind {
            LabelKind::Binary if self.distinct.len() == 2 => {
                return Err(DataError::ThirdLabel {
                    path: self.path.to_path_buf(),
                    line,
                    column: self.field.to_string(),
                    label: text.to_string(),
                    seen: Box::new([self.distinct[0].clone(), self.distinct[1].clone()]),
                })
            }
            LabelKind::Multiclass if self.distinct.len() == MAX_CLASSES => {
                return Err(DataError::TooManyClasses {
                    path: self.path.to_path_buf(),
                    line,
                    column: self.field.to_string(),
                    found: MAX_CLASSES + 1,
                    max: MAX_CLASSES,
                })
            }
            _ => {}
        }
        let d = self.distinct.len();
        self.distinct.push(text.to_string());
        self.index.insert(text.to_string(), d);
        Ok(LabelCode::Class(d as u32))
    }

    /// The mapping of the labels seen: the positive label is `positive` if given (binary).
    pub(crate) fn finish(self, positive: Option<&str>) -> Result<LabelMap, DataError> {
        let kind = self.kind;
        let path = || self.path.to_path_buf();
        let one_class = |class: &str| DataError::OneClass {
            path: path(),
            column: self.field.to_string(),
            kind,
            class: class.to_string(),
        };
        let numeric_order = |a: &String, b: &String| match (as_number(a), as_number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => a.cmp(b),
        };
        let (task, by_distinct) = match kind {
            LabelKind::Regression => (Task::Regression, Vec::new()),
            LabelKind::Binary => {
                match self.distinct.len() {
                    0 => return Err(DataError::NoLabels { path: path() }),
                    1 => return Err(one_class(&self.distinct[0])),
                    _ => {}
                }
                let mut sorted = self.distinct.clone();
                sorted.sort_by(numeric_order);
                let positive = match positive {
                    Some(p) if sorted.iter().any(|s| s == p) => p.to_string(),
                    Some(p) => {
                        return Err(DataError::PositiveNotFound {
                            path: path(),
                            positive: p.to_string(),
                            labels: sorted,
                        })
                    }
                    None => sorted[1].clone(),
                };
                let negative = sorted
                    .iter()
                    .find(|s| **s != positive)
                    .cloned()
                    .unwrap_or_default();
                let by_distinct = self
                    .distinct
                    .iter()
                    .map(|s| f32::from(u8::from(*s == positive)))
                    .collect();
                (Task::Binary { positive, negative }, by_distinct)
            }
            LabelKind::Multiclass => {
                let mut classes = self.distinct.clone();
                classes.sort();
                if classes.iter().all(|c| as_number(c).is_some()) {
                    classes.sort_by(numeric_order);
                }
                match classes.len() {
                    0 => return Err(DataError::NoLabels { path: path() }),
                    1 => return Err(one_class(&classes[0])),
                    _ => {}
                }
                let by_distinct = self
                    .distinct
                    .iter()
                    .map(|s| classes.iter().position(|c| c == s).unwrap_or(0) as f32)
                    .collect();
                (Task::Multiclass { classes }, by_distinct)
            }
        };
        Ok(LabelMap {
            task,
            by_distinct,
            distinct: self.distinct,
            index: self.index,
        })
    }
}

/// How a stream's label texts become the model's labels (see [`LabelCollector`]).
#[derive(Debug, Clone)]
pub(crate) struct LabelMap {
    /// The task with its mapping.
    pub(crate) task: Task,
    /// The model's label of each distinct class label, in first-seen order.
    by_distinct: Vec<f32>,
    distinct: Vec<String>,
    index: HashMap<String, usize>,
}

impl LabelMap {
    /// The model's label of a label as pushed.
    pub(crate) fn value_of(&self, code: LabelCode) -> f32 {
        match code {
            LabelCode::Value(v) => v,
            LabelCode::Class(d) => self.by_distinct[d as usize],
        }
    }

    /// The model's label of `text`; `None` if it is not a number (regression) or was not
    /// seen when the map was made.
    pub(crate) fn value(&self, text: &str) -> Option<f32> {
        match self.task {
            Task::Regression => as_f32(text),
            _ => self.index.get(text).map(|&d| self.by_distinct[d]),
        }
    }

    /// The text of a distinct class label, by first-seen index.
    pub(crate) fn text_of(&self, distinct: usize) -> &str {
        &self.distinct[distinct]
    }

    /// Distinct class labels (0 for regression).
    pub(crate) fn classes(&self) -> usize {
        self.distinct.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes `labels` (with their 1-based file lines) for `kind`.
    fn encode_labels(
        path: &Path,
        field: &str,
        labels: &[(u64, String)],
        kind: LabelKind,
        positive: Option<&str>,
    ) -> Result<(Vec<f32>, Task), DataError> {
        let mut collector = LabelCollector::new(path, field, kind);
        let codes = labels
            .iter()
            .map(|(line, s)| collector.push(*line, s))
            .collect::<Result<Vec<_>, _>>()?;
        let map = collector.finish(positive)?;
        let values = codes.into_iter().map(|c| map.value_of(c)).collect();
        Ok((values, map.task))
    }

    fn lines(xs: &[&str]) -> Vec<(u64, String)> {
        xs.iter()
            .enumerate()
            .map(|(i, s)| (i as u64 + 1, s.to_string()))
            .collect()
    }

    #[test]
    fn binary_defaults_and_errors() {
        let p = Path::new("f.csv");
        let (v, t) = encode_labels(
            p,
            "y",
            &lines(&["<=50K", ">50K", "<=50K"]),
            LabelKind::Binary,
            None,
        )
        .unwrap();
        assert_eq!(v, [0.0, 1.0, 0.0]);
        assert_eq!(
            t,
            Task::Binary {
                positive: ">50K".into(),
                negative: "<=50K".into()
            }
        );
        let (v, _) = encode_labels(
            p,
            "y",
            &lines(&["1", "0", "10"][..2]),
            LabelKind::Binary,
            None,
        )
        .unwrap();
        assert_eq!(v, [1.0, 0.0]);
        let (v, _) =
            encode_labels(p, "y", &lines(&["a", "b"]), LabelKind::Binary, Some("a")).unwrap();
        assert_eq!(v, [1.0, 0.0]);
        let e =
            encode_labels(p, "y", &lines(&["a", "b", "c"]), LabelKind::Binary, None).unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert!(e.to_string().contains("third distinct label `c`"), "{e}");
        let e =
            encode_labels(p, "y", &lines(&["a", "b"]), LabelKind::Binary, Some("z")).unwrap_err();
        assert!(e.to_string().contains("positive label `z`"), "{e}");
    }

    #[test]
    fn a_single_class_is_named_with_its_file_and_column() {
        let p = Path::new("f.csv");
        for (kind, positive) in [
            (LabelKind::Binary, None),
            (LabelKind::Binary, Some("1")),
            (LabelKind::Binary, Some("0")),
            (LabelKind::Multiclass, None),
        ] {
            let e = encode_labels(p, "y", &lines(&["1", "1", "1"]), kind, positive).unwrap_err();
            assert!(matches!(e, DataError::OneClass { .. }), "{kind:?}: {e:?}");
            assert_eq!(e.field(), Some("y"));
            let text = e.to_string();
            assert!(
                text.starts_with("f.csv: field `y`: ")
                    && text.contains(&format!("a {kind} task needs at least 2 distinct labels"))
                    && text.contains("every row has `1`"),
                "{text}"
            );
        }
    }

    #[test]
    fn regression_labels_must_fit_f32_and_classes_a_head() {
        let p = Path::new("f.csv");
        for bad in ["nan", "inf", "-inf", "1e400", "1e39", "NaN"] {
            let e = encode_labels(p, "y", &lines(&["1", bad]), LabelKind::Regression, None)
                .unwrap_err();
            assert_eq!((e.line(), e.field()), (Some(2), Some("y")), "{bad}");
            assert!(e.to_string().contains(&format!("label `{bad}`")), "{e}");
        }
        let e =
            encode_labels(p, "y", &lines(&["1", "1e39"]), LabelKind::Regression, None).unwrap_err();
        assert!(
            e.to_string().contains("beyond the range of 32-bit floats"),
            "{e}"
        );
        let (v, _) = encode_labels(
            p,
            "y",
            &lines(&["3e38", "-1e-40"]),
            LabelKind::Regression,
            None,
        )
        .unwrap();
        assert!(v.iter().all(|x| x.is_finite()));
        let many: Vec<String> = (0..=MAX_CLASSES).map(|i| i.to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let e = encode_labels(p, "y", &lines(&many), LabelKind::Multiclass, None).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("{} distinct labels", MAX_CLASSES + 1)),
            "{e}"
        );
    }

    #[test]
    fn multiclass_and_regression() {
        let p = Path::new("f.csv");
        let (v, t) = encode_labels(
            p,
            "y",
            &lines(&["10", "9", "10", "2"]),
            LabelKind::Multiclass,
            None,
        )
        .unwrap();
        assert_eq!(
            t,
            Task::Multiclass {
                classes: vec!["2".into(), "9".into(), "10".into()]
            }
        );
        assert_eq!(v, [2.0, 1.0, 2.0, 0.0]);
        let e =
            encode_labels(p, "y", &lines(&["1.5", "x"]), LabelKind::Regression, None).unwrap_err();
        assert_eq!((e.line(), e.field()), (Some(2), Some("y")));
    }
}
