//! What the commands that write a folder say about it: the lock recovered from a run
//! that died, and an earlier run moved aside.

use std::path::Path;

use anyhow::Result;
use tabnas_trainer::run_folder::{RunFolder, SetAside};

/// This process's command line, `program` first (for lock files and provenance).
pub fn command_line(program: &str) -> String {
    std::iter::once(program.to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command line recorded in a bundle's provenance: [`command_line`] without the
/// flags that change only where output goes or how it is shown (`--out`, `--quiet`,
/// `--threads`), so that the bundle's hash depends only on what the bundle holds.
pub fn recorded_command_line(program: &str) -> String {
    recorded(std::iter::once(program.to_string()).chain(std::env::args().skip(1)))
}

/// Flags [`recorded_command_line`] leaves out, with whether each takes a value.
const NOT_RECORDED: [(&str, bool); 3] = [("--out", true), ("--threads", true), ("--quiet", false)];

fn recorded(args: impl Iterator<Item = String>) -> String {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for a in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        match NOT_RECORDED.iter().find(|(flag, _)| {
            a == *flag
                || a.strip_prefix(flag)
                    .is_some_and(|rest| rest.starts_with('='))
        }) {
            Some((flag, takes_value)) => skip_value = *takes_value && a == *flag,
            None => kept.push(a),
        }
    }
    kept.join(" ")
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
        say_set_aside(folder, &moved);
    }
    Ok(())
}

/// The one-line note of an earlier run of `folder` moved aside.
pub fn say_set_aside(folder: &RunFolder, moved: &SetAside) {
    println!(
        "note: {} held an earlier run; moved its {} to {}",
        folder.dir().display(),
        moved.names.join(", "),
        moved.dir.display()
    );
}

#[cfg(test)]
mod tests {
    use super::recorded;

    #[test]
    fn the_recorded_command_leaves_out_where_output_goes() {
        let line = |s: &str| recorded(s.split(' ').map(str::to_string));
        assert_eq!(
            line("tabnas search --out A --csv x.csv --quiet --threads 2 --target 5"),
            "tabnas search --csv x.csv --target 5"
        );
        assert_eq!(
            line("tabnas search --out=B --csv x.csv --threads=3 --outer 1"),
            "tabnas search --csv x.csv --outer 1"
        );
    }
}
