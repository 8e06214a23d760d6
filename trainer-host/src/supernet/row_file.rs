//! Training rows kept in a file instead of memory, for data larger than memory.
//!
//! A row file holds fixed-size little-endian records, one per row: the label (`f32`),
//! the numeric inputs (`f32` each), then the categorical bucket ids (`i64` each). Rows
//! are written once, in order ([`RowFileWriter`]), and read back a row at a time by
//! position ([`RowFile::sample`]), so the process holds one batch, never the file; the
//! operating system's page cache keeps what fits of it. The file is unlinked as soon as
//! it is created and used through its open handle: its space is freed when the last
//! handle closes, however the process ends (an error, a panic, a kill), and no other
//! process can see it.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::Array2;
use rand_core::Rng;

use super::batch::{Batch, LabelSummary};

/// A row file could not be written or read.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFileError {
    /// The file.
    pub path: PathBuf,
    /// What was being done (`create the row file`, `read row 17 of the row file`, ...).
    pub doing: String,
    /// The system's message.
    pub detail: String,
}

impl fmt::Display for RowFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.doing,
            self.path.display(),
            self.detail
        )
    }
}

impl std::error::Error for RowFileError {}

fn io_error(path: &Path, doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> RowFileError {
    let (path, doing) = (path.to_path_buf(), doing.into());
    move |e| RowFileError {
        path,
        doing,
        detail: e.to_string(),
    }
}

/// The open (and already unlinked) file and the path it was created at, for messages.
#[derive(Debug)]
struct Owned {
    file: File,
    path: PathBuf,
}

/// Training rows in a file of fixed-size records (see the module's documentation).
#[derive(Debug, Clone)]
pub struct RowFile {
    owned: Arc<Owned>,
    rows: usize,
    numeric_width: usize,
    categorical_width: usize,
    labels: LabelSummary,
}

impl PartialEq for RowFile {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.owned, &other.owned)
    }
}

fn record_bytes(numeric_width: usize, categorical_width: usize) -> usize {
    4 + 4 * numeric_width + 8 * categorical_width
}

impl RowFile {
    /// Rows in the file.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Numeric inputs per row.
    pub fn numeric_width(&self) -> usize {
        self.numeric_width
    }

    /// Categorical inputs per row.
    pub fn categorical_width(&self) -> usize {
        self.categorical_width
    }

    /// The labels' counts and sum, gathered while writing.
    pub fn labels(&self) -> &LabelSummary {
        &self.labels
    }

    /// The path the file was created at (it is unlinked: the path no longer names it).
    pub fn path(&self) -> &Path {
        &self.owned.path
    }

    /// The batch of the given rows, each read from its position in the file.
    pub fn gather(&self, idx: &[usize]) -> Result<Batch, RowFileError> {
        let (nw, cw) = (self.numeric_width, self.categorical_width);
        let size = record_bytes(nw, cw);
        let mut record = vec![0u8; size];
        let mut numeric = Vec::with_capacity(idx.len() * nw);
        let mut categorical = Vec::with_capacity(idx.len() * cw);
        let mut labels = Vec::with_capacity(idx.len());
        for &r in idx {
            if r >= self.rows {
                return Err(RowFileError {
                    path: self.owned.path.clone(),
                    doing: format!("read row {r} of the row file"),
                    detail: format!("it holds {} rows", self.rows),
                });
            }
            self.owned
                .file
                .read_exact_at(&mut record, r as u64 * size as u64)
                .map_err(io_error(
                    &self.owned.path,
                    format!("read row {r} of the row file"),
                ))?;
            let f32_at =
                |at: usize| f32::from_le_bytes(record[at..at + 4].try_into().unwrap_or([0; 4]));
            labels.push(f32_at(0));
            numeric.extend((0..nw).map(|c| f32_at(4 + 4 * c)));
            let base = 4 + 4 * nw;
            categorical.extend((0..cw).map(|c| {
                let at = base + 8 * c;
                i64::from_le_bytes(record[at..at + 8].try_into().unwrap_or([0; 8]))
            }));
        }
        let numeric =
            Array2::from_shape_vec((idx.len(), nw), numeric).map_err(|e| RowFileError {
                path: self.owned.path.clone(),
                doing: "shape a batch of the row file".into(),
                detail: e.to_string(),
            })?;
        Ok(Batch {
            numeric,
            categorical,
            labels,
        })
    }

