//! Golden bytes of every message (the layouts `docs/protocol.md` promises), round trips,
//! and the stream reader under garbage, truncation and oversized frames.

use super::frame::{encode, read_content, read_id, write_content};
use super::*;

fn widths(w: &[u16]) -> WireWidths {
    WireWidths::from_slice(w).unwrap()
}

fn summary() -> BestSummary {
    BestSummary {
        widths: widths(&[64, 32]),
        latency_us: 12.5,
        validation_loss: 0.5,
    }
}

fn record() -> MeasurementRecord {
    MeasurementRecord {
        latency_us: 12.5,
        samples: 30,
        cv: 0.25,
    }
}

/// Encodes `message` with `id`, checks the bytes against `expected`, and decodes them back.
fn golden_request(id: u32, message: Request<'_>, expected: &[u8]) {
    let mut buf = [0u8; MAX_FRAME_LEN];
    let len = write_content(id, &message, &mut buf).unwrap();
    assert_eq!(&buf[..len], expected, "{message:?}");
    let (got_id, got): (u32, Request<'_>) = read_content(expected).unwrap();
    assert_eq!((got_id, got), (id, message));
}

fn golden_response(id: u32, message: Response<'_>, expected: &[u8]) {
    let mut buf = [0u8; MAX_FRAME_LEN];
    let len = write_content(id, &message, &mut buf).unwrap();
    assert_eq!(&buf[..len], expected, "{message:?}");
    let (got_id, got): (u32, Response<'_>) = read_content(expected).unwrap();
    assert_eq!((got_id, got), (id, message));
}

#[test]
fn request_golden_bytes() {
    // [version 1, id (varint), variant tag (varint), fields...]
    golden_request(7, Request::Status, &[1, 7, 0]);
    golden_request(300, Request::Best, &[1, 0xac, 0x02, 1]);
    golden_request(
        1,
        Request::BestOnnx { offset: 4096 },
        &[1, 1, 2, 0x80, 0x20],
    );
    golden_request(
        2,
        Request::LatencyTable { first: 128 },
        &[1, 2, 3, 0x80, 0x01],
    );
    golden_request(
        3,
        Request::Measure {
            widths: widths(&[64, 300]),
        },
        &[1, 3, 4, 2, 64, 0xac, 0x02],
    );
    golden_request(
        4,
        Request::StartSearch { config: &[9, 8, 7] },
        &[1, 4, 5, 3, 9, 8, 7],
    );
    golden_request(5, Request::Stop, &[1, 5, 6]);
    golden_request(6, Request::Info, &[1, 6, 7]);
}

#[test]
fn response_golden_bytes() {
    // f32 is 4 bytes little-endian: 12.5 = 00 00 48 41, 0.5 = 00 00 00 3f, 0.25 = 00 00 80 3e,
    // 1.0 = 00 00 80 3f, 100.0 = 00 00 c8 42.
    golden_response(
        1,
        Response::Status(Status {
            phase: Phase::Searching,
            step: 10,
            steps: 200,
            target_us: 100.0,
            best: Some(summary()),
        }),
        &[
            1, 1, 0, 2, 10, 0xc8, 0x01, 0, 0, 0xc8, 0x42, 1, 2, 64, 32, 0, 0, 0x48, 0x41, 0, 0, 0,
            0x3f,
        ],
    );
    golden_response(
        2,
        Response::Status(Status {
            phase: Phase::Idle,
            step: 0,
            steps: 0,
            target_us: 0.0,
            best: None,
        }),
        &[1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    golden_response(
        3,
        Response::Best(Best {
            summary: summary(),
            record: Some(record()),
            onnx_bytes: 1000,
        }),
        &[
            1, 3, 1, 2, 64, 32, 0, 0, 0x48, 0x41, 0, 0, 0, 0x3f, 1, 0, 0, 0x48, 0x41, 30, 0, 0,
            0x80, 0x3e, 0xe8, 0x07,
        ],
    );
    golden_response(
        4,
        Response::OnnxChunk {
            offset: 2,
            total: 5,
            bytes: &[0xaa, 0xbb],
        },
        &[1, 4, 2, 2, 5, 2, 0xaa, 0xbb],
    );
    let mut entries = heapless::Vec::new();
    entries
        .push(TableEntry {
            block: 1,
            in_choice: 2,
            out_choice: 3,
            latency_us: 0.5,
        })
        .unwrap();
    golden_response(
        5,
        Response::TableChunk(TableChunk {
            first: 0,
            total: 1,
            overhead_us: 0.5,
            scale: 1.0,
            offset_us: 0.0,
            entries,
        }),
        &[
            1, 5, 3, 0, 1, 0, 0, 0, 0x3f, 0, 0, 0x80, 0x3f, 0, 0, 0, 0, 1, 1, 2, 3, 0, 0, 0, 0x3f,
        ],
    );
    golden_response(
        6,
        Response::Measured {
            widths: widths(&[8]),
            record: record(),
        },
        &[1, 6, 4, 1, 8, 0, 0, 0x48, 0x41, 30, 0, 0, 0x80, 0x3e],
    );
    golden_response(7, Response::Started { steps: 500 }, &[1, 7, 5, 0xf4, 0x03]);
    golden_response(8, Response::Stopped { step: 3 }, &[1, 8, 6, 3]);
    golden_response(
        9,
        Response::Error {
            code: ErrorCode::Busy,
            detail: heapless::String::try_from("busy").unwrap(),
        },
        &[1, 9, 7, 4, 4, b'b', b'u', b's', b'y'],
    );
    golden_response(
        10,
        Response::Info(BoardInfo {
            board: heapless::String::try_from("b").unwrap(),
            runtime: heapless::String::try_from("r").unwrap(),
            bundle: heapless::String::try_from("ab").unwrap(),
            input_width: 28,
            outputs: 1,
            space: heapless::Vec::from_slice(&[
                LayerChoices::from_slice(&[8, 300]).unwrap(),
                LayerChoices::from_slice(&[4]).unwrap(),
            ])
            .unwrap(),
        }),
        &[
            1, 10, 8, 1, b'b', 1, b'r', 2, b'a', b'b', 28, 1, 2, 2, 8, 0xac, 0x02, 1, 4,
        ],
    );
}

#[test]
fn every_phase_and_error_code_has_its_tag() {
    let phases = [
        Phase::Idle,
        Phase::Measuring,
        Phase::Searching,
        Phase::Verifying,
        Phase::Done,
        Phase::Stopped,
        Phase::Failed,
    ];
    for (tag, phase) in phases.into_iter().enumerate() {
        let mut buf = [0u8; 4];
        assert_eq!(postcard::to_slice(&phase, &mut buf).unwrap(), &[tag as u8]);
    }
    let codes = [
        ErrorCode::Malformed,
        ErrorCode::UnknownVersion,
        ErrorCode::TooLarge,
        ErrorCode::Unsupported,
        ErrorCode::Busy,
        ErrorCode::NoResult,
        ErrorCode::BadRequest,
        ErrorCode::Failed,
    ];
    for (tag, code) in codes.into_iter().enumerate() {
        let mut buf = [0u8; 4];
        assert_eq!(postcard::to_slice(&code, &mut buf).unwrap(), &[tag as u8]);
    }
}

#[test]
fn content_errors_are_named() {
    assert_eq!(read_content::<Request<'_>>(&[]), Err(FrameError::Empty));
    assert_eq!(
        read_content::<Request<'_>>(&[2, 0, 0]),
        Err(FrameError::UnknownVersion { found: 2 })
    );
    assert_eq!(
        read_content::<Request<'_>>(&[1, 0]),
        Err(FrameError::Malformed)
    );
    assert_eq!(
        read_content::<Request<'_>>(&[1, 0, 99]),
        Err(FrameError::Malformed)
    );
    assert_eq!(
        read_content::<Request<'_>>(&[1, 0, 0, 0]),
        Err(FrameError::TrailingBytes)
    );
    // Measure with more widths than a search space has layers.
    assert_eq!(
        read_content::<Request<'_>>(&[1, 0, 4, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        Err(FrameError::Malformed)
    );
    assert_eq!(read_id(&[1, 0xac, 0x02, 99]), Some(300));
    assert_eq!(read_id(&[2, 5]), None);
}

#[test]
fn an_oversized_message_is_refused_when_written() {
    let config = [0u8; MAX_FRAME_LEN];
    let mut buf = [0u8; MAX_FRAME_LEN];
    assert_eq!(
        write_content(1, &Request::StartSearch { config: &config }, &mut buf),
        Err(FrameError::TooLarge)
    );
    let mut small = [0u8; 4];
    assert_eq!(
        encode(
            1,
            &Request::Measure {
                widths: widths(&[1, 2, 3])
            },
            &mut small
        ),
        Err(FrameError::TooLarge)
    );
}

/// Feeds `bytes` to `reader` and returns what came out: decoded requests or drops.
fn feed(
    reader: &mut FrameReader,
    bytes: &[u8],
) -> std::vec::Vec<Result<Request<'static>, FrameError>> {
    let mut out = std::vec::Vec::new();
    for &b in bytes {
        match reader.push(b) {
            Some(Event::Frame(content)) => {
                out.push(read_content::<Request<'_>>(content).map(|(_, r)| own(r)))
            }
            Some(Event::Dropped(e)) => out.push(Err(e)),
            None => {}
        }
    }
    out
}

/// The request without its borrow (the tests never stream a StartSearch).
fn own(r: Request<'_>) -> Request<'static> {
    match r {
        Request::Status => Request::Status,
        Request::Best => Request::Best,
        Request::BestOnnx { offset } => Request::BestOnnx { offset },
        Request::LatencyTable { first } => Request::LatencyTable { first },
        Request::Measure { widths } => Request::Measure { widths },
        Request::StartSearch { .. } | Request::Stop => Request::Stop,
        Request::Info => Request::Info,
    }
}

fn stream_frame(id: u32, message: &Request<'_>) -> std::vec::Vec<u8> {
    let mut out = [0u8; MAX_ENCODED_FRAME_LEN];
    let len = encode(id, message, &mut out).unwrap();
    out[..len].to_vec()
}

#[test]
fn stream_frames_are_cobs_and_a_zero() {
    // Status with id 0 is [1, 0, 0]: COBS gives [2, 1, 1, 1], then the delimiter.
    assert_eq!(stream_frame(0, &Request::Status), [2, 1, 1, 1, 0]);
    let mut reader = FrameReader::new();
    let got = feed(
        &mut reader,
        &stream_frame(9, &Request::BestOnnx { offset: 0 }),
    );
    assert_eq!(got, [Ok(Request::BestOnnx { offset: 0 })]);
}

#[test]
fn the_reader_survives_garbage_truncation_and_oversized_frames() {
    let mut reader = FrameReader::new();
    let mut stream = std::vec::Vec::new();
    // Garbage that is not COBS: a code byte pointing past the end.
    stream.extend_from_slice(&[0xff, 3, 0]);
    // A valid COBS frame whose content is not of this protocol version.
    stream.extend_from_slice(&[3, 9, 9, 0]);
    // An oversized frame: more non-zero bytes than the buffer holds.
    stream.extend(std::iter::repeat_n(0x55, MAX_ENCODED_FRAME_LEN + 10));
    stream.push(0);
    // Empty frames (resynchronisation) are ignored.
    stream.extend_from_slice(&[0, 0]);
    // Then a good frame.
    stream.extend(stream_frame(1, &Request::Best));
    let got = feed(&mut reader, &stream);
    assert_eq!(
        got,
        [
            Err(FrameError::Malformed),
            Err(FrameError::UnknownVersion { found: 9 }),
            Err(FrameError::TooLarge),
            Ok(Request::Best),
        ]
    );
    // A peer vanishing mid-frame: the partial frame is dropped on reset, and the next
    // frame reads cleanly.
    let frame = stream_frame(2, &Request::Stop);
    assert!(feed(&mut reader, &frame[..2]).is_empty());
    assert!(reader.in_frame());
    reader.reset();
    assert!(!reader.in_frame());
    assert_eq!(feed(&mut reader, &frame), [Ok(Request::Stop)]);
}

#[test]
fn the_largest_messages_fit_a_frame() {
    let config = [0xffu8; crate::formats::SearchConfig::MAX_ENCODED_LEN];
    let frame = stream_frame(u32::MAX, &Request::StartSearch { config: &config });
    assert!(frame.len() <= MAX_ENCODED_FRAME_LEN);
    let bytes = [0u8; MAX_ONNX_CHUNK];
    let mut out = [0u8; MAX_ENCODED_FRAME_LEN];
    let chunk = Response::OnnxChunk {
        offset: u32::MAX,
        total: u32::MAX,
        bytes: &bytes,
    };
    encode(u32::MAX, &chunk, &mut out).unwrap();
    let entry = TableEntry {
        block: u8::MAX,
        in_choice: u8::MAX,
        out_choice: u8::MAX,
        latency_us: f32::MAX,
    };
    let table = Response::TableChunk(TableChunk {
        first: u16::MAX,
        total: u16::MAX,
        overhead_us: 0.0,
        scale: 1.0,
        offset_us: 0.0,
        entries: heapless::Vec::from_slice(&[entry; MAX_TABLE_CHUNK]).unwrap(),
    });
    encode(u32::MAX, &table, &mut out).unwrap();
    let name = heapless::String::try_from("x".repeat(32).as_str()).unwrap();
    let layer = LayerChoices::from_slice(&[u16::MAX; crate::capacity::MAX_CHOICES]).unwrap();
    let info = Response::Info(BoardInfo {
        board: name.clone(),
        runtime: name,
        bundle: heapless::String::try_from("f".repeat(16).as_str()).unwrap(),
        input_width: u32::MAX,
        outputs: u16::MAX,
        space: core::iter::repeat_n(layer, crate::capacity::MAX_LAYERS).collect(),
    });
    encode(u32::MAX, &info, &mut out).unwrap();
}
