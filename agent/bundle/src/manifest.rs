//! `manifest.json`: what a bundle's supernet computes and how it was made.
//!
//! [`Manifest::check`] is the one validation path: after it succeeds, the search space,
//! the input schema and the initializer names are consistent with each other (widths
//! are non-zero and fit the core's capacities, names are unique, the task has outputs),
//! so no accessor below panics.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::BundleError;
use tabnas_core::capacity::{MAX_CHOICES, MAX_LAYERS};
use tabnas_core::space::{SearchSpace, SpaceError};

/// Largest layer width, column count, embedding size or head width a manifest may give
/// (keeps every size product far from overflow).
pub const MAX_WIDTH: u32 = 1 << 16;
/// Largest bucket count of a categorical column.
pub const MAX_BUCKETS: u32 = 1 << 24;
/// The most parameters a supernet may have (the embedding table and the dense layers at
/// their largest widths): 2^28, 1 GiB of `f32`. With it every size derived from a
/// checked manifest fits a 32-bit board's `usize`.
pub const MAX_SUPERNET_PARAMS: u64 = 1 << 28;

/// The manifest format this build reads and writes.
pub const MANIFEST_FORMAT: u32 = 1;

/// The loss a bundle's head is trained and judged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// One logit; labels 0 or 1; mean binary cross-entropy with logits.
    BinaryCrossEntropy,
    /// One logit per class; labels are class indices; mean softmax cross-entropy.
    SoftmaxCrossEntropy,
    /// One value; mean squared error.
    MeanSquaredError,
}

/// The task of the head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Loss used for training and for the search's quality.
    pub loss: LossKind,
    /// Width of the head's output.
    pub outputs: u32,
    /// Label names by index (binary: negative then positive; multiclass: classes).
    #[serde(default)]
    pub labels: Vec<String>,
}

/// One numeric input column and its fitted transform (`x -> ln(1 + max(x, 0))` if
/// `log1p`, then `(x - mean) / std`; missing values become 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericInput {
    /// Column name in the user's data.
    pub name: String,
    /// Clip at 0 and take `ln(1 + x)` first.
    pub log1p: bool,
    /// Training mean after the log.
    pub mean: f32,
    /// Training standard deviation after the log.
    pub std: f32,
}

/// One categorical input column: missing -> bucket 0, else `1 + hash % (buckets - 1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalInput {
    /// Column name in the user's data.
    pub name: String,
    /// Buckets, including bucket 0 for missing values.
    pub buckets: u32,
}

/// The model inputs and the preprocessing that produces them from raw rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSchema {
    /// Numeric columns, in the order of the `numeric` input's columns.
    pub numeric: Vec<NumericInput>,
    /// Categorical columns, in the order of the `categorical` input's columns.
    pub categorical: Vec<CategoricalInput>,
    /// Embedding size of every categorical column.
    pub embedding_dim: u32,
    /// The categorical hash (`fnv1a64` of the UTF-8 text).
    pub hash: String,
}

impl InputSchema {
    /// Size of the vector entering the first hidden layer.
    pub fn dense_width(&self) -> usize {
        self.numeric.len() + self.categorical.len() * self.embedding_dim as usize
    }

    /// Rows of the stacked embedding table (sum of the buckets).
    pub fn embedding_rows(&self) -> usize {
        self.categorical.iter().map(|c| c.buckets as usize).sum()
    }

    /// First row of each column's block in the stacked embedding table.
    pub fn embedding_offsets(&self) -> Vec<i64> {
        let mut at = 0i64;
        self.categorical
            .iter()
            .map(|c| {
                let o = at;
                at += c.buckets as i64;
                o
            })
            .collect()
    }
}

/// Initializer names of one dense layer (`weight` is `[in, out]`, `bias` is `[out]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseNames {
    /// The `[in, out]` weight of the MatMul.
    pub weight: String,
    /// The `[out]` bias of the Add.
    pub bias: String,
}

