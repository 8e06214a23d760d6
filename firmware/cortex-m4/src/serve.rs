//! The tabnas wire protocol (`docs/protocol.md`) on the board's serial line, after the
//! search: a host fetches the answer, the latency table and the board's description,
//! has children timed, or starts a new search.
//!
//! [`serve`] reads bytes from a [`Serial`] into tabnas-core's `FrameReader` and answers
//! every frame with exactly one response, in order, as the document says for frames it
//! cannot read (`Malformed` or `TooLarge` with id 0, `UnknownVersion` naming version 1,
//! `Malformed` with the frame's id when only its message is bad). It returns when the line
//! has been quiet for `idle_s` seconds of the board's clock, or after answering a
//! `StartSearch` (the caller then runs that search and serves again). Nothing here touches
//! the chip: the firmware passes its UART and clock, the host tests a byte buffer.

use core::fmt::{self, Write};

use tabnas_core::cost::LatencyTable;
use tabnas_core::formats::SearchConfig;
use tabnas_core::protocol::frame::{encode, read_content, read_id};
use tabnas_core::protocol::{
    Best, BestSummary, BoardInfo, ErrorCode, Event, FrameError, FrameReader, LayerChoices,
    MeasurementRecord, Phase, Request, Response, Status, TableChunk, TableEntry, WireWidths,
    MAX_ENCODED_FRAME_LEN, MAX_TABLE_CHUNK, PROTOCOL_VERSION,
};
use tabnas_core::space::Architecture;

use crate::model::Model;
use crate::search::{check, time_child_record, widths_of, ChildTiming, Clock};
use crate::MC_CAPACITY;

/// A byte-wide serial line, polled.
pub trait Serial {
    /// The next received byte, if one is waiting.
    fn read(&mut self) -> Option<u8>;
    /// Sends one byte (waits while the transmitter is busy).
    fn write(&mut self, byte: u8);
}

/// The answer of the search, as the board reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    /// The child.
    pub arch: Architecture,
    /// Its end-to-end timing (`ANSWER ... latency_us`).
    pub timing: ChildTiming,
    /// Its validation loss.
    pub loss: f64,
}

/// What the board serves: its description, the search it ran and that search's result.
pub struct Board<'a> {
    /// Board profile name (`Info.board`, at most 32 bytes).
    pub name: &'a str,
    /// What measures (`Info.runtime`, at most 32 bytes).
    pub runtime: &'a str,
    /// The model blob.
    pub model: &'a Model<'a>,
    /// The search configuration that ran.
    pub config: &'a SearchConfig,
    /// The latency table it measured, calibrated.
    pub table: &'a LatencyTable,
    /// Where the search is (`Done`, or `Failed`).
    pub phase: Phase,
    /// Steps it ran.
    pub step: u32,
    /// Its answer (`None`: no feasible child, or the search failed).
    pub answer: Option<Answer>,
    /// Rows per timing and repeats of a `Measure` (the firmware's table protocol).
    pub rows: usize,
    /// See `rows`.
    pub repeats: usize,
}

/// How a [`serve`] ended.
#[derive(Debug)]
pub struct Served {
    /// Frames answered (each with exactly one response).
    pub requests: u32,
    /// Of those, answered with `Error`.
    pub errors: u32,
    /// Partial frames dropped after an idle second.
    pub partial_dropped: u32,
    /// A `StartSearch` was accepted (and answered `Started`): run this configuration.
    pub restart: Option<SearchConfig>,
}

/// Writes at most what fits, character by character (error details are at most 64 bytes).
struct Truncating<'a, S>(&'a mut S);

impl<S: Write> Write for Truncating<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.0.write_char(c).is_err() {
                break;
            }
        }
        Ok(())
    }
}

