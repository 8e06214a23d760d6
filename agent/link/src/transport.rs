//! The seam between the host's client and a way to reach a board (a serial stream,
//! HTTP): one exchange of frame contents, matched by request id.

use crate::error::LinkError;

/// Carries one request's frame content to the board and its answer back.
pub trait Transport: Send {
    /// Sends `content` (whose id is `id`) and returns the content of the answer with
    /// that id.
    fn exchange(&mut self, id: u32, content: &[u8]) -> Result<Vec<u8>, LinkError>;
    /// The board, for messages.
    fn name(&self) -> &str;
}
