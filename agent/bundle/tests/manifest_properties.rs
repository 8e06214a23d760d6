//! Property tests of `manifest.json` ([`Manifest`]) in the "Problem" pattern: each
//! problem is a struct with an [`Arbitrary`] strategy and a `check` that compares the
//! code with a plain reference written here.
//!
//! * [`ManifestProblem`]: random valid manifests (up to the manifest's bounds) pass
//!   `check()`, round-trip through JSON (compact and pretty) exactly, and their search
//!   space, largest widths and parameter counts agree with the reference formulas.
//! * [`BrokenManifest`]: one invariant broken (a zero or too large width, too many
//!   layers or choices, a repeated width, bucket counts outside `2..=MAX_BUCKETS`, too
//!   many columns, a supernet over `MAX_SUPERNET_PARAMS`, an inconsistent graph, ...) is
//!   refused by `check()` with an error
//!   naming the field the reference names.

mod common;

use common::{graph, manifest, name_slots, proptest_config, Limits};
use proptest::prelude::*;
use proptest::sample::Index;
use tabnas_bundle::*;
use tabnas_core::capacity::{MAX_CHOICES, MAX_LAYERS};

/// Parameters of the dense layers of the child with `widths`: the reference formula.
fn reference_params(m: &Manifest, widths: &[usize]) -> u64 {
    let mut d_in =
        m.inputs.numeric.len() + m.inputs.categorical.len() * m.inputs.embedding_dim as usize;
    let mut total = 0u64;
    for &w in widths.iter().chain([&(m.task.outputs as usize)]) {
        total += (d_in * w + w) as u64;
        d_in = w;
    }
    total
}

/// Parameters of the supernet (embedding table, dense layers at the largest widths):
/// the reference formula, in 128-bit integers.
fn reference_supernet_params(m: &Manifest) -> u128 {
    let dim = m.inputs.embedding_dim as u128;
    let embedding: u128 = m
        .inputs
        .categorical
        .iter()
        .map(|c| c.buckets as u128 * dim)
        .sum();
    let mut d_in = m.inputs.numeric.len() as u128 + m.inputs.categorical.len() as u128 * dim;
    let mut total = embedding;
    let widest = m.space.iter().map(|w| *w.iter().max().unwrap() as u128);
    for w in widest.chain([m.task.outputs as u128]) {
        total += d_in * w + w;
        d_in = w;
    }
    total
}

/// A manifest valid field by field; its supernet may exceed `MAX_SUPERNET_PARAMS`.
#[derive(Debug, Clone)]
struct ManifestProblem {
    manifest: Manifest,
}

impl Arbitrary for ManifestProblem {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;

    fn arbitrary_with(_: ()) -> Self::Strategy {
        manifest(Limits::FULL)
            .prop_map(|manifest| Self { manifest })
            .boxed()
    }
}

impl ManifestProblem {
    fn check(&self) -> Result<(), TestCaseError> {
        let m = &self.manifest;
        if reference_supernet_params(m) > MAX_SUPERNET_PARAMS as u128 {
            let e = m.check().unwrap_err().to_string();
            prop_assert!(e.contains("`space`") && e.contains("(2^28)"), "{}", e);
            return Ok(());
        }
        if let Err(e) = m.check() {
            return Err(TestCaseError::fail(format!("valid manifest refused: {e}")));
        }
        let compact = serde_json::to_string(m).unwrap();
        prop_assert_eq!(&serde_json::from_str::<Manifest>(&compact).unwrap(), m);
        let pretty = serde_json::to_string_pretty(m).unwrap();
        prop_assert_eq!(&serde_json::from_str::<Manifest>(&pretty).unwrap(), m);
        let value = serde_json::to_value(m).unwrap();
        prop_assert_eq!(&serde_json::from_value::<Manifest>(value).unwrap(), m);

        let space = m.search_space().unwrap();
        prop_assert_eq!(space.num_layers(), m.space.len());
        let cardinality: u64 = m.space.iter().map(|w| w.len() as u64).product();
        prop_assert_eq!(space.cardinality(), cardinality);
        let max: Vec<usize> = m
            .space
            .iter()
            .map(|w| *w.iter().max().unwrap() as usize)
            .collect();
        prop_assert_eq!(m.max_widths(), max.clone());
        prop_assert_eq!(m.dense_params(&max), reference_params(m, &max));
        let min: Vec<usize> = m
            .space
            .iter()
            .map(|w| *w.iter().min().unwrap() as usize)
            .collect();
        prop_assert_eq!(m.dense_params(&min), reference_params(m, &min));
        prop_assert_eq!(m.supernet_dims().len(), m.space.len() + 1);
        prop_assert_eq!(
            m.inputs.embedding_rows() as u64,
            m.inputs
                .categorical
                .iter()
                .map(|c| c.buckets as u64)
                .sum::<u64>()
        );
        Ok(())
    }
}

