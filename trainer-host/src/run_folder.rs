//! A folder the trainer writes a run into (`tabnas search --out`, `tabnas export --out`),
//! owned by one run at a time.
//!
//! * [`RunFolder::open`] creates the folder and takes its lock ([`RunLock`] on
//!   `.tabnas.lock`), held until the [`RunFolder`] is dropped. While another process
//!   holds it, the error names that process; a lock left by a run that died is taken
//!   over and reported ([`RunFolder::recovered`]).
//! * [`RunFolder::set_aside`] moves an earlier run's files into a fresh `previous-N/`
//!   (the first `N` from 1 whose name is not taken), so that nothing earlier is ever
//!   deleted or overwritten.
//! * [`RunFolder::write`] replaces a file atomically and never through a link planted
//!   under its name ([`files::write_atomic`]); [`RunFolder::subfolder`] refuses a
//!   planted link in place of a folder.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use tabnas_bundle::files::{self, LockError, RunLock};

/// Why a run folder could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunFolderError {
    /// The folder could not be created.
    Create {
        /// The folder.
        dir: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// The folder is held by another run, or its lock file is unusable.
    Lock(LockError),
    /// An earlier run's file could not be moved aside.
    SetAside {
        /// The file or folder.
        from: PathBuf,
        /// Where it was to go.
        to: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// A file or subfolder could not be written.
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
}

impl fmt::Display for RunFolderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create { dir, .. } => {
                write!(f, "cannot create the run folder {}", dir.display())
            }
            // The lock's own words name the folder and the process that holds it.
            Self::Lock(e) => e.fmt(f),
            Self::SetAside { from, to, .. } => write!(
                f,
                "cannot move the earlier {} to {}",
                from.display(),
                to.display()
            ),
            Self::Write { path, .. } => write!(f, "cannot write {}", path.display()),
        }
    }
}

impl std::error::Error for RunFolderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Create { source, .. }
            | Self::SetAside { source, .. }
            | Self::Write { source, .. } => Some(source),
            Self::Lock(e) => Some(e),
        }
    }
}

/// Earlier files moved aside by [`RunFolder::set_aside`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// The new `previous-N` folder.
    pub dir: PathBuf,
    /// The names moved into it, in the order given.
    pub names: Vec<String>,
}

/// A run folder held by this process (see the module documentation).
#[derive(Debug)]
pub struct RunFolder {
    dir: PathBuf,
    lock: RunLock,
}

impl RunFolder {
    /// Creates `dir` (and its parents) and takes it for this run; `what` describes the
    /// run to a process that finds the folder taken.
    pub fn open(dir: &Path, what: &str) -> Result<Self, RunFolderError> {
        std::fs::create_dir_all(dir).map_err(|source| RunFolderError::Create {
            dir: dir.to_path_buf(),
            source,
        })?;
        let lock = RunLock::acquire(dir, what).map_err(RunFolderError::Lock)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            lock,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What a run that died holding the folder had written in its lock, if one did.
    pub fn recovered(&self) -> Option<&str> {
        self.lock.recovered.as_deref()
    }

    /// Moves those of `names` that exist in the folder (files, folders or links, which
    /// are moved as links) into a fresh `previous-N/`. Returns `None` when none exists.
    pub fn set_aside(&self, names: &[&str]) -> Result<Option<SetAside>, RunFolderError> {
        let present: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| files::name_taken(&self.dir.join(n)))
            .collect();
        if present.is_empty() {
            return Ok(None);
        }
        let mut n = 1u64;
        let previous = loop {
            let candidate = self.dir.join(format!("previous-{n}"));
            if !files::name_taken(&candidate) {
                break candidate;
            }
            n += 1;
        };
        std::fs::create_dir(&previous).map_err(|source| RunFolderError::Write {
            path: previous.clone(),
            source,
        })?;
        for name in &present {
            let (from, to) = (self.dir.join(name), previous.join(name));
            std::fs::rename(&from, &to).map_err(|source| RunFolderError::SetAside {
                from,
                to,
                source,
            })?;
        }
        Ok(Some(SetAside {
            dir: previous,
            names: present.iter().map(|n| n.to_string()).collect(),
        }))
    }

