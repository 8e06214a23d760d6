//! Factorized search spaces and architectures.
//!
//! A [`SearchSpace`] is one list of candidate widths per hidden layer; an
//! [`Architecture`] is one choice index per layer. Spaces are only built through
//! [`SearchSpace::new`] or checked with [`SearchSpace::validate`] after decoding, so a
//! valid space has 1..=[`MAX_LAYERS`] layers, each with 1..=[`MAX_CHOICES`] distinct,
//! non-zero widths. Architectures handed to a space's accessors must belong to it
//! ([`SearchSpace::contains`]); the dense index is row-major (the last layer varies
//! fastest), matching `itertools.product` in the reference notebooks.

use core::fmt;

use heapless::Vec;
use serde::{Deserialize, Serialize};

use crate::capacity::{MAX_CHOICES, MAX_LAYERS};

/// Candidate widths of one layer.
pub type LayerChoices = Vec<u32, MAX_CHOICES>;

/// Why a search space is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpaceError {
    /// The space has no layers.
    NoLayers,
    /// More layers than [`MAX_LAYERS`].
    TooManyLayers {
        /// Layers asked for.
        layers: usize,
    },
    /// A layer offers no width.
    EmptyLayer {
        /// Zero-based layer index.
        layer: usize,
    },
    /// A layer offers more than [`MAX_CHOICES`] widths.
    TooManyChoices {
        /// Zero-based layer index.
        layer: usize,
        /// Widths offered.
        choices: usize,
    },
    /// A width of zero.
    ZeroWidth {
        /// Zero-based layer index.
        layer: usize,
    },
    /// The same width twice in one layer.
    DuplicateWidth {
        /// Zero-based layer index.
        layer: usize,
        /// The repeated width.
        width: u32,
    },
}

impl fmt::Display for SpaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoLayers => write!(f, "search space has no layers"),
            Self::TooManyLayers { layers } => {
                write!(
                    f,
                    "search space has {layers} layers, at most {MAX_LAYERS} are supported"
                )
            }
            Self::EmptyLayer { layer } => write!(f, "layer {layer} offers no width"),
            Self::TooManyChoices { layer, choices } => write!(
                f,
                "layer {layer} offers {choices} widths, at most {MAX_CHOICES} are supported"
            ),
            Self::ZeroWidth { layer } => write!(f, "layer {layer} offers a width of 0"),
            Self::DuplicateWidth { layer, width } => {
                write!(f, "layer {layer} offers width {width} twice")
            }
        }
    }
}

impl core::error::Error for SpaceError {}

/// One choice index per layer of a [`SearchSpace`].
///
/// Unused trailing slots are always zero, so derived equality and hashing are exact;
/// deserialization enforces that and the capacities, so no accessor can panic on a
/// decoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawArchitecture")]
pub struct Architecture {
    len: u8,
    choices: [u8; MAX_LAYERS],
}

/// The unchecked wire form of [`Architecture`].
#[derive(Deserialize)]
struct RawArchitecture {
    len: u8,
    choices: [u8; MAX_LAYERS],
}

/// A decoded architecture broke the capacity limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchitectureOutOfRange;

impl fmt::Display for ArchitectureOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "architecture has more than {MAX_LAYERS} layers, a choice index of {MAX_CHOICES} \
             or more, or non-zero unused slots"
        )
    }
}

impl TryFrom<RawArchitecture> for Architecture {
    type Error = ArchitectureOutOfRange;
    fn try_from(raw: RawArchitecture) -> Result<Self, Self::Error> {
        let len = raw.len as usize;
        let ok = len <= MAX_LAYERS
            && raw.choices[..len]
                .iter()
                .all(|&c| (c as usize) < MAX_CHOICES)
            && raw.choices[len..].iter().all(|&c| c == 0);
        if ok {
            Ok(Self {
                len: raw.len,
                choices: raw.choices,
            })
        } else {
            Err(ArchitectureOutOfRange)
        }
    }
}

