//! The wire protocol between a host and a board (`docs/protocol.md`).
//!
//! A host sends [`Request`]s and gets one [`Response`] per request, matched by id. Each
//! message travels in one frame ([`frame`]): a version byte, the id, then postcard. On a
//! serial line frames are COBS-encoded and end with `0x00`. Every bound is a constant
//! here, so a `no_std` board holds any frame in fixed-size memory, and the byte layout of
//! every message is pinned by golden-byte tests: a change of bytes needs a new
//! [`PROTOCOL_VERSION`].

pub mod frame;
pub mod message;

pub use frame::{Event, FrameError, FrameReader, MAX_ENCODED_FRAME_LEN};
pub use message::{
    Best, BestSummary, BoardInfo, ErrorCode, LayerChoices, MeasurementRecord, Phase, Request,
    Response, Status, TableChunk, TableEntry, WireWidths,
};

/// The protocol version: the first byte of every frame.
pub const PROTOCOL_VERSION: u8 = 1;

/// Most bytes of a frame's content (version, id and message), before COBS. Holds a packed
/// search configuration ([`crate::formats::SearchConfig::MAX_ENCODED_LEN`]) with room to
/// spare.
pub const MAX_FRAME_LEN: usize = 2304;

/// Most ONNX bytes in one [`Response::OnnxChunk`].
pub const MAX_ONNX_CHUNK: usize = 2048;

/// Most latency table entries in one [`Response::TableChunk`].
pub const MAX_TABLE_CHUNK: usize = 128;

#[cfg(test)]
mod tests;
