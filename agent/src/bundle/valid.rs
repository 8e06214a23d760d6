//! `valid.bin`: the validation rows a bundle carries for on-device quality.
//!
//! Format (all little-endian): magic `TNVB`, `u32` version (1), `u32` rows, `u32`
//! numeric columns, `u32` categorical columns; then `rows x numeric` f32 values (already
//! preprocessed), `rows x categorical` i64 bucket ids, `rows` f32 labels (0/1 for
//! binary, the class index for multiclass, the value for regression). [`ValidSet::decode`]
//! checks every count, bucket id and label against the manifest.

use super::{LossKind, Manifest};

/// First four bytes of a `valid.bin`.
pub const VALID_MAGIC: &[u8; 4] = b"TNVB";
const VERSION: u32 = 1;
const HEADER: usize = 20;

/// Validation rows, model inputs already encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSet {
    /// Number of rows.
    pub rows: usize,
    /// `rows x n_num` values.
    pub numeric: Vec<f32>,
    /// `rows x n_cat` bucket ids.
    pub categorical: Vec<i64>,
    /// `rows` labels.
    pub labels: Vec<f32>,
}

impl ValidSet {
    /// Number of numeric columns.
    pub fn numeric_width(&self) -> usize {
        self.numeric.len().checked_div(self.rows).unwrap_or(0)
    }

    /// Number of categorical columns.
    pub fn categorical_width(&self) -> usize {
        self.categorical.len().checked_div(self.rows).unwrap_or(0)
    }

    /// Serializes to the format in the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            HEADER + 4 * self.numeric.len() + 8 * self.categorical.len() + 4 * self.rows,
        );
        out.extend_from_slice(VALID_MAGIC);
        for v in [
            VERSION,
            self.rows as u32,
            self.numeric_width() as u32,
            self.categorical_width() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend(self.numeric.iter().flat_map(|x| x.to_le_bytes()));
        out.extend(self.categorical.iter().flat_map(|x| x.to_le_bytes()));
        out.extend(self.labels.iter().flat_map(|x| x.to_le_bytes()));
        out
    }

    /// Parses and checks `bytes` against `manifest`.
    pub fn decode(bytes: &[u8], manifest: &Manifest) -> Result<Self, String> {
        if bytes.len() < HEADER || &bytes[..4] != VALID_MAGIC {
            return Err("is not a tabnas validation file (no TNVB header)".into());
        }
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let (version, rows, n_num, n_cat) = (word(4), word(8), word(12), word(16));
        if version != VERSION {
            return Err(format!(
                "has format version {version}; this agent reads {VERSION}"
            ));
        }
        let (rows, n_num, n_cat) = (rows as usize, n_num as usize, n_cat as usize);
        if rows == 0 {
            return Err("has no rows".into());
        }
        let want_num = manifest.inputs.numeric.len();
        let want_cat = manifest.inputs.categorical.len();
        if n_num != want_num || n_cat != want_cat {
            return Err(format!(
                "has {n_num} numeric and {n_cat} categorical columns; the manifest has \
                 {want_num} and {want_cat}"
            ));
        }
        let need = HEADER + rows * (4 * n_num + 8 * n_cat + 4);
        if bytes.len() != need {
            return Err(format!(
                "is {} bytes; {rows} rows of this schema take {need}",
                bytes.len()
            ));
        }
        let mut at = HEADER;
        let mut f32s = |n: usize| {
            let v: Vec<f32> = bytes[at..at + 4 * n]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            at += 4 * n;
            v
        };
        let numeric = f32s(rows * n_num);
        let cat_at = HEADER + 4 * rows * n_num;
        let categorical: Vec<i64> = bytes[cat_at..cat_at + 8 * rows * n_cat]
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        let lab_at = cat_at + 8 * rows * n_cat;
        let labels: Vec<f32> = bytes[lab_at..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = numeric.iter().position(|x| !x.is_finite()) {
            return Err(format!(
                "row {}, numeric column {}: value is not finite",
                i / n_num,
                i % n_num
            ));
        }
        for (i, &b) in categorical.iter().enumerate() {
            let buckets = manifest.inputs.categorical[i % n_cat].buckets as i64;
            if !(0..buckets).contains(&b) {
                return Err(format!(
                    "row {}, categorical column {}: bucket {b} is outside 0..{buckets}",
                    i / n_cat,
                    i % n_cat
                ));
            }
        }
        let outputs = manifest.task.outputs as f32;
        for (r, &y) in labels.iter().enumerate() {
            let ok = match manifest.task.loss {
                LossKind::BinaryCrossEntropy => y == 0.0 || y == 1.0,
                LossKind::SoftmaxCrossEntropy => y >= 0.0 && y < outputs && y.fract() == 0.0,
                LossKind::MeanSquaredError => y.is_finite(),
            };
            if !ok {
                return Err(format!(
                    "row {r}: label {y} does not fit the task {:?}",
                    manifest.task.loss
                ));
            }
        }
        Ok(Self {
            rows,
            numeric,
            categorical,
            labels,
        })
    }
}