/// One invariant to break; `apply` says which field must be named.
#[derive(Debug, Clone, Copy)]
enum Breakage {
    Format,
    Outputs,
    OutputsTooLarge,
    NoLayers,
    TooManyLayers,
    EmptyLayer,
    ZeroWidth,
    WidthTooLarge,
    TooManyChoices,
    DuplicateWidth,
    NoColumns,
    ZeroEmbedding,
    Buckets,
    EmbeddingTooLarge,
    TooManyColumns,
    CategoricalNames,
    HiddenNames,
    DuplicateName,
    EmptyName,
    TooManyParams,
    Scale,
}

const BREAKAGES: [Breakage; 21] = [
    Breakage::Format,
    Breakage::Outputs,
    Breakage::OutputsTooLarge,
    Breakage::NoLayers,
    Breakage::TooManyLayers,
    Breakage::EmptyLayer,
    Breakage::ZeroWidth,
    Breakage::WidthTooLarge,
    Breakage::TooManyChoices,
    Breakage::DuplicateWidth,
    Breakage::NoColumns,
    Breakage::ZeroEmbedding,
    Breakage::Buckets,
    Breakage::EmbeddingTooLarge,
    Breakage::TooManyColumns,
    Breakage::CategoricalNames,
    Breakage::HiddenNames,
    Breakage::DuplicateName,
    Breakage::EmptyName,
    Breakage::TooManyParams,
    Breakage::Scale,
];

/// A valid manifest with one invariant broken.
#[derive(Debug, Clone)]
struct BrokenManifest {
    base: Manifest,
    breakage: Breakage,
    /// Which layer, column, name or value the breakage uses.
    at: Index,
    other: Index,
}

impl Arbitrary for BrokenManifest {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;

    fn arbitrary_with(_: ()) -> Self::Strategy {
        (
            manifest(Limits::FITS),
            proptest::sample::select(BREAKAGES.to_vec()),
            any::<Index>(),
            any::<Index>(),
        )
            .prop_map(|(base, breakage, at, other)| Self {
                base,
                breakage,
                at,
                other,
            })
            .boxed()
    }
}

/// Gives `m` a categorical column (valid, with its graph names) if it has none.
fn ensure_categorical(m: &mut Manifest) {
    if m.inputs.categorical.is_empty() {
        m.inputs.categorical.push(CategoricalInput {
            name: "added".into(),
            buckets: 2,
        });
        m.inputs.embedding_dim = m.inputs.embedding_dim.max(1);
        let g = graph("added.", 0, true);
        m.graph.categorical_input = g.categorical_input;
        m.graph.embedding = g.embedding;
        m.graph.embedding_offsets = g.embedding_offsets;
    }
}

