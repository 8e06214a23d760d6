//! A uniform sample of a stream's encoded rows, of bounded size (reservoir sampling).

use rand_core::Rng;

use crate::supernet::Rows;

/// A uniform sample of at most `cap` encoded rows of a stream (Algorithm R).
pub(super) struct Reservoir<R> {
    cap: usize,
    /// Rows offered.
    pub(super) seen: u64,
    /// The rows kept.
    pub(super) rows: Rows,
    rng: R,
}

impl<R: Rng> Reservoir<R> {
    /// No row yet.
    pub(super) fn new(cap: usize, numeric_width: usize, categorical_width: usize, rng: R) -> Self {
        Self {
            cap,
            seen: 0,
            rows: Rows {
                rows: 0,
                numeric_width,
                categorical_width,
                numeric: Vec::new(),
                categorical: Vec::new(),
                labels: Vec::new(),
            },
            rng,
        }
    }

    /// Offers one encoded row: kept while fewer than `cap` are, else kept in place of a
    /// uniformly drawn one with probability `cap / seen`.
    pub(super) fn offer(&mut self, label: f32, numeric: &[f32], categorical: &[i64]) {
        self.seen += 1;
        let r = &mut self.rows;
        if r.rows < self.cap {
            r.numeric.extend_from_slice(numeric);
            r.categorical.extend_from_slice(categorical);
            r.labels.push(label);
            r.rows += 1;
            return;
        }
        let j = (self.rng.next_u64() % self.seen) as usize;
        if j < self.cap {
            let (nw, cw) = (r.numeric_width, r.categorical_width);
            r.numeric[j * nw..(j + 1) * nw].copy_from_slice(numeric);
            r.categorical[j * cw..(j + 1) * cw].copy_from_slice(categorical);
            r.labels[j] = label;
        }
    }
}
