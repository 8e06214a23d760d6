//! Parameters of the supernet at its largest widths, and forward / backward passes of
//! any child.
//!
//! A child with hidden widths `w` uses `W_l[..in, ..out]` and `b_l[..out]` of every
//! layer (`docs/algorithm.md`, weight sharing). The slices are strided blocks of the
//! shared matrices (no copies: the product kernels pack their operands themselves, see
//! [`super::kernels`]), so a child step multiplies the shared matrices in place and
//! writes its gradients into the same leading blocks of full-size gradient buffers (the
//! rest of each buffer stays zero). Adam then updates all parameters, as PyTorch's Adam
//! does for a sliced `nn.Parameter`. Activations and gradients of a step live in
//! contiguous buffers kept between steps: a step allocates nothing once they fit.

use std::fmt;

use ndarray::{Array1, Array2};
use rand_core::Rng;
use tabnas_bundle::{mean_loss, Dense, LossError, LossKind, SupernetWeights};
use tabnas_core::controller::uniform01;

use super::{kernels, AdamW, Batch, Rows};

/// The shape of a supernet.
#[derive(Debug, Clone, PartialEq)]
pub struct SupernetSpec {
    /// Numeric input columns.
    pub numeric: usize,
    /// Buckets of each categorical column.
    pub buckets: Vec<u32>,
    /// Embedding size per categorical column.
    pub embedding_dim: usize,
    /// Candidate widths per hidden layer.
    pub space: Vec<Vec<u32>>,
    /// Head width.
    pub outputs: usize,
    /// Training loss.
    pub loss: LossKind,
}

impl SupernetSpec {
    /// The shape a bundle's manifest describes.
    pub fn from_manifest(m: &tabnas_bundle::Manifest) -> Self {
        Self {
            numeric: m.inputs.numeric.len(),
            buckets: m.inputs.categorical.iter().map(|c| c.buckets).collect(),
            embedding_dim: m.inputs.embedding_dim as usize,
            space: m.space.clone(),
            outputs: m.task.outputs as usize,
            loss: m.task.loss,
        }
    }

    /// Width of the vector entering the first hidden layer.
    pub fn dense_width(&self) -> usize {
        self.numeric + self.buckets.len() * self.embedding_dim
    }

    /// Largest width of each hidden layer.
    pub fn max_widths(&self) -> Vec<usize> {
        self.space
            .iter()
            .map(|w| w.iter().copied().max().unwrap_or(1) as usize)
            .collect()
    }

    /// `(in, out)` of every dense layer of the child with hidden `widths`.
    pub fn dims_for(&self, widths: &[usize]) -> Vec<(usize, usize)> {
        let mut d_in = self.dense_width();
        let mut dims: Vec<(usize, usize)> = widths
            .iter()
            .map(|&w| {
                let d = (d_in, w);
                d_in = w;
                d
            })
            .collect();
        dims.push((d_in, self.outputs));
        dims
    }
}

/// Exported weights that do not fit a supernet shape.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeightsError {
    /// The embedding table has another number of values than the shape implies.
    Embedding {
        /// Values the shape implies (all buckets x embedding size).
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// Another number of dense layers than the shape's hidden layers and head.
    LayerCount {
        /// Dense layers the shape implies.
        expected: usize,
        /// Dense layers given.
        found: usize,
    },
    /// A weight matrix of another size.
    Weight {
        /// The dense layer (0-based; the last is the head).
        layer: usize,
        /// Its `(inputs, outputs)` at the largest widths.
        expected: (usize, usize),
        /// Values given.
        found: usize,
    },
    /// A bias of another length.
    Bias {
        /// The dense layer (0-based; the last is the head).
        layer: usize,
        /// Its outputs at the largest widths.
        expected: usize,
        /// Values given.
        found: usize,
    },
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Embedding { expected, found } => write!(
                f,
                "embedding: {found} values given, the shape implies {expected}"
            ),
            Self::LayerCount { expected, found } => {
                write!(f, "{expected} dense layers expected, {found} given")
            }
            Self::Weight {
                layer,
                expected: (i, o),
                found,
            } => write!(
                f,
                "dense layer {layer}: weight has {found} values, not {i} x {o}"
            ),
            Self::Bias {
                layer,
                expected,
                found,
            } => write!(
                f,
                "dense layer {layer}: bias has {found} values, not {expected}"
            ),
        }
    }
}

impl std::error::Error for WeightsError {}