    /// `size` rows drawn uniformly with replacement (the same draws as
    /// [`super::Rows::sample`] makes from the same generator).
    pub fn sample<R: Rng + ?Sized>(&self, size: usize, rng: &mut R) -> Result<Batch, RowFileError> {
        let idx: Vec<usize> = (0..size)
            .map(|_| (rng.next_u64() % self.rows.max(1) as u64) as usize)
            .collect();
        self.gather(&idx)
    }
}

/// Writes a [`RowFile`] a row at a time through a buffer.
#[derive(Debug)]
pub struct RowFileWriter {
    out: BufWriter<File>,
    path: PathBuf,
    rows: usize,
    numeric_width: usize,
    categorical_width: usize,
    labels: LabelSummary,
    record: Vec<u8>,
}

impl RowFileWriter {
    /// Creates `path` for rows of the given widths (an existing file there is replaced)
    /// and unlinks it at once (see the module's documentation).
    pub fn create(
        path: &Path,
        numeric_width: usize,
        categorical_width: usize,
    ) -> Result<Self, RowFileError> {
        // Read and write: the same handle is read from once the rows are written.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(io_error(path, "create the row file"))?;
        std::fs::remove_file(path).map_err(io_error(path, "unlink the row file"))?;
        Ok(Self {
            out: BufWriter::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            rows: 0,
            numeric_width,
            categorical_width,
            labels: LabelSummary::default(),
            record: Vec::with_capacity(record_bytes(numeric_width, categorical_width)),
        })
    }

    /// Appends one row.
    ///
    /// # Panics
    /// If the row's widths differ from the file's (callers encode whole rows).
    pub fn push(
        &mut self,
        label: f32,
        numeric: &[f32],
        categorical: &[i64],
    ) -> Result<(), RowFileError> {
        assert!(
            numeric.len() == self.numeric_width && categorical.len() == self.categorical_width,
            "a row of the file's widths"
        );
        self.record.clear();
        self.record.extend_from_slice(&label.to_le_bytes());
        for x in numeric {
            self.record.extend_from_slice(&x.to_le_bytes());
        }
        for b in categorical {
            self.record.extend_from_slice(&b.to_le_bytes());
        }
        self.out
            .write_all(&self.record)
            .map_err(io_error(&self.path, "write the row file"))?;
        self.labels.push(label);
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Flushes the rows; the file is then read through the same handle.
    pub fn finish(self) -> Result<RowFile, RowFileError> {
        let Self {
            out,
            path,
            rows,
            numeric_width,
            categorical_width,
            labels,
            ..
        } = self;
        let file = out
            .into_inner()
            .map_err(|e| io_error(&path, "write the row file")(e.into_error()))?;
        Ok(RowFile {
            owned: Arc::new(Owned { file, path }),
            rows,
            numeric_width,
            categorical_width,
            labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supernet::Rows;
    use tabnas_core::rng::search_rng;

    #[test]
    fn rows_read_back_as_written_and_sample_as_rows_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.rows");
        let (nw, cw, n) = (3, 2, 50);
        let rows = Rows {
            rows: n,
            numeric_width: nw,
            categorical_width: cw,
            numeric: (0..n * nw).map(|i| (i as f32 * 0.7).sin()).collect(),
            categorical: (0..n * cw).map(|i| (i * 13 % 97) as i64).collect(),
            labels: (0..n).map(|i| (i % 3 == 0) as u8 as f32).collect(),
        };
        let mut w = RowFileWriter::create(&path, nw, cw).unwrap();
        for r in 0..n {
            w.push(
                rows.labels[r],
                &rows.numeric[r * nw..(r + 1) * nw],
                &rows.categorical[r * cw..(r + 1) * cw],
            )
            .unwrap();
        }
        // Unlinked at once: nothing is left behind, however the process ends.
        assert!(!path.exists());
        let file = w.finish().unwrap();
        assert_eq!(
            file.owned.file.metadata().unwrap().len() as usize,
            n * record_bytes(nw, cw)
        );
        assert_eq!(file.labels(), &LabelSummary::of(&rows.labels));
        let (mut a, mut b) = (search_rng(5), search_rng(5));
        assert_eq!(file.sample(64, &mut a).unwrap(), rows.sample(64, &mut b));
        assert_eq!(file.gather(&[49, 0]).unwrap(), rows.gather(&[49, 0]));
        let err = file.gather(&[50]).unwrap_err();
        assert_eq!(err.doing, "read row 50 of the row file");
        assert!(err.to_string().contains("it holds 50 rows"), "{err}");
        // A clone reads the same file.
        assert_eq!(file.clone().gather(&[7]).unwrap(), rows.gather(&[7]));
    }
}
