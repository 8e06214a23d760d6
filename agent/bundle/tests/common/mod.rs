//! Shared by the property tests: the fixed proptest configuration and a strategy for
//! valid manifests.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use tabnas_bundle::*;

/// Fixed case count and seed: the same cases on every run.
pub fn proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x7AB_BA5E),
        // The seed is fixed, so a failure reproduces without a regression file.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// How large a generated manifest may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Hidden layers, at most.
    pub layers: usize,
    /// Widths per layer, at most.
    pub choices: usize,
    /// Largest width.
    pub width: u32,
    /// Numeric columns, at most.
    pub numeric: usize,
    /// Categorical columns, at most.
    pub categorical: usize,
    /// Largest bucket count.
    pub buckets: u32,
    /// Largest embedding size and class count, usually.
    pub small: u32,
    /// Largest embedding size and class count, at times (the edge).
    pub large: u32,
}

impl Limits {
    /// Small enough to build and run networks of.
    pub const SMALL: Self = Self {
        layers: 3,
        choices: 4,
        width: 16,
        numeric: 3,
        categorical: 2,
        buckets: 6,
        small: 4,
        large: 4,
    };
    /// Up to the manifest's own bounds, but a supernet within `MAX_SUPERNET_PARAMS`
    /// (4096 x 4096 layers: 8 of them and the largest inputs stay below 2^28).
    pub const FITS: Self = Self {
        layers: tabnas_core::capacity::MAX_LAYERS,
        choices: tabnas_core::capacity::MAX_CHOICES,
        width: 4_096,
        numeric: 6,
        categorical: 4,
        buckets: 4_096,
        small: 64,
        large: 1_024,
    };
    /// Up to the manifest's own bounds.
    pub const FULL: Self = Self {
        layers: tabnas_core::capacity::MAX_LAYERS,
        choices: tabnas_core::capacity::MAX_CHOICES,
        width: MAX_WIDTH,
        numeric: 6,
        categorical: 4,
        buckets: MAX_BUCKETS,
        small: 64,
        large: MAX_WIDTH,
    };
}

/// Text that JSON must carry unchanged (quotes, backslashes, any Unicode).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 ._-]{0,12}",
        "\\PC{0,6}",
        Just("quote \" backslash \\ tab \t".to_string()),
    ]
}

fn finite_f32() -> impl Strategy<Value = f32> {
    any::<f32>().prop_filter("finite", |x| x.is_finite())
}

fn finite_f64() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |x| x.is_finite())
}

/// Up to `choices` distinct widths in `1..=max` in any order, the edges 1 and `max`
/// among them at times.
fn widths(choices: usize, max: u32) -> impl Strategy<Value = Vec<u32>> {
    let width = prop_oneof![1 => Just(1u32), 1 => Just(max), 6 => 1..=max];
    proptest::collection::btree_set(width, 1..=choices.min(max as usize))
        .prop_map(|set| set.into_iter().collect::<Vec<_>>())
        .prop_shuffle()
}

