//! The random number generator of searches: Xoshiro256++, always explicitly seeded.
//!
//! There is no global RNG anywhere in tabnas; every function that draws takes a
//! `&mut impl rand_core::Rng`, and binaries build it with [`search_rng`].

use rand_core::SeedableRng;
pub use rand_xoshiro::Xoshiro256PlusPlus as SearchRng;

/// The generator for `seed` (SplitMix64 expansion of the 64-bit seed).
pub fn search_rng(seed: u64) -> SearchRng {
    SearchRng::seed_from_u64(seed)
}
