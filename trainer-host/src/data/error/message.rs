//! What went wrong, worded for a reader: the longer clauses of [`DataError`]'s messages,
//! one function per variant, each quoting input text through [`Quoted`].
//!
//! [`DataError`]: super::DataError

use std::fmt;
use std::path::Path;

use super::ColumnRole;
use crate::data::criteo_form::CriteoForm;
use crate::data::presets::Preset;
use crate::data::quote::{Quoted, QuotedList};
use crate::data::task::LabelKind;

/// Text that is a number written with digits, but too large for the `f32` the model
/// computes in (`1e39`, `1e400`; not `inf` or `nan`).
fn beyond_f32(text: &str) -> bool {
    text.parse::<f64>().is_ok_and(|x| {
        x.is_finite() || (x.is_infinite() && !text.to_ascii_lowercase().contains("inf"))
    })
}

/// `1 MiB (1048576 bytes)`: a byte limit as a reader of an error wants it.
fn bytes(limit: usize) -> String {
    if limit >= 1 << 20 && limit.is_multiple_of(1 << 20) {
        format!("{} MiB ({limit} bytes)", limit >> 20)
    } else {
        format!("{limit} bytes")
    }
}

/// A line over `limit` bytes: probably not a text data file.
pub(super) fn line_too_long(f: &mut fmt::Formatter<'_>, limit: usize) -> fmt::Result {
    write!(
        f,
        "line longer than {}, the most a data line may have; is this a text data file?",
        bytes(limit)
    )
}

/// A record over `limit` bytes: probably a closing quote missing.
pub(super) fn record_too_long(f: &mut fmt::Formatter<'_>, limit: usize) -> fmt::Result {
    write!(
        f,
        "record longer than {} (a quoted field runs over several lines); is a closing \
         quote missing?",
        bytes(limit)
    )
}

/// Columns without a value in any of `rows` rows, and how to drop them.
pub(super) fn no_values(
    f: &mut fmt::Formatter<'_>,
    columns: &[String],
    rows: usize,
) -> fmt::Result {
    let one = columns.len() == 1;
    write!(
        f,
        "{} {} {} no value in any of the {rows} rows (every field is empty or a \
         missing marker); drop {} with --ignore, or check --missing and --separator",
        if one { "column" } else { "columns" },
        QuotedList(columns),
        if one { "has" } else { "have" },
        if one { "it" } else { "them" }
    )
}

/// A preset's file missing, with the command that fetches it into `cache`.
pub(super) fn not_fetched(f: &mut fmt::Formatter<'_>, preset: Preset, cache: &Path) -> fmt::Result {
    write!(
        f,
        "not found; fetch it with `python3 scripts/fetch_data.py {} --dir {}`",
        preset.name(),
        cache.display()
    )
}

/// Two header columns named alike.
pub(super) fn duplicate_header(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    columns: &[usize; 2],
) -> fmt::Result {
    write!(
        f,
        "the header names columns {} and {} alike, {}; rename one (names identify \
         columns in flags and in the bundle)",
        columns[0],
        columns[1],
        Quoted(name)
    )
}

/// A column index beyond the file's `columns`.
pub(super) fn no_such_column(
    f: &mut fmt::Formatter<'_>,
    role: ColumnRole,
    index: usize,
    columns: usize,
) -> fmt::Result {
    write!(
        f,
        "{role} column {index} does not exist (the file has {columns} columns)"
    )
}

/// A column name that the header lacks, with the header's names.
pub(super) fn not_in_header(
    f: &mut fmt::Formatter<'_>,
    role: ColumnRole,
    name: &str,
    header: &[String],
) -> fmt::Result {
    write!(
        f,
        "{role} column {} is not in the header ({} column(s): {})",
        Quoted(name),
        header.len(),
        QuotedList(header)
    )
}

/// A row with another field count than the first, with the likely cause.
pub(super) fn field_count(
    f: &mut fmt::Formatter<'_>,
    expected: usize,
    found: usize,
    spans_lines: bool,
) -> fmt::Result {
    write!(f, "expected {expected} fields, found {found}")?;
    if spans_lines {
        f.write_str(
            " (a quoted field of this row runs over several lines: is a closing \
             quote missing?)",
        )?;
    }
    Ok(())
}

