//! A fixed-size grid of per-layer, per-choice numbers (logits, gradients, Adam moments).
//!
//! Entries outside a space's shape stay zero: every operation here is element-wise, and
//! the producers in this crate only ever write inside the shape.

use serde::{Deserialize, Serialize};

use crate::capacity::{MAX_CHOICES, MAX_LAYERS};

/// `MAX_LAYERS x MAX_CHOICES` numbers indexed by `[layer][choice]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogitGrid(pub [[f64; MAX_CHOICES]; MAX_LAYERS]);

impl Default for LogitGrid {
    fn default() -> Self {
        Self::zeros()
    }
}

impl LogitGrid {
    /// All zeros.
    pub const fn zeros() -> Self {
        Self([[0.0; MAX_CHOICES]; MAX_LAYERS])
    }

    /// `self += scale * other`.
    pub fn add_scaled(&mut self, other: &Self, scale: f64) {
        for (row, orow) in self.0.iter_mut().zip(other.0.iter()) {
            for (x, &o) in row.iter_mut().zip(orow.iter()) {
                *x += scale * o;
            }
        }
    }

    /// `self *= scale`.
    pub fn scale(&mut self, scale: f64) {
        for x in self.0.iter_mut().flatten() {
            *x *= scale;
        }
    }

    /// True if every entry is finite.
    pub fn is_finite(&self) -> bool {
        self.0.iter().flatten().all(|x| x.is_finite())
    }

    /// Largest absolute entry.
    pub fn max_abs(&self) -> f64 {
        self.0.iter().flatten().fold(0.0, |m, x| m.max(x.abs()))
    }
}
