//! The device commands of `tabnas-agent`: `search`, `measure` and `config`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use tabnas_agent::profile::{parse_profile, profile_beta};
use tabnas_bundle::{Bundle, NetShape};
use tabnas_core::formats::board::BoardConfig;
use tabnas_core::reward::RewardKind;

use super::defaults;
use tabnas_agent::{
    run_device_search_until, Bench, FakeProbe, LatencyProbe, Net, RunError, SearchOverrides,
    TractProbe,
};
use tabnas_core::space::{parse_widths, show_widths};
use tabnas_core::target::LatencyTarget;

use super::progress::Reporter;

/// Where the bundle and the board profile come from.
#[derive(Debug, Args)]
pub struct Sources {
    /// Bundle folder [default: the embedded demo bundle, models/higgs-demo].
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// Board profile: TOML, or packed by `config pack` [default: firmware-config/host.toml].
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Latency from a deterministic model of the network's size instead of measuring
    /// (dry runs and tests: `5 us + 0.001 us per multiply-accumulate`).
    #[arg(long)]
    pub fake_latency: bool,
    /// Measure with ONNX Runtime loaded from this libonnxruntime.so (build with
    /// `--features ort`) [default: $ORT_DYLIB_PATH when --ort is given].
    #[cfg(feature = "ort")]
    #[arg(long)]
    pub ort: bool,
    /// The ONNX Runtime library for --ort.
    #[cfg(feature = "ort")]
    #[arg(long)]
    pub ort_library: Option<PathBuf>,
}

impl Sources {
    pub(crate) fn bundle(&self) -> Result<Bundle> {
        match &self.bundle {
            Some(dir) => Bundle::load(dir)
                .with_context(|| format!("cannot load the bundle {}", dir.display())),
            None => defaults::demo_bundle().context(defaults::DEMO_BUNDLE_SOURCE),
        }
    }

    fn profile(&self) -> Result<BoardConfig> {
        Ok(self.profile_and_beta()?.0)
    }

    /// The profile and the penalty strength a `--reward` flag takes without `--beta`:
    /// the profile reward's own, else a TOML profile's `search.beta`, else 2.0.
    pub(crate) fn profile_and_beta(&self) -> Result<(BoardConfig, f64)> {
        let (config, toml_beta) = match &self.profile {
            None => (
                parse_profile(defaults::PROFILE_NAME, defaults::PROFILE_TOML)?,
                Some(profile_beta(defaults::PROFILE_TOML)),
            ),
            Some(p) => load_profile(p)?,
        };
        let beta = config
            .search
            .settings
            .reward
            .beta()
            .or(toml_beta)
            .unwrap_or(2.0);
        Ok((config, beta))
    }

    pub(crate) fn probe(&self, threads: u16) -> Result<Box<dyn LatencyProbe + Send>> {
        let _ = threads;
        #[cfg(feature = "ort")]
        if self.ort {
            let lib = self
                .ort_library
                .clone()
                .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
                .ok_or_else(|| {
                    anyhow::anyhow!("--ort needs --ort-library PATH or ORT_DYLIB_PATH")
                })?;
            return Ok(Box::new(tabnas_agent::OrtProbe::new(
                &lib,
                threads as usize,
            )?));
        }
        Ok(if self.fake_latency {
            Box::new(FakeProbe::new(5.0, 0.001))
        } else {
            Box::new(TractProbe::default())
        })
    }
}

impl Sources {
    /// The profile's TOML-only service settings (the token file); none for a packed
    /// profile or the default one.
    pub(crate) fn service_extras(&self) -> Result<tabnas_agent::profile::ServiceExtras> {
        match &self.profile {
            Some(p) if p.extension().is_some_and(|e| e == "toml") => {
                let bytes = tabnas_bundle::files::read_limited(p, MAX_TOML_PROFILE_BYTES)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                let text = String::from_utf8_lossy(&bytes);
                let mut extras = tabnas_agent::profile::service_extras(&text);
                // A relative token path is relative to the profile.
                if let Some(t) = extras.token_file.as_mut() {
                    if t.is_relative() {
                        *t = p.parent().unwrap_or(Path::new(".")).join(&*t);
                    }
                }
                Ok(extras)
            }
            _ => Ok(Default::default()),
        }
    }
}

