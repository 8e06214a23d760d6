//! Weights of a supernet or a child, and the leading-units slicing that makes a child.
//!
//! A child with hidden widths `w` keeps `W1[:, :w1], b1[:w1], W2[:w1, :w2], ...,
//! Whead[:wL, :]` (weight sharing, `docs/algorithm.md`). [`Dense::leading`] is the only
//! code that slices bundle weights, and [`SupernetWeights::child`] applies it to every
//! layer: quality, latency (whole children and single table blocks) and export all use
//! it.

use tract_onnx::pb::{tensor_proto::DataType, ModelProto, TensorProto};

use crate::{BundleError, Manifest, OnnxDecodeError};

/// One dense layer: `y = x W + b` with `W` row-major `[inputs, outputs]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Rows of `W`.
    pub inputs: usize,
    /// Columns of `W` and length of `b`.
    pub outputs: usize,
    /// `inputs * outputs` values, row-major.
    pub weight: Vec<f32>,
    /// `outputs` values.
    pub bias: Vec<f32>,
}

impl Dense {
    /// The leading `rows x cols` block of this layer (the units a child keeps).
    ///
    /// # Panics
    /// If `rows > self.inputs` or `cols > self.outputs`.
    pub fn leading(&self, rows: usize, cols: usize) -> Dense {
        let mut weight = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            let at = r * self.outputs;
            weight.extend_from_slice(&self.weight[at..at + cols]);
        }
        Dense {
            inputs: rows,
            outputs: cols,
            weight,
            bias: self.bias[..cols].to_vec(),
        }
    }
}

/// All trainable tensors of the network the graph computes.
#[derive(Debug, Clone, PartialEq)]
pub struct SupernetWeights {
    /// Stacked embedding table, `[sum of buckets, embedding_dim]` row-major (empty
    /// without categorical columns). Never sliced.
    pub embedding: Vec<f32>,
    /// Hidden layers in order, then the head.
    pub layers: Vec<Dense>,
}

impl SupernetWeights {
    /// Checks that the shapes are those of the child with hidden `widths`.
    pub fn check(&self, manifest: &Manifest, widths: &[usize]) -> Result<(), BundleError> {
        let dims = manifest.dims_for(widths);
        let names = manifest.graph.hidden.iter().chain([&manifest.graph.head]);
        if self.layers.len() != dims.len() {
            return Err(BundleError::LayerCount {
                expected: dims.len(),
                found: self.layers.len(),
            });
        }
        for ((layer, &(i, o)), names) in self.layers.iter().zip(&dims).zip(names) {
            let ok = layer.inputs == i
                && layer.outputs == o
                && layer.weight.len() == i * o
                && layer.bias.len() == o;
            if !ok {
                return Err(BundleError::LayerShape {
                    name: names.weight.clone(),
                    expected: (i, o),
                    found: (layer.inputs, layer.outputs),
                    weight_values: layer.weight.len(),
                    bias_values: layer.bias.len(),
                });
            }
        }
        for (layer, names) in self
            .layers
            .iter()
            .zip(manifest.graph.hidden.iter().chain([&manifest.graph.head]))
        {
            for (values, name) in [(&layer.weight, &names.weight), (&layer.bias, &names.bias)] {
                if let Some(index) = values.iter().position(|x| !x.is_finite()) {
                    return Err(BundleError::NonFiniteWeight {
                        name: name.clone(),
                        index,
                        value: values[index],
                    });
                }
            }
        }
        if let Some(index) = self.embedding.iter().position(|x| !x.is_finite()) {
            return Err(BundleError::NonFiniteWeight {
                name: manifest.graph.embedding.clone().unwrap_or_default(),
                index,
                value: self.embedding[index],
            });
        }
        let emb = manifest.inputs.embedding_rows() * manifest.inputs.embedding_dim as usize;
        let emb = if manifest.inputs.categorical.is_empty() {
            0
        } else {
            emb
        };
        if self.embedding.len() != emb {
            return Err(BundleError::EmbeddingSize {
                name: manifest.graph.embedding.clone().unwrap_or_default(),
                expected: emb,
                found: self.embedding.len(),
            });
        }
        Ok(())
    }

    /// Checks that `widths` is an architecture of the manifest's space.
    pub fn check_widths(manifest: &Manifest, widths: &[usize]) -> Result<(), BundleError> {
        if widths.len() != manifest.space.len() {
            return Err(BundleError::WidthCount {
                widths: widths.to_vec(),
                layers: manifest.space.len(),
            });
        }
        for (i, (&w, choices)) in widths.iter().zip(&manifest.space).enumerate() {
            if !choices.iter().any(|&c| c as usize == w) {
                return Err(BundleError::WidthChoice {
                    widths: widths.to_vec(),
                    layer: i + 1,
                    choices: choices.clone(),
                });
            }
        }
        Ok(())
    }

