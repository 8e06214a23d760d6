//! Property tests of `valid.bin` ([`ValidSet`]) in the "Problem" pattern: each problem
//! is a struct with an [`Arbitrary`] strategy and a `check` that compares the code with
//! a plain reference written here ([`reference_encode`], the documented layout by hand,
//! and the error each damage must give).
//!
//! * [`ValidProblem`]: any validation set consistent with a random small manifest
//!   encodes to the reference layout and decodes back to itself.
//! * [`DamageProblem`]: the same bytes truncated, extended, with a header word, a value,
//!   a bucket id or a label changed, are refused with exactly the error that names that
//!   damage (its row, column, count or offset), never a panic.
//! * [`GarbageProblem`]: arbitrary bytes, alone or behind a valid header, never panic;
//!   whatever decodes re-encodes to the same bytes.

mod common;

use common::{manifest, proptest_config, Limits};
use proptest::prelude::*;
use proptest::sample::Index;
use tabnas_bundle::*;

const HEADER: usize = 20;

/// The layout of `valid.bin` written out by hand: magic, u32 version 1, u32 rows, u32
/// numeric columns, u32 categorical columns, then f32 values, i64 bucket ids and f32
/// labels, all little-endian.
fn reference_encode(v: &ValidSet, n_num: usize, n_cat: usize) -> Vec<u8> {
    let mut out = b"TNVB".to_vec();
    for word in [1, v.rows, n_num, n_cat] {
        out.extend((word as u32).to_le_bytes());
    }
    for x in &v.numeric {
        out.extend(x.to_le_bytes());
    }
    for b in &v.categorical {
        out.extend(b.to_le_bytes());
    }
    for y in &v.labels {
        out.extend(y.to_le_bytes());
    }
    out
}

/// Errors compared through `Debug`, where NaN equals NaN.
fn same(a: &ValidError, b: &ValidError) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// The message of `e` shows the values that identify the problem.
fn names_the_problem(e: &ValidError) -> bool {
    let text = e.to_string();
    let needles: Vec<String> = match e {
        ValidError::BadMagic { .. } => vec!["TNVB".into()],
        ValidError::ShortHeader { found_bytes } => {
            vec![format!("{found_bytes} bytes"), "20-byte header".into()]
        }
        ValidError::UnsupportedVersion { found } => vec![format!("version {found}")],
        ValidError::NoRows => vec!["no rows".into()],
        ValidError::ColumnCount {
            field,
            file,
            manifest,
        } => vec![
            format!("{file} {field} columns"),
            format!("manifest has {manifest}"),
        ],
        ValidError::Length {
            rows,
            expected_bytes,
            found_bytes,
        } => vec![
            format!("is {found_bytes} bytes"),
            format!("{rows} rows"),
            format!("take {expected_bytes}"),
        ],
        ValidError::NonFinite { row, column, .. } => {
            vec![format!("row {row}, numeric column {column}")]
        }
        ValidError::BucketOutOfRange {
            row,
            column,
            bucket,
            buckets,
        } => vec![
            format!("row {row}, categorical column {column}"),
            format!("bucket {bucket} is outside 0..{buckets}"),
        ],
        ValidError::BadLabel { row, value, task } => {
            vec![format!("row {row}: label {value}"), format!("{task:?}")]
        }
        _ => vec![],
    };
    !needles.is_empty() && needles.iter().all(|n| text.contains(n.as_str()))
}

/// A label that fits the task.
fn label(task: &TaskSpec) -> BoxedStrategy<f32> {
    match task.loss {
        LossKind::BinaryCrossEntropy => prop_oneof![Just(0.0f32), Just(1.0)].boxed(),
        LossKind::SoftmaxCrossEntropy => (0..task.outputs).prop_map(|c| c as f32).boxed(),
        _ => any::<f32>()
            .prop_filter("finite", |x| x.is_finite())
            .boxed(),
    }
}