/// A TOML profile is at most this long.
const MAX_TOML_PROFILE_BYTES: u64 = 1 << 20;

/// Loads a TOML or packed profile; with a TOML one, its `search.beta` too.
fn load_profile(path: &Path) -> Result<(BoardConfig, Option<f64>)> {
    let toml = path.extension().is_some_and(|e| e == "toml");
    let limit = if toml {
        MAX_TOML_PROFILE_BYTES
    } else {
        BoardConfig::MAX_ENCODED_LEN as u64
    };
    let bytes = tabnas_bundle::files::read_limited(path, limit)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if toml {
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))?;
        let config = parse_profile(&path.display().to_string(), &text)?;
        Ok((config, Some(profile_beta(&text))))
    } else {
        let config = BoardConfig::decode(&bytes)
            .with_context(|| format!("{} is not a usable packed board profile", path.display()))?;
        Ok((config, None))
    }
}

/// Flags of `tabnas-agent search`.
#[derive(Debug, Args)]
pub struct DeviceSearchArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Latency target in microseconds [default: the profile's, else derived from the space].
    #[arg(long, allow_negative_numbers = true)]
    pub target_us: Option<LatencyTarget>,
    /// Reward: rejection, abs, mnas-soft or mnas-hard [default: the profile's].
    #[arg(long, value_parser = super::kind_parser::<RewardKind>(&RewardKind::NAMES))]
    pub reward: Option<RewardKind>,
    /// Penalty strength for abs / mnas rewards [default: the profile's].
    #[arg(long)]
    pub beta: Option<f64>,
    /// Monte-Carlo samples N; 0 means exact P(V) [default: the profile's].
    #[arg(long)]
    pub n: Option<u16>,
    /// RL steps [default: the profile's].
    #[arg(long)]
    pub steps: Option<u32>,
    /// Seed [default: the profile's].
    #[arg(long)]
    pub seed: Option<u64>,
    /// The answer is the best validation loss among this many most probable feasible
    /// children that re-measures under the target; 1 gives the paper's answer (the most
    /// probable one) [default: the profile's].
    #[arg(long)]
    pub candidates: Option<u8>,
    /// Run folder: result.json, best.onnx, latency_table.json, checkpoint.json
    /// [default: runs/search-<target or auto>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the search checkpointed in --out.
    #[arg(long)]
    pub resume: bool,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
}

impl DeviceSearchArgs {
    /// The flags that change the profile's search.
    fn overrides(&self) -> SearchOverrides {
        SearchOverrides {
            target: self.target_us,
            reward: self.reward,
            beta: self.beta,
            n: self.n,
            steps: self.steps,
            seed: self.seed,
            candidates: self.candidates,
            settings: None,
        }
    }
}

/// Runs `tabnas-agent search`.
pub fn search(args: &DeviceSearchArgs) -> Result<()> {
    let (profile, profile_beta) = args.sources.profile_and_beta()?;
    let bundle = args.sources.bundle()?;
    let (options, applied) = args
        .overrides()
        .apply(&profile, profile_beta)
        .map_err(|e| match e.field() {
            Some(field) => anyhow::anyhow!("--{field} {e}"),
            None => anyhow::anyhow!("{e}"),
        })?;
    if let Some(kind) = applied.beta_ignored {
        eprintln!("note: --beta has no effect with the {} reward", kind.name());
    }
    let target_us = options.target_us;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "runs/search-{}",
            target_us.map_or("auto".to_string(), |t| format!("{t}us"))
        ))
    });
    let mut probe = args.sources.probe(profile.measurement.threads)?;
    out!(
        "tabnas-agent search: bundle {} ({}), profile {}, runtime {}, run folder {}",
        bundle.manifest.name,
        &bundle.hash[..12],
        profile.name,
        probe.runtime(),
        out.display()
    );
    let mut reporter = Reporter::new(args.quiet);
    let signals = super::signals::StopOnSignal::install()?;
    let result = run_device_search_until(
        &bundle,
        probe.as_mut(),
        &options,
        &out,
        args.resume,
        &mut |p| reporter.show(p),
        &signals.stop,
    );
    reporter.finish();
    if let (Some(signal), Err(RunError::Stopped { dir, step })) = (signals.received(), &result) {
        let again = format!(
            "tabnas-agent search --resume --out {} (with the same flags)",
            dir.display()
        );
        let message = if *step == 0 {
            format!(
                "stopped before the first controller step; the latency measurements saved in \
                 {} are reused by {again}",
                dir.display()
            )
        } else {
            format!(
                "stopped at step {step}, checkpoint saved in {}; {again} continues it",
                dir.display()
            )
        };
        return Err(super::signals::Stopped { signal, message }.into());
    }
    let r = result?;
    print_result(&r, &out);
    Ok(())
}

