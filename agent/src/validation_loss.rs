//! Quality on the device: a child's validation loss on the bundle's `valid.bin` with the
//! shared weights, through tract (its batches spread over the cores), cached per
//! architecture in a bounded cache.
//! [`LossCacheFile`] is the cache as a run folder keeps it: keyed by what the losses depend
//! on, and checked before any of it is reused.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use std::fmt;
use tabnas_bundle::{Bundle, BundleError, TractNet};
use tabnas_core::search::LossEvaluator;
use tabnas_core::space::{Architecture, SearchSpace};

use tabnas_bundle::InferenceError;

/// A bounded map from architecture index to loss; the oldest entry leaves first.
#[derive(Debug, Clone, Default)]
pub struct LossCache {
    capacity: usize,
    map: HashMap<u64, f64>,
    order: VecDeque<u64>,
}

/// One cached loss, as saved in a run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedLoss {
    /// Dense index of the architecture in the space.
    pub index: u64,
    /// Hidden widths (for people reading the file).
    pub widths: Vec<u32>,
    /// Validation loss.
    pub loss: f64,
}

impl LossCache {
    /// An empty cache holding at most `capacity` losses.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            ..Default::default()
        }
    }

    /// The cached loss of `index`.
    pub fn get(&self, index: u64) -> Option<f64> {
        self.map.get(&index).copied()
    }

    /// Caches a loss, evicting the oldest entry when full.
    pub fn insert(&mut self, index: u64, loss: f64) {
        if self.map.insert(index, loss).is_none() {
            self.order.push_back(index);
            if self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    /// Entries, oldest first.
    pub fn entries(&self, space: &SearchSpace) -> Vec<CachedLoss> {
        self.order
            .iter()
            .filter_map(|&i| {
                let arch = space.arch_at(i)?;
                Some(CachedLoss {
                    index: i,
                    widths: (0..arch.len()).map(|l| space.width(&arch, l)).collect(),
                    loss: self.map[&i],
                })
            })
            .collect()
    }

    /// Number of cached losses.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Threads of a quality evaluation: `TABNAS_QUALITY_THREADS` when it holds a positive
/// number, else every core this process may run on (one when the measurement protocol
/// pins it to a CPU).
///
/// The variable exists for emulators: under qemu-user 7.2 (Debian 12) with Debian's
/// cross glibc, creating any thread in an aarch64 or armv7 binary hangs (a ten-line
/// program that spawns one thread does too), so `scripts/boards.sh` sets it to 1.
pub fn quality_threads() -> usize {
    std::env::var("TABNAS_QUALITY_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The bundle's quality evaluator for the core's search.
#[derive(Debug)]
pub struct BundleLosses<'a> {
    bundle: &'a Bundle,
    space: SearchSpace,
    batch: usize,
    threads: usize,
    /// The cache (saved with checkpoints).
    pub cache: LossCache,
    /// Evaluations served from the cache.
    pub hits: u64,
    /// Evaluations computed.
    pub misses: u64,
    /// Seconds spent computing losses.
    pub seconds: f64,
}

impl<'a> BundleLosses<'a> {
    /// An evaluator with an empty cache of `capacity`, running `batch` rows at a time,
    /// its batches spread over [`quality_threads`] threads; losses do not depend on the
    /// threads.
    pub fn new(bundle: &'a Bundle, capacity: usize, batch: usize) -> Result<Self, BundleError> {
        let space = bundle.manifest.search_space()?;
        Ok(Self {
            bundle,
            space,
            batch: batch.max(1),
            threads: quality_threads(),
            cache: LossCache::new(capacity),
            hits: 0,
            misses: 0,
            seconds: 0.0,
        })
    }

    /// The same evaluator on `threads` threads (at least 1).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The loss of the child with hidden `widths`, computed without the cache.
    pub fn compute(&self, widths: &[usize]) -> Result<f64, LossError> {
        let model = self.bundle.child_model(widths)?;
        let net = TractNet::new(
            &model,
            &self.bundle.manifest,
            self.batch.min(self.bundle.valid.rows),
        )?;
        Ok(net.loss_on(&self.bundle.valid, &self.bundle.manifest, self.threads)?)
    }
}

impl LossEvaluator for BundleLosses<'_> {
    type Error = LossError;

    fn loss(&mut self, arch: &Architecture) -> Result<f64, LossError> {
        let index = self.space.index_of(arch);
        if let Some(l) = self.cache.get(index) {
            self.hits += 1;
            return Ok(l);
        }
        let t = Instant::now();
        let widths: Vec<usize> = (0..arch.len())
            .map(|l| self.space.width(arch, l) as usize)
            .collect();
        let loss = self.compute(&widths)?;
        self.seconds += t.elapsed().as_secs_f64();
        self.misses += 1;
        self.cache.insert(index, loss);
        Ok(loss)
    }
}

/// What cached losses depend on: the bundle, the runtime that computed them and the rows
/// per inference (sums in another order may differ in the last bits).
#[derive(Debug, Clone, Copy)]
pub struct LossCacheKey<'k> {
    /// The bundle's hash.
    pub bundle_hash: &'k str,
    /// The runtime.
    pub runtime: &'k str,
    /// Rows per inference.
    pub quality_batch: usize,
}

/// The quality cache as saved: the losses and what they depend on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LossCacheFile {
    /// Format (2; format 1 was a bare list).
    pub format: u32,
    /// The bundle the losses were computed from.
    pub bundle_hash: String,
    /// The runtime that computed them.
    pub runtime: String,
    /// Rows per inference.
    pub quality_batch: usize,
    /// The losses, oldest first.
    pub losses: Vec<CachedLoss>,
}

