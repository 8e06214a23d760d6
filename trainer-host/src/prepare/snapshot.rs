//! What is seen of a file from outside, to tell a file that changed between two reads.

use std::path::Path;
use std::time::SystemTime;

/// What is seen of a file from outside: its size and modification time and, on Unix, its
/// inode and status-change time (which no user can set back). Taken before the first pass
/// and compared after the second, it tells a file written to while it was read (an
/// append, an edit that kept the row count, one whose modification time was restored) or
/// replaced by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Snapshot {
    /// Bytes.
    pub(super) len: u64,
    /// Modification time, where the system tells it.
    pub(super) modified: Option<SystemTime>,
    /// Inode, and status-change time in seconds and nanoseconds (Unix).
    identity: Option<(u64, i64, i64)>,
}

impl Snapshot {
    /// The snapshot of `meta`.
    pub(super) fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let identity = {
            use std::os::unix::fs::MetadataExt;
            Some((meta.ino(), meta.ctime(), meta.ctime_nsec()))
        };
        #[cfg(not(unix))]
        let identity = None;
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            identity,
        }
    }

    /// Whether `path` still looks the same (a file that cannot be read now has changed).
    pub(super) fn unchanged(&self, path: &Path) -> bool {
        std::fs::metadata(path).is_ok_and(|m| Self::of(&m) == *self)
    }
}