/// The summary of a finished search: the answer, the rule that chose it, the paper's
/// answer, the verification, the prediction check, the machine's load and the times.
fn print_result(r: &tabnas_agent::DeviceResult, out: &Path) {
    out!(
        "best {}: {:.1} us measured ({:?} of {} samples x {} calls, cv {:.3}) <= target {:.1} us; \
         predicted {:.1} us ({} model, held-out error {}); validation loss {:.4}; {} params",
        show_widths(&r.architecture),
        r.latency_us,
        r.protocol.statistic,
        r.latency.samples_us.len(),
        r.latency.calls_per_sample,
        r.latency.cv,
        r.target_us,
        r.predicted_latency_us,
        r.table.model.as_ref().map_or("no", |m| m.form.name()),
        tabnas_agent::latency_model::show_holdout_error(r.model_error),
        r.validation_loss,
        r.params
    );
    out!("answer: {}", r.answer_rule);
    if r.paper_answer.widths != r.architecture {
        out!(
            "the paper's answer (most probable feasible, p = {:.3}) is {}: validation loss {:.4}, \
             predicted {:.1} us",
            r.paper_answer.probability,
            show_widths(&r.paper_answer.widths),
            r.paper_answer.validation_loss,
            r.paper_answer.predicted_us
        );
    }
    out!(
        "verified in {} samples (sequential decision; the fixed protocol takes {}); {} tightenings; \
         noise floor {}",
        r.decision.samples,
        r.decision.fixed_samples,
        r.tightenings.len(),
        r.noise_floor.map_or("not measured".to_string(), |n| format!(
            "{:.1}% (drift {:+.1}%)",
            100.0 * n.cv,
            100.0 * n.drift
        ))
    );
    if let Some(p) = &r.prediction {
        out!(
            "prediction check: {:.2} us predicted, {:.2} us measured ({:+.1}%; {})",
            p.predicted_us,
            p.measured_us,
            100.0 * p.error,
            match p.within {
                Some(true) => format!(
                    "within the model's stated error of {:.1}%",
                    100.0 * p.stated_error
                ),
                Some(false) => format!(
                    "OUTSIDE the model's stated error of {:.1}%",
                    100.0 * p.stated_error
                ),
                None => "the model held no child out to state an error".to_string(),
            }
        );
    }
    if let Some(load) = &r.load {
        out!("machine: {}", load.describe());
    }
    out!(
        "time: table {:.1} s, quality {:.1} s, RL {:.1} s (checkpoints {:.2} s), verification {:.1} s; \
         quality cache {} hits / {} misses",
        r.timings.table_s,
        r.timings.quality_s,
        r.timings.rl_s,
        r.timings.checkpoint_s,
        r.timings.verify_s,
        r.quality_cache.0,
        r.quality_cache.1
    );
    out!(
        "wrote {dir}/result.json, {dir}/best.onnx, {dir}/trace.jsonl and {dir}/latency_model.svg",
        dir = out.display()
    );
}

/// Flags of `tabnas-agent measure`.
#[derive(Debug, Args)]
pub struct MeasureArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Hidden widths of the child, e.g. 64-24-24.
    #[arg(long)]
    pub widths: String,
    /// Only decide whether the latency is at most this target (sequential decision).
    #[arg(long, allow_negative_numbers = true)]
    pub target_us: Option<LatencyTarget>,
    /// Correct the timings to the reference speed of this latency table (a run folder's
    /// `latency_table.json`), so that they compare with the run's claims even when the
    /// machine is slowed now.
    #[arg(long, value_name = "FILE")]
    pub table: Option<std::path::PathBuf>,
}

