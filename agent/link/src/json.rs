//! The JSON bodies of the agent's HTTP endpoints (`agent/src/service/openapi.json`): what a client
//! posts (parsed with errors that name the field at fault, and bounded in size) and the
//! whole latency table as one document.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tabnas_core::capacity::MAX_LAYERS;
use tabnas_core::protocol::{TableEntry, WireWidths};
use tabnas_core::target::{LatencyTarget, TargetError};

/// Most bytes of a request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Why a request body was refused; the message names the field at fault.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// More than [`MAX_BODY_BYTES`].
    TooLarge {
        /// Its length.
        bytes: usize,
    },
    /// Not JSON of the endpoint's shape (serde names the field and the position).
    Json(serde_json::Error),
    /// `widths` has no layers or more than the protocol carries.
    LayerCount {
        /// Layers given.
        layers: usize,
    },
    /// A width is not in 1..=65535.
    Width {
        /// The width given.
        width: u32,
    },
    /// `target_us` is not a latency target.
    Target(TargetError),
    /// A count field is 0.
    Zero {
        /// The field.
        field: &'static str,
    },
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request body: ")?;
        match self {
            Self::TooLarge { bytes } => {
                write!(f, "{bytes} bytes, more than the {MAX_BODY_BYTES} allowed")
            }
            Self::Json(e) => write!(f, "{e}"),
            Self::LayerCount { layers } => {
                write!(f, "`widths` has {layers} layers; give 1 to {MAX_LAYERS}")
            }
            Self::Width { width } => write!(f, "`widths`: {width} is not a width in 1..=65535"),
            Self::Target(e) => write!(f, "`target_us`: {e}"),
            Self::Zero { field } => write!(f, "`{field}` must be at least 1"),
        }
    }
}

impl std::error::Error for BodyError {}

/// `POST /measure`: the architecture to measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureBody {
    /// Hidden widths, one per layer.
    pub widths: Vec<u32>,
}

/// `POST /search`: what to change from the board profile's search settings (every field
/// optional; an empty object starts the profile's search).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// Latency target in microseconds.
    pub target_us: Option<f64>,
    /// Controller steps.
    pub steps: Option<u32>,
    /// Seed.
    pub seed: Option<u64>,
    /// Monte-Carlo samples N (0: exact P(V)).
    pub n: Option<u16>,
    /// Candidates re-measured for the answer.
    pub candidates: Option<u8>,
}

/// The whole latency table (`GET /latency-table`, and what a host assembles from
/// `TableChunk`s): a child's predicted latency is
/// `scale * (overhead_us + sum of its blocks) + offset_us`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableJson {
    /// Entries in the table.
    pub total: u16,
    /// Fixed overhead of every child.
    pub overhead_us: f32,
    /// Calibration scale.
    pub scale: f32,
    /// Calibration offset.
    pub offset_us: f32,
    /// The entries.
    pub entries: Vec<TableEntry>,
}

/// Parses a JSON body of at most [`MAX_BODY_BYTES`]; an empty body is `{}`.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge { bytes: bytes.len() });
    }
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(BodyError::Json)
}

impl MeasureBody {
    /// The widths as the protocol carries them: 1 to [`MAX_LAYERS`] layers, each
    /// 1..=65535.
    pub fn widths(&self) -> Result<WireWidths, BodyError> {
        if self.widths.is_empty() || self.widths.len() > MAX_LAYERS {
            return Err(BodyError::LayerCount {
                layers: self.widths.len(),
            });
        }
        self.widths
            .iter()
            .map(|&w| {
                u16::try_from(w)
                    .ok()
                    .filter(|&w| w > 0)
                    .ok_or(BodyError::Width { width: w })
            })
            .collect::<Result<WireWidths, _>>()
    }
}

impl StartBody {
    /// The target, checked ([`LatencyTarget`]); the error names the field.
    pub fn target(&self) -> Result<Option<LatencyTarget>, BodyError> {
        self.target_us
            .map(LatencyTarget::new)
            .transpose()
            .map_err(BodyError::Target)
    }

    /// Checks the fields' ranges (the search checks the rest against the profile).
    pub fn check(&self) -> Result<(), BodyError> {
        self.target()?;
        if self.steps == Some(0) {
            return Err(BodyError::Zero { field: "steps" });
        }
        if self.candidates == Some(0) {
            return Err(BodyError::Zero {
                field: "candidates",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_name_what_is_wrong() {
        let m: MeasureBody = parse_body(br#"{"widths": [64, 32]}"#).unwrap();
        assert_eq!(m.widths().unwrap().as_slice(), [64, 32]);
        let e = parse_body::<MeasureBody>(br#"{"width": [64]}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `width`"), "{e}");
        let e = parse_body::<MeasureBody>(br#"{"widths": [0]}"#)
            .unwrap()
            .widths()
            .unwrap_err();
        assert!(e.to_string().contains("0 is not a width"), "{e}");
        let e = parse_body::<MeasureBody>(br#"{"widths": []}"#)
            .unwrap()
            .widths()
            .unwrap_err();
        assert!(e.to_string().contains("0 layers"), "{e}");
        let e = parse_body::<MeasureBody>(&vec![b' '; MAX_BODY_BYTES + 1]).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
        let s: StartBody = parse_body(b"").unwrap();
        assert_eq!(s, StartBody::default());
        let s: StartBody = parse_body(br#"{"target_us": -1}"#).unwrap();
        assert!(s.check().unwrap_err().to_string().contains("target_us"));
        let e = parse_body::<StartBody>(br#"{"steps": "many"}"#).unwrap_err();
        assert!(e.to_string().contains("invalid type"), "{e}");
    }
}
