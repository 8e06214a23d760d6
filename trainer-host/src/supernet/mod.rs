//! The weight-sharing supernet and its training, on the CPU.
//!
//! * [`model`] holds the parameters at the largest widths and runs any child by
//!   leading-units slicing (strided blocks of the shared matrices, no copies), forward
//!   and backward, in buffers kept between steps.
//! * [`kernels`] multiplies row-major blocks on the kernel chosen for this CPU at run
//!   time (AVX-512, AVX2/FMA, NEON) and owns the thread count.
//! * [`adam`] is the optimizer of the shared weights.
//! * [`batch`] assembles seeded mini-batches from encoded rows.
//! * [`row_file`] keeps training rows in a file, for data larger than memory.
//! * [`train_rows`] is the training split, in memory or in a row file.
//! * [`size`] bounds the parameters and batch activations before anything is allocated.
//!
//! Its forward pass is the graph of the bundle's ONNX file: `tests` in the workspace
//! check that tract's output equals [`model::Supernet::forward`] within 1e-5.

pub mod adam;
pub mod batch;
pub mod kernels;
pub mod model;
pub mod row_file;
pub mod size;
pub mod train_rows;

pub use adam::AdamW;
pub use batch::{Batch, LabelSummary, Rows};
pub use model::{Supernet, SupernetSpec, WeightsError};
pub use row_file::{RowFile, RowFileError, RowFileWriter};
pub use size::{SizeError, MAX_BATCH, MAX_BATCH_VALUES, MAX_PARAMS};
pub use train_rows::TrainRows;