/// Runs `tabnas-agent measure`.
pub fn measure(args: &MeasureArgs) -> Result<()> {
    let profile = args.sources.profile()?;
    let bundle = args.sources.bundle()?;
    let widths: Vec<usize> = parse_widths(&args.widths)
        .with_context(|| format!("--widths {:?}", args.widths))?
        .iter()
        .map(|&w| w as usize)
        .collect();
    let model = bundle.child_model(&widths)?;
    let mut probe = args.sources.probe(profile.measurement.threads)?;
    let shape = NetShape::of(&bundle.manifest);
    let p = profile.measurement;
    if let Some(cpu) = p.pin_cpu {
        tabnas_agent::pin_current_thread(cpu as usize)?;
    }
    let label = format!("child {}", args.widths);
    let net = Net {
        label: &label,
        model: &model,
        shape,
    };
    let mut bench = Bench::new(probe.as_mut(), p, 0).with_reference_of(&bundle);
    if let Some(path) = &args.table {
        bench.at_reference_speed(table_reference_speed(path, &bundle)?)?;
    }
    match args.target_us {
        Some(t) => {
            let d = bench.decide(net, t.us())?;
            out!("{}", serde_json::to_string_pretty(&d)?);
            out!(
                "{} is {} the target {t} us ({:?} {:.1} us, bound [{:.1}, {:.1}]) after {} samples; \
                 the fixed protocol takes {}",
                args.widths,
                if d.feasible { "within" } else { "over" },
                p.statistic,
                d.latency_us,
                d.lower_us,
                d.upper_us,
                d.samples,
                d.fixed_samples
            );
        }
        None => {
            let m = tabnas_agent::confirm::confirm(&mut bench, net)?;
            out!("{}", serde_json::to_string_pretty(&m)?);
        }
    }
    if let Some(n) = bench.noise_floor() {
        out!(
            "noise floor: {:.1}% (cv of the reference network); timings corrected to its \
             speed of {:.3} us per call{}",
            100.0 * n.cv,
            n.reference_us,
            args.table
                .as_ref()
                .map_or(String::new(), |t| format!(" (from {})", t.display()))
        );
    }
    Ok(())
}

/// The reference speed a latency table of `bundle` was measured at (the reference network
/// is the bundle's, so a table of another bundle says nothing about it).
fn table_reference_speed(path: &std::path::Path, bundle: &tabnas_bundle::Bundle) -> Result<f64> {
    let what = || format!("--table {}", path.display());
    let table: tabnas_agent::latency_table::TableFile = tabnas_agent::atomic_file::read_json(path)
        .with_context(what)?
        .with_context(|| format!("{}: no such file", what()))?;
    if table.bundle_hash != bundle.hash {
        bail!(
            "{}: the table was measured for bundle {}, not for this bundle ({}); measure \
             with the run's --bundle",
            what(),
            table.bundle_hash,
            bundle.hash
        );
    }
    table
        .noise_floor
        .map(|n| n.reference_us)
        .filter(|us| us.is_finite() && *us > 0.0)
        .with_context(|| format!("{}: the table records no reference speed", what()))
}

/// `tabnas-agent config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a TOML profile and write its packed form.
    Pack {
        /// The TOML profile.
        profile: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Decode a packed (or TOML) profile, validate it and print it as JSON.
    Show {
        /// The profile.
        profile: PathBuf,
    },
}

/// Runs `tabnas-agent config`.
pub fn config(cmd: ConfigCommand) -> Result<()> {
    match cmd {
        ConfigCommand::Pack { profile, out } => {
            let same = |a: &Path, b: &Path| {
                a.canonicalize()
                    .ok()
                    .is_some_and(|a| Some(a) == b.canonicalize().ok())
            };
            if same(&profile, &out) {
                bail!(
                    "--out {} is the profile itself; write the packed form to another file",
                    out.display()
                );
            }
            let (config, _) = load_profile(&profile)?;
            let mut buf = [0u8; BoardConfig::MAX_ENCODED_LEN];
            let bytes = config.encode(&mut buf)?;
            tabnas_bundle::files::write_atomic(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            out!(
                "wrote {} ({} bytes) for board {}",
                out.display(),
                bytes.len(),
                config.name
            );
        }
        ConfigCommand::Show { profile } => {
            let (config, _) = load_profile(&profile)?;
            out!("{}", serde_json::to_string_pretty(&config)?);
        }
    }
    Ok(())
}
