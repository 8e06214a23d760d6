//! Bounds on what a supernet and its training may allocate, checked before anything is
//! allocated: every size that comes from a flag or a file (widths, buckets, embedding
//! size, columns, batch rows) is multiplied with checked `u64` arithmetic, so a hostile
//! or mistyped value gives a [`SizeError`] instead of an overflow, a panic or an
//! allocation that takes the machine down.

use std::fmt;

use tabnas_bundle::MAX_WIDTH;

use super::SupernetSpec;

/// Most parameters a supernet may have (embedding table, weights and biases at the
/// largest widths). Training keeps four `f32` copies of each (weights, gradients, two
/// Adam moments): 4 GiB at this bound; the bundle's ONNX file holds one (1 GiB).
pub const MAX_PARAMS: u64 = tabnas_bundle::MAX_SUPERNET_PARAMS;

/// Most values one batch may hold in one activation (rows x the widest dense layer, its
/// input included): 256 MiB of `f32` each, one per layer kept for the backward pass.
pub const MAX_BATCH_VALUES: u64 = 1 << 26;

/// Largest batch (training, validation or evaluation) of any trainer command.
pub const MAX_BATCH: usize = 1 << 16;

/// A supernet or batch too large to allocate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SizeError {
    /// A hidden width above [`MAX_WIDTH`].
    Width {
        /// The hidden layer (1-based).
        layer: usize,
        /// The width given.
        width: u32,
    },
    /// More parameters than [`MAX_PARAMS`] (`None`: the count overflows 64 bits).
    Params {
        /// Values of the embedding table (`None`: overflow).
        embedding: Option<u64>,
        /// Weights and biases of the dense layers (`None`: overflow).
        dense: Option<u64>,
    },
    /// A batch of more rows than [`MAX_BATCH`].
    BatchRows {
        /// The rows asked for.
        rows: usize,
    },
    /// A batch whose widest activation holds more than [`MAX_BATCH_VALUES`] values.
    BatchValues {
        /// The rows asked for.
        rows: usize,
        /// The widest dense layer (input or hidden).
        width: u64,
    },
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count =
            |n: Option<u64>| n.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string());
        match *self {
            Self::Width { layer, width } => write!(
                f,
                "hidden layer {layer} is {width} wide; widths must be in 1..={MAX_WIDTH}"
            ),
            Self::Params { embedding, dense } => write!(
                f,
                "the supernet would have {} parameters ({} in the embedding table, {} in the \
                 dense layers at their largest widths); at most {MAX_PARAMS} (2^28) are \
                 supported: use fewer buckets, a smaller embedding or narrower layers",
                count(embedding.zip(dense).and_then(|(e, d)| e.checked_add(d))),
                count(embedding),
                count(dense)
            ),
            Self::BatchRows { rows } => {
                write!(
                    f,
                    "a batch of {rows} rows; at most {MAX_BATCH} are supported"
                )
            }
            Self::BatchValues { rows, width } => write!(
                f,
                "a batch of {rows} rows through a layer {width} wide holds {} values; at most \
                 {MAX_BATCH_VALUES} (2^26) are supported: use a smaller batch",
                (rows as u64).saturating_mul(width)
            ),
        }
    }
}

impl std::error::Error for SizeError {}

impl SupernetSpec {
    /// Values of the embedding table (all buckets x the embedding size), `None` on
    /// overflow.
    pub fn embedding_params(&self) -> Option<u64> {
        let rows = self
            .buckets
            .iter()
            .try_fold(0u64, |sum, &b| sum.checked_add(b as u64))?;
        rows.checked_mul(self.embedding_dim as u64)
    }

    /// Width of the vector entering the first hidden layer, `None` on overflow.
    pub fn checked_dense_width(&self) -> Option<u64> {
        (self.buckets.len() as u64)
            .checked_mul(self.embedding_dim as u64)?
            .checked_add(self.numeric as u64)
    }

    /// Weights and biases of the dense layers of the child with hidden `widths` (the
    /// head included), `None` on overflow.
    pub fn checked_dense_params(&self, widths: &[u64]) -> Option<u64> {
        let mut d_in = self.checked_dense_width()?;
        let mut total = 0u64;
        for &out in widths.iter().chain([&(self.outputs as u64)]) {
            let layer = d_in.checked_add(1)?.checked_mul(out)?;
            total = total.checked_add(layer)?;
            d_in = out;
        }
        Some(total)
    }