impl BrokenManifest {
    /// The broken manifest and the field `check()` must name.
    fn broken(&self) -> (Manifest, String) {
        let mut m = self.base.clone();
        let layer = self.at.index(m.space.len());
        let field = match self.breakage {
            Breakage::Format => {
                m.format = [0, 2, 9, u32::MAX][self.at.index(4)];
                "format".to_string()
            }
            Breakage::Outputs => {
                m.task.outputs = match m.task.loss {
                    LossKind::SoftmaxCrossEntropy => self.at.index(2) as u32,
                    _ => [0, 2, 3, MAX_WIDTH][self.at.index(4)],
                };
                "task.outputs".into()
            }
            Breakage::OutputsTooLarge => {
                m.task.loss = LossKind::SoftmaxCrossEntropy;
                m.task.outputs = [MAX_WIDTH + 1, u32::MAX][self.at.index(2)];
                "task.outputs".into()
            }
            Breakage::NoLayers => {
                m.space.clear();
                "space".into()
            }
            Breakage::TooManyLayers => {
                let w = m.space[0].clone();
                m.space.resize(MAX_LAYERS + 1 + self.at.index(3), w);
                "space".into()
            }
            Breakage::EmptyLayer => {
                m.space[layer].clear();
                format!("space[{layer}]")
            }
            Breakage::ZeroWidth => {
                let w = &mut m.space[layer];
                let i = self.other.index(w.len());
                w[i] = 0;
                format!("space[{layer}]")
            }
            Breakage::WidthTooLarge => {
                let w = &mut m.space[layer];
                let i = self.other.index(w.len());
                w[i] = [MAX_WIDTH + 1, u32::MAX][self.at.index(2)];
                format!("space[{layer}]")
            }
            Breakage::TooManyChoices => {
                m.space[layer] = (1..=MAX_CHOICES as u32 + 1).collect();
                format!("space[{layer}]")
            }
            Breakage::DuplicateWidth => {
                let w = &mut m.space[layer];
                let first = w[self.other.index(w.len())];
                if w.len() < MAX_CHOICES {
                    w.push(first);
                } else {
                    let last = w.len() - 1;
                    w[last] = w[0];
                }
                format!("space[{layer}]")
            }
            Breakage::NoColumns => {
                m.inputs.numeric.clear();
                m.inputs.categorical.clear();
                "inputs".into()
            }
            Breakage::ZeroEmbedding => {
                ensure_categorical(&mut m);
                m.inputs.embedding_dim = 0;
                "inputs.embedding_dim".into()
            }
            Breakage::Buckets => {
                ensure_categorical(&mut m);
                let c = self.other.index(m.inputs.categorical.len());
                m.inputs.categorical[c].buckets =
                    [0, 1, MAX_BUCKETS + 1, u32::MAX][self.at.index(4)];
                "inputs.categorical".into()
            }
            Breakage::EmbeddingTooLarge => {
                ensure_categorical(&mut m);
                m.inputs.embedding_dim = [MAX_WIDTH + 1, u32::MAX][self.at.index(2)];
                "inputs.embedding_dim".into()
            }
            Breakage::TooManyColumns => {
                let columns = m.inputs.numeric.len() + m.inputs.categorical.len();
                let x = NumericInput {
                    name: String::new(),
                    log1p: false,
                    mean: 0.0,
                    std: 1.0,
                };
                let extra = MAX_WIDTH as usize + 1 + self.at.index(2) - columns;
                m.inputs.numeric.extend(std::iter::repeat_n(x, extra));
                "inputs".into()
            }
            Breakage::CategoricalNames => {
                let g = &mut m.graph;
                let name = Some("extra.name".to_string());
                if m.inputs.categorical.is_empty() {
                    match self.at.index(3) {
                        0 => g.categorical_input = name,
                        1 => g.embedding = name,
                        _ => g.embedding_offsets = name,
                    }
                } else {
                    match self.at.index(3) {
                        0 => g.categorical_input = None,
                        1 => g.embedding = None,
                        _ => g.embedding_offsets = None,
                    }
                }
                "graph".into()
            }
            Breakage::HiddenNames => {
                if self.at.index(2) == 0 || m.graph.hidden.len() == MAX_LAYERS {
                    m.graph.hidden.pop();
                } else {
                    m.graph.hidden.push(DenseNames {
                        weight: "extra.weight".into(),
                        bias: "extra.bias".into(),
                    });
                }
                "graph.hidden".into()
            }
            Breakage::DuplicateName => {
                let mut slots = name_slots(&mut m.graph);
                let i = self.at.index(slots.len());
                let j = (i + 1 + self.other.index(slots.len() - 1)) % slots.len();
                let copy = slots[i].clone();
                *slots[j] = copy;
                "graph".into()
            }
            Breakage::EmptyName => {
                let mut slots = name_slots(&mut m.graph);
                let i = self.at.index(slots.len());
                slots[i].clear();
                "graph".into()
            }
            Breakage::Scale => {
                if m.inputs.numeric.is_empty() {
                    m.inputs.numeric.push(NumericInput {
                        name: "added".into(),
                        log1p: false,
                        mean: 0.0,
                        std: 1.0,
                    });
                }
                let column = self.at.index(m.inputs.numeric.len());
                let c = &mut m.inputs.numeric[column];
                // JSON has no NaN or infinity: a scale that reaches `check` from a file
                // is zero or negative.
                c.std = [0.0, -0.0, -1.0, -f32::MAX][self.other.index(4)];
                format!("inputs.numeric[{column}]")
            }
            Breakage::TooManyParams => {
                // Widths each within bounds whose product is not: 2^32 weights.
                for w in &mut m.space {
                    *w = vec![MAX_WIDTH];
                }
                if m.space.len() == 1 {
                    m.space.push(vec![MAX_WIDTH]);
                    m.graph.hidden.push(DenseNames {
                        weight: "extra.weight".into(),
                        bias: "extra.bias".into(),
                    });
                }
                "space".into()
            }
        };
        (m, field)
    }

    fn check(&self) -> Result<(), TestCaseError> {
        prop_assert!(self.base.check().is_ok());
        let (m, field) = self.broken();
        match m.check() {
            Ok(()) => Err(TestCaseError::fail(format!(
                "{:?} was accepted",
                self.breakage
            ))),
            Err(BundleError::Manifest(e)) => {
                prop_assert_eq!(e.field(), field.clone(), "{}", e);
                let text = e.to_string();
                prop_assert!(text.contains(&format!("`{field}`")), "{}", text);
                // The same error through the bundle's loading path, from JSON.
                let json = serde_json::to_vec(&m).unwrap();
                let parsed: Manifest = serde_json::from_slice(&json).unwrap();
                prop_assert_eq!(
                    parsed.check().unwrap_err().to_string(),
                    BundleError::Manifest(e).to_string()
                );
                Ok(())
            }
            Err(other) => Err(TestCaseError::fail(format!(
                "{:?}: not a manifest error: {other:?}",
                self.breakage
            ))),
        }
    }
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn valid_manifests_check_and_round_trip(problem in any::<ManifestProblem>()) {
        problem.check()?;
    }

    #[test]
    fn broken_invariants_are_refused_naming_the_field(problem in any::<BrokenManifest>()) {
        problem.check()?;
    }
}