impl Architecture {
    /// Builds an architecture from choice indices; `None` if there are more than
    /// [`MAX_LAYERS`] of them or an index exceeds [`MAX_CHOICES`].
    pub fn from_choices(choices: &[usize]) -> Option<Self> {
        if choices.len() > MAX_LAYERS {
            return None;
        }
        let mut arch = Self {
            len: choices.len() as u8,
            choices: [0; MAX_LAYERS],
        };
        for (slot, &c) in arch.choices.iter_mut().zip(choices) {
            if c >= MAX_CHOICES {
                return None;
            }
            *slot = c as u8;
        }
        Some(arch)
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True for the architecture of a zero-layer space (never valid in a search).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The choice index of each layer.
    pub fn choices(&self) -> &[u8] {
        &self.choices[..self.len as usize]
    }

    /// The choice index of `layer`.
    ///
    /// # Panics
    /// If `layer >= self.len()`.
    pub fn choice(&self, layer: usize) -> usize {
        self.choices()[layer] as usize
    }

    /// Sets the choice index of `layer` (callers keep it in range of the space).
    pub fn set_choice(&mut self, layer: usize, choice: usize) {
        self.choices[layer] = choice as u8;
    }

    /// An architecture of `len` layers, every choice 0.
    pub fn with_len(len: usize) -> Self {
        Self {
            len: len as u8,
            choices: [0; MAX_LAYERS],
        }
    }
}

/// The widths of one architecture, one per layer: the one width type of tabnas.
/// Written and read as `64-24-24` ([`parse_widths`], [`show_widths`]).
pub type Widths = Vec<u32, MAX_LAYERS>;

/// Why a widths string such as `64-24-24` cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WidthsError {
    /// No width at all.
    Empty,
    /// The width at `position` (0-based) is not a whole number.
    NotANumber {
        /// Its position.
        position: usize,
    },
    /// The width at `position` is 0.
    Zero {
        /// Its position.
        position: usize,
    },
    /// More than [`MAX_LAYERS`] widths.
    TooMany {
        /// How many were given.
        count: usize,
    },
}

impl fmt::Display for WidthsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Empty => f.write_str("no widths given (expected e.g. 64-24-24)"),
            Self::NotANumber { position } => {
                write!(f, "width {} is not a whole number", position + 1)
            }
            Self::Zero { position } => {
                write!(f, "width {} is 0 (must be at least 1)", position + 1)
            }
            Self::TooMany { count } => {
                write!(
                    f,
                    "{count} widths given; at most {MAX_LAYERS} layers are supported"
                )
            }
        }
    }
}

impl core::error::Error for WidthsError {}

/// Reads hidden widths written `64-24-24` (`,` also separates; spaces around a width
/// are ignored). The one parser of widths in tabnas.
pub fn parse_widths(text: &str) -> Result<Widths, WidthsError> {
    if text.trim().is_empty() {
        return Err(WidthsError::Empty);
    }
    let mut widths = Widths::new();
    let count = text.split(['-', ',']).count();
    for (position, part) in text.split(['-', ',']).enumerate() {
        let width: u32 = part
            .trim()
            .parse()
            .map_err(|_| WidthsError::NotANumber { position })?;
        if width == 0 {
            return Err(WidthsError::Zero { position });
        }
        widths
            .push(width)
            .map_err(|_| WidthsError::TooMany { count })?;
    }
    Ok(widths)
}

/// Shows widths as `64-24-24`, the form [`parse_widths`] reads.
pub fn show_widths(widths: &[u32]) -> impl fmt::Display + '_ {
    ShowWidths(widths)
}

struct ShowWidths<'a>(&'a [u32]);

impl fmt::Display for ShowWidths<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            write!(f, "{w}")?;
        }
        Ok(())
    }
}

/// A factorized search space: candidate widths for each hidden layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchSpace {
    layers: Vec<LayerChoices, MAX_LAYERS>,
}

impl SearchSpace {
    /// Builds and validates a space from per-layer width lists.
    ///
    /// ```
    /// use tabnas_core::space::SearchSpace;
    /// let space = SearchSpace::new(&[&[2, 3, 4], &[2, 3, 4]]).unwrap();
    /// assert_eq!(space.cardinality(), 9);
    /// ```
    pub fn new(layers: &[&[u32]]) -> Result<Self, SpaceError> {
        if layers.len() > MAX_LAYERS {
            return Err(SpaceError::TooManyLayers {
                layers: layers.len(),
            });
        }
        let mut out: Vec<LayerChoices, MAX_LAYERS> = Vec::new();
        for (layer, widths) in layers.iter().enumerate() {
            if widths.len() > MAX_CHOICES {
                return Err(SpaceError::TooManyChoices {
                    layer,
                    choices: widths.len(),
                });
            }
            let mut choices = LayerChoices::new();
            for &w in widths.iter() {
                // Capacity was checked just above.
                let _ = choices.push(w);
            }
            let _ = out.push(choices);
        }
        let space = Self { layers: out };
        space.validate()?;
        Ok(space)
    }

    /// The same widths for each of `layers` layers.
    pub fn uniform(layers: usize, widths: &[u32]) -> Result<Self, SpaceError> {
        let mut rows: [&[u32]; MAX_LAYERS] = [&[]; MAX_LAYERS];
        if layers > MAX_LAYERS {
            return Err(SpaceError::TooManyLayers { layers });
        }
        for row in rows.iter_mut().take(layers) {
            *row = widths;
        }
        Self::new(&rows[..layers])
    }

