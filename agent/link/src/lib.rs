//! # tabnas-link
//!
//! Both ends of the tabnas wire protocol (`docs/protocol.md`) in `std` code; the messages
//! themselves are `tabnas_core::protocol` (`no_std`, shared with the microcontroller).
//!
//! * [`reply`]: [`Reply`], the owned form of a response that a board builds and a host
//!   receives, and the error answer of every frame that cannot be read.
//! * [`stream`]: the board's frame loop on a byte stream ([`serve_stream`]: every
//!   request answered once, garbage and partial frames dropped, the loop goes on) and
//!   the host's framed exchange ([`StreamTransport`]).
//! * [`json`]: the JSON bodies of the HTTP endpoints, parsed with errors that name the
//!   field at fault.
//! * [`client`]: [`Device`], the host's client of a board over serial or HTTP, and
//!   [`DeviceSpec`], how a user names a board.
//! * [`transport`]: [`Transport`], the seam between the client and a serial line or
//!   HTTP.
//! * [`token`]: bearer tokens read the same way by the agent and the host commands.
//! * [`error`](mod@error): [`LinkError`].

pub mod client;
pub mod error;
#[cfg(feature = "http-client")]
mod http;
pub mod json;
pub mod reply;
pub mod stream;
pub mod token;
pub mod transport;

pub use client::{Device, DeviceSpec};
pub use error::LinkError;
pub use json::{BodyError, MeasureBody, StartBody, TableJson};
pub use reply::{frame_error_reply, Reply};
pub use stream::{serve_stream, ServeStats, StreamTransport};
pub use transport::Transport;
