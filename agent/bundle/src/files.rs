//! Files of a run folder that a later run reads, shared by the agent and the trainer.
//!
//! * [`write_atomic`]: the bytes go to a fresh temporary file in the same folder, are
//!   flushed, then renamed over the target, so a kill at any instant leaves the old file
//!   or the new one, never a torn one. Neither the temporary nor the target is ever
//!   opened through a symbolic link: a link planted under the target's name is replaced
//!   by the new file, the file it points to is left alone.
//! * [`open_append`]: an append-only file, refused when its name is a link.
//! * [`RunLock`]: an advisory lock (`flock` through the standard library's
//!   [`File::try_lock`]) on `.tabnas.lock` in a run folder, so that one process owns the
//!   folder. The operating system releases it when its process dies, so a lock left by a
//!   killed run is recovered by the next one (and reported as such); while it is held,
//!   the error names the process that holds it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Name of the lock file in a run folder.
pub const LOCK_FILE: &str = ".tabnas.lock";

/// Options that never follow a symbolic link in the last path component.
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Refuses `path` when it is a symbolic link (a portable check in front of
/// `O_NOFOLLOW`, and a clearer error than `ELOOP`).
fn refuse_link(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link; run-folder files are never written through links",
                path.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// The folder of `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `bytes` to `path` atomically (see the module documentation).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let create = || no_follow(OpenOptions::new().write(true).create_new(true)).open(&tmp);
    let mut f = match create() {
        // A temporary left by an earlier process with our id, or a planted link: remove
        // the name (never what it points to) and create it afresh.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp)?;
            create()?
        }
        other => other?,
    };
    let written = f
        .write_all(bytes)
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads `path` whole, refusing it before reading when it holds more than `limit` bytes
/// (a huge file, or a device such as `/dev/zero` that never ends).
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a folder, not a file",
        ));
    }
    let too_large = |size: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("is {size} bytes; at most {limit} are read"),
        )
    };
    if meta.is_file() && meta.len() > limit {
        return Err(too_large(meta.len().to_string()));
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large("more than that".to_string()));
    }
    Ok(bytes)
}

/// Opens `path` for appending, creating it; refused when `path` is a symbolic link.
pub fn open_append(path: &Path) -> io::Result<File> {
    refuse_link(path)?;
    no_follow(OpenOptions::new().append(true).create(true)).open(path)
}

/// Creates the folder `dir` and its parents; refused when `dir` itself is a link that
/// was planted inside a run folder (`inside` names that folder).
pub fn create_dir_in(inside: &Path, dir: &Path) -> io::Result<()> {
    if dir.starts_with(inside) && dir != inside {
        refuse_link(dir)?;
    }
    std::fs::create_dir_all(dir)
}

/// True when `path` names anything, a dangling link included.
pub fn name_taken(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Why a run folder could not be locked.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds the folder.
    Held {
        /// The run folder.
        dir: PathBuf,
        /// What that process wrote into the lock file (process id, command, start).
        holder: String,
    },
    /// The lock file could not be opened or written.
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Held { dir, holder } => write!(
                f,
                "{} is in use by another run ({}); wait for it to finish or use another folder",
                dir.display(),
                if holder.is_empty() {
                    "a process that has not written its name yet"
                } else {
                    holder
                }
            ),
            Self::Io { path, source } => write!(f, "cannot lock {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Held { .. } => None,
            Self::Io { source, .. } => Some(source),
        }
    }
}

/// The exclusive hold of a run folder; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct RunLock {
    file: File,
    /// What a run that died while holding the folder had written, if one did.
    pub recovered: Option<String>,
}

impl RunLock {
    /// Takes `dir` (which must exist) for this process; `what` describes the run (it is
    /// shown to a process that finds the folder taken).
    pub fn acquire(dir: &Path, what: &str) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        refuse_link(&path).map_err(io)?;
        let mut file = no_follow(OpenOptions::new().read(true).write(true).create(true))
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: dir.to_path_buf(),
                    holder: read_note(&mut file),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        // Held now. A non-empty file is the note of a run that died holding the folder.
        let before = read_note(&mut file);
        let note = format!(
            "pid {} on {}, {what}, started {} s after the Unix epoch",
            std::process::id(),
            host_name(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        );
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(note.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        let before = before.trim();
        Ok(Self {
            file,
            recovered: (!before.is_empty()).then(|| before.to_string()),
        })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // An empty lock file marks a clean finish; the lock itself goes with the file.
        let _ = self.file.set_len(0);
    }
}

/// The note in a lock file: its first 1 KiB, as text (whatever bytes it holds).
fn read_note(file: &mut File) -> String {
    let mut bytes = Vec::new();
    let _ = file.rewind();
    let _ = Read::by_ref(file).take(1024).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).trim().to_string()
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this machine".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_links_and_leave_their_targets_alone() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, b"keep me").unwrap();
        let target = dir.path().join("result.json");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(&target)
            .unwrap()
            .file_type()
            .is_symlink());
        // A link planted under the temporary's name is removed, not followed.
        #[cfg(unix)]
        {
            let tmp = dir
                .path()
                .join(format!(".result.json.{}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&victim, &tmp).unwrap();
            write_atomic(&target, b"newer").unwrap();
            assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
            assert_eq!(std::fs::read(&target).unwrap(), b"newer");
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary left: {names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn appends_refuse_links() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, b"keep me").unwrap();
        let trace = dir.path().join("trace.jsonl");
        std::os::unix::fs::symlink(&victim, &trace).unwrap();
        let e = open_append(&trace).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    }

    #[test]
    fn one_holder_at_a_time_and_a_dead_holder_is_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), "search A").unwrap();
        assert_eq!(first.recovered, None);
        match RunLock::acquire(dir.path(), "search B") {
            Err(LockError::Held { holder, .. }) => {
                assert!(holder.contains("search A"), "{holder}");
                assert!(holder.contains(&std::process::id().to_string()));
            }
            other => panic!("the folder is held: {other:?}"),
        }
        drop(first);
        let second = RunLock::acquire(dir.path(), "search B").unwrap();
        assert_eq!(second.recovered, None, "a clean finish leaves nothing");
        drop(second);
        // A run that died holding the folder: its note stays, the lock went with it.
        std::fs::write(dir.path().join(LOCK_FILE), b"pid 1 on board, search C").unwrap();
        let third = RunLock::acquire(dir.path(), "search D").unwrap();
        assert_eq!(third.recovered.as_deref(), Some("pid 1 on board, search C"));
    }
}