fn error(code: ErrorCode, detail: fmt::Arguments<'_>) -> Response<'static> {
    let mut r = Response::Error {
        code,
        detail: Default::default(),
    };
    if let Response::Error { detail: d, .. } = &mut r {
        let _ = Truncating(d).write_fmt(detail);
    }
    r
}

fn widths_u16(space: &tabnas_core::space::SearchSpace, arch: &Architecture) -> WireWidths {
    let mut w = WireWidths::new();
    for l in 0..arch.len() {
        let _ = w.push(space.width(arch, l) as u16);
    }
    w
}

impl Board<'_> {
    /// Entries of the table in wire order: block by block (the head last), then input
    /// choice, then output choice.
    fn entries(&self) -> impl Iterator<Item = TableEntry> + '_ {
        let t = self.table;
        (0..t.num_blocks()).flat_map(move |b| {
            let (di, dout) = t.block_dims(b);
            (0..di).flat_map(move |i| {
                (0..dout).map(move |o| TableEntry {
                    block: b as u8,
                    in_choice: i as u8,
                    out_choice: o as u8,
                    latency_us: t.get(b, i, o) as f32,
                })
            })
        })
    }

    fn summary(&self, a: &Answer) -> BestSummary {
        BestSummary {
            widths: widths_u16(&self.config.space, &a.arch),
            latency_us: a.timing.latency_us as f32,
            validation_loss: a.loss as f32,
        }
    }

    fn record(t: &ChildTiming) -> MeasurementRecord {
        MeasurementRecord {
            latency_us: t.latency_us as f32,
            samples: t.samples,
            cv: t.cv as f32,
        }
    }

    /// The response to one request (and the configuration to run next, for an accepted
    /// `StartSearch`).
    pub fn respond(
        &self,
        request: &Request<'_>,
        clock: &mut impl Clock,
    ) -> (Response<'static>, Option<SearchConfig>) {
        let space = &self.config.space;
        let r = match request {
            Request::Info => {
                let mut info = BoardInfo {
                    board: Default::default(),
                    runtime: Default::default(),
                    bundle: Default::default(),
                    input_width: self.model.inputs as u32,
                    outputs: 1,
                    space: Default::default(),
                };
                let _ = Truncating(&mut info.board).write_str(self.name);
                let _ = Truncating(&mut info.runtime).write_str(self.runtime);
                for l in 0..space.num_layers() {
                    let mut c = LayerChoices::new();
                    for &w in space.choices(l) {
                        let _ = c.push(w as u16);
                    }
                    let _ = info.space.push(c);
                }
                Response::Info(info)
            }
            Request::Status => Response::Status(Status {
                phase: self.phase,
                step: self.step,
                steps: self.config.steps,
                target_us: self.config.target as f32,
                best: self.answer.as_ref().map(|a| self.summary(a)),
            }),
            Request::Best => match &self.answer {
                Some(a) => Response::Best(Best {
                    summary: self.summary(a),
                    record: Some(Self::record(&a.timing)),
                    onnx_bytes: 0,
                }),
                None => error(
                    ErrorCode::NoResult,
                    format_args!("no answer: the search found no feasible child"),
                ),
            },
            Request::BestOnnx { .. } => error(
                ErrorCode::Unsupported,
                format_args!("no ONNX on this microcontroller: ask Best for the widths"),
            ),
            Request::LatencyTable { first } => {
                let total = self.entries().count();
                let first = *first as usize;
                if first > total {
                    error(
                        ErrorCode::BadRequest,
                        format_args!("first {first} past the table's {total} entries"),
                    )
                } else {
                    let c = self.table.calibration();
                    let mut chunk = TableChunk {
                        first: first as u16,
                        total: total as u16,
                        overhead_us: self.table.overhead_us() as f32,
                        scale: c.scale as f32,
                        offset_us: c.offset_us as f32,
                        entries: Default::default(),
                    };
                    for e in self.entries().skip(first).take(MAX_TABLE_CHUNK) {
                        let _ = chunk.entries.push(e);
                    }
                    Response::TableChunk(chunk)
                }
            }
            Request::Measure { widths } => {
                let mut w = [0u32; 8];
                let n = widths.len().min(w.len());
                for (slot, &v) in w.iter_mut().zip(widths.iter()) {
                    *slot = v as u32;
                }
                match space.arch_from_widths(&w[..n]) {
                    Some(arch) => {
                        let ws = widths_of(space, &arch);
                        let t = time_child_record(
                            self.model,
                            &ws[..arch.len()],
                            clock,
                            self.rows,
                            self.repeats,
                        );
                        Response::Measured {
                            widths: widths.clone(),
                            record: Self::record(&t),
                        }
                    }
                    None => error(
                        ErrorCode::BadRequest,
                        format_args!("widths not in the space ({} layers)", space.num_layers()),
                    ),
                }
            }
            Request::StartSearch { config } => match SearchConfig::decode(config, MC_CAPACITY) {
                Err(e) => error(ErrorCode::BadRequest, format_args!("config: {e}")),
                Ok(c) => match check(&c, self.model) {
                    Err(e) => error(ErrorCode::BadRequest, format_args!("{e}")),
                    Ok(()) => {
                        let steps = c.steps;
                        return (Response::Started { steps }, Some(c));
                    }
                },
            },
            Request::Stop => Response::Stopped { step: self.step },
        };
        (r, None)
    }

    /// The response to one frame's content: its id, the response, and the configuration
    /// of an accepted `StartSearch`.
    pub fn on_frame(
        &self,
        content: &[u8],
        clock: &mut impl Clock,
    ) -> (u32, Response<'static>, Option<SearchConfig>) {
        match read_content::<Request<'_>>(content) {
            Ok((id, request)) => {
                let (r, restart) = self.respond(&request, clock);
                (id, r, restart)
            }
            Err(FrameError::UnknownVersion { found }) => (
                0,
                error(
                    ErrorCode::UnknownVersion,
                    format_args!("version {found}: this board speaks version {PROTOCOL_VERSION}"),
                ),
                None,
            ),
            Err(FrameError::TooLarge) => (0, too_large(), None),
            Err(_) => (
                read_id(content).unwrap_or(0),
                error(
                    ErrorCode::Malformed,
                    format_args!("not a version {PROTOCOL_VERSION} request"),
                ),
                None,
            ),
        }
    }
}

