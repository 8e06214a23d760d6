//! `tabnas search --latency-from DEVICE`: the board's latencies, checked against this
//! search's network, as the cost the target limits (hardware in the loop;
//! `docs/serve.md`): its calibrated block table fetched once (`table`), or every child
//! of the space measured end to end on the board (`measured`, for small spaces).

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tabnas_core::cost::{Calibration, LatencyTable};
use tabnas_core::protocol::WireWidths;
use tabnas_core::space::SearchSpace;
use tabnas_link::client::DEFAULT_TIMEOUT;
use tabnas_link::{Device, DeviceSpec};
use tabnas_trainer::host_search::{BoardCheck, BoardCosts, DeviceLatency, LatencySource};

/// How the board's latencies are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LatencyMode {
    /// The board's calibrated block table, fetched once.
    Table,
    /// Every child measured end to end on the board (spaces of at most 4,096 children).
    Measured,
}

/// The largest space `--latency-mode measured` measures child by child.
pub const MAX_MEASURED_CHILDREN: u64 = 4096;

/// Takes the board's latencies for `space` (whose first layer takes `input_width`
/// values and whose head has `outputs`), as `mode` says.
pub fn fetch(
    device: &str,
    token: Option<String>,
    space: &[Vec<u32>],
    (input_width, outputs): (usize, usize),
    mode: LatencyMode,
) -> Result<DeviceLatency> {
    let spec = match device.parse::<DeviceSpec>()? {
        DeviceSpec::Http { url, .. } => DeviceSpec::Http { url, token },
        serial => serial,
    };
    let mut board =
        Device::open(&spec, DEFAULT_TIMEOUT).with_context(|| format!("--latency-from {device}"))?;
    let info = board
        .info()
        .with_context(|| format!("--latency-from {device}"))?;
    let theirs: Vec<Vec<u32>> = info
        .space
        .iter()
        .map(|l| l.iter().map(|&w| u32::from(w)).collect())
        .collect();
    if info.input_width as usize != input_width
        || usize::from(info.outputs) != outputs
        || theirs != space
    {
        bail!(
            "--latency-from {device}: the board ({}) measures a network with {} inputs, {} \
             outputs and space {:?}; this search's has {} inputs, {} outputs and space {:?}. \
             Serve the bundle of this data and space on the board (e.g. one `tabnas search \
             --out` wrote), or pass --space to match",
            info.board,
            info.input_width,
            info.outputs,
            theirs,
            input_width,
            outputs,
            space
        );
    }
    if mode == LatencyMode::Measured {
        return measure_children(&mut board, &spec, &info, space, device);
    }
    let fetched = board
        .latency_table()
        .with_context(|| format!("--latency-from {device}: fetching the latency table"))?;
    let layers: Vec<&[u32]> = space.iter().map(|l| l.as_slice()).collect();
    let space = SearchSpace::new(&layers).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut table = LatencyTable::new(&space, f64::from(fetched.overhead_us));
    for e in &fetched.entries {
        table
            .set(
                usize::from(e.block),
                usize::from(e.in_choice),
                usize::from(e.out_choice),
                f64::from(e.latency_us),
            )
            .map_err(|err| anyhow::anyhow!("--latency-from {device}: table entry {e:?}: {err}"))?;
    }
    if table.missing() > 0 {
        bail!(
            "--latency-from {device}: the board's table misses {} of its blocks",
            table.missing()
        );
    }
    table.set_calibration(Calibration {
        scale: f64::from(fetched.scale),
        offset_us: f64::from(fetched.offset_us),
    });
    Ok(DeviceLatency {
        costs: Arc::new(BoardCosts::Table(Box::new(table))),
        source: LatencySource {
            device: spec.to_string(),
            board: info.board.to_string(),
            runtime: info.runtime.to_string(),
            bundle: info.bundle.to_string(),
            mode: "table".to_string(),
            measurements: fetched.entries.len(),
        },
    })
}

/// Asks the board that gave the latencies to measure the search's answer `widths` (its
/// profile's statistic, as its table was measured), against the latency the search
/// predicted and the target.
pub fn verify_on_board(
    device: &str,
    token: Option<String>,
    widths: &[u32],
    predicted_us: f64,
    target_us: f64,
) -> Result<BoardCheck> {
    let spec = match device.parse::<DeviceSpec>()? {
        DeviceSpec::Http { url, .. } => DeviceSpec::Http { url, token },
        serial => serial,
    };
    let mut board = Device::open(&spec, DEFAULT_TIMEOUT)
        .with_context(|| format!("--latency-from {device}: verifying the answer"))?;
    let wire: WireWidths = widths
        .iter()
        .map(|&w| u16::try_from(w).context("a width above 65535 cannot be sent to a board"))
        .collect::<Result<_>>()?;
    let record = board.measure(&wire).with_context(|| {
        format!(
            "--latency-from {device}: measuring the answer {} on the board",
            tabnas_core::space::show_widths(widths)
        )
    })?;
    Ok(BoardCheck::of(
        predicted_us,
        f64::from(record.latency_us),
        record.samples,
        f64::from(record.cv),
        target_us,
    ))
}

/// Measures every child of `space` on the board, in the space's dense order.
fn measure_children(
    board: &mut Device,
    spec: &DeviceSpec,
    info: &tabnas_core::protocol::BoardInfo,
    space: &[Vec<u32>],
    device: &str,
) -> Result<DeviceLatency> {
    let layers: Vec<&[u32]> = space.iter().map(|l| l.as_slice()).collect();
    let space = SearchSpace::new(&layers).map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = space.cardinality();
    if n > MAX_MEASURED_CHILDREN {
        bail!(
            "--latency-mode measured: the space has {n} children, more than the \
             {MAX_MEASURED_CHILDREN} measured one by one; use --latency-mode table"
        );
    }
    let mut latency_us = Vec::with_capacity(n as usize);
    for (i, arch) in space.iter().enumerate() {
        let widths: WireWidths = (0..arch.len())
            .map(|l| space.width(&arch, l) as u16)
            .collect();
        let record = board.measure(&widths).with_context(|| {
            format!("--latency-from {device}: measuring child {} of {n}", i + 1)
        })?;
        latency_us.push(f64::from(record.latency_us));
    }
    Ok(DeviceLatency {
        costs: Arc::new(BoardCosts::Children(latency_us)),
        source: LatencySource {
            device: spec.to_string(),
            board: info.board.to_string(),
            runtime: info.runtime.to_string(),
            bundle: info.bundle.to_string(),
            mode: "measured".to_string(),
            measurements: n as usize,
        },
    })
}
