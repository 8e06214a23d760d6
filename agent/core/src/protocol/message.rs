//! The requests a host sends to a board and the responses it gets back.
//!
//! Every type here is postcard-encoded inside a frame ([`super::frame`]); the variant
//! order of each enum is its wire tag and never changes within a protocol version
//! (`docs/protocol.md`). Variable-length data is bounded by the constants of
//! [`super`], so a board decodes every message into fixed-size memory.

use heapless::Vec;
use serde::{Deserialize, Serialize};

use super::MAX_TABLE_CHUNK;
use crate::capacity::{MAX_CHOICES, MAX_LAYERS};

/// The hidden-layer widths of one architecture as the wire carries them: 1 to
/// [`MAX_LAYERS`] layers of `u16` (the core's own is [`crate::space::Widths`], `u32`).
pub type WireWidths = Vec<u16, MAX_LAYERS>;

/// What a host asks. Each is answered by exactly one [`Response`] with the same id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request<'a> {
    /// The search's phase, its progress and the best answer so far ([`Response::Status`]).
    Status,
    /// The best architecture with its latency, validation loss and measurement record
    /// ([`Response::Best`]).
    Best,
    /// Up to [`MAX_ONNX_CHUNK`](super::MAX_ONNX_CHUNK) bytes of the best child's ONNX model from `offset`
    /// ([`Response::OnnxChunk`]).
    BestOnnx {
        /// Byte offset into the model.
        offset: u32,
    },
    /// Up to [`MAX_TABLE_CHUNK`] latency table entries from entry `first`
    /// ([`Response::TableChunk`]).
    LatencyTable {
        /// Index of the first entry wanted.
        first: u16,
    },
    /// Measure one architecture now with the board's protocol ([`Response::Measured`]).
    Measure {
        /// The architecture.
        widths: WireWidths,
    },
    /// Start a search from a packed search configuration
    /// ([`crate::formats::SearchConfig`]'s bytes; [`Response::Started`]).
    StartSearch {
        /// The packed configuration, version byte included.
        config: &'a [u8],
    },
    /// Stop the running search at its next step; the best so far stays readable
    /// ([`Response::Stopped`]).
    Stop,
    /// What the board is, what measures on it and what it searches ([`Response::Info`]).
    Info,
}

/// Where a board's search is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// No search has run since the board started.
    Idle,
    /// Measuring the latency table and calibrating it.
    Measuring,
    /// Running the controller's steps.
    Searching,
    /// Re-measuring the candidates.
    Verifying,
    /// Finished; the answer is final.
    Done,
    /// Stopped on request before the end.
    Stopped,
    /// Ended with an error (see the board's log).
    Failed,
}

/// The best architecture so far, in short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestSummary {
    /// Its widths.
    pub widths: WireWidths,
    /// Its latency in microseconds (measured if the search verified it, else predicted).
    pub latency_us: f32,
    /// Its validation loss.
    pub validation_loss: f32,
}

/// A search's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The phase.
    pub phase: Phase,
    /// Controller steps done.
    pub step: u32,
    /// Controller steps planned.
    pub steps: u32,
    /// The latency target in microseconds (0 when no search has run).
    pub target_us: f32,
    /// The best answer so far, if any.
    pub best: Option<BestSummary>,
}

/// How a latency was measured: enough to judge how far to trust it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeasurementRecord {
    /// The statistic reported, in microseconds (median or p95, as the profile says).
    pub latency_us: f32,
    /// Samples taken.
    pub samples: u32,
    /// Coefficient of variation of the samples.
    pub cv: f32,
}

/// The best architecture in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Best {
    /// Widths, latency and loss.
    pub summary: BestSummary,
    /// How its latency was measured; `None` when it was only predicted from the table.
    pub record: Option<MeasurementRecord>,
    /// Size of its ONNX model in bytes (0 where the board has none, as a microcontroller).
    pub onnx_bytes: u32,
}