    /// The child with hidden `widths` (leading units of every hidden layer).
    pub fn child(&self, manifest: &Manifest, widths: &[usize]) -> Result<Self, BundleError> {
        Self::check_widths(manifest, widths)?;
        self.check(manifest, &manifest.max_widths())?;
        let dims = manifest.dims_for(widths);
        Ok(Self {
            embedding: self.embedding.clone(),
            layers: self
                .layers
                .iter()
                .zip(dims)
                .map(|(layer, (i, o))| layer.leading(i, o))
                .collect(),
        })
    }

    /// Reads the supernet's weights from the initializers the manifest names.
    pub fn from_model(model: &ModelProto, manifest: &Manifest) -> Result<Self, BundleError> {
        let graph = model.graph.as_ref().ok_or_else(|| BundleError::Onnx {
            path: crate::SUPERNET_FILE.into(),
            source: OnnxDecodeError::NoGraph,
        })?;
        let find = |name: &str| {
            graph
                .initializer
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| BundleError::MissingInitializer { name: name.into() })
        };
        let mut layers = Vec::new();
        let dims = manifest.supernet_dims();
        for (names, &(i, o)) in manifest
            .graph
            .hidden
            .iter()
            .chain([&manifest.graph.head])
            .zip(&dims)
        {
            let weight = f32_data(find(&names.weight)?, &[i, o])?;
            let bias = f32_data(find(&names.bias)?, &[o])?;
            layers.push(Dense {
                inputs: i,
                outputs: o,
                weight,
                bias,
            });
        }
        let embedding = match &manifest.graph.embedding {
            Some(name) => {
                let rows = manifest.inputs.embedding_rows();
                let dim = manifest.inputs.embedding_dim as usize;
                let offsets = manifest.graph.embedding_offsets.as_deref().unwrap_or("");
                let expected = manifest.inputs.embedding_offsets();
                let found = i64_data(find(offsets)?, &[expected.len()])?;
                if found != expected {
                    return Err(BundleError::EmbeddingOffsets {
                        name: offsets.into(),
                        expected,
                        found,
                    });
                }
                f32_data(find(name)?, &[rows, dim])?
            }
            None => Vec::new(),
        };
        Ok(Self { embedding, layers })
    }
}

fn check_shape(t: &TensorProto, dt: DataType, shape: &[usize]) -> Result<usize, BundleError> {
    let dims_ok = t.dims.len() == shape.len()
        && t.dims
            .iter()
            .zip(shape)
            .all(|(&d, &s)| d >= 0 && d as usize == s);
    if t.data_type != dt as i32 || !dims_ok {
        return Err(BundleError::InitializerShape {
            name: t.name.clone(),
            expected_type: dt,
            expected_dims: shape.to_vec(),
            found_type: DataType::try_from(t.data_type).unwrap_or(DataType::Undefined),
            found_dims: t.dims.clone(),
        });
    }
    // The manifest bounds every dimension, but a product of them may still not fit a
    // 32-bit board's `usize`.
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| BundleError::InitializerTooLarge {
            name: t.name.clone(),
            dims: shape.to_vec(),
        })
}

/// The `N`-byte little-endian values of `t` (raw data if present, else `typed`), checked
/// to be exactly `n`.
fn values<const N: usize, T: Clone>(
    t: &TensorProto,
    n: usize,
    typed: &[T],
    from_le: fn([u8; N]) -> T,
) -> Result<Vec<T>, BundleError> {
    if !t.raw_data.is_empty() {
        let expected_bytes = n
            .checked_mul(N)
            .ok_or_else(|| BundleError::InitializerTooLarge {
                name: t.name.clone(),
                dims: vec![n, N],
            })?;
        if t.raw_data.len() != expected_bytes {
            return Err(BundleError::InitializerRawBytes {
                name: t.name.clone(),
                expected_bytes,
                found_bytes: t.raw_data.len(),
            });
        }
        return Ok(t
            .raw_data
            .chunks_exact(N)
            .map(|c| from_le(c.try_into().unwrap_or([0; N])))
            .collect());
    }
    if typed.len() != n {
        return Err(BundleError::InitializerValues {
            name: t.name.clone(),
            expected: n,
            found: typed.len(),
        });
    }
    Ok(typed.to_vec())
}

/// Float values, all finite: a NaN or infinite weight would make every child's loss and
/// latency meaningless, so it is refused at load, naming the tensor.
fn f32_data(t: &TensorProto, shape: &[usize]) -> Result<Vec<f32>, BundleError> {
    let n = check_shape(t, DataType::Float, shape)?;
    let v = values(t, n, &t.float_data, f32::from_le_bytes)?;
    if let Some(index) = v.iter().position(|x| !x.is_finite()) {
        return Err(BundleError::NonFiniteWeight {
            name: t.name.clone(),
            index,
            value: v[index],
        });
    }
    Ok(v)
}

fn i64_data(t: &TensorProto, shape: &[usize]) -> Result<Vec<i64>, BundleError> {
    let n = check_shape(t, DataType::Int64, shape)?;
    values(t, n, &t.int64_data, i64::from_le_bytes)
}