/// Names of the graph's inputs, output and initializers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphNames {
    /// `[batch, numeric]` f32 input.
    pub numeric_input: String,
    /// `[batch, categorical]` i64 input (absent without categorical columns).
    pub categorical_input: Option<String>,
    /// `[batch, outputs]` f32 output.
    pub output: String,
    /// Stacked `[sum buckets, embedding_dim]` embedding table (with categoricals).
    pub embedding: Option<String>,
    /// `[categorical]` i64 row offsets into the stacked table (with categoricals).
    pub embedding_offsets: Option<String>,
    /// Hidden layers in order (sliced for a child).
    pub hidden: Vec<DenseNames>,
    /// The head (its input rows are sliced for a child).
    pub head: DenseNames,
}

/// How the supernet was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Dataset name or file.
    pub dataset: String,
    /// Rows in each split: train, validation, test.
    pub rows: [usize; 3],
    /// Seed of the split, the initialisation and the search.
    pub seed: u64,
    /// Shared-weight training steps.
    pub steps: u32,
    /// Batch size.
    pub batch: usize,
    /// Learning rate of the shared weights.
    pub learning_rate: f64,
    /// The command that produced the bundle.
    pub command: String,
    /// Producer and version.
    pub producer: String,
}

/// A host-measured loss of one architecture (for the Pareto reference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceLoss {
    /// Hidden widths.
    pub widths: Vec<u32>,
    /// Parameters of its hidden layers and head.
    pub params: u64,
    /// Its loss.
    pub loss: f64,
    /// `shared-weights` (a child of this supernet) or `stand-alone` (trained alone).
    pub method: String,
    /// The split the loss is measured on.
    pub split: String,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: u32,
    /// Bundle name.
    pub name: String,
    /// Task and loss.
    pub task: TaskSpec,
    /// Inputs and preprocessing.
    pub inputs: InputSchema,
    /// Candidate widths of each hidden layer (the supernet has the largest of each).
    pub space: Vec<Vec<u32>>,
    /// Names in the ONNX graph.
    pub graph: GraphNames,
    /// How it was trained.
    pub training: Provenance,
    /// Host-measured losses of reference architectures.
    #[serde(default)]
    pub references: Vec<ReferenceLoss>,
}

/// Why a manifest is inconsistent; [`ManifestError::field`] names the field at fault
/// and every variant carries the values that are wrong.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ManifestError {
    /// `format` is not [`MANIFEST_FORMAT`].
    Format {
        /// The format found.
        found: u32,
    },
    /// `task.outputs` does not suit the loss (1 for binary and regression, at least 2
    /// classes for multiclass).
    Outputs {
        /// The outputs found.
        outputs: u32,
        /// The task's loss.
        loss: LossKind,
    },
    /// `space` has no layers or more than [`MAX_LAYERS`].
    LayerCount {
        /// Layers found.
        layers: usize,
    },
    /// `space[layer]` has no widths, more than [`MAX_CHOICES`], or a width outside
    /// `1..=MAX_WIDTH`.
    LayerWidths {
        /// The layer, counted from 0.
        layer: usize,
        /// Its widths.
        widths: Vec<u32>,
    },
    /// The core refuses `space`.
    Space(SpaceError),
    /// `inputs` has neither numeric nor categorical columns.
    NoColumns,
    /// A numeric column's `mean` is not finite or its `std` not a finite positive number.
    Scale {
        /// The column's index among the numeric ones.
        column: usize,
        /// Its mean.
        mean: f64,
        /// Its standard deviation.
        std: f64,
    },
    /// `inputs.embedding_dim` is 0 while there are categorical columns.
    ZeroEmbedding,
    /// A categorical column of `inputs.categorical` has fewer than 2 or more than
    /// [`MAX_BUCKETS`] buckets.
    Buckets {
        /// The column's index.
        column: usize,
        /// The column's name.
        name: String,
        /// Its bucket count.
        buckets: u32,
    },
    /// A size field exceeds [`MAX_WIDTH`]: `inputs.embedding_dim`, the column count of
    /// `inputs`, or `task.outputs`.
    TooLarge {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// The supernet would have more than [`MAX_SUPERNET_PARAMS`] parameters.
    TooManyParams {
        /// Its parameter count.
        params: u64,
    },
    /// `graph.categorical_input`, `graph.embedding` and `graph.embedding_offsets` are not
    /// given exactly when there are categorical columns.
    CategoricalNames {
        /// Categorical columns of `inputs`.
        columns: usize,
        /// Whether `graph.categorical_input` is given.
        categorical_input: bool,
        /// Whether `graph.embedding` is given.
        embedding: bool,
        /// Whether `graph.embedding_offsets` is given.
        embedding_offsets: bool,
    },
    /// `graph.hidden` names another number of layers than `space` has.
    HiddenNames {
        /// Layers named.
        names: usize,
        /// Layers of the space.
        layers: usize,
    },
    /// A name of `graph` is used twice.
    DuplicateName {
        /// The name.
        name: String,
    },
    /// A name of `graph` is empty.
    EmptyName,
    /// A graph name is one the ONNX writer gives its own nodes (`embedded`, or ending in
    /// `.matmul`, `.add`, `.relu` or `.flat_shape`).
    ReservedName {
        /// The name.
        name: String,
    },
}