fn task(limits: Limits) -> impl Strategy<Value = TaskSpec> {
    let loss = prop_oneof![
        Just(LossKind::BinaryCrossEntropy),
        Just(LossKind::SoftmaxCrossEntropy),
        Just(LossKind::MeanSquaredError),
    ];
    (
        loss,
        prop_oneof![6 => 2..=limits.small.max(2), 1 => Just(limits.large.max(2))],
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(|(loss, classes, labels)| TaskSpec {
            loss,
            outputs: if loss == LossKind::SoftmaxCrossEntropy {
                classes
            } else {
                1
            },
            labels,
        })
}

fn inputs(limits: Limits) -> impl Strategy<Value = InputSchema> {
    // A scale is a finite positive std (`Manifest::check`).
    let std = prop_oneof![Just(f32::MIN_POSITIVE), Just(f32::MAX), 1e-30f32..1e30];
    let numeric =
        (text(), any::<bool>(), finite_f32(), std).prop_map(|(name, log1p, mean, std)| {
            NumericInput {
                name,
                log1p,
                mean,
                std,
            }
        });
    let buckets = prop_oneof![
        1 => Just(2u32),
        1 => Just(limits.buckets),
        6 => 2..=limits.buckets.min(64),
        1 => 2..=limits.buckets,
    ];
    let categorical =
        (text(), buckets).prop_map(|(name, buckets)| CategoricalInput { name, buckets });
    (
        proptest::collection::vec(numeric, 0..=limits.numeric),
        proptest::collection::vec(categorical, 0..=limits.categorical),
        prop_oneof![6 => 1..=limits.small, 1 => Just(limits.large)],
    )
        .prop_map(|(mut numeric, categorical, embedding_dim)| {
            if numeric.is_empty() && categorical.is_empty() {
                numeric.push(NumericInput {
                    name: "x".into(),
                    log1p: false,
                    mean: 0.0,
                    std: 1.0,
                });
            }
            InputSchema {
                numeric,
                categorical,
                embedding_dim,
                hash: "fnv1a64".into(),
            }
        })
}

/// Graph names for `layers` hidden layers, unique whatever `prefix` is.
pub fn graph(prefix: &str, layers: usize, categorical: bool) -> GraphNames {
    let name = |s: &str| format!("{prefix}{s}");
    let dense = |tag: &str| DenseNames {
        weight: name(&format!("{tag}.weight")),
        bias: name(&format!("{tag}.bias")),
    };
    GraphNames {
        numeric_input: name("numeric"),
        categorical_input: categorical.then(|| name("categorical")),
        output: name("output"),
        embedding: categorical.then(|| name("embedding")),
        embedding_offsets: categorical.then(|| name("embedding.offsets")),
        hidden: (0..layers).map(|i| dense(&format!("hidden{i}"))).collect(),
        head: dense("head"),
    }
}

fn provenance() -> impl Strategy<Value = Provenance> {
    (
        (text(), any::<[usize; 3]>(), any::<u64>(), any::<u32>()),
        (any::<usize>(), finite_f64(), text(), text()),
    )
        .prop_map(
            |((dataset, rows, seed, steps), (batch, learning_rate, command, producer))| {
                Provenance {
                    dataset,
                    rows,
                    seed,
                    steps,
                    batch,
                    learning_rate,
                    command,
                    producer,
                }
            },
        )
}

fn reference() -> impl Strategy<Value = ReferenceLoss> {
    (
        proptest::collection::vec(any::<u32>(), 0..4),
        any::<u64>(),
        finite_f64(),
        text(),
        text(),
    )
        .prop_map(|(widths, params, loss, method, split)| ReferenceLoss {
            widths,
            params,
            loss,
            method,
            split,
        })
}

/// A manifest that passes [`Manifest::check`], within `limits`.
pub fn manifest(limits: Limits) -> impl Strategy<Value = Manifest> {
    (
        (text(), task(limits), inputs(limits)),
        proptest::collection::vec(widths(limits.choices, limits.width), 1..=limits.layers),
        ("[a-z]{0,3}[./:]?", provenance()),
        proptest::collection::vec(reference(), 0..3),
    )
        .prop_map(
            |((name, task, inputs), space, (prefix, training), references)| {
                let graph = graph(&prefix, space.len(), !inputs.categorical.is_empty());
                Manifest {
                    format: MANIFEST_FORMAT,
                    name,
                    task,
                    inputs,
                    space,
                    graph,
                    training,
                    references,
                }
            },
        )
}

/// Every name of the graph, in a fixed order.
pub fn name_slots(g: &mut GraphNames) -> Vec<&mut String> {
    let mut out = vec![&mut g.numeric_input, &mut g.output];
    out.extend(g.categorical_input.as_mut());
    out.extend(g.embedding.as_mut());
    out.extend(g.embedding_offsets.as_mut());
    for d in g.hidden.iter_mut().chain([&mut g.head]) {
        out.push(&mut d.weight);
        out.push(&mut d.bias);
    }
    out
}
