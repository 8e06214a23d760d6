//! The SVG plot of a search trace, in panels over the same steps: P(V), the Monte-Carlo
//! feasible fraction and the moving average of the sampled children's validation loss;
//! the controller's reward and baseline; and one panel per layer with the probability of
//! each width. Every legend is drawn beside its panel, never over the data.

use std::fmt;

use plotters::prelude::*;

use super::{SearchResult, TracePoint};

/// The trace plot could not be drawn.
#[derive(Debug)]
#[non_exhaustive]
pub enum PlotError {
    /// Drawing one part of the plot failed.
    Draw {
        /// The part: `background`, `axes`, a series' name, ...
        part: &'static str,
        /// Why.
        source: DrawingAreaErrorKind<std::io::Error>,
    },
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Draw { part, .. } => write!(f, "cannot draw the trace plot's {part}"),
        }
    }
}

impl std::error::Error for PlotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Draw { source, .. } => Some(source),
        }
    }
}

/// The error-mapping of drawing `part`.
fn draw(part: &'static str) -> impl Fn(DrawingAreaErrorKind<std::io::Error>) -> PlotError {
    move |source| PlotError::Draw { part, source }
}

fn moving_average(points: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len());
    let mut sum = 0.0;
    for (i, &(x, y)) in points.iter().enumerate() {
        sum += y;
        if i >= window {
            sum -= points[i - window].1;
        }
        out.push((x, sum / (i + 1).min(window) as f64));
    }
    out
}

/// Width of the plot area of each panel; the legend column is to its right.
const PLOT_WIDTH: u32 = 700;
/// Width of the legend column.
const LEGEND_WIDTH: u32 = 240;
/// Height of the top panel and of each further panel.
const TOP_HEIGHT: u32 = 420;
const PANEL_HEIGHT: u32 = 200;

/// A legend entry: colour and text.
type Entry = (RGBColor, String);

/// Draws `entries` as a legend column in `area`, starting below `top` pixels.
fn legend(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    top: i32,
    entries: &[Entry],
) -> Result<(), PlotError> {
    for (k, (colour, text)) in entries.iter().enumerate() {
        let y = top + 18 * k as i32;
        area.draw(&PathElement::new([(6, y), (26, y)], colour.stroke_width(2)))
            .map_err(draw("legend"))?;
        area.draw(&Text::new(text.clone(), (32, y - 7), ("sans-serif", 13)))
            .map_err(draw("legend"))?;
    }
    Ok(())
}

/// Renders the trace of `result` as an SVG document.
pub fn render_trace_svg(result: &SearchResult) -> Result<String, PlotError> {
    let layers = result.space.len();
    let height = TOP_HEIGHT + PANEL_HEIGHT * (1 + layers as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (PLOT_WIDTH + LEGEND_WIDTH, height))
            .into_drawing_area();
        root.fill(&WHITE).map_err(draw("background"))?;
        let (plots, legends) = root.split_horizontally(PLOT_WIDTH);
        let mut heights = vec![TOP_HEIGHT, PANEL_HEIGHT];
        heights.extend(std::iter::repeat_n(PANEL_HEIGHT, layers));
        let mut bounds = Vec::new();
        let mut y = 0;
        for h in &heights[..heights.len() - 1] {
            y += h;
            bounds.push(y);
        }
        let panels =
            plots.split_by_breakpoints::<u32, u32, _, _>(Vec::<u32>::new(), bounds.clone());
        let legend_areas =
            legends.split_by_breakpoints::<u32, u32, _, _>(Vec::<u32>::new(), bounds);
        let first = result.warmup_steps as f64;
        let last = (result.steps as f64).max(first + 1.0);
        top_panel(result, &panels[0], &legend_areas[0], first, last)?;
        reward_panel(result, &panels[1], &legend_areas[1], first, last)?;
        for layer in 0..layers {
            layer_panel(
                result,
                layer,
                &panels[2 + layer],
                &legend_areas[2 + layer],
                first,
                last,
            )?;
        }
        root.present().map_err(draw("document"))?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// (step, value) of the trace points where `value` has one.
fn series(result: &SearchResult, value: impl Fn(&TracePoint) -> Option<f64>) -> Vec<(f64, f64)> {
    result
        .trace
        .iter()
        .filter_map(|t| value(t).map(|v| (t.step as f64, v)))
        .collect()
}

/// The controller's reward (moving average) and baseline.
fn reward_panel(
    result: &SearchResult,
    area: &Area<'_>,
    legend_area: &Area<'_>,
    first: f64,
    last: f64,
) -> Result<(), PlotError> {
    let rewards: Vec<(f64, f64)> = series(result, |t| t.reward);
    let baseline: Vec<(f64, f64)> = series(result, |t| t.baseline);
    let reward_ma = moving_average(&rewards, 50);
    let (lo, hi) = reward_ma
        .iter()
        .chain(&baseline)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| {
            (a.min(y), b.max(y))
        });
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let pad = 0.05 * (hi - lo);
    let mut chart = ChartBuilder::on(area)
        .caption("controller reward and baseline", ("sans-serif", 14))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(56)
        .build_cartesian_2d(first..last, (lo - pad)..(hi + pad))
        .map_err(draw("reward chart"))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .draw()
        .map_err(draw("reward axes"))?;
    chart
        .draw_series(LineSeries::new(reward_ma, &MAGENTA))
        .map_err(draw("reward series"))?;
    chart
        .draw_series(LineSeries::new(baseline, &BLACK))
        .map_err(draw("baseline series"))?;
    legend(
        legend_area,
        40,
        &[
            (MAGENTA, "reward (moving average of 50)".into()),
            (BLACK, "baseline".into()),
        ],
    )
}

