//! Latency measured with ONNX Runtime (feature `ort`), for users who deploy with it.
//! The library is loaded at run time (`load-dynamic`): pass the path of a
//! `libonnxruntime.so` (for example from the PyPI `onnxruntime` wheel,
//! `onnxruntime/capi/libonnxruntime.so.<version>`), or set `ORT_DYLIB_PATH`.

use std::path::Path;
use std::time::Instant;

use ort::session::Session;
use ort::value::Tensor;
use tract_onnx::pb::ModelProto;

use crate::probe::ProbeError;
use crate::probe::{LatencyProbe, NetId};
use tabnas_bundle::{encode_model, NetShape};

fn err<E: std::fmt::Display>(stage: &str) -> impl Fn(E) -> ProbeError + '_ {
    move |e| ProbeError::Runtime {
        runtime: "ONNX Runtime",
        stage: stage.to_string(),
        detail: e.to_string(),
    }
}

/// Times ONNX Runtime inferences with a monotonic clock.
pub struct OrtProbe {
    env: ort::environment::Environment,
    threads: usize,
    sessions: Vec<Loaded>,
    library: String,
}

/// One network loaded in ONNX Runtime, with its input tensors.
struct Loaded {
    session: Session,
    numeric: Tensor<f32>,
    categorical: Option<Tensor<i64>>,
}

impl std::fmt::Debug for OrtProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtProbe")
            .field("library", &self.library)
            .finish()
    }
}

impl OrtProbe {
    /// Loads ONNX Runtime from `library`; sessions use `threads` intra-op threads.
    pub fn new(library: &Path, threads: usize) -> Result<Self, ProbeError> {
        if !library.exists() {
            return Err(ProbeError::Runtime {
                runtime: "ONNX Runtime",
                stage: format!("library {}", library.display()),
                detail: "not found (pip install onnxruntime; the library is \
                         onnxruntime/capi/libonnxruntime.so.* in the package)"
                    .into(),
            });
        }
        let env = ort::init_from(library)
            .map_err(|e| ProbeError::Runtime {
                runtime: "ONNX Runtime",
                stage: format!("cannot load {}", library.display()),
                detail: e.to_string(),
            })?
            .with_name("tabnas")
            .build()
            .map_err(err("ONNX Runtime environment"))?;
        Ok(Self {
            env,
            threads: threads.max(1),
            sessions: Vec::new(),
            library: library.display().to_string(),
        })
    }
}

impl LatencyProbe for OrtProbe {
    fn load(
        &mut self,
        model: &ModelProto,
        shape: NetShape,
        batch: usize,
    ) -> Result<NetId, ProbeError> {
        let bytes = encode_model(model);
        let session = Session::builder(&self.env)
            .map_err(err("session"))?
            .with_intra_threads(self.threads)
            .map_err(err("session threads"))?
            .with_inter_threads(1)
            .map_err(err("session threads"))?
            .commit_from_memory(&bytes)
            .map_err(err("ONNX Runtime could not load the model"))?;
        let b = batch.max(1);
        let numeric = Tensor::from_array(([b, shape.numeric], vec![0.5f32; b * shape.numeric]))
            .map_err(err("numeric input"))?;
        let categorical = if shape.categorical > 0 {
            Some(
                Tensor::from_array(([b, shape.categorical], vec![1i64; b * shape.categorical]))
                    .map_err(err("categorical input"))?,
            )
        } else {
            None
        };
        self.sessions.push(Loaded {
            session,
            numeric,
            categorical,
        });
        Ok(NetId(self.sessions.len() - 1))
    }

    fn time(&mut self, net: NetId, calls: u32) -> Result<f64, ProbeError> {
        let loaded = self.sessions.get_mut(net.0).ok_or(ProbeError::NotLoaded)?;
        let t = Instant::now();
        for _ in 0..calls {
            let out = match &loaded.categorical {
                Some(cat) => loaded
                    .session
                    .run(ort::inputs![&loaded.numeric, cat])
                    .map_err(err("run"))?,
                None => loaded
                    .session
                    .run(ort::inputs![&loaded.numeric])
                    .map_err(err("run"))?,
            };
            std::hint::black_box(&out);
        }
        Ok(t.elapsed().as_secs_f64() * 1e6)
    }

    fn clear(&mut self) {
        self.sessions.clear();
    }

    fn runtime(&self) -> String {
        format!("onnxruntime (ort 2.0.0-rc.15, {})", self.library)
    }
}