impl LossCacheFile {
    /// The format written.
    pub const FORMAT: u32 = 2;

    /// The cache of `quality` under `key`.
    pub fn of(key: &LossCacheKey<'_>, quality: &BundleLosses<'_>) -> Self {
        Self {
            format: Self::FORMAT,
            bundle_hash: key.bundle_hash.to_string(),
            runtime: key.runtime.to_string(),
            quality_batch: key.quality_batch,
            losses: quality.cache.entries(&quality.space),
        }
    }

    /// Puts the saved losses into `quality` when they were computed under `key`, every
    /// entry names an architecture of the space by its index and widths and holds a
    /// finite, non-negative loss, and the first one computed again agrees; otherwise
    /// says why and leaves `quality` as it was. Returns the losses restored.
    pub fn restore_into(
        self,
        key: &LossCacheKey<'_>,
        quality: &mut BundleLosses<'_>,
    ) -> Result<usize, CacheRefused> {
        if self.format != Self::FORMAT {
            return Err(CacheRefused::Format { found: self.format });
        }
        if self.bundle_hash != key.bundle_hash
            || self.runtime != key.runtime
            || self.quality_batch != key.quality_batch
        {
            return Err(CacheRefused::OtherKey);
        }
        let space = &quality.space;
        for c in &self.losses {
            let widths = space
                .arch_at(c.index)
                .map(|a| (0..a.len()).map(|l| space.width(&a, l)).collect::<Vec<_>>());
            if widths.as_ref() != Some(&c.widths) {
                return Err(CacheRefused::NotInSpace {
                    index: c.index,
                    widths: c.widths.clone(),
                });
            }
            if !(c.loss.is_finite() && c.loss >= 0.0) {
                return Err(CacheRefused::BadLoss {
                    widths: c.widths.clone(),
                    loss: c.loss,
                });
            }
        }
        if let Some(first) = self.losses.first() {
            let widths: Vec<usize> = first.widths.iter().map(|&w| w as usize).collect();
            let again = quality.compute(&widths).map_err(CacheRefused::Compute)?;
            if (again - first.loss).abs() > 1e-9 * again.abs().max(1.0) {
                return Err(CacheRefused::Disagrees {
                    widths: first.widths.clone(),
                    saved: first.loss,
                    again,
                });
            }
        }
        for c in &self.losses {
            quality.cache.insert(c.index, c.loss);
        }
        Ok(self.losses.len())
    }
}

/// A child's validation loss that could not be computed.
#[derive(Debug)]
#[non_exhaustive]
pub enum LossError {
    /// The child could not be built from the bundle.
    Bundle(BundleError),
    /// tract could not run it on the validation rows.
    Inference(InferenceError),
}

impl fmt::Display for LossError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bundle(e) => write!(f, "{e}"),
            Self::Inference(e) => write!(f, "{e}"),
        }
    }
}

// The message includes the cause, so `source()` stays `None`: a printed chain
// (`{:#}`) would otherwise repeat it.
impl std::error::Error for LossError {}

impl From<BundleError> for LossError {
    fn from(e: BundleError) -> Self {
        Self::Bundle(e)
    }
}

impl From<InferenceError> for LossError {
    fn from(e: InferenceError) -> Self {
        Self::Inference(e)
    }
}

/// Why a saved quality cache is not reused ([`LossCacheFile::restore_into`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum CacheRefused {
    /// Another format version.
    Format {
        /// The version found.
        found: u32,
    },
    /// It was computed for another bundle, runtime or batch.
    OtherKey,
    /// An entry's index and widths do not name one child of this space.
    NotInSpace {
        /// The entry's index.
        index: u64,
        /// The entry's widths.
        widths: Vec<u32>,
    },
    /// An entry's loss is not a finite, non-negative number.
    BadLoss {
        /// The child.
        widths: Vec<u32>,
        /// Its saved loss.
        loss: f64,
    },
    /// The first entry, computed again, gives another loss.
    Disagrees {
        /// The child.
        widths: Vec<u32>,
        /// Its saved loss.
        saved: f64,
        /// Its loss computed now.
        again: f64,
    },
    /// The first entry could not be computed again.
    Compute(LossError),
}

impl fmt::Display for CacheRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Format { found } => write!(
                f,
                "format {found} (this agent reads {})",
                LossCacheFile::FORMAT
            ),
            Self::OtherKey => f.write_str("it was computed for another bundle, runtime or batch"),
            Self::NotInSpace { index, widths } => write!(
                f,
                "entry {index} does not name a child of this space ({widths:?})"
            ),
            Self::BadLoss { widths, loss } => write!(
                f,
                "the loss of {widths:?} is {loss}, not a finite non-negative number"
            ),
            Self::Disagrees {
                widths,
                saved,
                again,
            } => write!(
                f,
                "the saved loss of {widths:?} is {saved}, computed again it is {again}"
            ),
            Self::Compute(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CacheRefused {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_is_bounded_and_evicts_the_oldest() {
        let mut c = LossCache::new(2);
        c.insert(1, 0.1);
        c.insert(2, 0.2);
        c.insert(1, 0.1);
        c.insert(3, 0.3);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(1), None);
        assert_eq!(c.get(3), Some(0.3));
    }
}
