//! Bearer tokens as users keep them: the first line of a file (at most 4 KiB), or
//! `$TABNAS_TOKEN`, trimmed. One reader for the agent and every host command, so that a
//! file that works for one works for all.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Most bytes read from a token file.
pub const MAX_TOKEN_FILE: u64 = 4096;

/// The environment variable a host command reads when no token file is given.
pub const TOKEN_ENV: &str = "TABNAS_TOKEN";

/// A token file that cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum TokenFileError {
    /// It cannot be opened or read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Its first 4 KiB are not UTF-8 text.
    NotText {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for TokenFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => {
                write!(f, "cannot read the token file {}: {source}", path.display())
            }
            Self::NotText { path } => write!(f, "the token file {} is not text", path.display()),
        }
    }
}

impl std::error::Error for TokenFileError {}

/// The token in `path`: its first line, trimmed.
pub fn read_token_file(path: &Path) -> Result<String, TokenFileError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TOKEN_FILE).read_to_end(&mut bytes))
        .map_err(|source| TokenFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let text = String::from_utf8(bytes).map_err(|_| TokenFileError::NotText {
        path: path.to_path_buf(),
    })?;
    Ok(text.lines().next().unwrap_or("").trim().to_string())
}

/// The token a host command uses: `file`'s, else `$TABNAS_TOKEN`'s, else none.
pub fn host_token(file: Option<&Path>) -> Result<Option<String>, TokenFileError> {
    match file {
        Some(p) => read_token_file(p).map(Some),
        None => Ok(std::env::var(TOKEN_ENV)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())),
    }
}