fn too_large() -> Response<'static> {
    error(
        ErrorCode::TooLarge,
        format_args!(
            "frame over {} bytes dropped",
            tabnas_core::protocol::MAX_FRAME_LEN
        ),
    )
}

/// Encodes `response` as one stream frame and sends it.
fn send(serial: &mut impl Serial, id: u32, response: &Response<'_>) {
    let mut buf = [0u8; MAX_ENCODED_FRAME_LEN];
    let n = match encode(id, response, &mut buf) {
        Ok(n) => n,
        // Every response this board builds fits; should one not, the host still gets
        // exactly one answer.
        Err(_) => encode(
            id,
            &error(ErrorCode::Failed, format_args!("response too large")),
            &mut buf,
        )
        .unwrap_or(0),
    };
    for &b in &buf[..n] {
        serial.write(b);
    }
}

/// Answers frames from `serial` until the line has been quiet for `idle_s` seconds of
/// `clock` (or a `StartSearch` was accepted). A partial frame is dropped after one quiet
/// second. The clock is read at least every poll, so a 24-bit SysTick stays exact.
#[inline(never)]
pub fn serve(
    board: &Board<'_>,
    serial: &mut impl Serial,
    clock: &mut impl Clock,
    idle_s: u32,
) -> Served {
    let mut reader = FrameReader::new();
    let hz = clock.hz() as u64;
    let idle = idle_s as u64 * hz;
    let mut out = Served {
        requests: 0,
        errors: 0,
        partial_dropped: 0,
        restart: None,
    };
    let mut last = clock.now();
    let mut quiet = 0u64;
    loop {
        let now = clock.now();
        quiet += now.wrapping_sub(last) as u64;
        last = now;
        let Some(byte) = serial.read() else {
            if reader.in_frame() && quiet >= hz {
                reader.reset();
                out.partial_dropped += 1;
            }
            if quiet >= idle {
                return out;
            }
            continue;
        };
        quiet = 0;
        let (id, response, restart) = match reader.push(byte) {
            None => continue,
            Some(Event::Frame(content)) => board.on_frame(content, clock),
            Some(Event::Dropped(FrameError::TooLarge)) => (0, too_large(), None),
            Some(Event::Dropped(_)) => (
                0,
                error(ErrorCode::Malformed, format_args!("not a COBS frame")),
                None,
            ),
        };
        send(serial, id, &response);
        out.requests += 1;
        out.errors += matches!(response, Response::Error { .. }) as u32;
        if restart.is_some() {
            out.restart = restart;
            return out;
        }
        // A Measure takes time: the quiet time starts after the answer.
        last = clock.now();
    }
}