/// A small manifest and rows that fit it.
#[derive(Debug, Clone)]
struct ValidProblem {
    manifest: Manifest,
    valid: ValidSet,
}

impl Arbitrary for ValidProblem {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;

    fn arbitrary_with(_: ()) -> Self::Strategy {
        (manifest(Limits::SMALL), 1usize..=5)
            .prop_flat_map(|(manifest, rows)| {
                let n_num = manifest.inputs.numeric.len();
                let buckets: Vec<u32> = manifest
                    .inputs
                    .categorical
                    .iter()
                    .map(|c| c.buckets)
                    .collect();
                let numeric = proptest::collection::vec(
                    any::<f32>().prop_filter("finite", |x| x.is_finite()),
                    rows * n_num,
                );
                let row = buckets.iter().map(|&b| 0..b as i64).collect::<Vec<_>>();
                let categorical =
                    proptest::collection::vec(row, rows).prop_map(|rows| rows.concat());
                let labels = proptest::collection::vec(label(&manifest.task), rows);
                (Just(manifest), numeric, categorical, labels).prop_map(
                    move |(manifest, numeric, categorical, labels)| Self {
                        manifest,
                        valid: ValidSet {
                            rows,
                            numeric,
                            categorical,
                            labels,
                        },
                    },
                )
            })
            .boxed()
    }
}

impl ValidProblem {
    fn n_num(&self) -> usize {
        self.manifest.inputs.numeric.len()
    }

    fn n_cat(&self) -> usize {
        self.manifest.inputs.categorical.len()
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let bytes = self.valid.encode();
        prop_assert_eq!(
            &bytes,
            &reference_encode(&self.valid, self.n_num(), self.n_cat())
        );
        prop_assert_eq!(self.valid.numeric_width(), self.n_num());
        prop_assert_eq!(self.valid.categorical_width(), self.n_cat());
        prop_assert_eq!(
            ValidSet::decode(&bytes, &self.manifest),
            Ok(self.valid.clone())
        );
        Ok(())
    }
}

/// Chooses one of a list of values, the first half the time.
#[derive(Debug, Clone, Copy)]
struct Pick(Option<Index>);

impl Pick {
    fn index(self, len: usize) -> usize {
        self.0.map_or(0, |i| i.index(len))
    }
}

fn pick() -> impl Strategy<Value = Pick> {
    proptest::option::of(any::<Index>()).prop_map(Pick)
}

/// One damage to a valid file.
#[derive(Debug, Clone)]
enum Damage {
    /// Keep the first `index(len)` bytes.
    Truncate(Index),
    /// Append bytes.
    Append(Vec<u8>),
    /// Change one byte of the magic (xor with a non-zero byte).
    Magic(Index, u8),
    /// Set a header word (1 version, 2 rows, 3 numeric, 4 categorical columns) to
    /// another value.
    Header(usize, u32),
    /// Make a numeric value non-finite.
    NonFinite(Index, f32),
    /// Move a bucket id out of its range (`pick` chooses how; the first choices, just
    /// outside the range, are the likeliest).
    Bucket(Index, Pick),
    /// Give a row a label its task does not allow (`pick` chooses which; the first
    /// choice, just outside the allowed values, is the likeliest).
    Label(Index, Pick),
}

#[derive(Debug, Clone)]
struct DamageProblem {
    base: ValidProblem,
    damage: Damage,
}

impl Arbitrary for DamageProblem {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;

