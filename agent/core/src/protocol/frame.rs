//! Frames: how one message travels.
//!
//! A frame's content is `[PROTOCOL_VERSION, id (postcard varint u32), message (postcard)]`,
//! at most [`MAX_FRAME_LEN`] bytes. On a byte stream (serial) the content is COBS-encoded
//! and ends with one `0x00` ([`encode`], [`FrameReader`]); where the transport delimits
//! messages itself, the content travels as is ([`write_content`], [`read_content`]).
//! Reading never panics and never holds more than [`MAX_FRAME_LEN`] bytes: an oversized
//! frame is skipped to its delimiter and reported, so the next frame reads cleanly.

use serde::{Deserialize, Serialize};

use super::{MAX_FRAME_LEN, PROTOCOL_VERSION};

/// Most bytes of one encoded frame on a stream: COBS overhead and the delimiter included.
pub const MAX_ENCODED_FRAME_LEN: usize = cobs::max_encoding_length(MAX_FRAME_LEN) + 1;

/// Why a frame could not be written or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The message does not fit in [`MAX_FRAME_LEN`] bytes (or the output buffer).
    TooLarge,
    /// Not valid COBS, or not a postcard encoding of the expected message.
    Malformed,
    /// The frame is empty.
    Empty,
    /// The version byte names another protocol version.
    UnknownVersion {
        /// The byte found.
        found: u8,
    },
    /// Bytes after the message.
    TrailingBytes,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::TooLarge => write!(f, "frame longer than {MAX_FRAME_LEN} bytes"),
            Self::Malformed => f.write_str("frame is not a valid message encoding"),
            Self::Empty => f.write_str("empty frame"),
            Self::UnknownVersion { found } => write!(
                f,
                "frame has protocol version {found}, this build speaks {PROTOCOL_VERSION}"
            ),
            Self::TrailingBytes => f.write_str("bytes after the message in the frame"),
        }
    }
}

impl core::error::Error for FrameError {}

/// Writes a frame's content (version, id, message) into `buf`; returns its length.
pub fn write_content<T: Serialize>(
    id: u32,
    message: &T,
    buf: &mut [u8],
) -> Result<usize, FrameError> {
    let limit = buf.len().min(MAX_FRAME_LEN);
    let buf = &mut buf[..limit];
    let (first, rest) = buf.split_first_mut().ok_or(FrameError::TooLarge)?;
    *first = PROTOCOL_VERSION;
    let id_len = postcard::to_slice(&id, rest)
        .map_err(|_| FrameError::TooLarge)?
        .len();
    let msg_len = postcard::to_slice(message, &mut rest[id_len..])
        .map_err(|_| FrameError::TooLarge)?
        .len();
    Ok(1 + id_len + msg_len)
}

/// Reads a frame's content: its id and message. The message may borrow from `content`.
pub fn read_content<'a, T: Deserialize<'a>>(content: &'a [u8]) -> Result<(u32, T), FrameError> {
    if content.len() > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge);
    }
    let (&version, rest) = content.split_first().ok_or(FrameError::Empty)?;
    if version != PROTOCOL_VERSION {
        return Err(FrameError::UnknownVersion { found: version });
    }
    let (id, rest): (u32, _) =
        postcard::take_from_bytes(rest).map_err(|_| FrameError::Malformed)?;
    let (message, rest): (T, _) =
        postcard::take_from_bytes(rest).map_err(|_| FrameError::Malformed)?;
    if !rest.is_empty() {
        return Err(FrameError::TrailingBytes);
    }
    Ok((id, message))
}

/// The id of a frame whose message could not be read, when its header can be: so that a
/// peer answers an unreadable request with an error carrying the request's id.
pub fn read_id(content: &[u8]) -> Option<u32> {
    match content.split_first() {
        Some((&PROTOCOL_VERSION, rest)) => postcard::take_from_bytes::<u32>(rest).ok().map(|v| v.0),
        _ => None,
    }
}

/// Encodes a message as one stream frame (COBS, then `0x00`) into `out`; returns its length.
pub fn encode<T: Serialize>(id: u32, message: &T, out: &mut [u8]) -> Result<usize, FrameError> {
    let mut content = [0u8; MAX_FRAME_LEN];
    let len = write_content(id, message, &mut content)?;
    let used = cobs::try_encode(&content[..len], out).map_err(|_| FrameError::TooLarge)?;
    *out.get_mut(used).ok_or(FrameError::TooLarge)? = 0;
    Ok(used + 1)
}

/// What [`FrameReader::push`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A complete frame's content (COBS removed, delimiter dropped): pass it to
    /// [`read_content`].
    Frame(&'a [u8]),
    /// A frame was dropped: too long ([`FrameError::TooLarge`], skipped up to its
    /// delimiter) or not valid COBS ([`FrameError::Malformed`]).
    Dropped(FrameError),
}

/// Collects stream bytes into frames in a fixed buffer of [`MAX_ENCODED_FRAME_LEN`] bytes.
///
/// Feed it bytes one at a time with [`push`](Self::push); it reports each complete frame
/// and each dropped one. Empty frames (a lone `0x00`, as a peer may send to resynchronise)
/// are ignored. A peer that vanishes mid-frame leaves a partial frame that
/// [`reset`](Self::reset) discards (call it when the connection is lost or idle too long).
pub struct FrameReader {
    buf: [u8; MAX_ENCODED_FRAME_LEN],
    len: usize,
    overflowed: bool,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameReader {
    /// An empty reader.
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_ENCODED_FRAME_LEN],
            len: 0,
            overflowed: false,
        }
    }

    /// Whether part of a frame has been read.
    pub fn in_frame(&self) -> bool {
        self.len > 0 || self.overflowed
    }

    /// Drops a partial frame.
    pub fn reset(&mut self) {
        self.len = 0;
        self.overflowed = false;
    }

    /// Takes one byte; returns an event when it ends a frame.
    pub fn push(&mut self, byte: u8) -> Option<Event<'_>> {
        if byte != 0 {
            if self.len < self.buf.len() {
                self.buf[self.len] = byte;
                self.len += 1;
            } else {
                self.overflowed = true;
            }
            return None;
        }
        let (len, overflowed) = (self.len, self.overflowed);
        self.reset();
        if overflowed {
            return Some(Event::Dropped(FrameError::TooLarge));
        }
        if len == 0 {
            return None;
        }
        match cobs::decode_in_place(&mut self.buf[..len]) {
            Ok(n) if n > MAX_FRAME_LEN => Some(Event::Dropped(FrameError::TooLarge)),
            Ok(n) => Some(Event::Frame(&self.buf[..n])),
            Err(_) => Some(Event::Dropped(FrameError::Malformed)),
        }
    }
}
