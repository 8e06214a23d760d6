//! [`Reply`]: a response that owns its bytes, so that a board can build it outside the
//! frame buffer and a host can keep it after the buffer is reused.

use serde::Serialize;
use tabnas_core::protocol::frame::FrameError;
use tabnas_core::protocol::{
    Best, BoardInfo, ErrorCode, MeasurementRecord, Response, Status, TableChunk, WireWidths,
    PROTOCOL_VERSION,
};

/// A [`Response`] with owned data; one variant per response, in the same order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(clippy::large_enum_variant)]
pub enum Reply {
    /// [`Response::Status`].
    Status(Status),
    /// [`Response::Best`].
    Best(Best),
    /// [`Response::OnnxChunk`].
    OnnxChunk {
        /// Offset of `bytes` in the model.
        offset: u32,
        /// Size of the whole model.
        total: u32,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// [`Response::TableChunk`].
    TableChunk(TableChunk),
    /// [`Response::Measured`].
    Measured {
        /// The architecture measured.
        widths: WireWidths,
        /// How.
        record: MeasurementRecord,
    },
    /// [`Response::Started`].
    Started {
        /// Controller steps the search will run.
        steps: u32,
    },
    /// [`Response::Stopped`].
    Stopped {
        /// The step the search stopped at.
        step: u32,
    },
    /// [`Response::Error`].
    Error {
        /// Why.
        code: ErrorCode,
        /// For people; cut to 64 bytes on the wire.
        detail: String,
    },
    /// [`Response::Info`].
    Info(BoardInfo),
}

/// The longest `detail` the wire carries.
pub const MAX_DETAIL: usize = 64;

/// The longest prefix of `s` of at most `max` bytes that ends at a character boundary.
pub fn cut_at_char(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `s` cut to at most [`MAX_DETAIL`] bytes at a character boundary.
pub fn short_detail(s: &str) -> heapless::String<MAX_DETAIL> {
    heapless::String::try_from(cut_at_char(s, MAX_DETAIL)).unwrap_or_default()
}

impl Reply {
    /// An error reply.
    pub fn error(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Error {
            code,
            detail: detail.into(),
        }
    }

    /// The wire form (an error's detail cut to [`MAX_DETAIL`] bytes).
    pub fn as_response(&self) -> Response<'_> {
        match self {
            Self::Status(s) => Response::Status(s.clone()),
            Self::Best(b) => Response::Best(b.clone()),
            Self::OnnxChunk {
                offset,
                total,
                bytes,
            } => Response::OnnxChunk {
                offset: *offset,
                total: *total,
                bytes,
            },
            Self::TableChunk(t) => Response::TableChunk(t.clone()),
            Self::Measured { widths, record } => Response::Measured {
                widths: widths.clone(),
                record: *record,
            },
            Self::Started { steps } => Response::Started { steps: *steps },
            Self::Stopped { step } => Response::Stopped { step: *step },
            Self::Error { code, detail } => Response::Error {
                code: *code,
                detail: short_detail(detail),
            },
            Self::Info(i) => Response::Info(i.clone()),
        }
    }

    /// The owned form of a response read from the wire.
    pub fn from_response(r: Response<'_>) -> Self {
        match r {
            Response::Status(s) => Self::Status(s),
            Response::Best(b) => Self::Best(b),
            Response::OnnxChunk {
                offset,
                total,
                bytes,
            } => Self::OnnxChunk {
                offset,
                total,
                bytes: bytes.to_vec(),
            },
            Response::TableChunk(t) => Self::TableChunk(t),
            Response::Measured { widths, record } => Self::Measured { widths, record },
            Response::Started { steps } => Self::Started { steps },
            Response::Stopped { step } => Self::Stopped { step },
            Response::Error { code, detail } => Self::Error {
                code,
                detail: detail.as_str().to_string(),
            },
            Response::Info(i) => Self::Info(i),
        }
    }

    /// The frame content (version, `id`, message) of this reply; a reply too large for
    /// a frame (none is, by the protocol's bounds) becomes a `Failed` error.
    pub fn content(&self, id: u32) -> Vec<u8> {
        let mut buf = vec![0u8; tabnas_core::protocol::MAX_FRAME_LEN];
        let written =
            tabnas_core::protocol::frame::write_content(id, &self.as_response(), &mut buf)
                .or_else(|_| {
                    let fallback = Reply::error(ErrorCode::Failed, "reply too large for a frame");
                    tabnas_core::protocol::frame::write_content(
                        id,
                        &fallback.as_response(),
                        &mut buf,
                    )
                })
                .unwrap_or(0);
        buf.truncate(written);
        buf
    }

    /// The variant's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Status(_) => "Status",
            Self::Best(_) => "Best",
            Self::OnnxChunk { .. } => "OnnxChunk",
            Self::TableChunk(_) => "TableChunk",
            Self::Measured { .. } => "Measured",
            Self::Started { .. } => "Started",
            Self::Stopped { .. } => "Stopped",
            Self::Error { .. } => "Error",
            Self::Info(_) => "Info",
        }
    }
}

/// The answer to a frame that could not be read (`docs/protocol.md`, "What a peer does
/// with frames it cannot read").
pub fn frame_error_reply(e: FrameError) -> Reply {
    match e {
        FrameError::TooLarge => Reply::error(ErrorCode::TooLarge, e.to_string()),
        FrameError::UnknownVersion { found } => Reply::error(
            ErrorCode::UnknownVersion,
            format!("version {found}; this board speaks {PROTOCOL_VERSION}"),
        ),
        FrameError::Malformed | FrameError::Empty | FrameError::TrailingBytes => {
            Reply::error(ErrorCode::Malformed, e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabnas_core::protocol::frame::read_content;

    #[test]
    fn a_long_detail_is_cut_at_a_character_boundary() {
        let long = "é".repeat(40);
        let cut = short_detail(&long);
        assert!(cut.len() <= MAX_DETAIL && cut.len() >= MAX_DETAIL - 1);
        assert!(long.starts_with(cut.as_str()));
    }

    #[test]
    fn a_reply_round_trips_through_its_content() {
        let reply = Reply::OnnxChunk {
            offset: 5,
            total: 9,
            bytes: vec![1, 2, 3, 4],
        };
        let content = reply.content(42);
        let (id, r): (u32, Response<'_>) = read_content(&content).unwrap();
        assert_eq!((id, Reply::from_response(r)), (42, reply));
    }

    #[test]
    fn frame_errors_map_to_their_codes() {
        let code = |e| match frame_error_reply(e) {
            Reply::Error { code, .. } => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(FrameError::TooLarge), ErrorCode::TooLarge);
        assert_eq!(
            code(FrameError::UnknownVersion { found: 9 }),
            ErrorCode::UnknownVersion
        );
        assert_eq!(code(FrameError::TrailingBytes), ErrorCode::Malformed);
    }
}
