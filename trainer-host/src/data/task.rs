//! What a table's labels are: the kind the user chose, and the task with the label
//! mapping that was found for it.

use serde::{Deserialize, Serialize};

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

/// Most classes of a multiclass head (the manifest's limit on a head's width).
pub const MAX_CLASSES: usize = tabnas_bundle::MAX_WIDTH as usize;
