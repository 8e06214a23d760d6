//! Latency measured with ONNX Runtime (feature `ort`), for users who deploy with it.
//! The library is loaded at run time (`load-dynamic`): pass the path of a
//! `libonnxruntime.so` (for example from the PyPI `onnxruntime` wheel,
//! `onnxruntime/capi/libonnxruntime.so.<version>`), or set `ORT_DYLIB_PATH`.

use std::path::Path;
use std::time::Instant;

use ort::session::Session;
use ort::value::Tensor;
use tract_onnx::pb::ModelProto;

use crate::error::ProbeError;
use crate::LatencyProbe;
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
    session: Option<Session>,
    shape: NetShape,
    batch: usize,
    library: String,
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
            session: None,
            shape: NetShape {
                numeric: 0,
                categorical: 0,
                outputs: 0,
            },
            batch: 1,
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
    ) -> Result<(), ProbeError> {
        let bytes = encode_model(model);
        let session = Session::builder(&self.env)
            .map_err(err("session"))?
            .with_intra_threads(self.threads)
            .map_err(err("session threads"))?
            .with_inter_threads(1)
            .map_err(err("session threads"))?
            .commit_from_memory(&bytes)
            .map_err(err("ONNX Runtime could not load the model"))?;
        self.session = Some(session);
        self.shape = shape;
        self.batch = batch.max(1);
        Ok(())
    }

    fn run_once(&mut self) -> Result<f64, ProbeError> {
        let (b, s) = (self.batch, self.shape);
        let session = self.session.as_mut().ok_or(ProbeError::NotLoaded)?;
        let numeric = Tensor::from_array(([b, s.numeric], vec![0.5f32; b * s.numeric]))
            .map_err(err("numeric input"))?;
        let t;
        if s.categorical > 0 {
            let cat = Tensor::from_array(([b, s.categorical], vec![1i64; b * s.categorical]))
                .map_err(err("categorical input"))?;
            t = Instant::now();
            let out = session
                .run(ort::inputs![numeric, cat])
                .map_err(err("run"))?;
            std::hint::black_box(&out);
        } else {
            t = Instant::now();
            let out = session.run(ort::inputs![numeric]).map_err(err("run"))?;
            std::hint::black_box(&out);
        }
        Ok(t.elapsed().as_secs_f64() * 1e6)
    }

    fn runtime(&self) -> String {
        format!("onnxruntime (ort 2.0.0-rc.15, {})", self.library)
    }
}
