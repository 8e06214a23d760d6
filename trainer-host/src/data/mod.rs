//! Tabular data: loading (generic CSV, Criteo's format, presets for the real datasets of
//! `docs/data.md`), a seeded train / validation / test split, and preprocessing whose fitted
//! parameters are recorded so that the agent reproduces model inputs exactly.
//!
//! Every loader goes through one checked path per format: a malformed file gives a
//! [`DataError`] that names the file, the line and the field, never a panic. Reading is
//! bounded (a line of at most [`MAX_LINE_BYTES`]), and an error quotes at most
//! [`QUOTE_CHARS`] characters of any input text.

mod criteo;
mod criteo_form;
mod csv_options;
mod csv_source;
mod error;
mod label;
mod limit;
mod preprocess;
mod preset_load;
mod presets;
mod quote;
mod split;
mod table;
mod task;

pub use criteo::{
    for_each_criteo_row, read_criteo, CriteoRow, CRITEO_CAT_FIELDS, CRITEO_INT_FIELDS,
};
pub use criteo_form::CriteoForm;
pub use csv_options::{ColumnRef, CsvOptions};
pub use csv_source::{read_csv, CsvLayout, CsvRow, CsvRows};
pub use error::{ColumnRole, DataError};
pub(crate) use label::{LabelCollector, LabelMap};
pub use limit::MAX_LINE_BYTES;
pub use preprocess::{
    fnv1a64, CategoricalColumn, Encoded, NumericColumn, NumericStats, PreprocessOptions,
    Preprocessing,
};
pub use presets::{Preset, PresetFiles};
pub use quote::{Quoted, QuotedList, QUOTE_CHARS, QUOTE_ITEMS};
pub use split::{split_rows, Split, SplitError};
pub use table::RawTable;
pub use task::{LabelKind, Task, MAX_CLASSES};
