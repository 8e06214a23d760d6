//! Reading a preset's files from the data cache, with a hint to fetch them when they are
//! absent.

use std::path::Path;

use super::csv_options::CsvOptions;
use super::csv_source::read_csv;
use super::error::DataError;
use super::presets::Preset;
use super::table::RawTable;

impl Preset {
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
