//! `tabnas search --latency-from DEVICE`: the board's calibrated latency table, fetched
//! once over serial or HTTP and checked against this search's network, as the cost the
//! target limits (hardware in the loop; `docs/serve.md`).

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tabnas_core::cost::{Calibration, LatencyTable};
use tabnas_core::space::SearchSpace;
use tabnas_link::client::DEFAULT_TIMEOUT;
use tabnas_link::{Device, DeviceSpec};
use tabnas_trainer::host_search::{DeviceLatency, LatencySource};

/// Fetches the board's table for `space` (whose first layer takes `input_width` values).
pub fn fetch(
    device: &str,
    token: Option<String>,
    space: &[Vec<u32>],
    input_width: usize,
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
    if info.input_width as usize != input_width || theirs != space {
        bail!(
            "--latency-from {device}: the board ({}) measures a network with {} inputs and \
             space {:?}; this search's has {} inputs and space {:?}. Serve the bundle of \
             this data and space on the board (e.g. one `tabnas search --out` wrote), or \
             pass --space to match",
            info.board,
            info.input_width,
            theirs,
            input_width,
            space
        );
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
        table: Arc::new(table),
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
