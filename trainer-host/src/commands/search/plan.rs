//! What `tabnas search` runs, made from its flags: the data read, the board's latencies
//! fetched, the search's options and the references, every one checked before the run
//! folder is touched; then the phases that need the flags' wording (the search with its
//! progress, the answer checked on the board, the failure of an infeasible run).

use anyhow::{bail, Context, Result};
use tabnas_bundle::Provenance;
use tabnas_trainer::finalize::{FinalizePlan, Written};
use tabnas_trainer::host_search::{
    run_host_search, DeviceLatency, Guards, HostResource, HostSearchOptions, HostSearchRun,
    SearchResult,
};
use tabnas_trainer::prepare::Prepared;
use tabnas_trainer::reference::ReferenceOptions;

use super::super::args::widths_flag;
use super::super::latency_from;
use super::super::progress::Reporter;
use super::super::run_folder::recorded_command_line;
use super::{word, SearchArgs};

/// A search made from its flags, checked.
pub(super) struct Plan {
    /// The prepared data.
    pub(super) data: Prepared,
    /// The search's options.
    options: HostSearchOptions,
    /// `--reference` architectures, in order (`None`: the found one).
    references: Vec<Option<Vec<u32>>>,
    /// The initialisation seed.
    init_seed: u64,
    /// The board agent's token (HTTP), to check the answer on the board.
    board_token: Option<String>,
}

impl Plan {
    /// Reads the data and the board's latencies and checks everything the search and the
    /// references would refuse, worded as the flags at fault.
    pub(super) fn new(args: &SearchArgs) -> Result<Self> {
        let space = args.space.space()?;
        let settings = args.reward.settings();
        let mut references = Vec::new();
        for r in &args.references {
            references.push(if r == "found" {
                None
            } else {
                Some(widths_flag("--reference", r)?)
            });
        }
        let (split_seed, init_seed) = args.seeds.resolve();
        let data = args.data.prepare(split_seed, args.space.embedding_dim())?;
        let (resource, latency, board_token) = board_latency(args, &data, &space)?;
        let options = HostSearchOptions {
            space,
            resource,
            target: args.target,
            settings,
            steps: args.steps,
            warmup_fraction: args.warmup,
            batch: args.train.batch,
            valid_batch: args.valid_batch,
            learning_rate: args.train.lr,
            seed: init_seed,
            snapshots: 50,
            guards: Guards {
                weight_decay: args.train.weight_decay,
                eval_every: args.eval_every,
                patience: args.patience,
                max_resamples: args.max_resamples,
            },
            latency,
        };
        // Everything the search would refuse is refused before the folder is touched.
        options.check(&data).map_err(|e| word(e, args))?;
        for (text, widths) in args.references.iter().zip(&references) {
            if let Some(widths) = widths {
                let spec = data.supernet_spec(widths.iter().map(|&w| vec![w]).collect());
                spec.check_size()
                    .and_then(|()| spec.check_batch(args.train.batch))
                    .with_context(|| format!("--reference {text:?}"))?;
            }
        }
        Ok(Self {
            data,
            options,
            references,
            init_seed,
            board_token,
        })
    }

    /// Runs the search, with its progress bar or lines.
    pub(super) fn search(&self, args: &SearchArgs) -> Result<HostSearchRun> {
        let mut progress = Reporter::new("search", args.steps as u64, args.quiet);
        let run = run_host_search(&self.data, &self.options, |step, _, point| {
            progress.at(step as u64, || match point {
                Some(p) => format!(
                    "sample {:?} {} loss {} P(V) {}",
                    p.arch,
                    if p.feasible { "ok" } else { "rejected" },
                    p.loss.map_or("-".into(), |l| format!("{l:.4}")),
                    p.pv.map_or("-".into(), |v| format!("{v:.3}"))
                ),
                None => "warm-up".into(),
            });
        })
        .map_err(|e| word(e, args))?;
        progress.finish();
        Ok(run)
    }

