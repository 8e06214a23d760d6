//! [`LinkError`]: why talking to a board failed, naming the board and what was asked.

use std::fmt;
use std::time::Duration;

use tabnas_core::protocol::frame::FrameError;
use tabnas_core::protocol::ErrorCode;

/// Why a request to a board got no usable answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum LinkError {
    /// The board could not be reached or the connection failed.
    Io {
        /// The board.
        device: String,
        /// What was being done.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// No answer in time.
    Timeout {
        /// The board.
        device: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The answer was not a frame of this protocol.
    Frame {
        /// The board.
        device: String,
        /// Why.
        source: FrameError,
    },
    /// The board answered with an error.
    Board {
        /// The board.
        device: String,
        /// Its code.
        code: ErrorCode,
        /// Its explanation.
        detail: String,
    },
    /// The board answered with another response than the request's.
    Unexpected {
        /// The board.
        device: String,
        /// The response the request takes.
        wanted: &'static str,
        /// The response that came.
        got: &'static str,
    },
    /// An HTTP status other than 200.
    Http {
        /// The board.
        device: String,
        /// The status.
        status: u16,
        /// The body the server sent (its explanation).
        body: String,
    },
    /// A board name that is neither a serial path nor an `http://` URL, or a transport
    /// this build leaves out.
    Spec {
        /// The name given.
        spec: String,
        /// What is wrong with it.
        problem: SpecProblem,
    },
    /// The board's answers do not fit together (a chunked read that kept changing).
    Inconsistent {
        /// The board.
        device: String,
        /// What.
        what: String,
    },
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                device,
                what,
                source,
            } => write!(f, "{device}: {what}: {source}"),
            Self::Timeout { device, waited } => write!(
                f,
                "{device}: no answer within {:.1} s (is a tabnas agent serving there?)",
                waited.as_secs_f64()
            ),
            Self::Frame { device, source } => write!(f, "{device}: unreadable answer: {source}"),
            Self::Board {
                device,
                code,
                detail,
            } => write!(f, "{device} answered {code:?}: {detail}"),
            Self::Unexpected {
                device,
                wanted,
                got,
            } => write!(f, "{device}: expected a {wanted} answer, got {got}"),
            Self::Http {
                device,
                status,
                body,
            } => write!(f, "{device}: HTTP {status}: {}", body.trim()),
            Self::Spec { spec, problem } => match problem {
                SpecProblem::Https => write!(
                    f,
                    "{spec}: https is not supported; agents serve plain HTTP (put them behind a \
                     TLS proxy, or use an SSH tunnel)"
                ),
                SpecProblem::Baud(b) => write!(f, "{spec}: `{b}` is not a baud rate"),
                SpecProblem::NoBoard => write!(
                    f,
                    "`{spec}` names no board: give http://HOST:PORT or a serial port path such \
                     as /dev/ttyACM0 (optionally /dev/ttyACM0@921600)"
                ),
                SpecProblem::NotBuilt { feature, what } => {
                    write!(f, "{spec}: this build has no {what} (feature `{feature}`)")
                }
            },
            Self::Inconsistent { device, what } => write!(f, "{device}: {what}"),
        }
    }
}

impl std::error::Error for LinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Frame { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What is wrong with a board's name ([`LinkError::Spec`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecProblem {
    /// An `https://` URL: agents serve plain HTTP.
    Https,
    /// The text after `@` is not a baud rate.
    Baud(String),
    /// Neither an `http://` URL nor a serial port path.
    NoBoard,
    /// A transport this build leaves out.
    NotBuilt {
        /// The cargo feature that adds it.
        feature: &'static str,
        /// What it is (`serial support`, `HTTP client`).
        what: &'static str,
    },
}