    fn arbitrary_with(_: ()) -> Self::Strategy {
        let non_finite = prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(f32::NEG_INFINITY)];
        let word = prop_oneof![Just(0u32), Just(1), Just(2), Just(u32::MAX), any::<u32>()];
        let damage = prop_oneof![
            any::<Index>().prop_map(Damage::Truncate),
            proptest::collection::vec(any::<u8>(), 1..9).prop_map(Damage::Append),
            (any::<Index>(), 1u8..=255).prop_map(|(at, x)| Damage::Magic(at, x)),
            (1usize..=4, word).prop_map(|(w, v)| Damage::Header(w, v)),
            (any::<Index>(), non_finite).prop_map(|(at, x)| Damage::NonFinite(at, x)),
            (any::<Index>(), pick()).prop_map(|(at, p)| Damage::Bucket(at, p)),
            (any::<Index>(), pick()).prop_map(|(at, p)| Damage::Label(at, p)),
        ];
        (any::<ValidProblem>(), damage)
            .prop_map(|(base, damage)| Self { base, damage })
            .boxed()
    }
}

impl DamageProblem {
    /// The damaged bytes and the error they must give (`None`: the damage did not apply,
    /// the file stays valid).
    fn damaged(&self) -> (Vec<u8>, Option<ValidError>) {
        let v = &self.base.valid;
        let m = &self.base.manifest;
        let (n_num, n_cat) = (self.base.n_num(), self.base.n_cat());
        let mut bytes = v.encode();
        let len = bytes.len();
        let rows = v.rows as u32;
        let at_numeric = |i: usize| HEADER + 4 * i;
        let at_bucket = |i: usize| HEADER + 4 * v.rows * n_num + 8 * i;
        let at_label = |r: usize| HEADER + 4 * v.rows * n_num + 8 * v.rows * n_cat + 4 * r;
        let error = match &self.damage {
            Damage::Truncate(at) => {
                let cut = at.index(len);
                bytes.truncate(cut);
                Some(if cut < 4 {
                    ValidError::BadMagic {
                        found: bytes.clone(),
                    }
                } else if cut < HEADER {
                    ValidError::ShortHeader { found_bytes: cut }
                } else {
                    ValidError::Length {
                        rows,
                        expected_bytes: len as u64,
                        found_bytes: cut as u64,
                    }
                })
            }
            Damage::Append(extra) => {
                bytes.extend(extra);
                Some(ValidError::Length {
                    rows,
                    expected_bytes: len as u64,
                    found_bytes: bytes.len() as u64,
                })
            }
            Damage::Magic(at, x) => {
                bytes[at.index(4)] ^= x;
                Some(ValidError::BadMagic {
                    found: bytes[..4].to_vec(),
                })
            }
            Damage::Header(word, value) => {
                let old = u32::from_le_bytes(bytes[4 * word..4 * word + 4].try_into().unwrap());
                let value = if *value == old {
                    value.wrapping_add(1)
                } else {
                    *value
                };
                bytes[4 * word..4 * word + 4].copy_from_slice(&value.to_le_bytes());
                Some(match word {
                    1 => ValidError::UnsupportedVersion { found: value },
                    2 if value == 0 => ValidError::NoRows,
                    2 => ValidError::Length {
                        rows: value,
                        expected_bytes: HEADER as u64
                            + value as u64 * (4 * n_num as u64 + 8 * n_cat as u64 + 4),
                        found_bytes: len as u64,
                    },
                    3 => ValidError::ColumnCount {
                        field: "numeric",
                        file: value,
                        manifest: n_num,
                    },
                    _ => ValidError::ColumnCount {
                        field: "categorical",
                        file: value,
                        manifest: n_cat,
                    },
                })
            }
            Damage::NonFinite(at, value) => (n_num > 0).then(|| {
                let i = at.index(v.rows * n_num);
                bytes[at_numeric(i)..at_numeric(i) + 4].copy_from_slice(&value.to_le_bytes());
                ValidError::NonFinite {
                    row: i / n_num,
                    column: i % n_num,
                    value: *value,
                }
            }),
            Damage::Bucket(at, pick) => (n_cat > 0).then(|| {
                let i = at.index(v.rows * n_cat);
                let buckets = m.inputs.categorical[i % n_cat].buckets;
                let bucket =
                    [buckets as i64, -1, i64::MIN, buckets as i64 + 7, i64::MAX][pick.index(5)];
                bytes[at_bucket(i)..at_bucket(i) + 8].copy_from_slice(&bucket.to_le_bytes());
                ValidError::BucketOutOfRange {
                    row: i / n_cat,
                    column: i % n_cat,
                    bucket,
                    buckets,
                }
            }),
            Damage::Label(at, pick) => {
                let row = at.index(v.rows);
                let bad: &[f32] = match m.task.loss {
                    LossKind::BinaryCrossEntropy => &[2.0, -1.0, 0.5, -0.25, f32::NAN],
                    LossKind::SoftmaxCrossEntropy => {
                        &[m.task.outputs as f32, -1.0, 0.5, f32::NAN, f32::INFINITY]
                    }
                    _ => &[f32::NAN, f32::INFINITY, f32::NEG_INFINITY],
                };
                let value = bad[pick.index(bad.len())];
                bytes[at_label(row)..at_label(row) + 4].copy_from_slice(&value.to_le_bytes());
                Some(ValidError::BadLabel {
                    row,
                    value,
                    task: m.task.loss,
                })
            }
        };
        (bytes, error)
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let (bytes, expected) = self.damaged();
        let decoded = ValidSet::decode(&bytes, &self.base.manifest);
        match expected {
            None => prop_assert_eq!(decoded, Ok(self.base.valid.clone())),
            Some(expected) => {
                let Err(found) = decoded else {
                    return Err(TestCaseError::fail(format!(
                        "{:?} was accepted; expected {expected:?}",
                        self.damage
                    )));
                };
                prop_assert!(same(&found, &expected), "{found:?} != {expected:?}");
                prop_assert!(names_the_problem(&found), "{found}");
            }
        }
        Ok(())
    }
}

