//! The latency model of a run: which form predicts a child's latency from few
//! measurements, chosen by its error on children it was not fitted to.
//!
//! Forms compared on the same measured children:
//!
//! * [`ModelForm::BlockSum`]: the per-block table summed over the child's layers, plus
//!   the stem, with an affine calibration fitted on whole children;
//! * [`ModelForm::Macs`]: `intercept + per_mac * MACs + per_unit * units`
//!   ([`AffineMacs`]), fitted on whole children;
//! * [`ModelForm::Direct`]: every child of a small space measured end to end (no model;
//!   its error is that of measuring twice).
//!
//! The calibration children (a seeded sample, with the smallest, the largest and the
//! table's fastest child as anchors) are measured together, interleaved. Two thirds fit
//! each form, the rest are held out. A space of at most `max_direct_children` children
//! is also measured whole, and that measurement competes as [`ModelForm::Direct`] (its
//! held-out error is the difference between two measurements). The form with the lowest
//! held-out MAPE is kept. In a larger space, a form above the profile's
//! `max_model_error` is not used: more children are measured and the forms refitted, and
//! if none is within the limit then, the run stops with the errors it saw. What was
//! chosen, and why, is in the report.

use serde::{Deserialize, Serialize};

use tabnas_core::capacity::MAX_EXACT_ENUMERATION;
use tabnas_core::cost::{AffineMacs, CostModel, LatencyTable};
use tabnas_core::space::{Architecture, SearchSpace};

/// A form of latency model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelForm {
    /// Per-block table sum with an affine calibration.
    BlockSum,
    /// Affine in multiply-accumulates and units.
    Macs,
    /// Every child measured.
    Direct,
}

impl ModelForm {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::BlockSum => "block-sum",
            Self::Macs => "macs",
            Self::Direct => "direct",
        }
    }
}

/// Every child of a space measured end to end, by dense index (`NaN` = not measured,
/// which the feasibility test treats as infeasible).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredChildren {
    /// Latency of child `i` (the space's dense index), microseconds.
    pub latency_us: Vec<f64>,
}

impl CostModel for MeasuredChildren {
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64 {
        self.latency_us
            .get(space.index_of(arch) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    }

    fn unit(&self) -> &'static str {
        "us"
    }
}

/// The latency model a search runs with.
#[derive(Debug, Clone, PartialEq)]
pub enum LatencyModel {
    /// Per-block table with calibration.
    BlockSum(Box<LatencyTable>),
    /// Affine in MACs and units.
    Macs(AffineMacs),
    /// Every child measured.
    Direct(MeasuredChildren),
}

impl LatencyModel {
    /// Its form.
    pub fn form(&self) -> ModelForm {
        match self {
            Self::BlockSum(_) => ModelForm::BlockSum,
            Self::Macs(_) => ModelForm::Macs,
            Self::Direct(_) => ModelForm::Direct,
        }
    }
}

impl CostModel for LatencyModel {
    fn cost(&self, space: &SearchSpace, arch: &Architecture) -> f64 {
        match self {
            Self::BlockSum(t) => t.cost(space, arch),
            Self::Macs(m) => m.cost(space, arch),
            Self::Direct(d) => d.cost(space, arch),
        }
    }

    fn check_space(&self, space: &SearchSpace) -> Result<(), tabnas_core::cost::CostError> {
        match self {
            Self::BlockSum(t) => t.check_space(space),
            Self::Macs(m) => m.check_space(space),
            Self::Direct(d) => d.check_space(space),
        }
    }

    fn unit(&self) -> &'static str {
        "us"
    }
}

/// One child measured end to end while choosing the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildPoint {
    /// Hidden widths.
    pub widths: Vec<u32>,
    /// Measured latency (the protocol's statistic).
    pub measured_us: f64,
    /// Its coefficient of variation.
    pub cv: f64,
    /// Whether it was held out of the fits.
    pub held_out: bool,
    /// The block-sum form's prediction.
    pub block_sum_us: f64,
    /// The MACs form's prediction (NaN when that form could not be fitted).
    pub macs_us: f64,
    /// The direct form's prediction: the child's own measurement in the full pass
    /// (absent unless the space was measured whole).
    pub direct_us: Option<f64>,
}

/// How well one form predicted the held-out children.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FormScore {
    /// The form.
    pub form: ModelForm,
    /// Mean absolute percentage error on the held-out children (a fraction).
    pub holdout_mape: f64,
    /// Largest relative error on them.
    pub holdout_max_rel_error: f64,
    /// Largest absolute error on them, microseconds.
    pub holdout_max_error_us: f64,
}

impl FormScore {
    /// The score of predictions `(predicted, measured)`.
    pub fn of(form: ModelForm, pairs: impl IntoIterator<Item = (f64, f64)>) -> Self {
        let (mut ape, mut max_rel, mut max_abs, mut n) = (0.0, 0.0f64, 0.0f64, 0usize);
        for (p, y) in pairs {
            let rel = if p.is_finite() {
                ((p - y) / y).abs()
            } else {
                f64::INFINITY
            };
            ape += rel;
            max_rel = max_rel.max(rel);
            max_abs = max_abs.max((p - y).abs());
            n += 1;
        }
        Self {
            form,
            holdout_mape: if n > 0 { ape / n as f64 } else { f64::NAN },
            holdout_max_rel_error: max_rel,
            holdout_max_error_us: max_abs,
        }
    }
}