/// The supernet: shared parameters, gradient buffers and their optimizer.
#[derive(Debug, Clone)]
pub struct Supernet {
    spec: SupernetSpec,
    offsets: Vec<usize>,
    embedding: Array2<f32>,
    weights: Vec<Array2<f32>>,
    biases: Vec<Array1<f32>>,
    grad_embedding: Array2<f32>,
    grad_weights: Vec<Array2<f32>>,
    grad_biases: Vec<Array1<f32>>,
    /// The leading `(in, out)` block of each gradient that the last step wrote: the
    /// rest of every gradient is zero.
    written: Vec<(usize, usize)>,
    adam: AdamW,
    work: Workspace,
}

/// Buffers of a training step, kept between steps: once they fit the batch a step
/// allocates nothing.
#[derive(Debug, Clone, Default)]
struct Workspace {
    /// The dense input, `rows x dense_width` (built only with categorical columns).
    input: Vec<f32>,
    /// Output of each dense layer, `rows x out` at its front (contiguous).
    acts: Vec<Vec<f32>>,
    /// Gradient of the loss with respect to the current layer's output.
    grad: Vec<f32>,
    /// Gradient with respect to the current layer's input (then swapped into `grad`).
    back: Vec<f32>,
}

/// Grows `v` to at least `n` values (never shrinks: a step after the first allocates
/// nothing).
fn fit(v: &mut Vec<f32>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

/// `y[r] += b` for every row `r` of `y` (rows of `b.len()`), then `max(0, .)` when
/// `relu`: one pass.
fn add_bias(y: &mut [f32], b: &[f32], relu: bool) {
    for row in y.chunks_exact_mut(b.len()) {
        if relu {
            for (v, &c) in row.iter_mut().zip(b) {
                *v = (*v + c).max(0.0);
            }
        } else {
            for (v, &c) in row.iter_mut().zip(b) {
                *v += c;
            }
        }
    }
}

/// Column sums of `g` (rows of `out.len()`) into `out`.
fn column_sums(g: &[f32], out: &mut [f32]) {
    out.fill(0.0);
    for row in g.chunks_exact(out.len()) {
        for (s, &v) in out.iter_mut().zip(row) {
            *s += v;
        }
    }
}

fn flat(a: &Array2<f32>) -> &[f32] {
    a.as_slice().expect("owned arrays are contiguous")
}

fn flat_mut(a: &mut Array2<f32>) -> &mut [f32] {
    a.as_slice_mut().expect("owned arrays are contiguous")
}

impl Supernet {
    /// A freshly initialised supernet: dense layers as PyTorch's `nn.Linear`
    /// (`U(-1/sqrt(fan_in), 1/sqrt(fan_in))` at the supernet's fan-in), embeddings
    /// `U(-0.05, 0.05)`. Check a shape from outside input with
    /// [`SupernetSpec::check_size`] first: this allocates it.
    pub fn new<R: Rng + ?Sized>(spec: SupernetSpec, learning_rate: f32, rng: &mut R) -> Self {
        let mut uniform = |bound: f32| ((2.0 * uniform01(rng) - 1.0) as f32) * bound;
        let rows: usize = spec.buckets.iter().map(|&b| b as usize).sum();
        let embedding = Array2::from_shape_simple_fn((rows, spec.embedding_dim), || uniform(0.05));
        let dims = spec.dims_for(&spec.max_widths());
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for &(i, o) in &dims {
            let bound = 1.0 / (i as f32).sqrt();
            weights.push(Array2::from_shape_simple_fn((i, o), || uniform(bound)));
            biases.push(Array1::from_shape_simple_fn(o, || uniform(bound)));
        }
        Self::assemble(spec, embedding, weights, biases, learning_rate)
    }

    fn assemble(
        spec: SupernetSpec,
        embedding: Array2<f32>,
        weights: Vec<Array2<f32>>,
        biases: Vec<Array1<f32>>,
        learning_rate: f32,
    ) -> Self {
        let mut offsets = Vec::with_capacity(spec.buckets.len());
        let mut at = 0usize;
        for &b in &spec.buckets {
            offsets.push(at);
            at += b as usize;
        }
        let mut sizes = vec![embedding.len()];
        for (w, b) in weights.iter().zip(&biases) {
            sizes.push(w.len());
            sizes.push(b.len());
        }
        Self {
            grad_embedding: Array2::zeros(embedding.raw_dim()),
            grad_weights: weights.iter().map(|w| Array2::zeros(w.raw_dim())).collect(),
            grad_biases: biases.iter().map(|b| Array1::zeros(b.raw_dim())).collect(),
            written: vec![(0, 0); weights.len()],
            adam: AdamW::new(&sizes, learning_rate, 0.0),
            work: Workspace::default(),
            spec,
            offsets,
            embedding,
            weights,
            biases,
        }
    }
    /// Rebuilds a supernet from exported weights (a bundle's), for further use.
    pub fn from_weights(
        spec: SupernetSpec,
        w: &SupernetWeights,
        learning_rate: f32,
    ) -> Result<Self, WeightsError> {
        let rows: usize = spec.buckets.iter().map(|&b| b as usize).sum();
        let embedding = Array2::from_shape_vec((rows, spec.embedding_dim), w.embedding.clone())
            .map_err(|_| WeightsError::Embedding {
                expected: rows * spec.embedding_dim,
                found: w.embedding.len(),
            })?;
        let dims = spec.dims_for(&spec.max_widths());
        if dims.len() != w.layers.len() {
            return Err(WeightsError::LayerCount {
                expected: dims.len(),
                found: w.layers.len(),
            });
        }
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for (layer, (&(i, o), d)) in dims.iter().zip(&w.layers).enumerate() {
            weights.push(
                Array2::from_shape_vec((i, o), d.weight.clone()).map_err(|_| {
                    WeightsError::Weight {
                        layer,
                        expected: (i, o),
                        found: d.weight.len(),
                    }
                })?,
            );
            if d.bias.len() != o {
                return Err(WeightsError::Bias {
                    layer,
                    expected: o,
                    found: d.bias.len(),
                });
            }
            biases.push(Array1::from_vec(d.bias.clone()));
        }
        Ok(Self::assemble(
            spec,
            embedding,
            weights,
            biases,
            learning_rate,
        ))
    }

    /// Sets the shared weights' decoupled weight decay (AdamW; 0, plain Adam, by default).
    pub fn set_weight_decay(&mut self, weight_decay: f32) {
        self.adam.set_weight_decay(weight_decay);
    }

    /// The shape.
    pub fn spec(&self) -> &SupernetSpec {
        &self.spec
    }

    /// All parameters as the bundle's weights (row-major `[in, out]` matrices).
    pub fn to_weights(&self) -> SupernetWeights {
        SupernetWeights {
            embedding: self.embedding.iter().copied().collect(),
            layers: self
                .weights
                .iter()
                .zip(&self.biases)
                .map(|(w, b)| Dense {
                    inputs: w.nrows(),
                    outputs: w.ncols(),
                    weight: w.iter().copied().collect(),
                    bias: b.to_vec(),
                })
                .collect(),
        }
    }

    /// Parameters of the dense layers of the child with hidden `widths`.
    pub fn dense_params(&self, widths: &[usize]) -> u64 {
        self.spec
            .dims_for(widths)
            .iter()
            .map(|&(i, o)| (i as u64 + 1) * o as u64)
            .sum()
    }

    fn check_widths(&self, widths: &[usize]) {
        let fits = widths.len() == self.weights.len() - 1
            && widths
                .iter()
                .zip(&self.weights)
                .all(|(&w, m)| w >= 1 && w <= m.ncols());
        assert!(
            fits,
            "widths {widths:?} do not fit the supernet {:?}",
            self.spec.max_widths()
        );
    }

    /// `(in, out)` of dense layer `l` of the child with hidden `widths` (checked).
    fn layer_dims(&self, widths: &[usize], l: usize) -> (usize, usize) {
        let i = if l == 0 {
            self.weights[0].nrows()
        } else {
            widths[l - 1]
        };
        let o = widths.get(l).copied().unwrap_or(self.spec.outputs);
        (i, o)
    }

    /// The vector entering the first dense layer, `rows x dense_width`: the batch's
    /// numeric values where there is no categorical column (no copy), else built in
    /// `buf`.
    fn dense_input<'a>(&self, batch: &'a Batch, buf: &'a mut Vec<f32>) -> &'a [f32] {
        let rows = batch.rows();
        let (n, d) = (self.spec.numeric, self.spec.embedding_dim);
        let width = self.spec.dense_width();
        let fields = self.offsets.len();
        if fields == 0 {
            if let Some(x) = batch.numeric.as_slice() {
                return x;
            }
        }
        fit(buf, rows * width);
        for (r, x) in buf[..rows * width].chunks_exact_mut(width).enumerate() {
            for (dst, &v) in x[..n].iter_mut().zip(batch.numeric.row(r)) {
                *dst = v;
            }
            for (f, &off) in self.offsets.iter().enumerate() {
                let row = off + batch.categorical[r * fields + f] as usize;
                x[n + f * d..n + (f + 1) * d].copy_from_slice(
                    self.embedding
                        .row(row)
                        .as_slice()
                        .expect("owned arrays are contiguous"),
                );
            }
        }
        &buf[..rows * width]
    }

    /// Runs the dense layers of the child with hidden `widths` on `x` (`rows x in`):
    /// the output of layer `l` goes to the front of `acts[l]` (`rows x out`), whose
    /// lengths the caller has fitted.
    fn dense_forward(&self, x: &[f32], rows: usize, widths: &[usize], acts: &mut [Vec<f32>]) {
        let layers = self.weights.len();
        for l in 0..layers {
            let (i, o) = self.layer_dims(widths, l);
            let (before, rest) = acts.split_at_mut(l);
            let input = if l == 0 { x } else { &before[l - 1][..] };
            let y = &mut rest[0][..rows * o];
            let w = &self.weights[l];
            kernels::product(
                kernels::block_mut(y, rows, o, o),
                kernels::block(input, rows, i, i),
                kernels::block(flat(w), i, o, w.ncols()),
            );
            let b = self.biases[l]
                .as_slice()
                .expect("owned arrays are contiguous");
            add_bias(y, &b[..o], l + 1 < layers);
        }
    }

    /// Buffers of every layer's output for `rows` rows of the child with `widths`.
    fn output_buffers(&self, rows: usize, widths: &[usize]) -> Vec<Vec<f32>> {
        (0..self.weights.len())
            .map(|l| vec![0.0; rows * self.layer_dims(widths, l).1])
            .collect()
    }

    /// Outputs (`[rows, outputs]`) of the child with hidden `widths`.
    ///
    /// # Panics
    /// If `widths` does not fit the supernet (callers pass architectures of its space).
    pub fn forward(&self, batch: &Batch, widths: &[usize]) -> Array2<f32> {
        self.check_widths(widths);
        let rows = batch.rows();
        let mut buf = Vec::new();
        let x = self.dense_input(batch, &mut buf);
        let mut acts = self.output_buffers(rows, widths);
        self.dense_forward(x, rows, widths, &mut acts);
        let out = acts.pop().unwrap_or_default();
        Array2::from_shape_vec((rows, self.spec.outputs), out)
            .expect("the head writes rows x outputs values")
    }

    /// Mean loss of a child on `rows`, in chunks of `chunk` rows.
    pub fn loss(&self, rows: &Rows, widths: &[usize], chunk: usize) -> Result<f64, LossError> {
        let mut total = 0.0;
        let mut start = 0;
        while start < rows.rows {
            let end = (start + chunk.max(1)).min(rows.rows);
            let batch = rows.range(start, end);
            let out = self.forward(&batch, widths);
            let l = mean_loss(
                self.spec.loss,
                out.as_slice().expect("forward output is contiguous"),
                &batch.labels,
                self.spec.outputs,
                None,
            )?;
            total += l * (end - start) as f64;
            start = end;
        }
        Ok(total / rows.rows.max(1) as f64)
    }

    /// Mean loss of a child on one batch.
    pub fn batch_loss(&self, batch: &Batch, widths: &[usize]) -> Result<f64, LossError> {
        let out = self.forward(batch, widths);
        mean_loss(
            self.spec.loss,
            out.as_slice().expect("forward output is contiguous"),
            &batch.labels,
            self.spec.outputs,
            None,
        )
    }

    /// One Adam step of the child with hidden `widths` on `batch`; returns the loss
    /// before the step. On a non-finite output nothing is updated. Once its buffers
    /// fit the batch (after the first step of the largest batch and child), a step
    /// allocates nothing.
    ///
    /// # Panics
    /// If `widths` does not fit the supernet (callers pass architectures of its space).
    pub fn train_step(&mut self, batch: &Batch, widths: &[usize]) -> Result<f64, LossError> {
        self.check_widths(widths);
        let mut work = std::mem::take(&mut self.work);
        let loss = self.step_with(&mut work, batch, widths);
        self.work = work;
        let loss = loss?;
        self.adam_step();
        Ok(loss)
    }

    /// Zeroes the part of layer `l`'s gradients that the last step wrote and this
    /// step's block `(i, o)` does not cover.
    fn clear_outside(&mut self, l: usize, i: usize, o: usize) {
        let (pi, po) = self.written[l];
        let full = self.grad_weights[l].ncols();
        let g = flat_mut(&mut self.grad_weights[l]);
        for r in 0..pi {
            let row = &mut g[r * full..r * full + po];
            if r >= i {
                row.fill(0.0);
            } else if po > o {
                row[o..].fill(0.0);
            }
        }
        if po > o {
            self.grad_biases[l]
                .as_slice_mut()
                .expect("owned arrays are contiguous")[o..po]
                .fill(0.0);
        }
        self.written[l] = (i, o);
    }

    /// Forward pass, loss and gradients of one step (parameters untouched).
    fn step_with(
        &mut self,
        work: &mut Workspace,
        batch: &Batch,
        widths: &[usize],
    ) -> Result<f64, LossError> {
        let rows = batch.rows();
        let layers = self.weights.len();
        work.acts.resize_with(layers, Vec::new);
        let mut widest = 0;
        for (acts, w) in work.acts.iter_mut().zip(&self.weights) {
            fit(acts, rows * w.ncols());
            widest = widest.max(w.nrows()).max(w.ncols());
        }
        fit(&mut work.grad, rows * widest);
        fit(&mut work.back, rows * widest);
        let x = self.dense_input(batch, &mut work.input);
        self.dense_forward(x, rows, widths, &mut work.acts);
        let outputs = self.spec.outputs;
        let loss = mean_loss(
            self.spec.loss,
            &work.acts[layers - 1][..rows * outputs],
            &batch.labels,
            outputs,
            Some(&mut work.grad[..rows * outputs]),
        )?;
        for l in (0..layers).rev() {
            let (i, o) = self.layer_dims(widths, l);
            let a = if l == 0 {
                x
            } else {
                &work.acts[l - 1][..rows * i]
            };
            let g = &work.grad[..rows * o];
            self.clear_outside(l, i, o);
            let full = self.weights[l].ncols();
            kernels::product(
                kernels::block_mut(flat_mut(&mut self.grad_weights[l]), i, o, full),
                kernels::block(a, rows, i, i).transpose(),
                kernels::block(g, rows, o, o),
            );
            column_sums(
                g,
                &mut self.grad_biases[l]
                    .as_slice_mut()
                    .expect("owned arrays are contiguous")[..o],
            );
            if l == 0 && self.offsets.is_empty() {
                break;
            }
            let back = &mut work.back[..rows * i];
            kernels::product(
                kernels::block_mut(back, rows, i, i),
                kernels::block(g, rows, o, o),
                kernels::block(flat(&self.weights[l]), i, o, full).transpose(),
            );
            if l > 0 {
                for (b, &v) in back.iter_mut().zip(a) {
                    if v <= 0.0 {
                        *b = 0.0;
                    }
                }
            }
            std::mem::swap(&mut work.grad, &mut work.back);
        }
        if !self.offsets.is_empty() {
            self.grad_embedding.fill(0.0);
            let (n, d) = (self.spec.numeric, self.spec.embedding_dim);
            let width = self.spec.dense_width();
            let fields = self.offsets.len();
            for (r, g) in work.grad[..rows * width].chunks_exact(width).enumerate() {
                for (f, &off) in self.offsets.iter().enumerate() {
                    let row = off + batch.categorical[r * fields + f] as usize;
                    let dst = self.grad_embedding.row_mut(row).into_slice();
                    let dst = dst.expect("owned arrays are contiguous");
                    for (e, &v) in dst.iter_mut().zip(&g[n + f * d..n + (f + 1) * d]) {
                        *e += v;
                    }
                }
            }
        }
        Ok(loss)
    }

    /// Adam over every parameter from the gradients of the last step.
    fn adam_step(&mut self) {
        self.adam.begin_step();
        self.adam
            .update(0, flat_mut(&mut self.embedding), flat(&self.grad_embedding));
        for l in 0..self.weights.len() {
            self.adam.update(
                1 + 2 * l,
                flat_mut(&mut self.weights[l]),
                flat(&self.grad_weights[l]),
            );
            self.adam.update(
                2 + 2 * l,
                self.biases[l]
                    .as_slice_mut()
                    .expect("owned arrays are contiguous"),
                self.grad_biases[l]
                    .as_slice()
                    .expect("owned arrays are contiguous"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabnas_core::rng::search_rng;

    fn tiny(loss: LossKind, outputs: usize) -> (Supernet, Rows) {
        let spec = SupernetSpec {
            numeric: 3,
            buckets: vec![4, 3],
            embedding_dim: 2,
            space: vec![vec![2, 4, 6], vec![3, 5]],
            outputs,
            loss,
        };
        let mut rng = search_rng(7);
        let net = Supernet::new(spec, 0.01, &mut rng);
        let rows = 16;
        let numeric: Vec<f32> = (0..rows * 3)
            .map(|i| ((i * 37) % 11) as f32 / 5.0 - 1.0)
            .collect();
        let categorical: Vec<i64> = (0..rows)
            .flat_map(|r| [(r % 4) as i64, (r % 3) as i64])
            .collect();
        let labels: Vec<f32> = (0..rows)
            .map(|r| match loss {
                LossKind::BinaryCrossEntropy => (r % 2) as f32,
                LossKind::SoftmaxCrossEntropy => (r % outputs) as f32,
                LossKind::MeanSquaredError => r as f32 / 8.0,
            })
            .collect();
        (
            net,
            Rows {
                rows,
                numeric_width: 3,
                categorical_width: 2,
                numeric,
                categorical,
                labels,
            },
        )
    }

    /// The analytic gradient of every parameter a child uses equals a central finite
    /// difference of the loss (f32 arithmetic: tolerance 2e-2 relative + 1e-3 absolute).
    #[test]
    fn gradients_match_finite_differences() {
        for (kind, outputs) in [
            (LossKind::BinaryCrossEntropy, 1),
            (LossKind::SoftmaxCrossEntropy, 3),
            (LossKind::MeanSquaredError, 1),
        ] {
            let (mut net, rows) = tiny(kind, outputs);
            let batch = rows.range(0, rows.rows);
            let widths = [4, 3];
            // Gradients without an update: zero learning rate.
            net.adam = AdamW::new(
                &[net.embedding.len(), 12, 4, 20, 5, 5 * outputs, outputs],
                0.0,
                0.0,
            );
            net.train_step(&batch, &widths).unwrap();
            let eps = 1e-2f32;
            let check = |get: &mut dyn FnMut(&mut Supernet) -> &mut f32, analytic: f32| {
                let mut plus = net.clone();
                *get(&mut plus) += eps;
                let mut minus = net.clone();
                *get(&mut minus) -= eps;
                let fd = (plus.batch_loss(&batch, &widths).unwrap()
                    - minus.batch_loss(&batch, &widths).unwrap())
                    / (2.0 * eps as f64);
                assert!(
                    (fd - analytic as f64).abs() < 2e-2 * fd.abs() + 1e-3,
                    "{kind:?}: finite difference {fd} vs analytic {analytic}"
                );
            };
            for (l, (i, o)) in [(0, (1, 2)), (1, (3, 2)), (2, (2, 0))] {
                let g = net.grad_weights[l][[i, o]];
                check(&mut |n: &mut Supernet| &mut n.weights[l][[i, o]], g);
                let gb = net.grad_biases[l][o];
                check(&mut |n: &mut Supernet| &mut n.biases[l][o], gb);
            }
            let ge = net.grad_embedding[[5, 1]];
            check(&mut |n: &mut Supernet| &mut n.embedding[[5, 1]], ge);
            // Units outside the child get no gradient.
            assert_eq!(net.grad_weights[0][[0, 5]], 0.0);
            assert_eq!(net.grad_weights[1][[5, 0]], 0.0);
        }
    }

    #[test]
    fn training_lowers_the_loss_of_the_trained_child() {
        let (mut net, rows) = tiny(LossKind::BinaryCrossEntropy, 1);
        let batch = rows.range(0, rows.rows);
        let before = net.batch_loss(&batch, &[6, 5]).unwrap();
        for _ in 0..200 {
            net.train_step(&batch, &[6, 5]).unwrap();
        }
        let after = net.batch_loss(&batch, &[6, 5]).unwrap();
        assert!(after < 0.5 * before, "{before} -> {after}");
    }

    #[test]
    fn weights_round_trip_through_the_bundle_form() {
        let (net, rows) = tiny(LossKind::SoftmaxCrossEntropy, 3);
        let back = Supernet::from_weights(net.spec.clone(), &net.to_weights(), 0.01).unwrap();
        let batch = rows.range(0, 5);
        assert_eq!(net.forward(&batch, &[2, 5]), back.forward(&batch, &[2, 5]));
        let mut bad = net.to_weights();
        bad.layers[1].bias.pop();
        assert_eq!(
            Supernet::from_weights(net.spec.clone(), &bad, 0.01).unwrap_err(),
            WeightsError::Bias {
                layer: 1,
                expected: 5,
                found: 4
            }
        );
    }
}