/// The probability of each width of `layer`, from the distribution snapshots.
fn layer_panel(
    result: &SearchResult,
    layer: usize,
    area: &Area<'_>,
    legend_area: &Area<'_>,
    first: f64,
    last: f64,
) -> Result<(), PlotError> {
    let widths = &result.space[layer];
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("layer {}: probability of each width", layer + 1),
            ("sans-serif", 14),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(56)
        .build_cartesian_2d(first..last, 0.0..1.0)
        .map_err(draw("policy chart"))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .draw()
        .map_err(draw("policy axes"))?;
    let mut finals: Vec<(usize, f64)> = Vec::new();
    for c in 0..widths.len() {
        let line: Vec<(f64, f64)> = result
            .distributions
            .iter()
            .filter_map(|d| {
                d.probs
                    .get(layer)
                    .and_then(|p| p.get(c))
                    .map(|&p| ((d.step as f64).max(first), p))
            })
            .collect();
        finals.push((c, line.last().map_or(0.0, |p| p.1)));
        let colour = Palette99::pick(c).to_rgba();
        chart
            .draw_series(LineSeries::new(
                line,
                RGBColor(colour.0, colour.1, colour.2),
            ))
            .map_err(draw("policy series"))?;
    }
    // The legend names the widths most probable at the end (at most 8).
    finals.sort_by(|a, b| b.1.total_cmp(&a.1));
    let entries: Vec<Entry> = finals
        .iter()
        .take(8)
        .map(|&(c, p)| {
            let colour = Palette99::pick(c).to_rgba();
            (
                RGBColor(colour.0, colour.1, colour.2),
                format!("width {} (final {p:.2})", widths[c]),
            )
        })
        .collect();
    legend(legend_area, 30, &entries)
}

/// P(V), the feasible fractions and the children's validation loss.
fn top_panel(
    result: &SearchResult,
    area: &Area<'_>,
    legend_area: &Area<'_>,
    first: f64,
    last: f64,
) -> Result<(), PlotError> {
    let pv: Vec<(f64, f64)> = series(result, |t| t.pv);
    let frac: Vec<(f64, f64)> = series(result, |t| t.mc_feasible_fraction);
    let feasible: Vec<(f64, f64)> = result
        .trace
        .iter()
        .map(|t| (t.step as f64, t.feasible as u8 as f64))
        .collect();
    let losses: Vec<(f64, f64)> = series(result, |t| t.loss);
    let loss_ma = moving_average(&losses, 50);
    let (lo, hi) = loss_ma
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| {
            (a.min(y), b.max(y))
        });
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "TabNAS on {}: found {:?} ({} {:.0} <= {:.0})",
                result.dataset,
                result.architecture,
                result.resource.name(),
                result.cost,
                result.target
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .right_y_label_area_size(56)
        .build_cartesian_2d(first..last, 0.0..1.0)
        .map_err(draw("chart"))?
        .set_secondary_coord(first..last, lo..hi);
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("probability / fraction")
        .draw()
        .map_err(draw("axes"))?;
    chart
        .configure_secondary_axes()
        .y_desc("validation loss (moving average of 50)")
        .draw()
        .map_err(draw("secondary axis"))?;
    let mut entries: Vec<Entry> = Vec::new();
    chart
        .draw_series(LineSeries::new(moving_average(&feasible, 50), &GREEN))
        .map_err(draw("feasible series"))?;
    entries.push((GREEN, "sampled child feasible (MA 50)".into()));
    if !pv.is_empty() {
        chart
            .draw_series(LineSeries::new(pv, &BLUE))
            .map_err(draw("P(V) series"))?;
        entries.push((BLUE, "P(V)".into()));
    }
    if !frac.is_empty() {
        chart
            .draw_series(LineSeries::new(frac, &CYAN))
            .map_err(draw("feasible-fraction series"))?;
        entries.push((CYAN, "Monte-Carlo feasible fraction".into()));
    }
    chart
        .draw_secondary_series(LineSeries::new(loss_ma, &RED))
        .map_err(draw("loss series"))?;
    entries.push((RED, "child validation loss (right)".into()));
    legend(legend_area, 60, &entries)
}