/// Which form a run uses and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelChoice {
    /// The form used.
    pub form: ModelForm,
    /// Its held-out score.
    pub score: FormScore,
    /// Every form's score on the same held-out children.
    pub scores: Vec<FormScore>,
    /// The profile's limit on the held-out MAPE.
    pub limit: f64,
    /// Children measured end to end to choose (fitted and held out).
    pub children: usize,
    /// Why this form: `best held-out error`, or the fallback taken.
    pub reason: String,
}

/// The most accurate of `scores` (lowest held-out MAPE; NaN scores last).
pub fn best_form(scores: &[FormScore]) -> Option<FormScore> {
    scores
        .iter()
        .copied()
        .filter(|s| s.holdout_mape.is_finite())
        .min_by(|a, b| a.holdout_mape.total_cmp(&b.holdout_mape))
}

/// The fastest child under `model`: exact by enumeration when the space is small
/// enough, else the table's shortest path (`table_fastest`).
pub fn fastest_child(
    space: &SearchSpace,
    model: &LatencyModel,
    table_fastest: impl FnOnce() -> Architecture,
) -> (Architecture, f64) {
    let arch = if space.cardinality() <= MAX_EXACT_ENUMERATION {
        space
            .iter()
            .map(|a| (model.cost(space, &a), a))
            .filter(|(c, _)| c.is_finite())
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, a)| a)
            .unwrap_or_else(table_fastest)
    } else {
        table_fastest()
    };
    let cost = model.cost(space, &arch);
    (arch, cost)
}

/// Predicted against measured latency of the held-out children, one series per form,
/// with the line `predicted = measured`, as SVG text. Plotting never fails a run: a
/// drawing error leaves a plot with the error written in it.
pub fn plot_svg(points: &[ChildPoint], choice: Option<&ModelChoice>) -> String {
    use plotters::prelude::*;
    let held: Vec<&ChildPoint> = points.iter().filter(|p| p.held_out).collect();
    type Series = (ModelForm, RGBColor, Vec<(f64, f64)>);
    let series: [Series; 3] = [
        (
            ModelForm::BlockSum,
            BLUE,
            held.iter()
                .map(|p| (p.measured_us, p.block_sum_us))
                .collect(),
        ),
        (
            ModelForm::Macs,
            RED,
            held.iter().map(|p| (p.measured_us, p.macs_us)).collect(),
        ),
        (
            ModelForm::Direct,
            GREEN,
            held.iter()
                .filter_map(|p| p.direct_us.map(|d| (p.measured_us, d)))
                .collect(),
        ),
    ];
    let values = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().flat_map(|&(x, y)| [x, y]))
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() && hi > lo {
        let pad = 0.05 * (hi - lo);
        ((lo - pad).max(0.0), hi + pad)
    } else {
        (0.0, 1.0)
    };
    let title = match choice {
        Some(c) => format!(
            "held-out children: {} used, error {:.1}% (limit {:.0}%)",
            c.form.name(),
            100.0 * c.score.holdout_mape,
            100.0 * c.limit
        ),
        None => "held-out children".to_string(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 520)).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 16))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(lo..hi, lo..hi)?;
            chart
                .configure_mesh()
                .x_desc("measured latency (us)")
                .y_desc("predicted latency (us)")
                .draw()?;
            chart.draw_series(LineSeries::new([(lo, lo), (hi, hi)], &BLACK))?;
            for (form, color, pts) in &series {
                if pts.is_empty() {
                    continue;
                }
                let finite: Vec<(f64, f64)> = pts
                    .iter()
                    .copied()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect();
                let score = choice
                    .and_then(|c| c.scores.iter().find(|s| s.form == *form))
                    .map_or(String::new(), |s| {
                        format!(" ({:.1}%)", 100.0 * s.holdout_mape)
                    });
                let color = *color;
                chart
                    .draw_series(
                        finite
                            .iter()
                            .map(|&(x, y)| Circle::new((x, y), 4, color.filled())),
                    )?
                    .label(format!("{}{score}", form.name()))
                    .legend(move |(x, y)| Circle::new((x, y), 4, color.filled()));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
            root.present()?;
            Ok(())
        })();
        if let Err(e) = drawn {
            let _ = root.draw(&Text::new(
                format!("plot failed: {e}"),
                (10, 10),
                ("sans-serif", 14),
            ));
        }
    }
    svg
}

/// A held-out error as people read it: a percentage, or why there is none (a form that
/// could not be fitted predicts nothing; a space of one or two children holds no child
/// out, every child was measured instead).
pub fn show_holdout_error(mape: f64) -> String {
    if mape.is_finite() {
        format!("{:.1}%", 100.0 * mape)
    } else if mape.is_infinite() {
        "not fitted".to_string()
    } else {
        "none (no child held out)".to_string()
    }
}
