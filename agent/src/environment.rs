//! Where a measurement was taken: CPU, cores, OS, runtime, agent version and bundle.

use serde::{Deserialize, Serialize};

use std::fmt;

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

/// The measuring thread could not be pinned to a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinError {
    /// The platform does not report CPU ids.
    NoCpuIds,
    /// `measurement.pin_cpu` names a CPU that does not exist here.
    NoSuchCpu {
        /// The CPU asked for.
        cpu: usize,
    },
    /// The OS refused.
    Refused {
        /// The CPU asked for.
        cpu: usize,
    },
}

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCpuIds => f.write_str("this platform does not report CPU ids"),
            Self::NoSuchCpu { cpu } => {
                write!(f, "measurement.pin_cpu: CPU {cpu} does not exist here")
            }
            Self::Refused { cpu } => {
                write!(f, "could not pin the measuring thread to CPU {cpu}")
            }
        }
    }
}

impl std::error::Error for PinError {}