/// One measured block of the latency table: the time of block `block` going from the
/// `in_choice`-th width of the layer before to the `out_choice`-th width of its own layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    /// Block index (`layers` is the head).
    pub block: u8,
    /// Choice index of the input width (0 for the first block).
    pub in_choice: u8,
    /// Choice index of the output width (0 for the head).
    pub out_choice: u8,
    /// Latency in microseconds.
    pub latency_us: f32,
}

/// Part of the latency table, and what turns its sums into child latencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableChunk {
    /// Index of the first entry in `entries`.
    pub first: u16,
    /// Entries in the whole table.
    pub total: u16,
    /// Fixed overhead of every child in microseconds.
    pub overhead_us: f32,
    /// Calibration: predicted = scale * (overhead + sum of blocks) + offset.
    pub scale: f32,
    /// Calibration offset in microseconds.
    pub offset_us: f32,
    /// The entries (at most [`MAX_TABLE_CHUNK`]).
    pub entries: Vec<TableEntry, MAX_TABLE_CHUNK>,
}

/// The candidate widths of one layer.
pub type LayerChoices = Vec<u16, MAX_CHOICES>;

/// Who answers: enough for a host to record which board, profile and runtime measured a
/// latency, and to check that its network is the one the board measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardInfo {
    /// The board profile's name.
    pub board: heapless::String<32>,
    /// The runtime that measures, with its version (`tract-onnx 0.23.9`).
    pub runtime: heapless::String<32>,
    /// The first 16 hex digits of the served bundle's hash (empty without one).
    pub bundle: heapless::String<16>,
    /// Width of the first hidden layer's input (numeric features and embeddings).
    pub input_width: u32,
    /// Outputs of the head.
    pub outputs: u16,
    /// The search space: each layer's candidate widths.
    pub space: Vec<LayerChoices, MAX_LAYERS>,
}

/// Why a request was not done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The frame was not valid COBS or its message not a valid encoding.
    Malformed,
    /// The frame's version byte is not one this board speaks.
    UnknownVersion,
    /// The frame was longer than [`super::MAX_FRAME_LEN`]; it was discarded.
    TooLarge,
    /// This board does not do that (a microcontroller has no ONNX model).
    Unsupported,
    /// A search is running; stop it first.
    Busy,
    /// No search has produced an answer yet.
    NoResult,
    /// The request's values are out of range (offset past the end, bad widths, a packed
    /// configuration that does not decode).
    BadRequest,
    /// The board failed to do it (measurement failed, storage error).
    Failed,
}

/// What a board answers.
// A table chunk is about 1 KiB, the other variants under 100 bytes. Without an allocator
// there is no box to put it in; a response lives on the stack for one encode.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response<'a> {
    /// Answer to [`Request::Status`].
    Status(Status),
    /// Answer to [`Request::Best`].
    Best(Best),
    /// Answer to [`Request::BestOnnx`].
    OnnxChunk {
        /// Offset of `bytes` in the model.
        offset: u32,
        /// Size of the whole model.
        total: u32,
        /// The bytes (at most [`MAX_ONNX_CHUNK`](super::MAX_ONNX_CHUNK); empty at the end).
        bytes: &'a [u8],
    },
    /// Answer to [`Request::LatencyTable`].
    TableChunk(TableChunk),
    /// Answer to [`Request::Measure`].
    Measured {
        /// The architecture measured.
        widths: WireWidths,
        /// How.
        record: MeasurementRecord,
    },
    /// Answer to [`Request::StartSearch`]: the search runs.
    Started {
        /// Controller steps it will run.
        steps: u32,
    },
    /// Answer to [`Request::Stop`].
    Stopped {
        /// The step the search stopped at (its last step if it had ended).
        step: u32,
    },
    /// The request was not done.
    Error {
        /// Why.
        code: ErrorCode,
        /// A short explanation for people (at most 64 bytes, UTF-8).
        detail: heapless::String<64>,
    },
    /// Answer to [`Request::Info`].
    Info(BoardInfo),
}
