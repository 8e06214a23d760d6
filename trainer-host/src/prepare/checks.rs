//! The checks a split must pass before the preprocessing is fitted, the same for a table
//! read whole and a file read in two streaming passes: each path counts what they need
//! into a [`SplitCounts`], its own way.

use super::PrepareError;

/// What the checks of a split need to know about a source.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SplitCounts {
    /// Rows in training, validation and test.
    pub parts: [usize; 3],
    /// A binary task's classes: label text, rows with it, and rows with it in training
    /// (empty for other tasks, whose training split may lack a class).
    pub classes: Vec<(String, usize, usize)>,
    /// Numeric columns: name, rows with a value, and rows with a value in training.
    pub numeric: Vec<(String, usize, usize)>,
}

/// Refuses a split that leaves a part empty, a binary class without training rows, or a
/// numeric column with values but none in training (it could not be standardised).
pub(super) fn check_split(name: &str, counts: &SplitCounts) -> Result<(), PrepareError> {
    let [train, valid, test] = counts.parts;
    if train == 0 || valid == 0 || test == 0 {
        return Err(PrepareError::EmptyPart { train, valid, test });
    }
    if let Some((class, rows_with_class, _)) = counts.classes.iter().find(|c| c.2 == 0) {
        return Err(PrepareError::ClassNotInTraining {
            name: name.to_string(),
            class: class.clone(),
            rows_with_class: *rows_with_class,
            train,
        });
    }
    if let Some((column, rows_with_value, _)) = counts.numeric.iter().find(|c| c.1 > 0 && c.2 == 0)
    {
        return Err(PrepareError::NoTrainingValues {
            name: name.to_string(),
            column: column.clone(),
            rows_with_value: *rows_with_value,
            train,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_names_what_fails_first() {
        let ok = SplitCounts {
            parts: [70, 15, 15],
            classes: vec![("no".into(), 60, 40), ("yes".into(), 40, 30)],
            numeric: vec![("x".into(), 100, 70), ("empty".into(), 0, 0)],
        };
        assert!(check_split("f", &ok).is_ok());
        let e = check_split(
            "f",
            &SplitCounts {
                parts: [70, 0, 15],
                ..ok.clone()
            },
        );
        assert!(matches!(e, Err(PrepareError::EmptyPart { valid: 0, .. })));
        let mut no_class = ok.clone();
        no_class.classes[1] = ("yes".into(), 2, 0);
        let e = check_split("f", &no_class);
        assert!(
            matches!(&e, Err(PrepareError::ClassNotInTraining { class, rows_with_class: 2, train: 70, .. }) if class == "yes"),
            "{e:?}"
        );
        let mut no_value = ok.clone();
        no_value.numeric[0] = ("x".into(), 3, 0);
        let e = check_split("f", &no_value);
        assert!(
            matches!(&e, Err(PrepareError::NoTrainingValues { column, rows_with_value: 3, .. }) if column == "x"),
            "{e:?}"
        );
    }
}
