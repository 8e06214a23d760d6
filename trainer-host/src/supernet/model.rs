//! Parameters of the supernet at its largest widths, and forward / backward passes of
//! any child.
//!
//! A child with hidden widths `w` uses `W_l[..in, ..out]` and `b_l[..out]` of every
//! layer (`docs/algorithm.md`, weight sharing). The slices are ndarray views with the supernet's
//! strides, so a child step multiplies the shared matrices in place and writes its
//! gradients into the same leading blocks of full-size gradient buffers. Adam then
//! updates all parameters, as PyTorch's Adam does for a sliced `nn.Parameter`.

use std::fmt;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, Slice};
use rand_core::Rng;
use tabnas_bundle::{mean_loss, Dense, LossError, LossKind, SupernetWeights};
use tabnas_core::controller::uniform01;

use super::{AdamW, Batch, Rows};

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

/// The leading `rows x cols` block of a shared matrix: the part a child uses, as a
/// view with the supernet's strides. (ndarray's `s!` macro would do the same, but it
/// expands to an `allow(unsafe_code)` that the workspace forbids.)
fn leading(a: &Array2<f32>, rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    a.slice_axis(Axis(0), Slice::from(..rows))
        .slice_axis_move(Axis(1), Slice::from(..cols))
}

/// [`leading`], mutable.
fn leading_mut(a: &mut Array2<f32>, rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    a.slice_axis_mut(Axis(0), Slice::from(..rows))
        .slice_axis_move(Axis(1), Slice::from(..cols))
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
    adam: AdamW,
}

/// Activations of one forward pass (inputs of every dense layer) and the output.
struct Forward {
    inputs: Vec<Array2<f32>>,
    output: Array2<f32>,
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
            adam: AdamW::new(&sizes, learning_rate, 0.0),
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
        let max = self.spec.max_widths();
        assert!(
            widths.len() == max.len() && widths.iter().zip(&max).all(|(&w, &m)| w >= 1 && w <= m),
            "widths {widths:?} do not fit the supernet {max:?}"
        );
    }

    fn dense_input(&self, batch: &Batch) -> Array2<f32> {
        let rows = batch.rows();
        let (n, d) = (self.spec.numeric, self.spec.embedding_dim);
        let fields = self.offsets.len();
        if fields == 0 {
            return batch.numeric.clone();
        }
        let mut x = Array2::zeros((rows, self.spec.dense_width()));
        x.slice_axis_mut(Axis(1), Slice::from(..n))
            .assign(&batch.numeric);
        for r in 0..rows {
            for (f, &off) in self.offsets.iter().enumerate() {
                let row = off + batch.categorical[r * fields + f] as usize;
                x.row_mut(r)
                    .slice_axis_move(Axis(0), Slice::from(n + f * d..n + (f + 1) * d))
                    .assign(&self.embedding.row(row));
            }
        }
        x
    }

    fn run(&self, batch: &Batch, widths: &[usize]) -> Forward {
        self.check_widths(widths);
        let dims = self.spec.dims_for(widths);
        let last = dims.len() - 1;
        let mut inputs = Vec::with_capacity(dims.len());
        let mut x = self.dense_input(batch);
        for (l, &(i, o)) in dims.iter().enumerate() {
            let mut y = x.dot(&leading(&self.weights[l], i, o));
            y += &self.biases[l].slice_axis(Axis(0), Slice::from(..o));
            if l < last {
                y.mapv_inplace(|v| v.max(0.0));
            }
            inputs.push(x);
            x = y;
        }
        Forward { inputs, output: x }
    }

    /// Outputs (`[rows, outputs]`) of the child with hidden `widths`.
    ///
    /// # Panics
    /// If `widths` does not fit the supernet (callers pass architectures of its space).
    pub fn forward(&self, batch: &Batch, widths: &[usize]) -> Array2<f32> {
        self.run(batch, widths).output
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
    /// before the step. On a non-finite output nothing is updated.
    pub fn train_step(&mut self, batch: &Batch, widths: &[usize]) -> Result<f64, LossError> {
        let fwd = self.run(batch, widths);
        let mut grad = Array2::<f32>::zeros(fwd.output.raw_dim());
        let loss = mean_loss(
            self.spec.loss,
            fwd.output.as_slice().expect("forward output is contiguous"),
            &batch.labels,
            self.spec.outputs,
            Some(grad.as_slice_mut().expect("fresh array is contiguous")),
        )?;
        let dims = self.spec.dims_for(widths);
        for g in &mut self.grad_weights {
            g.fill(0.0);
        }
        for g in &mut self.grad_biases {
            g.fill(0.0);
        }
        for l in (0..dims.len()).rev() {
            let (i, o) = dims[l];
            let a = &fwd.inputs[l];
            general_mat_mul(
                1.0,
                &a.t(),
                &grad,
                0.0,
                &mut leading_mut(&mut self.grad_weights[l], i, o),
            );
            self.grad_biases[l]
                .slice_axis_mut(Axis(0), Slice::from(..o))
                .assign(&grad.sum_axis(Axis(0)));
            if l == 0 && self.offsets.is_empty() {
                break;
            }
            let mut back = grad.dot(&leading(&self.weights[l], i, o).t());
            if l > 0 {
                back.zip_mut_with(a, |g, &x| {
                    if x <= 0.0 {
                        *g = 0.0
                    }
                });
            }
            grad = back;
        }
        if !self.offsets.is_empty() {
            self.grad_embedding.fill(0.0);
            let (n, d) = (self.spec.numeric, self.spec.embedding_dim);
            let fields = self.offsets.len();
            for r in 0..batch.rows() {
                for (f, &off) in self.offsets.iter().enumerate() {
                    let row = off + batch.categorical[r * fields + f] as usize;
                    let mut dst = self.grad_embedding.row_mut(row);
                    dst += &grad
                        .row(r)
                        .slice_axis_move(Axis(0), Slice::from(n + f * d..n + (f + 1) * d));
                }
            }
        }
        self.adam.begin_step();
        self.adam.update(
            0,
            self.embedding
                .as_slice_mut()
                .expect("owned arrays are contiguous"),
            self.grad_embedding
                .as_slice()
                .expect("owned arrays are contiguous"),
        );
        for l in 0..self.weights.len() {
            self.adam.update(
                1 + 2 * l,
                self.weights[l]
                    .as_slice_mut()
                    .expect("owned arrays are contiguous"),
                self.grad_weights[l]
                    .as_slice()
                    .expect("owned arrays are contiguous"),
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
        Ok(loss)
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