    /// Hardware in the loop: the board measures the answer the host picked from its
    /// table, so the result states what the board says, not only what the table
    /// predicted (a warning when the board misses the target or cannot measure).
    pub(super) fn check_on_board(&self, args: &SearchArgs, result: &mut SearchResult) {
        let (Some(device), true) = (&args.latency_from, result.feasible) else {
            return;
        };
        let (widths, cost, target) = (result.architecture.clone(), result.cost, result.target);
        let token = self.board_token.clone();
        match latency_from::verify_on_board(device, token, &widths, cost, target) {
            Ok(check) => {
                result.board_check = Some(check);
                if !check.meets_target {
                    result.warnings.push(format!(
                        "the board measured the answer at {:.1} us, over the target {target} us \
                         (the table predicted {:.1} us): the board's table is optimistic at this \
                         size; search again with a lower --target or --latency-mode measured",
                        check.measured_us, check.predicted_us
                    ));
                }
            }
            // The search itself stands on the board's table; a board that cannot measure
            // now (busy, or a measurement over HTTP without --token-file) is said so.
            Err(e) => result.warnings.push(format!(
                "the board did not measure the answer, so only its table's prediction stands: \
                 {e:#}"
            )),
        }
    }

    /// What the library finishes the run with: the bundle's name and provenance, the
    /// references and how they are trained.
    pub(super) fn finalize_plan(&self, args: &SearchArgs) -> FinalizePlan {
        let data = &self.data;
        FinalizePlan {
            name: args.name.clone().unwrap_or_else(|| data.name.clone()),
            provenance: Provenance {
                dataset: data.name.clone(),
                rows: [data.train.rows(), data.valid.rows, data.test.rows],
                seed: self.init_seed,
                steps: args.steps,
                batch: args.train.batch,
                learning_rate: args.train.lr as f64,
                command: recorded_command_line("tabnas"),
                producer: format!("tabnas-trainer {}", env!("CARGO_PKG_VERSION")),
            },
            references: self.references.clone(),
            reference: ReferenceOptions {
                steps: args.reference_steps,
                batch: args.train.batch,
                learning_rate: args.train.lr,
                weight_decay: args.train.weight_decay,
                seed: self.init_seed,
                eval_every: 100,
                patience: 10,
            },
            bundle_valid_rows: args.bundle_valid_rows,
        }
    }

    /// Fails a run whose answer misses the target, naming the smallest architecture and
    /// its cost. Everything is written for inspection; the run still failed its one
    /// purpose.
    pub(super) fn fail_if_infeasible(
        &self,
        args: &SearchArgs,
        result: &SearchResult,
        written: &Written,
    ) -> Result<()> {
        if result.feasible {
            return Ok(());
        }
        let (smallest, cost) = self
            .options
            .smallest(&self.data)
            .map_err(|e| word(e, args))?;
        bail!(
            "no architecture meets --target {} ({res}): the smallest, {smallest:?}, costs \
             {cost:.0} {res}; raise --target to at least {cost:.0} or add smaller widths to \
             --space. Written anyway, for inspection: {} (feasible: false), trace.svg and the \
             bundle {}, whose supernet is valid for a search under another target",
            args.target,
            written.result.display(),
            written.bundle.display(),
            res = result.resource,
        );
    }
}

/// The resource the target limits, the board's latencies and its token: with
/// `--latency-from`, the board's latencies are fetched (and said so) and the target is
/// in microseconds.
fn board_latency(
    args: &SearchArgs,
    data: &Prepared,
    space: &[Vec<u32>],
) -> Result<(HostResource, Option<DeviceLatency>, Option<String>)> {
    let Some(device) = &args.latency_from else {
        if args.resource == HostResource::LatencyUs {
            bail!("--resource latency-us needs --latency-from DEVICE (a board's agent)")
        }
        return Ok((args.resource, None, None));
    };
    if args.resource == HostResource::Flops {
        bail!("--latency-from limits latency: leave out --resource flops");
    }
    let token =
        tabnas_link::token::host_token(args.token_file.as_deref()).map_err(anyhow::Error::msg)?;
    let spec = data.supernet_spec(space.to_vec());
    let l = latency_from::fetch(
        device,
        token.clone(),
        space,
        (spec.dense_width(), spec.outputs),
        args.latency_mode,
    )?;
    println!(
        "latency from {} (board {}, runtime {}): {} {}; --target is {} us",
        l.source.device,
        l.source.board,
        l.source.runtime,
        l.source.measurements,
        if l.source.mode == "table" {
            "table entries"
        } else {
            "children measured"
        },
        args.target
    );
    Ok((HostResource::LatencyUs, Some(l), token))
}
