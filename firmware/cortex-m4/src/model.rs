//! The model blob in flash: a supernet cut to the firmware space's largest widths, and
//! validation rows.
//!
//! Layout (little-endian, every field 4 bytes, so the floats are 4-byte aligned when the
//! blob is): magic `TNM4`, `u32` version (1), `u32` inputs, `u32` hidden layers `L`,
//! `L x u32` largest width of each hidden layer, `u32` rows; then for each hidden layer
//! and the head (one output) `W` row-major `[in, out]` and `b` `[out]` as `f32`; then
//! `rows x inputs` `f32` inputs (already preprocessed) and `rows` `f32` labels (0/1).
//! A child keeps the leading units of every layer (`W[:w_in, :w_out]`), as the bundle's
//! `Dense::leading` does.

use tabnas_core::capacity::MAX_LAYERS;

/// First four bytes of a blob.
pub const MAGIC: &[u8; 4] = b"TNM4";
/// The version this build reads.
pub const VERSION: u32 = 1;

/// Why a blob was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelError {
    /// Not a blob (magic).
    BadMagic,
    /// Another version.
    Version(u32),
    /// Fewer bytes than the header promises.
    Truncated,
    /// More bytes than the header promises.
    TrailingBytes,
    /// The floats are not 4-byte aligned in memory.
    Misaligned,
    /// A count is zero or too large.
    Shape,
}

impl core::fmt::Display for ModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadMagic => write!(f, "model blob: bad magic (not TNM4)"),
            Self::Version(v) => write!(f, "model blob: version {v}, this build reads {VERSION}"),
            Self::Truncated => write!(f, "model blob: truncated"),
            Self::TrailingBytes => write!(f, "model blob: trailing bytes"),
            Self::Misaligned => write!(f, "model blob: floats not 4-byte aligned"),
            Self::Shape => write!(f, "model blob: a count is zero or too large"),
        }
    }
}

/// One dense layer as stored: `[inputs, outputs]` row-major.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    /// Rows of `W` (inputs).
    pub inputs: usize,
    /// Columns of `W` (outputs): the row stride.
    pub outputs: usize,
    /// `inputs * outputs` weights.
    pub weight: &'a [f32],
    /// `outputs` biases.
    pub bias: &'a [f32],
}

/// A parsed blob, borrowing the bytes (in flash on the chip).
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    /// Numeric inputs per row.
    pub inputs: usize,
    /// Hidden layers.
    pub layers: usize,
    /// Largest width of each hidden layer.
    pub widths: [usize; MAX_LAYERS],
    /// Hidden layers, then the head.
    pub dense: [Layer<'a>; MAX_LAYERS + 1],
    /// Validation rows.
    pub rows: usize,
    /// `rows x inputs`.
    pub x: &'a [f32],
    /// `rows` labels.
    pub y: &'a [f32],
}

const EMPTY: Layer<'static> = Layer {
    inputs: 0,
    outputs: 0,
    weight: &[],
    bias: &[],
};

/// Largest layer width the forward pass supports (its activation buffers).
pub const MAX_WIDTH: usize = 256;

impl<'a> Model<'a> {
    /// Parses and checks `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ModelError> {
        if bytes.len() < 4 || &bytes[..4] != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let floats = as_f32(bytes)?;
        let word = |i: usize| {
            floats
                .get(i)
                .map(|v| v.to_bits() as usize)
                .ok_or(ModelError::Truncated)
        };
        let version = word(1)? as u32;
        if version != VERSION {
            return Err(ModelError::Version(version));
        }
        let inputs = word(2)?;
        let layers = word(3)?;
        if inputs == 0 || inputs > MAX_WIDTH || layers == 0 || layers > MAX_LAYERS {
            return Err(ModelError::Shape);
        }
        let mut widths = [0usize; MAX_LAYERS];
        for (l, w) in widths.iter_mut().enumerate().take(layers) {
            *w = word(4 + l)?;
            if *w == 0 || *w > MAX_WIDTH {
                return Err(ModelError::Shape);
            }
        }
        let rows = word(4 + layers)?;
        if rows == 0 || rows > 1 << 20 {
            return Err(ModelError::Shape);
        }
        let mut at = 5 + layers;
        let mut take = |n: usize| -> Result<&'a [f32], ModelError> {
            let s = floats.get(at..at + n).ok_or(ModelError::Truncated)?;
            at += n;
            Ok(s)
        };
        let mut dense = [EMPTY; MAX_LAYERS + 1];
        let mut prev = inputs;
        for (l, slot) in dense.iter_mut().enumerate().take(layers + 1) {
            let out = if l == layers { 1 } else { widths[l] };
            let weight = take(prev * out)?;
            let bias = take(out)?;
            *slot = Layer {
                inputs: prev,
                outputs: out,
                weight,
                bias,
            };
            prev = out;
        }
        let x = take(rows * inputs)?;
        let y = take(rows)?;
        if at != floats.len() {
            return Err(ModelError::TrailingBytes);
        }
        Ok(Self {
            inputs,
            layers,
            widths,
            dense,
            rows,
            x,
            y,
        })
    }

    /// Row `r`'s inputs.
    pub fn row(&self, r: usize) -> &'a [f32] {
        &self.x[r * self.inputs..(r + 1) * self.inputs]
    }
}

/// The bytes as `f32`s (same endianness: both ends are little-endian).
// `is_multiple_of` is Rust 1.87; Debian's cross toolchain is 1.85.
#[allow(unknown_lints, clippy::manual_is_multiple_of)]
fn as_f32(bytes: &[u8]) -> Result<&[f32], ModelError> {
    if bytes.len() % 4 != 0 {
        return Err(ModelError::Truncated);
    }
    // SAFETY: every bit pattern is a valid f32; align_to only hands out the aligned
    // middle, and a blob with a prefix or suffix is refused.
    #[allow(unsafe_code)]
    let (pre, mid, post) = unsafe { bytes.align_to::<f32>() };
    if !pre.is_empty() || !post.is_empty() {
        return Err(ModelError::Misaligned);
    }
    Ok(mid)
}

/// Writes a blob (host side: tests and tools). `dense` holds `(W, b)` of the hidden
/// layers and the head, `x` and `y` the rows.
#[cfg(any(test, feature = "std"))]
pub fn encode(
    inputs: usize,
    widths: &[usize],
    dense: &[(&[f32], &[f32])],
    x: &[f32],
    y: &[f32],
) -> std::vec::Vec<u8> {
    let mut out = std::vec::Vec::new();
    out.extend_from_slice(MAGIC);
    for w in [VERSION as usize, inputs, widths.len()]
        .into_iter()
        .chain(widths.iter().copied())
        .chain([y.len()])
    {
        out.extend_from_slice(&(w as u32).to_le_bytes());
    }
    for (w, b) in dense {
        out.extend(w.iter().chain(b.iter()).flat_map(|v| v.to_le_bytes()));
    }
    out.extend(x.iter().chain(y.iter()).flat_map(|v| v.to_le_bytes()));
    out
}
