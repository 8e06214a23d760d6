//! The framing shared by every packed blob of the core (search and board
//! configurations): one version byte, then postcard, nothing after. Each blob's error
//! type turns a [`Framing`] failure into its own named variant.

use serde::{Deserialize, Serialize};

/// Why a blob's framing is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No bytes.
    Empty,
    /// Another format version.
    UnknownVersion { found: u8 },
    /// Truncated or corrupt payload.
    Malformed,
    /// Bytes after the payload.
    TrailingBytes { count: usize },
    /// The output buffer is too small.
    BufferTooSmall,
}

/// Writes `version` and `value` into `buf`; returns the used prefix.
pub(crate) fn encode<'b, T: Serialize>(
    value: &T,
    version: u8,
    buf: &'b mut [u8],
) -> Result<&'b mut [u8], Framing> {
    let (first, rest) = buf.split_first_mut().ok_or(Framing::BufferTooSmall)?;
    *first = version;
    let used = postcard::to_slice(value, rest)
        .map_err(|_| Framing::BufferTooSmall)?
        .len();
    Ok(&mut buf[..1 + used])
}

/// Reads a value written by [`encode`] with the same `version`.
pub(crate) fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8], version: u8) -> Result<T, Framing> {
    let (&found, payload) = bytes.split_first().ok_or(Framing::Empty)?;
    if found != version {
        return Err(Framing::UnknownVersion { found });
    }
    let (value, rest): (T, _) =
        postcard::take_from_bytes(payload).map_err(|_| Framing::Malformed)?;
    if !rest.is_empty() {
        return Err(Framing::TrailingBytes { count: rest.len() });
    }
    Ok(value)
}
