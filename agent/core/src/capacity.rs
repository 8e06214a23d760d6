//! Compile-time capacities of the search core.
//!
//! Every fixed-size buffer in the core is sized by one of these constants, so the memory
//! a search needs is known at build time and nothing allocates.

/// Most hidden layers a search space may have.
pub const MAX_LAYERS: usize = 8;

/// Most candidate widths a single layer may offer.
pub const MAX_CHOICES: usize = 32;

/// Default capacity of the Monte-Carlo P(V) buffer (the `N` of the paper); a search may
/// use a smaller `N` at run time, never a larger one than its buffer.
pub const DEFAULT_MC_CAPACITY: usize = 4096;

/// Largest space that exact P(V) will enumerate every step (about 1e6 architectures).
pub const MAX_EXACT_ENUMERATION: u64 = 1 << 20;