/// A Criteo row with another field count than its form has.
pub(super) fn criteo_field_count(
    f: &mut fmt::Formatter<'_>,
    form: CriteoForm,
    expected: usize,
    found: usize,
) -> fmt::Result {
    match form {
        CriteoForm::Raw => write!(
            f,
            "expected {expected} tab-separated fields (Criteo's raw form), found {found}; \
             the Kaggle CSV form needs its header line `Id,Label,I1,...,C26`, and another \
             CSV file is read with --csv"
        ),
        CriteoForm::Kaggle => write!(
            f,
            "expected {expected} comma-separated fields (Criteo's Kaggle CSV form, as its \
             header names), found {found}"
        ),
    }
}

/// A Kaggle CSV header without the column `missing`.
pub(super) fn criteo_header(f: &mut fmt::Formatter<'_>, missing: &str) -> fmt::Result {
    write!(
        f,
        "the Kaggle CSV header has no column {}; Criteo's Kaggle form names Label, \
         I1..I13 and C1..C26",
        Quoted(missing)
    )
}

/// A numeric field that is no finite `f32`: too large, or not a number.
pub(super) fn not_a_number(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    if beyond_f32(text) {
        write!(
            f,
            "{} is beyond the range of 32-bit floats (magnitude at most {:e}); rescale the \
             column",
            Quoted(text),
            f32::MAX
        )
    } else {
        write!(
            f,
            "{} is not a finite number (declare the column categorical, or add the text to \
             the missing markers)",
            Quoted(text)
        )
    }
}

/// A regression label that is no finite `f32`: too large, or not a number.
pub(super) fn label_not_a_number(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    if beyond_f32(text) {
        write!(
            f,
            "label {} is beyond the range of 32-bit floats (magnitude at most {:e})",
            Quoted(text),
            f32::MAX
        )
    } else {
        write!(f, "label {} is not a finite number", Quoted(text))
    }
}

/// A third distinct label in a binary task, with the two seen before it.
pub(super) fn third_label(
    f: &mut fmt::Formatter<'_>,
    label: &str,
    seen: &[String; 2],
) -> fmt::Result {
    write!(
        f,
        "third distinct label {} in a binary task (already saw {} and {})",
        Quoted(label),
        Quoted(&seen[0]),
        Quoted(&seen[1])
    )
}

/// A positive label given that never occurs, with the labels that do.
pub(super) fn positive_not_found(
    f: &mut fmt::Formatter<'_>,
    positive: &str,
    labels: &[String],
) -> fmt::Result {
    write!(
        f,
        "positive label {} never occurs; labels are {}",
        Quoted(positive),
        QuotedList(labels)
    )
}

/// One column given two roles.
pub(super) fn two_roles(
    f: &mut fmt::Formatter<'_>,
    column: &str,
    first: ColumnRole,
    second: ColumnRole,
) -> fmt::Result {
    write!(
        f,
        "column {} is {} column and cannot also be {}",
        Quoted(column),
        match first {
            ColumnRole::Label => "the label",
            ColumnRole::Categorical => "a categorical",
            ColumnRole::Ignored => "an ignored",
            ColumnRole::Log1p => "a log1p",
        },
        match second {
            ColumnRole::Label => "the label",
            ColumnRole::Categorical => "categorical",
            ColumnRole::Ignored => "ignored",
            ColumnRole::Log1p => "log1p-transformed (only numeric columns can be)",
        }
    )
}

/// A classification task whose rows all have one label.
pub(super) fn one_class(f: &mut fmt::Formatter<'_>, kind: LabelKind, class: &str) -> fmt::Result {
    write!(
        f,
        "a {kind} task needs at least 2 distinct labels, but every row has {}",
        Quoted(class)
    )
}

/// More classes than a multiclass head may have.
pub(super) fn too_many_classes(
    f: &mut fmt::Formatter<'_>,
    found: usize,
    max: usize,
) -> fmt::Result {
    write!(
        f,
        "at least {found} distinct labels; a multiclass task may have at most {max}"
    )
}
