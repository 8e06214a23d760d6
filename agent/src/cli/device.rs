//! The device commands of `tabnas-agent`: `search`, `measure` and `config`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use tabnas_agent::profile::parse_profile;
use tabnas_bundle::{Bundle, NetShape};
use tabnas_core::formats::board::BoardConfig;
use tabnas_core::reward::RewardKind;

use super::defaults;
use tabnas_agent::{
    run_device_search, Bench, DeviceSearchOptions, FakeProbe, LatencyProbe, Net, TractProbe,
};
use tabnas_core::search::PvMode;
use tabnas_core::space::{parse_widths, show_widths};

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
    fn bundle(&self) -> Result<Bundle> {
        match &self.bundle {
            Some(dir) => Bundle::load(dir)
                .with_context(|| format!("cannot load the bundle {}", dir.display())),
            None => defaults::demo_bundle().context("the embedded demo bundle"),
        }
    }

    fn profile(&self) -> Result<BoardConfig> {
        match &self.profile {
            None => Ok(parse_profile(
                defaults::PROFILE_NAME,
                defaults::PROFILE_TOML,
            )?),
            Some(p) => load_profile(p),
        }
    }

    fn probe(&self, threads: u16) -> Result<Box<dyn LatencyProbe>> {
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

fn load_profile(path: &Path) -> Result<BoardConfig> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "toml") {
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))?;
        Ok(parse_profile(&path.display().to_string(), &text)?)
    } else {
        BoardConfig::decode(&bytes)
            .with_context(|| format!("{} is not a usable packed board profile", path.display()))
    }
}

/// Flags of `tabnas-agent search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Latency target in microseconds [default: the profile's, else derived from the space].
    #[arg(long, allow_negative_numbers = true)]
    pub target_us: Option<f64>,
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

/// Runs `tabnas-agent search`.
pub fn search(args: &SearchArgs) -> Result<()> {
    let profile = args.sources.profile()?;
    let bundle = args.sources.bundle()?;
    let mut settings = profile.search.settings;
    let beta = args.beta.or(settings.reward.beta()).unwrap_or(2.0);
    if let Some(kind) = args.reward {
        settings.reward = kind.with_beta(beta);
    }
    if let Some(n) = args.n {
        settings.pv = if n == 0 {
            PvMode::Exact
        } else {
            PvMode::MonteCarlo { samples: n }
        };
    }
    if args.steps == Some(0) {
        bail!("--steps must be at least 1");
    }
    if args.candidates == Some(0) {
        bail!("--candidates must be at least 1");
    }
    let target_us = args.target_us.or(profile.search.target_us);
    if let Some(t) = target_us {
        if !(t.is_finite() && t > 0.0) {
            bail!("--target-us must be a positive number of microseconds, got {t}");
        }
    }
    let options = DeviceSearchOptions {
        target_us,
        settings,
        steps: args.steps.unwrap_or(profile.search.steps),
        seed: args.seed.unwrap_or(profile.search.seed),
        protocol: profile.measurement,
        calibration_children: profile.search.calibration_children as usize,
        checkpoint_every: profile.search.checkpoint_every,
        max_tightenings: profile.search.max_tightenings as u32,
        quality_batch: profile.search.quality_batch as usize,
        quality_cache: profile.search.quality_cache as usize,
        max_model_error: profile.search.max_model_error,
        max_direct_children: profile.search.max_direct_children as u64,
        candidates: args.candidates.unwrap_or(profile.search.candidates) as usize,
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "runs/search-{}",
            target_us.map_or("auto".to_string(), |t| format!("{t}us"))
        ))
    });
    let mut probe = args.sources.probe(profile.measurement.threads)?;
    println!(
        "tabnas-agent search: bundle {} ({}), profile {}, runtime {}, run folder {}",
        bundle.manifest.name,
        &bundle.hash[..12],
        profile.name,
        probe.runtime(),
        out.display()
    );
    let mut reporter = Reporter::new(args.quiet);
    let result = run_device_search(
        &bundle,
        probe.as_mut(),
        &options,
        &out,
        args.resume,
        &mut |p| reporter.show(p),
    );
    reporter.finish();
    let r = result?;
    println!(
        "best {}: {:.1} us measured ({:?} of {} samples x {} calls, cv {:.3}) <= target {:.1} us; \
         predicted {:.1} us ({} model, held-out error {:.1}%); validation loss {:.4}; {} params",
        show_widths(&r.architecture),
        r.latency_us,
        r.protocol.statistic,
        r.latency.samples_us.len(),
        r.latency.calls_per_sample,
        r.latency.cv,
        r.target_us,
        r.predicted_latency_us,
        r.table.model.as_ref().map_or("no", |m| m.form.name()),
        100.0 * r.model_error,
        r.validation_loss,
        r.params
    );
    println!("answer: {}", r.answer_rule);
    if r.paper_answer.widths != r.architecture {
        println!(
            "the paper's answer (most probable feasible, p = {:.3}) is {}: validation loss {:.4}, \
             predicted {:.1} us",
            r.paper_answer.probability,
            show_widths(&r.paper_answer.widths),
            r.paper_answer.validation_loss,
            r.paper_answer.predicted_us
        );
    }
    println!(
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
    println!(
        "time: table {:.1} s, quality {:.1} s, RL {:.1} s, verification {:.1} s; quality cache {} hits / {} misses",
        r.timings.table_s, r.timings.quality_s, r.timings.rl_s, r.timings.verify_s, r.quality_cache.0, r.quality_cache.1
    );
    println!(
        "wrote {dir}/result.json, {dir}/best.onnx and {dir}/latency_model.svg",
        dir = out.display()
    );
    Ok(())
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
    pub target_us: Option<f64>,
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
    if let Some(t) = args.target_us {
        if !(t.is_finite() && t > 0.0) {
            bail!("--target-us must be a positive number of microseconds, got {t}");
        }
    }
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
    let mut bench = Bench::new(probe.as_mut(), p, 0);
    match args.target_us {
        Some(t) => {
            let d = bench.decide(net, t)?;
            println!("{}", serde_json::to_string_pretty(&d)?);
            println!(
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
            let m = bench.measure(net)?;
            println!("{}", serde_json::to_string_pretty(&m)?);
        }
    }
    if let Some(n) = bench.noise_floor() {
        println!(
            "noise floor: {:.1}% (cv of a {:.2} us reference network)",
            100.0 * n.cv,
            n.reference_us
        );
    }
    Ok(())
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
            let config = load_profile(&profile)?;
            let mut buf = [0u8; BoardConfig::MAX_ENCODED_LEN];
            let bytes = config.encode(&mut buf)?;
            std::fs::write(&out, &*bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "wrote {} ({} bytes) for board {}",
                out.display(),
                bytes.len(),
                config.name
            );
        }
        ConfigCommand::Show { profile } => {
            let config = load_profile(&profile)?;
            println!("{}", serde_json::to_string_pretty(&config)?);
        }
    }
    Ok(())
}
