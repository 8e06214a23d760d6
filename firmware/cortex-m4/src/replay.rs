//! The host's check of a firmware run: the same search, on this machine, with the
//! latency table the chip measured and losses from the same forward pass computed here.
//!
//! [`replay`] reads the firmware's log, recomputes the loss of every child the chip
//! evaluated (they must agree bit for bit), runs the search with the chip's table and
//! the losses computed here, and writes the result lines; they must equal the chip's.

use core::fmt::Write;

use tabnas_core::formats::SearchConfig;

use crate::forward::child_loss;
use crate::model::Model;
use crate::report::{parse, result_lines};
use crate::search::{check, run, widths_of, ForwardQuality};

/// What disagreed, or the replay's result lines.
pub type Verdict = Result<std::string::String, std::string::String>;

/// Replays a firmware log; `Ok` holds the result lines (equal to the chip's).
pub fn replay(config: &[u8], model: &[u8], log: &str) -> Verdict {
    use std::format;
    use std::string::String;
    let config = SearchConfig::decode(config, crate::MC_CAPACITY).map_err(|e| format!("{e}"))?;
    let model = Model::parse(model).map_err(|e| format!("{e}"))?;
    check(&config, &model).map_err(|e| format!("{e}"))?;
    let space = &config.space;
    let parsed = parse(log, space).map_err(|e| format!("{e}"))?;
    let expected_blocks: usize = (0..parsed.table.num_blocks())
        .map(|b| {
            let (i, o) = parsed.table.block_dims(b);
            i * o
        })
        .sum();
    if parsed.blocks != expected_blocks || parsed.table.missing() != 0 {
        return Err(format!(
            "log has {} TABLE lines, the space has {expected_blocks} blocks",
            parsed.blocks
        ));
    }
    if parsed.evaluated == 0 {
        return Err("log has no LOSS lines".into());
    }
    // Every loss the chip computed, recomputed here.
    for (i, &chip) in parsed
        .losses
        .iter()
        .enumerate()
        .take(space.cardinality() as usize)
    {
        if chip.is_nan() {
            continue;
        }
        let arch = space
            .arch_at(i as u64)
            .ok_or("LOSS index outside the space")?;
        let w = widths_of(space, &arch);
        let host = child_loss(&model, &w[..arch.len()]);
        if host.to_bits() != chip.to_bits() {
            return Err(format!(
                "child {i}: loss {chip:e} on the chip, {host:e} here"
            ));
        }
    }
    // The same search with the chip's table and this machine's losses.
    let mut quality = ForwardQuality::new(&model, space);
    let outcome = run(&config, &parsed.table, &mut quality, |_| {}).map_err(|e| format!("{e}"))?;
    let mut mine = String::new();
    let _ = result_lines(&mut mine, space, &outcome);
    if quality.evaluated as usize != parsed.evaluated {
        return Err(format!(
            "{} children evaluated here, {} on the chip",
            quality.evaluated, parsed.evaluated
        ));
    }
    for line in mine.lines() {
        if !log.lines().any(|l| l.trim_end() == line) {
            let key = line.split(' ').next().unwrap_or("");
            let chip = log
                .lines()
                .find(|l| l.starts_with(key))
                .unwrap_or("(missing)");
            return Err(format!("here: {line}\nchip: {chip}"));
        }
    }
    let _ = writeln!(
        mine,
        "REPLAY agrees: {} losses, {} blocks",
        parsed.evaluated, parsed.blocks
    );
    Ok(mine)
}
