//! The end of a host search run (`tabnas search`): the stand-alone references trained,
//! the bundle's manifest filled, and the run folder written (`result.json`, `trace.svg`,
//! `bundle/`).
//!
//! Nothing is written before everything is computed: only then is an earlier run moved
//! aside ([`RunFolder::set_aside`]) and the new one written, so that a failed run leaves
//! the folder as it was.

use std::fmt;
use std::path::PathBuf;

use tabnas_bundle::{Manifest, Provenance, ReferenceLoss};

use crate::export::{manifest_for, valid_set, write_bundle, ExportError};
use crate::host_search::{render_trace_svg, HostSearchRun, PlotError, SearchResult};
use crate::prepare::Prepared;
use crate::reference::{train_reference, ReferenceError, ReferenceOptions, ReferenceResult};
use crate::run_folder::{RunFolder, RunFolderError, SetAside};

/// Files of a host run folder, moved to `previous-N/` when a new run writes the folder.
pub const RUN_FILES: [&str; 3] = ["result.json", "trace.svg", "bundle"];

/// How to finish a search run.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalizePlan {
    /// The bundle's name.
    pub name: String,
    /// The training provenance the manifest records.
    pub provenance: Provenance,
    /// Architectures trained stand-alone after the search, in order (`None`: the found
    /// one).
    pub references: Vec<Option<Vec<u32>>>,
    /// How each reference is trained.
    pub reference: ReferenceOptions,
    /// Validation rows kept in the bundle's `valid.bin`.
    pub bundle_valid_rows: usize,
}

/// What finishing tells as it goes, in order.
#[derive(Debug, Clone, Copy)]
pub enum FinalizeEvent<'a> {
    /// A reference was trained.
    Reference(&'a ReferenceResult),
    /// An earlier run's files were moved aside.
    SetAside(&'a SetAside),
}

/// Where a finished run was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// `result.json`.
    pub result: PathBuf,
    /// `trace.svg`.
    pub trace: PathBuf,
    /// The bundle's folder.
    pub bundle: PathBuf,
    /// The bundle's hash (sha256, hex).
    pub hash: String,
}

/// Why a run could not be finished. Each variant is what failed, worded as it words
/// itself (its message and sources are the wrapped error's).
#[derive(Debug)]
#[non_exhaustive]
pub enum FinalizeError {
    /// A stand-alone reference could not be trained.
    Reference(ReferenceError),
    /// The trace could not be plotted.
    Plot(PlotError),
    /// The result could not be serialised.
    Json(serde_json::Error),
    /// The run folder could not be written.
    Folder(RunFolderError),
    /// The bundle could not be written.
    Export(ExportError),
}

impl FinalizeError {
    /// The wrapped error.
    fn inner(&self) -> &(dyn std::error::Error + 'static) {
        match self {
            Self::Reference(e) => e,
            Self::Plot(e) => e,
            Self::Json(e) => e,
            Self::Folder(e) => e,
            Self::Export(e) => e,
        }
    }
}

impl fmt::Display for FinalizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner(), f)
    }
}

impl std::error::Error for FinalizeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner().source()
    }
}

/// Trains the plan's references, then writes the run folder: `result.json`, `trace.svg`
/// and the bundle of `run`'s supernet, whose manifest records the found architecture's
/// shared-weight test loss and each reference's. `event` hears of each reference trained
/// and of an earlier run moved aside.
pub fn finalize(
    folder: &RunFolder,
    data: &Prepared,
    run: &HostSearchRun,
    plan: &FinalizePlan,
    mut event: impl FnMut(FinalizeEvent<'_>),
) -> Result<Written, FinalizeError> {
    let references = train_references(data, &run.result, plan, &mut event)?;
    let manifest = manifest_for(
        &plan.name,
        data,
        &run.supernet,
        plan.provenance.clone(),
        references,
    );
    let svg = render_trace_svg(&run.result).map_err(FinalizeError::Plot)?;
    // All is computed: only now is an earlier run moved aside and the new one written,
    // so that a failed run leaves the folder as it was.
    if let Some(moved) = folder
        .set_aside(&RUN_FILES)
        .map_err(FinalizeError::Folder)?
    {
        event(FinalizeEvent::SetAside(&moved));
    }
    write_run(folder, data, run, plan, &manifest, &svg)
}

/// The manifest's reference losses: the found architecture's with the shared weights,
/// then each of the plan's references trained stand-alone.
fn train_references(
    data: &Prepared,
    result: &SearchResult,
    plan: &FinalizePlan,
    event: &mut impl FnMut(FinalizeEvent<'_>),
) -> Result<Vec<ReferenceLoss>, FinalizeError> {
    let mut references = vec![ReferenceLoss {
        widths: result.architecture.clone(),
        params: result.params,
        loss: result.test_loss,
        method: "shared-weights".into(),
        split: "test".into(),
    }];
    for widths in &plan.references {
        let widths = widths
            .clone()
            .unwrap_or_else(|| result.architecture.clone());
        let r = train_reference(data, &widths, plan.reference).map_err(FinalizeError::Reference)?;
        event(FinalizeEvent::Reference(&r));
        references.push(ReferenceLoss {
            widths: r.widths,
            params: r.params,
            loss: r.test_loss,
            method: "stand-alone".into(),
            split: "test".into(),
        });
    }
    Ok(references)
}

/// Writes `result.json`, `trace.svg` and the bundle into `folder`.
fn write_run(
    folder: &RunFolder,
    data: &Prepared,
    run: &HostSearchRun,
    plan: &FinalizePlan,
    manifest: &Manifest,
    svg: &str,
) -> Result<Written, FinalizeError> {
    let json = serde_json::to_vec_pretty(&run.result).map_err(FinalizeError::Json)?;
    let result = folder
        .write("result.json", &json)
        .map_err(FinalizeError::Folder)?;
    let trace = folder
        .write("trace.svg", svg.as_bytes())
        .map_err(FinalizeError::Folder)?;
    let bundle = folder.subfolder("bundle").map_err(FinalizeError::Folder)?;
    let hash = write_bundle(
        &bundle,
        manifest,
        &run.supernet,
        &valid_set(&data.valid, plan.bundle_valid_rows),
    )
    .map_err(FinalizeError::Export)?;
    Ok(Written {
        result,
        trace,
        bundle,
        hash,
    })
}