    /// Writes `bytes` to the file `name` in the folder, atomically and never through a
    /// link; returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, RunFolderError> {
        let path = self.dir.join(name);
        files::write_atomic(&path, bytes).map_err(|source| RunFolderError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Creates the subfolder `name` (refused when a link stands in its place); returns
    /// its path.
    pub fn subfolder(&self, name: &str) -> Result<PathBuf, RunFolderError> {
        let path = self.dir.join(name);
        files::create_dir_in(&self.dir, &path).map_err(|source| RunFolderError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_at_a_time_and_a_dead_one_is_recovered() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/run");
        let first = RunFolder::open(&dir, "tabnas search A").unwrap();
        assert_eq!(first.recovered(), None);
        let e = RunFolder::open(&dir, "tabnas search B").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("in use by another run")
                && text.contains("tabnas search A")
                && text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(first);
        std::fs::write(dir.join(files::LOCK_FILE), "pid 1 on x, tabnas search C").unwrap();
        let again = RunFolder::open(&dir, "tabnas search D").unwrap();
        assert_eq!(again.recovered(), Some("pid 1 on x, tabnas search C"));
    }

    #[test]
    fn earlier_runs_are_moved_to_fresh_previous_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunFolder::open(tmp.path(), "test").unwrap();
        assert_eq!(run.set_aside(&["result.json", "bundle"]).unwrap(), None);
        run.write("result.json", b"1").unwrap();
        std::fs::create_dir(tmp.path().join("bundle")).unwrap();
        std::fs::write(tmp.path().join("bundle/x"), b"b1").unwrap();
        // A name that is taken (here by a dangling link) is skipped.
        #[cfg(unix)]
        std::os::unix::fs::symlink("/nonexistent", tmp.path().join("previous-1")).unwrap();
        let moved = run
            .set_aside(&["result.json", "trace.svg", "bundle"])
            .unwrap()
            .unwrap();
        let first = if cfg!(unix) {
            "previous-2"
        } else {
            "previous-1"
        };
        assert_eq!(moved.dir, tmp.path().join(first));
        assert_eq!(moved.names, ["result.json", "bundle"]);
        assert_eq!(std::fs::read(moved.dir.join("result.json")).unwrap(), b"1");
        assert_eq!(std::fs::read(moved.dir.join("bundle/x")).unwrap(), b"b1");
        assert!(!files::name_taken(&tmp.path().join("result.json")));
        run.write("result.json", b"2").unwrap();
        let moved = run.set_aside(&["result.json"]).unwrap().unwrap();
        assert_ne!(moved.dir, tmp.path().join(first));
        assert_eq!(std::fs::read(moved.dir.join("result.json")).unwrap(), b"2");
    }

    #[cfg(unix)]
    #[test]
    fn planted_links_are_moved_or_refused_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim.txt");
        std::fs::write(&victim, b"keep me").unwrap();
        let victim_dir = tmp.path().join("victim-dir");
        std::fs::create_dir(&victim_dir).unwrap();
        let dir = tmp.path().join("run");
        std::fs::create_dir(&dir).unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("result.json")).unwrap();
        std::os::unix::fs::symlink(&victim_dir, dir.join("bundle")).unwrap();
        let run = RunFolder::open(&dir, "test").unwrap();
        let moved = run.set_aside(&["result.json", "bundle"]).unwrap().unwrap();
        assert!(std::fs::symlink_metadata(moved.dir.join("result.json"))
            .unwrap()
            .file_type()
            .is_symlink());
        run.write("result.json", b"new").unwrap();
        run.subfolder("bundle").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);
        // A link planted after the move is written over, not through.
        std::os::unix::fs::symlink(&victim, dir.join("trace.svg")).unwrap();
        run.write("trace.svg", b"<svg/>").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        std::fs::remove_dir(dir.join("bundle")).unwrap();
        std::os::unix::fs::symlink(&victim_dir, dir.join("bundle")).unwrap();
        let e = run.subfolder("bundle").unwrap_err();
        assert!(e.to_string().contains("cannot write"), "{e}");
        // A lock file planted as a link is refused.
        drop(run);
        let other = tmp.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::os::unix::fs::symlink(&victim, other.join(files::LOCK_FILE)).unwrap();
        let e = RunFolder::open(&other, "test").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    }
}