/// Arbitrary bytes, alone or behind the header of a valid file (so that the body is
/// parsed).
#[derive(Debug, Clone)]
struct GarbageProblem {
    base: ValidProblem,
    garbage: Vec<u8>,
    keep_header: bool,
}

impl Arbitrary for GarbageProblem {
    type Parameters = ();
    type Strategy = BoxedStrategy<Self>;

    fn arbitrary_with(_: ()) -> Self::Strategy {
        (
            any::<ValidProblem>(),
            proptest::collection::vec(any::<u8>(), 0..200),
            any::<bool>(),
        )
            .prop_map(|(base, garbage, keep_header)| Self {
                base,
                garbage,
                keep_header,
            })
            .boxed()
    }
}

impl GarbageProblem {
    fn check(&self) -> Result<(), TestCaseError> {
        let mut bytes = Vec::new();
        if self.keep_header {
            let valid = self.base.valid.encode();
            bytes.extend_from_slice(&valid[..HEADER]);
            // The body of the right length: the garbage, cycled.
            let body = valid.len() - HEADER;
            bytes.extend(
                self.garbage
                    .iter()
                    .copied()
                    .chain([0x3f])
                    .cycle()
                    .take(body),
            );
        } else {
            bytes.extend_from_slice(&self.garbage);
        }
        match ValidSet::decode(&bytes, &self.base.manifest) {
            Ok(v) => prop_assert_eq!(v.encode(), bytes),
            Err(e) => {
                prop_assert!(names_the_problem(&e), "{e}");
                if self.keep_header {
                    prop_assert!(
                        matches!(
                            e,
                            ValidError::NonFinite { .. }
                                | ValidError::BucketOutOfRange { .. }
                                | ValidError::BadLabel { .. }
                        ),
                        "{e:?}"
                    );
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn consistent_sets_round_trip(problem in any::<ValidProblem>()) {
        problem.check()?;
    }

    #[test]
    fn damaged_files_are_refused_with_the_damage_named(problem in any::<DamageProblem>()) {
        problem.check()?;
    }

    #[test]
    fn garbage_never_panics(problem in any::<GarbageProblem>()) {
        problem.check()?;
    }
}
