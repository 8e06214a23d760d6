//! SIGINT and SIGTERM during a search: the first sets the search's stop flag, so that it
//! ends at its next step (or measurement sample) with a final checkpoint; a second one
//! ends the process at once (a stuck stop must not trap the user). The search then
//! ends with [`Stopped`], which `main` prints as one line and turns into the usual
//! exit status of a process ended by that signal (128 + its number).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Result;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

/// The stop flag the termination signals set, and which one arrived last.
pub struct StopOnSignal {
    /// Set by SIGINT or SIGTERM.
    pub stop: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl StopOnSignal {
    /// Installs the handlers (for the rest of the process).
    pub fn install() -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM] {
            // The shutdown goes first: it acts only once the flag is already set, i.e.
            // on the second signal.
            flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&stop))?;
            flag::register(sig, Arc::clone(&stop))?;
            flag::register_usize(sig, Arc::clone(&which), sig as usize)?;
        }
        Ok(Self { stop, which })
    }

    /// The signal that stopped the search, if one did.
    pub fn received(&self) -> Option<Signal> {
        match self.which.load(Ordering::SeqCst) as i32 {
            SIGINT => Some(Signal::Int),
            SIGTERM => Some(Signal::Term),
            _ => None,
        }
    }
}

/// A termination signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Int,
    /// SIGTERM.
    Term,
}

impl Signal {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Int => "SIGINT",
            Self::Term => "SIGTERM",
        }
    }

    /// The exit status of a process that this signal ended.
    pub fn exit_status(self) -> u8 {
        128 + match self {
            Self::Int => SIGINT,
            Self::Term => SIGTERM,
        } as u8
    }
}

/// A search ended by a signal, with its checkpoint saved: the one line `main` prints.
#[derive(Debug)]
pub struct Stopped {
    /// The signal.
    pub signal: Signal,
    /// What was saved and how to continue.
    pub message: String,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.signal.name(), self.message)
    }
}

impl std::error::Error for Stopped {}
