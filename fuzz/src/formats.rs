//! The fuzz targets of the packed core formats and the wire protocol: `search_config`,
//! `board_config` and `protocol_frame`.
//!
//! Compiled into those targets on its own (`#[path]`), so they link `tabnas-core` only,
//! and into the `tabnas-fuzz` library with the other targets (`run` in `lib.rs`).

use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::cost::{CostModel, FfnFlops, FfnParams};
use tabnas_core::formats::{BoardConfig, Resource, SearchConfig};
use tabnas_core::protocol::frame::{encode, read_content, read_id};
use tabnas_core::protocol::{Event, FrameReader, Request, Response, MAX_ENCODED_FRAME_LEN};
use tabnas_core::space::{Architecture, SearchSpace};

/// A packed search configuration, decoded with the Monte-Carlo capacity of the agent.
/// A configuration that decodes re-encodes within [`SearchConfig::MAX_ENCODED_LEN`] to
/// the same value, and its analytic resource prices the space's extreme architectures
/// without overflow.
pub fn search_config(data: &[u8]) -> bool {
    let Ok(config) = SearchConfig::decode(data, DEFAULT_MC_CAPACITY) else {
        return false;
    };
    let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
    let bytes = config
        .encode(&mut buf)
        .expect("a decoded search configuration re-encodes within MAX_ENCODED_LEN");
    assert_eq!(
        SearchConfig::decode(bytes, DEFAULT_MC_CAPACITY).as_ref(),
        Ok(&config),
        "a decoded search configuration survives a round trip"
    );
    let space = &config.space;
    let _ = space.cardinality();
    for arch in extreme_archs(space) {
        assert!(space.contains(&arch));
        let cost = match config.resource {
            Resource::Params(shape) => FfnParams(shape).count(space, &arch) as f64,
            Resource::Flops(shape) => FfnFlops(shape).count(space, &arch) as f64,
            Resource::NatsMacs(m) => m.cost(space, &arch),
            _ => 0.0,
        };
        assert!(cost >= 0.0, "cost {cost} of a decoded configuration");
    }
    true
}

/// A packed board configuration. One that decodes re-encodes within
/// [`BoardConfig::MAX_ENCODED_LEN`] to the same value.
pub fn board_config(data: &[u8]) -> bool {
    let Ok(config) = BoardConfig::decode(data) else {
        return false;
    };
    let mut buf = [0u8; BoardConfig::MAX_ENCODED_LEN];
    let bytes = config
        .encode(&mut buf)
        .expect("a decoded board configuration re-encodes within MAX_ENCODED_LEN");
    assert_eq!(
        BoardConfig::decode(bytes).as_ref(),
        Ok(&config),
        "a decoded board configuration survives a round trip"
    );
    let _ = config.measurement.statistic.quantile();
    true
}

/// A byte stream as a board's serial line receives it: every frame the reader completes
/// is read as a request and as a response. A message that reads re-encodes into one
/// stream frame that a fresh reader reads back to the same message with the same id.
/// True if any message was read.
pub fn protocol_frame(data: &[u8]) -> bool {
    /// Re-encodes `$message` (read with id `$id`) as a stream frame, reads that frame
    /// back as a `$ty` with a fresh reader, and encodes the result again: the same bytes
    /// (compared as bytes, so that NaN latencies compare too).
    macro_rules! round_trip {
        ($ty:ty, $id:expr, $message:expr) => {{
            let mut first = [0u8; MAX_ENCODED_FRAME_LEN];
            let len = encode($id, &$message, &mut first).expect("a read message re-encodes");
            let mut again = FrameReader::new();
            for &b in &first[..len - 1] {
                assert!(again.push(b).is_none(), "no 0x00 inside a frame");
            }
            let Some(Event::Frame(content)) = again.push(0) else {
                panic!("a re-encoded frame reads back");
            };
            let (id, message) = read_content::<$ty>(content).expect("a re-encoded message reads");
            assert_eq!(id, $id);
            let mut second = [0u8; MAX_ENCODED_FRAME_LEN];
            let len2 = encode(id, &message, &mut second).expect("it re-encodes");
            assert_eq!(
                &first[..len],
                &second[..len2],
                "a round trip keeps the bytes"
            );
        }};
    }
    let mut reader = FrameReader::new();
    let mut accepted = false;
    for &byte in data {
        let Some(Event::Frame(content)) = reader.push(byte) else {
            continue;
        };
        let _ = read_id(content);
        if let Ok((id, request)) = read_content::<Request<'_>>(content) {
            accepted = true;
            round_trip!(Request<'_>, id, request);
        }
        if let Ok((id, response)) = read_content::<Response<'_>>(content) {
            accepted = true;
            round_trip!(Response<'_>, id, response);
        }
    }
    accepted
}

/// The architecture of the widest and of the narrowest choice of every layer.
fn extreme_archs(space: &SearchSpace) -> [Architecture; 2] {
    let pick = |widest: bool| {
        let widths: Vec<u32> = (0..space.num_layers())
            .map(|l| {
                let c = space.choices(l).iter().copied();
                if widest { c.max() } else { c.min() }.unwrap_or(0)
            })
            .collect();
        space
            .arch_from_widths(&widths)
            .expect("the extreme widths are in the space")
    };
    [pick(true), pick(false)]
}
