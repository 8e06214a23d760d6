//! The `tabnas` command: host-side tools of tabnas. Flags, their wording in errors and
//! what each command prints live in [`commands`]; the work is the library's.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// tabnas: find the best neural network for a tabular task under a resource target.
#[derive(Debug, Parser)]
#[command(name = "tabnas", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reproduce the paper's toy example (figure 1) and its sweeps (figures 13/14).
    Toy(commands::toy::ToyArgs),
    /// Train a weight-sharing supernet with TabNAS under a parameter or FLOPs target;
    /// writes result.json, trace.svg and the bundle.
    Search(Box<commands::search::SearchArgs>),
    /// Train architectures stand-alone and report their test loss (Pareto reference).
    Reference(Box<commands::reference::ReferenceArgs>),
    /// The paper's comparison on one dataset and target: rejection, Abs and MnasNet
    /// rewards and random search, each answer trained stand-alone; a table and a plot.
    Compare(Box<commands::compare::CompareArgs>),
    /// Re-export a bundle, or one child as a stand-alone ONNX file.
    Export(commands::export::ExportArgs),
    /// Talk to a board's agent over serial or HTTP: info, status, best, fetch-onnx,
    /// table, measure, search, stop, wait.
    Device(Box<commands::device::DeviceCommandArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Toy(args) => commands::toy::run(args),
        Command::Search(args) => commands::search::run(args),
        Command::Reference(args) => commands::reference::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Compare(args) => commands::compare::run(args),
        Command::Device(args) => commands::device::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", report(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its sources on one line, `what: why: why`, leaving out a source whose
/// text its parent already ends with (some errors print their source themselves).
fn report(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.ends_with(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_chains_sources_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = anyhow::Error::new(io()).context("cannot read x");
        assert_eq!(report(&e), "cannot read x: gone");
        #[derive(Debug)]
        struct Repeats(std::io::Error);
        impl std::fmt::Display for Repeats {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "x: {}", self.0)
            }
        }
        impl std::error::Error for Repeats {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = anyhow::Error::new(Repeats(io())).context("cannot load");
        assert_eq!(report(&e), "cannot load: x: gone");
    }
}