impl ManifestError {
    /// The manifest field at fault (`format`, `task.outputs`, `space[2]`, `graph`, ...).
    pub fn field(&self) -> String {
        match self {
            Self::Format { .. } => "format".into(),
            Self::Outputs { .. } => "task.outputs".into(),
            Self::Space(
                SpaceError::EmptyLayer { layer }
                | SpaceError::TooManyChoices { layer, .. }
                | SpaceError::ZeroWidth { layer }
                | SpaceError::DuplicateWidth { layer, .. },
            ) => format!("space[{layer}]"),
            Self::LayerCount { .. } | Self::Space(_) => "space".into(),
            Self::LayerWidths { layer, .. } => format!("space[{layer}]"),
            Self::NoColumns => "inputs".into(),
            Self::Scale { column, .. } => format!("inputs.numeric[{column}]"),
            Self::ZeroEmbedding => "inputs.embedding_dim".into(),
            Self::Buckets { .. } => "inputs.categorical".into(),
            Self::TooLarge { field, .. } => (*field).into(),
            Self::TooManyParams { .. } => "space".into(),
            Self::CategoricalNames { .. }
            | Self::DuplicateName { .. }
            | Self::EmptyName
            | Self::ReservedName { .. } => "graph".into(),
            Self::HiddenNames { .. } => "graph.hidden".into(),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "manifest field `{}` ", self.field())?;
        match self {
            Self::Format { found } => {
                write!(f, "is {found}, this agent reads {MANIFEST_FORMAT}")
            }
            Self::Outputs { outputs, loss } => write!(
                f,
                "{outputs} does not suit {loss:?} (1 for binary and regression, >= 2 classes)"
            ),
            Self::LayerCount { layers } => {
                write!(f, "has {layers} layers; 1 to {MAX_LAYERS} allowed")
            }
            Self::LayerWidths { widths, .. } => write!(
                f,
                "needs 1 to {MAX_CHOICES} widths in 1..={MAX_WIDTH}, has {widths:?}"
            ),
            Self::Space(e) => write!(f, "{e}"),
            Self::NoColumns => f.write_str("has no columns"),
            Self::Scale { mean, std, .. } => write!(
                f,
                "has mean {mean} and std {std}; a column is scaled by a finite mean and a \
                 finite positive std"
            ),
            Self::ZeroEmbedding => f.write_str("is 0 with categorical columns"),
            Self::Buckets {
                column,
                name,
                buckets,
            } => write!(
                f,
                "column {column} ({name}) has {buckets} buckets; 2 to {MAX_BUCKETS} allowed"
            ),
            Self::TooLarge { value, .. } => {
                write!(f, "is {value}; at most {MAX_WIDTH} allowed")
            }
            Self::TooManyParams { params } => write!(
                f,
                "gives a supernet of {params} parameters (embeddings and dense layers at their \
                 largest widths); at most {MAX_SUPERNET_PARAMS} (2^28) are supported"
            ),
            Self::CategoricalNames {
                columns,
                categorical_input,
                embedding,
                embedding_offsets,
            } => write!(
                f,
                "categorical_input, embedding and embedding_offsets must be given exactly \
                 when there are categorical columns ({columns} columns; given: \
                 categorical_input {categorical_input}, embedding {embedding}, \
                 embedding_offsets {embedding_offsets})"
            ),
            Self::HiddenNames { names, layers } => {
                write!(f, "names {names} layers, the space has {layers}")
            }
            Self::DuplicateName { name } => write!(f, "name {name:?} is used twice"),
            Self::EmptyName => f.write_str("has an empty name"),
            Self::ReservedName { name } => write!(
                f,
                "uses {name:?}, a name the ONNX writer gives its own nodes (`embedded`, or \
                 ending in .matmul, .add, .relu or .flat_shape)"
            ),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for ManifestError {}

impl Manifest {
    /// Validates the manifest on its own (see the module docs); a failure is a
    /// [`BundleError::Manifest`].
    pub fn check(&self) -> Result<(), BundleError> {
        Ok(self.check_fields()?)
    }

    fn check_fields(&self) -> Result<(), ManifestError> {
        if self.format != MANIFEST_FORMAT {
            return Err(ManifestError::Format { found: self.format });
        }
        let outputs_ok = match self.task.loss {
            LossKind::BinaryCrossEntropy | LossKind::MeanSquaredError => self.task.outputs == 1,
            LossKind::SoftmaxCrossEntropy => self.task.outputs >= 2,
        };
        if !outputs_ok {
            return Err(ManifestError::Outputs {
                outputs: self.task.outputs,
                loss: self.task.loss,
            });
        }
        self.check_space()?;
        self.check_inputs()?;
        let params = self.supernet_params();
        if params > MAX_SUPERNET_PARAMS {
            return Err(ManifestError::TooManyParams { params });
        }
        self.check_graph_names()
    }

    /// The space: 1 to `MAX_LAYERS` layers of 1 to `MAX_CHOICES` widths in 1..=`MAX_WIDTH`,
    /// and one the core can hold.
    fn check_space(&self) -> Result<(), ManifestError> {
        if self.space.is_empty() || self.space.len() > MAX_LAYERS {
            return Err(ManifestError::LayerCount {
                layers: self.space.len(),
            });
        }
        for (layer, w) in self.space.iter().enumerate() {
            if w.is_empty() || w.len() > MAX_CHOICES || w.iter().any(|&x| x == 0 || x > MAX_WIDTH) {
                return Err(ManifestError::LayerWidths {
                    layer,
                    widths: w.clone(),
                });
            }
        }
        self.core_space()?;
        Ok(())
    }

    /// The input columns: embeddings, buckets, sizes and standardisation.
    fn check_inputs(&self) -> Result<(), ManifestError> {
        let has_cat = !self.inputs.categorical.is_empty();
        if has_cat && self.inputs.embedding_dim == 0 {
            return Err(ManifestError::ZeroEmbedding);
        }
        if let Some((column, c)) = self
            .inputs
            .categorical
            .iter()
            .enumerate()
            .find(|(_, c)| c.buckets < 2 || c.buckets > MAX_BUCKETS)
        {
            return Err(ManifestError::Buckets {
                column,
                name: c.name.clone(),
                buckets: c.buckets,
            });
        }
        let columns = self.inputs.numeric.len() + self.inputs.categorical.len();
        for (field, value) in [
            ("inputs.embedding_dim", self.inputs.embedding_dim as u64),
            ("inputs", columns as u64),
            ("task.outputs", self.task.outputs as u64),
        ] {
            if value > MAX_WIDTH as u64 {
                return Err(ManifestError::TooLarge { field, value });
            }
        }
        // Every factor is bounded above, so these sums and products fit in 64 bits.
        if self.inputs.dense_width() == 0 {
            return Err(ManifestError::NoColumns);
        }
        if let Some((column, c)) = self
            .inputs
            .numeric
            .iter()
            .enumerate()
            .find(|(_, c)| !(c.mean.is_finite() && c.std.is_finite() && c.std > 0.0))
        {
            return Err(ManifestError::Scale {
                column,
                mean: c.mean as f64,
                std: c.std as f64,
            });
        }
        Ok(())
    }

    /// The graph's tensor names: present exactly when needed, one per hidden layer,
    /// distinct, non-empty and none the writer reserves.
    fn check_graph_names(&self) -> Result<(), ManifestError> {
        let has_cat = !self.inputs.categorical.is_empty();
        let g = &self.graph;
        let given = (
            g.categorical_input.is_some(),
            g.embedding.is_some(),
            g.embedding_offsets.is_some(),
        );
        if given != (has_cat, has_cat, has_cat) {
            return Err(ManifestError::CategoricalNames {
                columns: self.inputs.categorical.len(),
                categorical_input: given.0,
                embedding: given.1,
                embedding_offsets: given.2,
            });
        }
        if g.hidden.len() != self.space.len() {
            return Err(ManifestError::HiddenNames {
                names: g.hidden.len(),
                layers: self.space.len(),
            });
        }
        let mut names: Vec<&str> = vec![&g.numeric_input, &g.output];
        names.extend(g.categorical_input.as_deref());
        names.extend(g.embedding.as_deref());
        names.extend(g.embedding_offsets.as_deref());
        for d in g.hidden.iter().chain([&g.head]) {
            names.push(&d.weight);
            names.push(&d.bias);
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(ManifestError::DuplicateName {
                name: w[0].to_string(),
            });
        }
        if names.iter().any(|n| n.is_empty()) {
            return Err(ManifestError::EmptyName);
        }
        let reserved = |n: &str| {
            n == "embedded"
                || [".matmul", ".add", ".relu", ".flat_shape"]
                    .iter()
                    .any(|s| n.ends_with(s))
        };
        if let Some(name) = names.iter().find(|n| reserved(n)) {
            return Err(ManifestError::ReservedName {
                name: name.to_string(),
            });
        }
        Ok(())
    }

    fn core_space(&self) -> Result<SearchSpace, ManifestError> {
        let layers: Vec<&[u32]> = self.space.iter().map(|w| w.as_slice()).collect();
        SearchSpace::new(&layers).map_err(ManifestError::Space)
    }

    /// The search space of the core; a failure is a [`BundleError::Manifest`] naming
    /// `space`.
    pub fn search_space(&self) -> Result<SearchSpace, BundleError> {
        Ok(self.core_space()?)
    }

    /// Largest width of each hidden layer (the supernet's widths).
    pub fn max_widths(&self) -> Vec<usize> {
        self.space
            .iter()
            .map(|w| w.iter().copied().max().unwrap_or(0) as usize)
            .collect()
    }

    /// `(in, out)` of every dense layer of the supernet: hidden layers, then the head.
    pub fn supernet_dims(&self) -> Vec<(usize, usize)> {
        self.dims_for(&self.max_widths())
    }

    /// `(in, out)` of every dense layer of the child with hidden `widths`.
    pub fn dims_for(&self, widths: &[usize]) -> Vec<(usize, usize)> {
        let mut d_in = self.inputs.dense_width();
        let mut dims = Vec::with_capacity(widths.len() + 1);
        for &w in widths {
            dims.push((d_in, w));
            d_in = w;
        }
        dims.push((d_in, self.task.outputs as usize));
        dims
    }

    /// Parameters of the supernet (embedding table and dense layers at the largest
    /// widths), in 64-bit arithmetic; [`Manifest::check`] bounds it.
    pub fn supernet_params(&self) -> u64 {
        let dim = self.inputs.embedding_dim as u64;
        let embedding: u64 = self
            .inputs
            .categorical
            .iter()
            .map(|c| c.buckets as u64 * dim)
            .sum();
        let dense_in =
            self.inputs.numeric.len() as u64 + self.inputs.categorical.len() as u64 * dim;
        let mut prev = dense_in;
        let mut dense = 0u64;
        for w in &self.space {
            let o = w.iter().copied().max().unwrap_or(0) as u64;
            dense += prev * o + o;
            prev = o;
        }
        let out = self.task.outputs as u64;
        embedding + dense + prev * out + out
    }

    /// Parameters of the dense layers (hidden and head, with biases) of a child.
    pub fn dense_params(&self, widths: &[usize]) -> u64 {
        self.dims_for(widths)
            .iter()
            .map(|&(i, o)| i as u64 * o as u64 + o as u64)
            .sum()
    }
}
