//! Turning label strings into numbers for a task, with the mapping recorded.
//!
//! Binary: exactly two distinct labels. The positive one is the one given, else `1` when
//! the labels are the numbers 0 and 1, else the later of the two in sorted order (for
//! UCI Adult, `>50K`). Multiclass: classes are the distinct labels in sorted order (a
//! numeric sort when all are numbers). Regression: labels must be finite numbers.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::DataError;
use crate::names::impl_names;

/// What kind of labels a file has (chosen by the user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelKind {
    /// Two classes, one logit.
    Binary,
    /// Several classes, one logit each.
    Multiclass,
    /// A real value.
    Regression,
}

impl_names!(LabelKind {
    Binary => "binary",
    Multiclass => "multiclass",
    Regression => "regression",
});

/// The task with the label mapping that was used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Task {
    /// Label 1 is `positive`, label 0 is `negative`.
    Binary {
        /// Label text encoded as 1.
        positive: String,
        /// Label text encoded as 0.
        negative: String,
    },
    /// Label `i` is `classes[i]`.
    Multiclass {
        /// Class names in index order.
        classes: Vec<String>,
    },
    /// Real-valued labels.
    Regression,
}

fn as_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A regression label as the model computes with it: finite in `f32`.
fn as_f32(s: &str) -> Option<f32> {
    s.parse::<f32>().ok().filter(|x| x.is_finite())
}

/// Most classes of a multiclass head (the manifest's limit on a head's width).
pub const MAX_CLASSES: usize = tabnas_bundle::MAX_WIDTH as usize;

/// Encodes `labels` (with their 1-based file lines) for `kind`.
pub(crate) fn encode_labels(
    path: &Path,
    field: &str,
    labels: &[(u64, String)],
    kind: LabelKind,
    positive: Option<&str>,
) -> Result<(Vec<f32>, Task), DataError> {
    match kind {
        LabelKind::Regression => {
            let values = labels
                .iter()
                .map(|(line, s)| {
                    as_f32(s).ok_or_else(|| DataError::LabelNotANumber {
                        path: path.to_path_buf(),
                        line: *line,
                        column: field.to_string(),
                        text: s.clone(),
                    })
                })
                .collect::<Result<_, _>>()?;
            Ok((values, Task::Regression))
        }
        LabelKind::Binary => {
            let mut seen: Vec<&str> = Vec::new();
            for (line, s) in labels {
                if !seen.contains(&s.as_str()) {
                    if seen.len() == 2 {
                        return Err(DataError::ThirdLabel {
                            path: path.to_path_buf(),
                            line: *line,
                            column: field.to_string(),
                            label: s.clone(),
                            seen: Box::new([seen[0].to_string(), seen[1].to_string()]),
                        });
                    }
                    seen.push(s);
                }
            }
            if let [class] = seen[..] {
                return Err(DataError::OneClass {
                    path: path.to_path_buf(),
                    column: field.to_string(),
                    kind,
                    class: class.to_string(),
                });
            }
            seen.sort_by(|a, b| match (as_number(a), as_number(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => a.cmp(b),
            });
            let positive = match positive {
                Some(p) if seen.contains(&p) => p.to_string(),
                Some(p) => {
                    return Err(DataError::PositiveNotFound {
                        path: path.to_path_buf(),
                        positive: p.to_string(),
                        labels: seen.iter().map(|s| s.to_string()).collect(),
                    })
                }
                None => seen
                    .last()
                    .map(|s| s.to_string())
                    .ok_or_else(|| DataError::NoLabels {
                        path: path.to_path_buf(),
                    })?,
            };
            let negative = seen
                .iter()
                .find(|s| **s != positive)
                .map(|s| s.to_string())
                .unwrap_or_default();
            let values = labels
                .iter()
                .map(|(_, s)| (*s == positive) as u8 as f32)
                .collect();
            Ok((values, Task::Binary { positive, negative }))
        }
        LabelKind::Multiclass => {
            let distinct: BTreeSet<&str> = labels.iter().map(|(_, s)| s.as_str()).collect();
            let mut classes: Vec<String> = distinct.into_iter().map(str::to_string).collect();
            if classes.iter().all(|c| as_number(c).is_some()) {
                classes.sort_by(|a, b| {
                    as_number(a)
                        .unwrap_or(0.0)
                        .total_cmp(&as_number(b).unwrap_or(0.0))
                });
            }
            match classes.len() {
                0 => {
                    return Err(DataError::NoLabels {
                        path: path.to_path_buf(),
                    })
                }
                1 => {
                    return Err(DataError::OneClass {
                        path: path.to_path_buf(),
                        column: field.to_string(),
                        kind,
                        class: classes.swap_remove(0),
                    })
                }
                found if found > MAX_CLASSES => {
                    return Err(DataError::TooManyClasses {
                        path: path.to_path_buf(),
                        column: field.to_string(),
                        found,
                        max: MAX_CLASSES,
                    })
                }
                _ => {}
            }
            let index: std::collections::HashMap<&str, usize> = classes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i))
                .collect();
            let values = labels
                .iter()
                .map(|(_, s)| index.get(s.as_str()).copied().unwrap_or(0) as f32)
                .collect();
            Ok((values, Task::Multiclass { classes }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