    /// Checks the invariants listed in the module docs (use after decoding).
    pub fn validate(&self) -> Result<(), SpaceError> {
        if self.layers.is_empty() {
            return Err(SpaceError::NoLayers);
        }
        for (layer, widths) in self.layers.iter().enumerate() {
            if widths.is_empty() {
                return Err(SpaceError::EmptyLayer { layer });
            }
            for (i, &w) in widths.iter().enumerate() {
                if w == 0 {
                    return Err(SpaceError::ZeroWidth { layer });
                }
                if widths[..i].contains(&w) {
                    return Err(SpaceError::DuplicateWidth { layer, width: w });
                }
            }
        }
        Ok(())
    }

    /// Number of hidden layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Candidate widths of `layer`.
    ///
    /// # Panics
    /// If `layer >= self.num_layers()`.
    pub fn choices(&self, layer: usize) -> &[u32] {
        &self.layers[layer]
    }

    /// Number of candidate widths of `layer`.
    pub fn num_choices(&self, layer: usize) -> usize {
        self.layers[layer].len()
    }

    /// Number of architectures in the space.
    pub fn cardinality(&self) -> u64 {
        self.layers.iter().map(|l| l.len() as u64).product()
    }

    /// True if `arch` has this space's layer count and every choice is in range.
    pub fn contains(&self, arch: &Architecture) -> bool {
        arch.len() == self.num_layers()
            && arch
                .choices()
                .iter()
                .zip(self.layers.iter())
                .all(|(&c, l)| (c as usize) < l.len())
    }

    /// Width of `layer` in `arch`.
    pub fn width(&self, arch: &Architecture, layer: usize) -> u32 {
        self.layers[layer][arch.choice(layer)]
    }

    /// Widths of every layer of `arch`.
    pub fn widths(&self, arch: &Architecture) -> Widths {
        let mut out = Widths::new();
        for layer in 0..arch.len() {
            let _ = out.push(self.width(arch, layer));
        }
        out
    }

    /// Finds the architecture with exactly these widths.
    pub fn arch_from_widths(&self, widths: &[u32]) -> Option<Architecture> {
        if widths.len() != self.num_layers() {
            return None;
        }
        let mut arch = Architecture::with_len(widths.len());
        for (layer, w) in widths.iter().enumerate() {
            let c = self.layers[layer].iter().position(|x| x == w)?;
            arch.set_choice(layer, c);
        }
        Some(arch)
    }

    /// Dense row-major index of `arch` (`0..cardinality()`).
    pub fn index_of(&self, arch: &Architecture) -> u64 {
        arch.choices()
            .iter()
            .zip(self.layers.iter())
            .fold(0u64, |acc, (&c, l)| acc * l.len() as u64 + c as u64)
    }

    /// The architecture at a dense index; `None` past the end.
    pub fn arch_at(&self, mut index: u64) -> Option<Architecture> {
        if index >= self.cardinality() {
            return None;
        }
        let n = self.num_layers();
        let mut arch = Architecture::with_len(n);
        for layer in (0..n).rev() {
            let k = self.layers[layer].len() as u64;
            arch.set_choice(layer, (index % k) as usize);
            index /= k;
        }
        Some(arch)
    }

    /// Iterates over every architecture in dense-index order.
    pub fn iter(&self) -> SpaceIter<'_> {
        SpaceIter {
            space: self,
            next: Some(Architecture::with_len(self.num_layers())),
        }
    }

    /// Writes `arch` as its widths joined by `-` (for example `4-2`).
    pub fn display<'a>(&'a self, arch: &'a Architecture) -> impl fmt::Display + 'a {
        DisplayArch { space: self, arch }
    }
}

struct DisplayArch<'a> {
    space: &'a SearchSpace,
    arch: &'a Architecture,
}

impl fmt::Display for DisplayArch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for layer in 0..self.arch.len() {
            if layer > 0 {
                f.write_str("-")?;
            }
            write!(f, "{}", self.space.width(self.arch, layer))?;
        }
        Ok(())
    }
}

/// Iterator over all architectures of a space (odometer order, last layer fastest).
pub struct SpaceIter<'a> {
    space: &'a SearchSpace,
    next: Option<Architecture>,
}

