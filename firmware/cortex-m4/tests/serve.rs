//! The serve loop on the host: a scripted byte stream in, frames out, read back with
//! tabnas-core's frame reader. The same checks `scripts/boards.sh` runs against the
//! firmware under qemu, without the emulator.
use std::collections::VecDeque;

use tabnas_cm4::model::{encode, Model};
use tabnas_cm4::search::{measure_table, run, time_child_record, widths_of, Clock, ForwardQuality};
use tabnas_cm4::serve::{serve, Answer, Board, Serial};
use tabnas_core::cost::LatencyTable;
use tabnas_core::formats::{Resource, SearchConfig};
use tabnas_core::protocol::frame::{encode as frame, read_content};
use tabnas_core::protocol::{
    ErrorCode, Event, FrameReader, Phase, Request, Response, WireWidths, MAX_ENCODED_FRAME_LEN,
};
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_core::space::SearchSpace;

struct Blob(Vec<u32>, usize);
impl Blob {
    fn new(bytes: &[u8]) -> Self {
        let mut w = vec![0u32; bytes.len().div_ceil(4)];
        for (i, b) in bytes.iter().enumerate() {
            w[i / 4] |= (*b as u32) << (8 * (i % 4));
        }
        Self(w, bytes.len())
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: u32 storage viewed as bytes.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast::<u8>(), self.1) }
    }
}

fn synthetic() -> Vec<u8> {
    let mut s = 777u32;
    let mut r = move || {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
        ((s >> 8) as f32 / (1u32 << 24) as f32) - 0.5
    };
    let dims = [(5, 6), (6, 4), (4, 1)];
    let layers: Vec<(Vec<f32>, Vec<f32>)> = dims
        .iter()
        .map(|&(i, o)| {
            (
                (0..i * o).map(|_| r()).collect(),
                (0..o).map(|_| r()).collect(),
            )
        })
        .collect();
    let x: Vec<f32> = (0..40 * 5).map(|_| r() * 4.0).collect();
    let y: Vec<f32> = (0..40).map(|k| (k % 3 == 0) as u8 as f32).collect();
    let dense: Vec<(&[f32], &[f32])> = layers.iter().map(|(w, b)| (&w[..], &b[..])).collect();
    encode(5, &[6, 4], &dense, &x, &y)
}

/// A clock that advances per read, as a cycle counter polled in a loop would.
struct Ticks(u32);
impl Clock for Ticks {
    fn now(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(1000);
        self.0
    }
    fn hz(&self) -> u32 {
        1_000_000
    }
}

/// Bytes to read, bytes written.
#[derive(Default)]
struct Line {
    rx: VecDeque<u8>,
    tx: Vec<u8>,
}
impl Serial for Line {
    fn read(&mut self) -> Option<u8> {
        self.rx.pop_front()
    }
    fn write(&mut self, byte: u8) {
        self.tx.push(byte);
    }
}

