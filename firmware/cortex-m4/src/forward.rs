//! The forward pass of a child on the validation rows, in `f32`, slicing the supernet's
//! leading units (`W[:w_in, :w_out]`), and its binary cross-entropy in `f64`.
//!
//! The same code runs on the chip and on the host, so both get the same losses bit for
//! bit: every sum runs in the same order, Rust never fuses `a + b * c`, and the
//! transcendental functions come from `libm` on both.

use crate::model::{Layer, Model, MAX_WIDTH};

/// `out = x W[:x.len(), :out.len()] + b[:out.len()]`, then ReLU if `relu`.
#[inline]
pub fn dense(layer: &Layer<'_>, x: &[f32], out: &mut [f32], relu: bool) {
    let n = out.len();
    out.copy_from_slice(&layer.bias[..n]);
    for (i, &xi) in x.iter().enumerate() {
        let row = &layer.weight[i * layer.outputs..i * layer.outputs + n];
        for (o, &w) in out.iter_mut().zip(row) {
            *o += xi * w;
        }
    }
    if relu {
        for o in out.iter_mut() {
            *o = o.max(0.0);
        }
    }
}

/// The logit of the child with hidden `widths` for one input row.
pub fn logit(model: &Model<'_>, widths: &[usize], row: &[f32]) -> f32 {
    let mut a = [0f32; MAX_WIDTH];
    let mut b = [0f32; MAX_WIDTH];
    let (mut cur, mut next) = (&mut a, &mut b);
    let mut n = row.len();
    cur[..n].copy_from_slice(row);
    for (l, &w) in widths.iter().enumerate() {
        dense(&model.dense[l], &cur[..n], &mut next[..w], true);
        core::mem::swap(&mut cur, &mut next);
        n = w;
    }
    let mut z = [0f32; 1];
    dense(&model.dense[widths.len()], &cur[..n], &mut z, false);
    z[0]
}

/// Stable binary cross-entropy with logits: `max(z, 0) - z y + ln(1 + e^-|z|)`.
pub fn bce(z: f32, y: f32) -> f64 {
    let (z, y) = (z as f64, y as f64);
    z.max(0.0) - z * y + libm::log1p(libm::exp(-z.abs()))
}

/// Mean loss of the child with hidden `widths` over the model's validation rows.
///
/// # Panics
/// If `widths` has another length than the model's layers or a width exceeds the
/// model's (the search driver checks the space against the model first).
pub fn child_loss(model: &Model<'_>, widths: &[usize]) -> f64 {
    assert!(widths.len() == model.layers);
    assert!(widths
        .iter()
        .zip(&model.widths)
        .all(|(w, m)| *w >= 1 && w <= m));
    let mut total = 0f64;
    for r in 0..model.rows {
        total += bce(logit(model, widths, model.row(r)), model.y[r]);
    }
    total / model.rows as f64
}
