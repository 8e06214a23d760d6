//! The Criteo search space of the TabNAS paper, defined once: 3 hidden layers of 20
//! widths each, an input vector of 1,027 values, one output logit, biases counted, and
//! the 41,153-parameter limit of the reference architecture 32-144-24.

use crate::cost::{FfnParams, FfnShape};
use crate::space::SearchSpace;

/// Candidate widths of every layer.
pub const CRITEO_WIDTHS: [u32; 20] = [
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 384, 512,
];

/// Input size (13 numeric + 26 x 39 embedding values), one output, biases.
pub const CRITEO_SHAPE: FfnShape = FfnShape {
    input: 1027,
    output: 1,
    biases: true,
};

/// Parameter count of the reference architecture 32-144-24: the paper's limit.
pub const CRITEO_REFERENCE_PARAMS: u64 = 41_153;

/// The parameter-count cost of the Criteo space.
pub const CRITEO_PARAMS: FfnParams = FfnParams(CRITEO_SHAPE);

/// The Criteo space with `layers` hidden layers (3 in the paper).
pub fn criteo_space(layers: usize) -> Result<SearchSpace, crate::space::SpaceError> {
    SearchSpace::uniform(layers, &CRITEO_WIDTHS)
}