fn request(id: u32, r: &Request<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_ENCODED_FRAME_LEN];
    let n = frame(id, r, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn answers(tx: &[u8]) -> Vec<(u32, Response<'static>)> {
    let mut reader = FrameReader::new();
    let mut out = Vec::new();
    for &b in tx {
        match reader.push(b) {
            Some(Event::Frame(c)) => {
                let c: &'static [u8] = Box::leak(c.to_vec().into_boxed_slice());
                out.push(read_content::<Response<'_>>(c).unwrap());
            }
            Some(Event::Dropped(e)) => panic!("the board sent a bad frame: {e}"),
            None => {}
        }
    }
    out
}

fn error_code(r: &Response<'_>) -> Option<ErrorCode> {
    match r {
        Response::Error { code, .. } => Some(*code),
        _ => None,
    }
}

#[test]
fn the_board_answers_every_frame_once_in_order_and_ends_when_idle() {
    let blob = Blob::new(&synthetic());
    let model = Model::parse(blob.bytes()).unwrap();
    let space = SearchSpace::new(&[&[1, 2, 4, 6], &[1, 2, 4]]).unwrap();
    let config = SearchConfig {
        space: space.clone(),
        resource: Resource::LatencyUs,
        target: 1e9,
        settings: SearchSettings::rejection(PvMode::MonteCarlo { samples: 16 }, 0.1),
        steps: 20,
        seed: 3,
    };
    let mut packed = [0u8; SearchConfig::MAX_ENCODED_LEN];
    let packed = config.encode(&mut packed).unwrap().to_vec();
    let mut clock = Ticks(0);
    let mut table = LatencyTable::new(&space, 0.0);
    measure_table(&model, &space, &mut clock, 2, 2, &mut table);
    let mut quality = ForwardQuality::new(&model, &space);
    let outcome = run(&config, &table, &mut quality, |_| {}).unwrap();
    let best = outcome.best.unwrap();
    let w = widths_of(&space, &best.arch);
    let timing = time_child_record(&model, &w[..2], &mut clock, 2, 2);
    let board = Board {
        name: "cortex-m4",
        runtime: "test",
        model: &model,
        config: &config,
        table: &table,
        phase: Phase::Done,
        step: outcome.counts.steps,
        answer: Some(Answer {
            arch: best.arch,
            timing,
            loss: 0.5,
        }),
        rows: 2,
        repeats: 2,
    };
    let best_widths: Vec<u16> = (0..2).map(|l| space.width(&best.arch, l) as u16).collect();

    let mut line = Line::default();
    let mut send = |bytes: &[u8]| line.rx.extend(bytes.iter().copied());
    send(&request(1, &Request::Info));
    send(&request(2, &Request::Best));
    send(&[0xff, 0xff, 0x7f, 0x00]); // not COBS
    send(&[0x00, 0x00]); // empty frames: ignored
    send(&[0x02, 0x02, 0x01, 0x00]); // content [2, 0]: version 2
    send(&[0x01; 3000]);
    send(&[0x00]); // oversized
    let mut cut = request(
        3,
        &Request::Measure {
            widths: WireWidths::from_slice(&[6, 4]).unwrap(),
        },
    );
    cut.truncate(cut.len() - 3); // cut inside the message
    cut.push(0);
    send(&cut);
    send(&request(4, &Request::LatencyTable { first: 0 }));
    send(&request(5, &Request::LatencyTable { first: 99 }));
    send(&request(
        6,
        &Request::Measure {
            widths: WireWidths::from_slice(&[best_widths[0], best_widths[1]]).unwrap(),
        },
    ));
    send(&request(
        7,
        &Request::Measure {
            widths: WireWidths::from_slice(&[3, 3]).unwrap(),
        },
    ));
    send(&request(8, &Request::BestOnnx { offset: 0 }));
    send(&request(9, &Request::StartSearch { config: &[1, 2, 3] }));
    send(&request(10, &Request::Stop));
    send(&request(11, &Request::Status));
    send(&[0x05, 0x01]); // a partial frame: dropped after an idle second
    let served = serve(&board, &mut line, &mut clock, 3);
    assert!(served.restart.is_none());
    assert_eq!(served.partial_dropped, 1);
    let got = answers(&line.tx);
    assert_eq!(got.len(), 14, "{got:?}");
    assert_eq!((served.requests, served.errors), (14, 8));

    let Response::Info(info) = &got[0].1 else {
        panic!("{:?}", got[0])
    };
    assert_eq!(
        (info.board.as_str(), info.input_width, info.outputs),
        ("cortex-m4", 5, 1)
    );
    assert_eq!(info.space.len(), 2);
    assert_eq!(info.space[0].as_slice(), &[1, 2, 4, 6]);
    let Response::Best(b) = &got[1].1 else {
        panic!("{:?}", got[1])
    };
    assert_eq!(b.summary.widths.as_slice(), &best_widths[..]);
    assert_eq!(b.summary.latency_us, timing.latency_us as f32);
    assert_eq!(b.record.unwrap().samples, 2);
    assert_eq!(got[1].0, 2);
    assert_eq!(
        (got[2].0, error_code(&got[2].1)),
        (0, Some(ErrorCode::Malformed))
    );
    assert_eq!(
        (got[3].0, error_code(&got[3].1)),
        (0, Some(ErrorCode::UnknownVersion))
    );
    let Response::Error { detail, .. } = &got[3].1 else {
        unreachable!()
    };
    assert!(detail.contains("version 1"), "{detail}");
    assert_eq!(
        (got[4].0, error_code(&got[4].1)),
        (0, Some(ErrorCode::TooLarge))
    );
    assert_eq!(error_code(&got[5].1), Some(ErrorCode::Malformed));
    assert!([0, 3].contains(&got[5].0));
    let Response::TableChunk(chunk) = &got[6].1 else {
        panic!("{:?}", got[6])
    };
    // 1 x 4 + 4 x 3 + 3 x 1 entries, block by block.
    assert_eq!((chunk.first, chunk.total, chunk.entries.len()), (0, 19, 19));
    assert_eq!(chunk.scale, table.calibration().scale as f32);
    for e in &chunk.entries {
        let v = table.get(
            e.block as usize,
            e.in_choice as usize,
            e.out_choice as usize,
        );
        assert_eq!(e.latency_us, v as f32);
    }
    assert_eq!((chunk.entries[4].block, chunk.entries[4].in_choice), (1, 0));
    assert_eq!(error_code(&got[7].1), Some(ErrorCode::BadRequest));
    let Response::Measured { widths, record } = &got[8].1 else {
        panic!("{:?}", got[8])
    };
    assert_eq!(widths.as_slice(), &best_widths[..]);
    assert!(record.latency_us > 0.0);
    assert_eq!(error_code(&got[9].1), Some(ErrorCode::BadRequest));
    assert_eq!(error_code(&got[10].1), Some(ErrorCode::Unsupported));
    assert_eq!(error_code(&got[11].1), Some(ErrorCode::BadRequest));
    assert_eq!(got[12].1, Response::Stopped { step: 20 });
    let Response::Status(s) = &got[13].1 else {
        panic!("{:?}", got[13])
    };
    assert_eq!((s.phase, s.step, s.steps), (Phase::Done, 20, 20));
    assert_eq!(got[13].0, 11);
    // ids in order: each answer carries its request's id
    let ids: Vec<u32> = got.iter().map(|g| g.0).collect();
    assert_eq!(&ids[6..], &[4, 5, 6, 7, 8, 9, 10, 11]);

    // A packed configuration for this model: Started, and the loop hands it back.
    let mut line = Line::default();
    line.rx
        .extend(request(12, &Request::StartSearch { config: &packed }));
    line.rx.extend(request(13, &Request::Status));
    let served = serve(&board, &mut line, &mut clock, 3);
    assert_eq!(served.restart.as_ref().map(|c| c.steps), Some(20));
    let got = answers(&line.tx);
    assert_eq!(got, vec![(12, Response::Started { steps: 20 })]);
    assert_eq!(
        line.rx.len(),
        request(13, &Request::Status).len(),
        "the rest waits"
    );
}
