//! Atomic files: a checkpoint, a table or a result is written to a temporary file in the
//! same folder, flushed to disk, then renamed over the old one, so a crash at any moment
//! leaves either the old or the new file, never a torn one; a link planted under the
//! file's name is replaced, never followed.

use std::path::Path;

use serde::{de::DeserializeOwned, Serialize};

use std::fmt;
use std::path::PathBuf;

/// Writes `bytes` to `path` atomically, never through a link
/// ([`tabnas_bundle::files::write_atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    tabnas_bundle::files::write_atomic(path, bytes).map_err(|source| FileError::Write {
        path: path.to_path_buf(),
        action: "replace",
        source,
    })
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), FileError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|source| FileError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, &bytes)
}

/// Writes `value` as compact JSON, atomically (for files rewritten often and large).
pub fn write_json_compact<T: Serialize>(path: &Path, value: &T) -> Result<(), FileError> {
    let bytes = serde_json::to_vec(value).map_err(|source| FileError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, &bytes)
}

/// The largest run-folder JSON file read (a quality cache of a million losses is about
/// 60 MB).
pub const MAX_JSON_BYTES: u64 = 256 << 20;

/// Reads JSON written by [`write_json`]; `Ok(None)` if the file does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, FileError> {
    match tabnas_bundle::files::read_limited(path, MAX_JSON_BYTES) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| FileError::NotOurs {
                    path: path.to_path_buf(),
                    source,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(FileError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A file of a run folder that cannot be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileError {
    /// Reading failed.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing, flushing or replacing failed.
    Write {
        /// The file.
        path: PathBuf,
        /// What was being done (`create a temporary file`, `write`, `flush`, `replace`).
        action: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON of the expected shape.
    NotOurs {
        /// The file.
        path: PathBuf,
        /// Where and why parsing failed.
        source: serde_json::Error,
    },
    /// A value could not be written as JSON (a non-finite number in a map key, say).
    Encode {
        /// The file it was meant for.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::Write {
                path,
                action,
                source,
            } => write!(f, "{}: cannot {action}: {source}", path.display()),
            Self::NotOurs { path, source } => {
                write!(
                    f,
                    "{}: not a file this agent wrote: {source}",
                    path.display()
                )
            }
            Self::Encode { path, source } => {
                write!(f, "{}: cannot encode: {source}", path.display())
            }
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for FileError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        assert_eq!(read_json::<Vec<u32>>(&p).unwrap(), None);
        write_json(&p, &vec![1u32, 2]).unwrap();
        write_json(&p, &vec![3u32]).unwrap();
        assert_eq!(read_json::<Vec<u32>>(&p).unwrap(), Some(vec![3]));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
        std::fs::write(&p, b"{torn").unwrap();
        assert!(read_json::<Vec<u32>>(&p)
            .unwrap_err()
            .to_string()
            .contains("state.json"));
    }
}
