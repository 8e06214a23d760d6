//! The lines the firmware prints (semihosting) and the host reads back.
//!
//! `TABLE b i o BITS US` (one per block: the `f32` bits of the table entry in hex, then
//! the value), `CALIBRATION SCALE OFFSET` (the affine calibration, `f64` bits), `LOSS INDEX BITS` (one per evaluated child: the `f64` bits), and the
//! result lines written by [`result_lines`], which the host's replay writes from its own
//! search and compares line for line.

use core::fmt::{self, Write};

use tabnas_core::cost::{Calibration, LatencyTable};
use tabnas_core::search::StepCounts;
use tabnas_core::space::{Architecture, SearchSpace};

use crate::search::Outcome;
use crate::MAX_CHILDREN;

/// `64-32-16`.
pub struct Widths<'a>(pub &'a SearchSpace, pub &'a Architecture);

impl fmt::Display for Widths<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in 0..self.1.len() {
            if l > 0 {
                f.write_char('-')?;
            }
            write!(f, "{}", self.0.width(self.1, l))?;
        }
        Ok(())
    }
}

/// Writes the `TABLE` lines.
pub fn table_lines(w: &mut impl Write, table: &LatencyTable) -> fmt::Result {
    for b in 0..table.num_blocks() {
        let (di, dout) = table.block_dims(b);
        for i in 0..di {
            for o in 0..dout {
                let v = table.get(b, i, o) as f32;
                writeln!(w, "TABLE {b} {i} {o} {:08x} {v:.4}", v.to_bits())?;
            }
        }
    }
    let c = table.calibration();
    writeln!(
        w,
        "CALIBRATION {:016x} {:016x} scale={:.4} offset_us={:.3}",
        c.scale.to_bits(),
        c.offset_us.to_bits(),
        c.scale,
        c.offset_us
    )
}

/// Writes a `LOSS` line per evaluated child.
pub fn loss_lines(w: &mut impl Write, losses: &[f64]) -> fmt::Result {
    for (i, l) in losses.iter().enumerate().filter(|(_, l)| !l.is_nan()) {
        writeln!(w, "LOSS {i} {:016x}", l.to_bits())?;
    }
    Ok(())
}

/// Writes the result lines (`COUNTS`, `TRACE`, `BEST`, `ARGMAX`) both sides compare.
pub fn result_lines(w: &mut impl Write, space: &SearchSpace, out: &Outcome) -> fmt::Result {
    let StepCounts {
        steps,
        updated,
        rejected,
        skipped,
    } = out.counts;
    writeln!(
        w,
        "COUNTS steps={steps} updated={updated} rejected={rejected} skipped={skipped}"
    )?;
    writeln!(w, "TRACE {:016x}", out.trace.0)?;
    match &out.best {
        Some(s) => writeln!(
            w,
            "BEST {} predicted_us={:.3} prob={:.6}",
            Widths(space, &s.arch),
            s.cost,
            s.prob
        )?,
        None => writeln!(w, "BEST none")?,
    }
    let u = &out.unconstrained;
    writeln!(
        w,
        "ARGMAX {} predicted_us={:.3} prob={:.6} feasible={}",
        Widths(space, &u.arch),
        u.cost,
        u.prob,
        u.feasible
    )
}

/// What the host reads back from a firmware log.
pub struct Parsed {
    /// The table the chip measured.
    pub table: LatencyTable,
    /// Blocks read.
    pub blocks: usize,
    /// Losses by dense index (`NaN`: not evaluated on the chip).
    pub losses: [f64; MAX_CHILDREN],
    /// Losses read.
    pub evaluated: usize,
}

/// Why a log could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "firmware log line {}: malformed", self.line)
    }
}

/// Reads the `TABLE` and `LOSS` lines of a firmware log for `space`.
pub fn parse(log: &str, space: &SearchSpace) -> Result<Parsed, ParseError> {
    let mut p = Parsed {
        table: LatencyTable::new(space, 0.0),
        blocks: 0,
        losses: [f64::NAN; MAX_CHILDREN],
        evaluated: 0,
    };
    for (n, line) in log.lines().enumerate() {
        let err = ParseError { line: n + 1 };
        let mut it = line.split_ascii_whitespace();
        match it.next() {
            Some("TABLE") => {
                let mut num = || it.next().and_then(|t| t.parse::<usize>().ok()).ok_or(err);
                let (b, i, o) = (num()?, num()?, num()?);
                let bits = it
                    .next()
                    .and_then(|t| u32::from_str_radix(t, 16).ok())
                    .ok_or(err)?;
                p.table
                    .set(b, i, o, f32::from_bits(bits) as f64)
                    .map_err(|_| err)?;
                p.blocks += 1;
            }
            Some("CALIBRATION") => {
                let mut num = || {
                    it.next()
                        .and_then(|t| u64::from_str_radix(t, 16).ok())
                        .map(f64::from_bits)
                        .ok_or(err)
                };
                let (scale, offset_us) = (num()?, num()?);
                p.table.set_calibration(Calibration { scale, offset_us });
            }
            Some("LOSS") => {
                let i = it.next().and_then(|t| t.parse::<usize>().ok()).ok_or(err)?;
                let bits = it
                    .next()
                    .and_then(|t| u64::from_str_radix(t, 16).ok())
                    .ok_or(err)?;
                *p.losses.get_mut(i).ok_or(err)? = f64::from_bits(bits);
                p.evaluated += 1;
            }
            _ => {}
        }
    }
    Ok(p)
}
