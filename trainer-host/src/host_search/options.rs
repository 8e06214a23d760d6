//! What a host search is asked to do, and the checks that refuse it before anything is
//! trained or allocated.

use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::cost::{CostModel, FfnFlops, FfnParams, FfnShape};
use tabnas_core::feasibility::Feasibility;
use tabnas_core::search::SearchSettings;
use tabnas_core::space::SearchSpace;

use super::error::HostSearchError;
use super::guards::Guards;
use super::latency::DeviceLatency;
use super::{HostResource, MAX_STEPS};
use crate::prepare::Prepared;

/// Everything a host search needs besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSearchOptions {
    /// Candidate widths per hidden layer.
    pub space: Vec<Vec<u32>>,
    /// What the target limits.
    pub resource: HostResource,
    /// The limit.
    pub target: f64,
    /// Controller settings (reward, P(V), learning rate).
    pub settings: SearchSettings,
    /// Total steps (warm-up included).
    pub steps: u32,
    /// Fraction of the steps spent in warm-up.
    pub warmup_fraction: f64,
    /// Training batch size.
    pub batch: usize,
    /// Validation batch size of a controller step.
    pub valid_batch: usize,
    /// Adam learning rate of the shared weights.
    pub learning_rate: f32,
    /// Seed of initialisation, batches and controller.
    pub seed: u64,
    /// Distribution snapshots to record.
    pub snapshots: u32,
    /// Weight decay, validation checks, early stopping and rejection resampling.
    pub guards: Guards,
    /// The board's latencies, for [`HostResource::LatencyUs`].
    pub latency: Option<DeviceLatency>,
}

/// The cost model of a resource for a network of this shape (`latency`: the board's,
/// which [`HostResource::LatencyUs`] needs).
pub fn cost_model(
    resource: HostResource,
    shape: FfnShape,
    latency: Option<&DeviceLatency>,
) -> Result<Box<dyn CostModel>, HostSearchError> {
    Ok(match resource {
        HostResource::Params => Box::new(FfnParams(shape)),
        HostResource::Flops => Box::new(FfnFlops(shape)),
        HostResource::LatencyUs => Box::new(
            latency
                .ok_or(HostSearchError::NoLatencyTable)?
                .costs
                .as_ref()
                .clone(),
        ),
    })
}

impl HostSearchOptions {
    /// Checks these options against `data` without training or allocating the
    /// supernet: everything [`run_host_search`](super::run_host_search) refuses before
    /// its first step.
    pub fn check(&self, data: &Prepared) -> Result<(), HostSearchError> {
        let layers: Vec<&[u32]> = self.space.iter().map(|w| w.as_slice()).collect();
        let space = SearchSpace::new(&layers).map_err(HostSearchError::Space)?;
        if self.steps == 0 {
            return Err(HostSearchError::ZeroSteps);
        }
        if self.steps > MAX_STEPS {
            return Err(HostSearchError::TooManySteps { steps: self.steps });
        }
        if !(0.0..1.0).contains(&self.warmup_fraction) {
            return Err(HostSearchError::Warmup {
                warmup_fraction: self.warmup_fraction,
            });
        }
        if self.batch == 0 || self.valid_batch == 0 {
            return Err(HostSearchError::ZeroBatch {
                batch: self.batch,
                valid_batch: self.valid_batch,
            });
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(HostSearchError::LearningRate {
                learning_rate: self.learning_rate,
            });
        }
        let spec = data.supernet_spec(self.space.clone());
        spec.check_size().map_err(HostSearchError::Size)?;
        for rows in [self.batch, self.valid_batch] {
            spec.check_batch(rows).map_err(HostSearchError::Size)?;
        }
        let model = cost_model(self.resource, ffn_shape(&spec), self.latency.as_ref())?;
        Feasibility::new(&space, model.as_ref(), self.target).map_err(|source| {
            HostSearchError::Target {
                target: self.target,
                source,
            }
        })?;
        self.settings
            .validate(&space, DEFAULT_MC_CAPACITY)
            .map_err(HostSearchError::Settings)?;
        Ok(())
    }
}

impl HostSearchOptions {
    /// The smallest architecture of the space (the narrowest width of every layer) and
    /// its cost. Costs grow with every width, so no architecture costs less: when it
    /// misses the target, every architecture does.
    pub fn smallest(&self, data: &Prepared) -> Result<(Vec<u32>, f64), HostSearchError> {
        let layers: Vec<&[u32]> = self.space.iter().map(|w| w.as_slice()).collect();
        let space = SearchSpace::new(&layers).map_err(HostSearchError::Space)?;
        let widths: Vec<u32> = (0..space.num_layers())
            .map(|l| space.choices(l).iter().copied().min().unwrap_or(0))
            .collect();
        let arch = space
            .arch_from_widths(&widths)
            .expect("each width is one of its layer's choices");
        let spec = data.supernet_spec(self.space.clone());
        spec.check_size().map_err(HostSearchError::Size)?;
        let cost =
            cost_model(self.resource, ffn_shape(&spec), self.latency.as_ref())?.cost(&space, &arch);
        Ok((widths, cost))
    }
}

/// The cost models' shape of a supernet (its size is checked: the widths fit `u32`).
pub(crate) fn ffn_shape(spec: &crate::supernet::SupernetSpec) -> FfnShape {
    FfnShape {
        input: spec.dense_width() as u32,
        output: spec.outputs as u32,
        biases: true,
    }
}