    /// Checks that the widths fit a bundle and that the supernet fits [`MAX_PARAMS`];
    /// call it before [`Supernet::new`](super::Supernet::new).
    pub fn check_size(&self) -> Result<(), SizeError> {
        for (layer, widths) in self.space.iter().enumerate() {
            if let Some(&width) = widths.iter().find(|&&w| w > MAX_WIDTH) {
                return Err(SizeError::Width {
                    layer: layer + 1,
                    width,
                });
            }
        }
        let widest: Vec<u64> = self
            .space
            .iter()
            .map(|w| w.iter().copied().max().unwrap_or(1) as u64)
            .collect();
        let embedding = self.embedding_params();
        let dense = self.checked_dense_params(&widest);
        match embedding.zip(dense).and_then(|(e, d)| e.checked_add(d)) {
            Some(p) if p <= MAX_PARAMS => Ok(()),
            _ => Err(SizeError::Params { embedding, dense }),
        }
    }

    /// Rows per chunk for whole-split losses: `preferred`, fewer where a chunk of that
    /// many would exceed [`MAX_BATCH_VALUES`] through the widest layer, at least 1.
    pub fn rows_per_chunk(&self, preferred: usize) -> usize {
        let width = self.widest().max(1);
        preferred.min((MAX_BATCH_VALUES / width) as usize).max(1)
    }

    /// The widest dense layer: the input, a hidden layer at its largest, or the head
    /// (`u64::MAX` when the input width overflows).
    fn widest(&self) -> u64 {
        self.space
            .iter()
            .flatten()
            .map(|&w| w as u64)
            .chain([self.checked_dense_width().unwrap_or(u64::MAX)])
            .chain([self.outputs as u64])
            .max()
            .unwrap_or(0)
    }

    /// Checks that a batch of `rows` rows fits [`MAX_BATCH`] and [`MAX_BATCH_VALUES`]
    /// through the widest layer of this supernet.
    pub fn check_batch(&self, rows: usize) -> Result<(), SizeError> {
        if rows > MAX_BATCH {
            return Err(SizeError::BatchRows { rows });
        }
        let width = self.widest();
        match (rows as u64).checked_mul(width) {
            Some(v) if v <= MAX_BATCH_VALUES => Ok(()),
            _ => Err(SizeError::BatchValues { rows, width }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabnas_bundle::LossKind;

    fn spec(numeric: usize, buckets: Vec<u32>, dim: usize, space: Vec<Vec<u32>>) -> SupernetSpec {
        SupernetSpec {
            numeric,
            buckets,
            embedding_dim: dim,
            space,
            outputs: 1,
            loss: LossKind::BinaryCrossEntropy,
        }
    }

    #[test]
    fn small_supernets_pass_and_their_count_is_exact() {
        let s = spec(3, vec![4, 3], 2, vec![vec![2, 4, 6], vec![3, 5]]);
        s.check_size().unwrap();
        s.check_batch(4096).unwrap();
        assert_eq!(s.embedding_params(), Some(14));
        // Dense input 3 + 2 x 2 = 7: (7+1) x 6 + (6+1) x 5 + (5+1) x 1.
        assert_eq!(s.checked_dense_params(&[6, 5]), Some(48 + 35 + 6));
    }

    #[test]
    fn huge_shapes_are_refused_without_overflow() {
        let e = spec(2, vec![], 0, vec![vec![MAX_WIDTH + 1]])
            .check_size()
            .unwrap_err();
        assert_eq!(
            e,
            SizeError::Width {
                layer: 1,
                width: MAX_WIDTH + 1
            }
        );
        assert!(e.to_string().contains("1..=65536"), "{e}");
        let wide = spec(2, vec![], 0, vec![vec![MAX_WIDTH]; 8]);
        let e = wide.check_size().unwrap_err();
        assert!(e.to_string().contains("at most 268435456"), "{e}");
        let buckets = spec(1, vec![u32::MAX; 1000], usize::MAX, vec![vec![8]]);
        let e = buckets.check_size().unwrap_err();
        assert!(
            matches!(
                e,
                SizeError::Params {
                    embedding: None,
                    dense: None
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("more than 2^64"), "{e}");
        let s = spec(3, vec![], 0, vec![vec![4096]]);
        s.check_batch(16384).unwrap();
        let e = s.check_batch(16385).unwrap_err();
        assert!(e.to_string().contains("use a smaller batch"), "{e}");
        assert!(s.check_batch(MAX_BATCH + 1).is_err());
        assert!(buckets.check_batch(1).is_err());
        assert_eq!(s.rows_per_chunk(1024), 1024);
        let wide_input = spec(1 << 20, vec![], 0, vec![vec![8]]);
        assert_eq!(wide_input.rows_per_chunk(1024), 64);
        assert_eq!(buckets.rows_per_chunk(1024), 1);
    }
}
