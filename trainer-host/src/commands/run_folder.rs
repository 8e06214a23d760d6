//! What the commands that write a folder say about it: the lock recovered from a run
//! that died, and an earlier run moved aside.

use std::path::Path;

use anyhow::Result;
use tabnas_trainer::run_folder::RunFolder;

/// This process's command line, `program` first (for lock files and provenance).
pub fn command_line(program: &str) -> String {
    std::iter::once(program.to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Creates and takes `dir` for this run; a lock left by a run that died is taken over
/// with a one-line note.
pub fn open_run_folder(dir: &Path, what: &str) -> Result<RunFolder> {
    let folder = RunFolder::open(dir, what)?;
    if let Some(before) = folder.recovered() {
        println!(
            "note: {} was left locked by a run that did not finish ({before}); taking it over",
            dir.display()
        );
    }
    Ok(folder)
}

/// Moves an earlier run's `names` into a fresh `previous-N/`, with a one-line note.
pub fn set_aside(folder: &RunFolder, names: &[&str]) -> Result<()> {
    if let Some(moved) = folder.set_aside(names)? {
        println!(
            "note: {} held an earlier run; moved its {} to {}",
            folder.dir().display(),
            moved.names.join(", "),
            moved.dir.display()
        );
    }
    Ok(())
}
