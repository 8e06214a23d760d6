//! Where a measurement was taken: CPU, cores, OS, runtime, agent version and bundle.

use serde::{Deserialize, Serialize};

use crate::error::PinError;

/// The machine and software a result was measured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// CPU model (from /proc/cpuinfo where available).
    pub cpu: String,
    /// Logical CPUs the OS reports.
    pub logical_cpus: usize,
    /// `os-arch`, e.g. `linux-aarch64`.
    pub platform: String,
    /// Inference runtime and version.
    pub runtime: String,
    /// Agent version.
    pub agent: String,
    /// SHA-256 of the bundle's files.
    pub bundle_hash: String,
}

impl Environment {
    /// Reads this machine's facts.
    pub fn here(runtime: String, bundle_hash: String) -> Self {
        Self {
            cpu: cpu_model(),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            platform: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            runtime,
            agent: format!("tabnas-agent {}", env!("CARGO_PKG_VERSION")),
            bundle_hash,
        }
    }
}

fn cpu_model() -> String {
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        return "unknown".into();
    };
    // x86: "model name"; ARM: "Model" (board) or "CPU part".
    for key in ["model name", "Model", "Hardware", "CPU part"] {
        if let Some(line) = info.lines().find(|l| l.starts_with(key)) {
            if let Some((_, v)) = line.split_once(':') {
                return v.trim().to_string();
            }
        }
    }
    "unknown".into()
}

/// Pins the calling thread to `cpu` (Linux); a clear error elsewhere or for a bad CPU.
pub fn pin_current_thread(cpu: usize) -> Result<(), PinError> {
    let ids = core_affinity::get_core_ids().ok_or(PinError::NoCpuIds)?;
    let id = ids
        .into_iter()
        .find(|c| c.id == cpu)
        .ok_or(PinError::NoSuchCpu { cpu })?;
    if core_affinity::set_for_current(id) {
        Ok(())
    } else {
        Err(PinError::Refused { cpu })
    }
}
