//! Bearer tokens as users keep them: the first line of a file (at most 4 KiB), or
//! `$TABNAS_TOKEN`, trimmed. One reader for the agent and every host command, so that a
//! file that works for one works for all.

use std::io::Read;
use std::path::Path;

/// Most bytes read from a token file.
pub const MAX_TOKEN_FILE: u64 = 4096;

/// The environment variable a host command reads when no token file is given.
pub const TOKEN_ENV: &str = "TABNAS_TOKEN";

/// The token in `path`: its first line, trimmed.
pub fn read_token_file(path: &Path) -> Result<String, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TOKEN_FILE).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("the token file {} is not text", path.display()))?;
    Ok(text.lines().next().unwrap_or("").trim().to_string())
}

/// The token a host command uses: `file`'s, else `$TABNAS_TOKEN`'s, else none.
pub fn host_token(file: Option<&Path>) -> Result<Option<String>, String> {
    match file {
        Some(p) => read_token_file(p).map(Some),
        None => Ok(std::env::var(TOKEN_ENV)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())),
    }
}