impl Iterator for SpaceIter<'_> {
    type Item = Architecture;

    fn next(&mut self) -> Option<Architecture> {
        let current = self.next?;
        let mut succ = current;
        let mut layer = self.space.num_layers();
        self.next = loop {
            if layer == 0 {
                break None;
            }
            layer -= 1;
            let c = succ.choice(layer) + 1;
            if c < self.space.num_choices(layer) {
                succ.set_choice(layer, c);
                break Some(succ);
            }
            succ.set_choice(layer, 0);
        };
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trips_and_iter_matches_dense_order() {
        let space = SearchSpace::new(&[&[8, 16, 24], &[1, 2], &[5, 6, 7, 9]]).unwrap();
        assert_eq!(space.cardinality(), 24);
        let all: std::vec::Vec<_> = space.iter().collect();
        assert_eq!(all.len(), 24);
        for (i, arch) in all.iter().enumerate() {
            assert_eq!(space.index_of(arch), i as u64);
            assert_eq!(space.arch_at(i as u64), Some(*arch));
            assert!(space.contains(arch));
        }
        assert_eq!(space.arch_at(24), None);
        assert_eq!(all[1].choices(), &[0, 0, 1]);
    }

    #[test]
    fn widths_and_display() {
        let space = SearchSpace::new(&[&[2, 3, 4], &[2, 3, 4]]).unwrap();
        let arch = space.arch_from_widths(&[4, 2]).unwrap();
        assert_eq!(arch.choices(), &[2, 0]);
        assert_eq!(&space.widths(&arch)[..], &[4, 2]);
        assert_eq!(std::format!("{}", space.display(&arch)), "4-2");
        assert_eq!(space.arch_from_widths(&[5, 2]), None);
        assert_eq!(space.arch_from_widths(&[4]), None);
    }

    #[test]
    fn invalid_spaces_are_named() {
        assert_eq!(SearchSpace::new(&[]), Err(SpaceError::NoLayers));
        assert_eq!(
            SearchSpace::new(&[&[2], &[]]),
            Err(SpaceError::EmptyLayer { layer: 1 })
        );
        assert_eq!(
            SearchSpace::new(&[&[2, 0]]),
            Err(SpaceError::ZeroWidth { layer: 0 })
        );
        assert_eq!(
            SearchSpace::new(&[&[2, 3, 2]]),
            Err(SpaceError::DuplicateWidth { layer: 0, width: 2 })
        );
        let many = [1u32; 40];
        assert_eq!(
            SearchSpace::new(&[&many[..]]),
            Err(SpaceError::TooManyChoices {
                layer: 0,
                choices: 40
            })
        );
        assert_eq!(
            SearchSpace::uniform(9, &[1]),
            Err(SpaceError::TooManyLayers { layers: 9 })
        );
        let msg = std::format!("{}", SpaceError::DuplicateWidth { layer: 1, width: 7 });
        assert!(msg.contains("layer 1") && msg.contains('7'), "{msg}");
    }

    #[test]
    fn decoding_rejects_out_of_range_architectures() {
        let good = Architecture::from_choices(&[1, 2]).unwrap();
        let mut buf = [0u8; 32];
        let bytes = postcard::to_slice(&good, &mut buf).unwrap();
        assert_eq!(postcard::from_bytes::<Architecture>(bytes).unwrap(), good);
        let mut bad = [0u8; 9];
        bad[0] = 9; // nine layers
        assert!(postcard::from_bytes::<Architecture>(&bad).is_err());
        bad[0] = 1;
        bad[1] = 40; // choice past MAX_CHOICES
        assert!(postcard::from_bytes::<Architecture>(&bad).is_err());
        bad[1] = 0;
        bad[5] = 1; // unused slot not zero
        assert!(postcard::from_bytes::<Architecture>(&bad).is_err());
    }

    #[test]
    fn capacity_limits_hold() {
        let widths: std::vec::Vec<u32> = (1..=MAX_CHOICES as u32).collect();
        let space = SearchSpace::uniform(MAX_LAYERS, &widths).unwrap();
        assert_eq!(
            space.cardinality(),
            (MAX_CHOICES as u64).pow(MAX_LAYERS as u32)
        );
        let last = space.arch_at(space.cardinality() - 1).unwrap();
        assert!(last
            .choices()
            .iter()
            .all(|&c| c as usize == MAX_CHOICES - 1));
    }

    #[test]
    fn widths_parse_and_show_round_trip() {
        let w = parse_widths("64-24-24").unwrap();
        assert_eq!(&w[..], &[64, 24, 24]);
        assert_eq!(parse_widths(" 8, 16 ").unwrap().as_slice(), &[8, 16]);
        assert_eq!(std::format!("{}", show_widths(&w)), "64-24-24");
        assert_eq!(parse_widths(""), Err(WidthsError::Empty));
        assert_eq!(
            parse_widths("8-x"),
            Err(WidthsError::NotANumber { position: 1 })
        );
        assert_eq!(parse_widths("8-0"), Err(WidthsError::Zero { position: 1 }));
        assert_eq!(
            parse_widths("8--8"),
            Err(WidthsError::NotANumber { position: 1 })
        );
        let many = "1-".repeat(MAX_LAYERS) + "1";
        assert_eq!(
            parse_widths(&many),
            Err(WidthsError::TooMany {
                count: MAX_LAYERS + 1
            })
        );
    }
}
