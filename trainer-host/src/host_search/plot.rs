//! The SVG plot of a search trace: P(V), the Monte-Carlo feasible fraction and the
//! moving average of the sampled children's validation loss, per controller step.

use std::fmt;

use plotters::prelude::*;

use super::SearchResult;

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

/// Renders the trace of `result` as an SVG document.
pub fn render_trace_svg(result: &SearchResult) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(draw("background"))?;
        let first = result.warmup_steps as f64;
        let last = (result.steps as f64).max(first + 1.0);
        let pv: Vec<(f64, f64)> = result
            .trace
            .iter()
            .filter_map(|t| t.pv.map(|v| (t.step as f64, v)))
            .collect();
        let frac: Vec<(f64, f64)> = result
            .trace
            .iter()
            .filter_map(|t| t.mc_feasible_fraction.map(|v| (t.step as f64, v)))
            .collect();
        let feasible: Vec<(f64, f64)> = result
            .trace
            .iter()
            .map(|t| (t.step as f64, t.feasible as u8 as f64))
            .collect();
        let losses: Vec<(f64, f64)> = result
            .trace
            .iter()
            .filter_map(|t| t.loss.map(|l| (t.step as f64, l)))
            .collect();
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
        let mut chart = ChartBuilder::on(&root)
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
        chart
            .draw_series(LineSeries::new(moving_average(&feasible, 50), &GREEN))
            .map_err(draw("feasible series"))?
            .label("sampled child feasible (moving average of 50)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], GREEN));
        if !pv.is_empty() {
            chart
                .draw_series(LineSeries::new(pv, &BLUE))
                .map_err(draw("P(V) series"))?
                .label("P(V)")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLUE));
        }
        if !frac.is_empty() {
            chart
                .draw_series(LineSeries::new(frac, &CYAN))
                .map_err(draw("feasible-fraction series"))?
                .label("Monte-Carlo feasible fraction")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], CYAN));
        }
        chart
            .draw_secondary_series(LineSeries::new(loss_ma, &RED))
            .map_err(draw("loss series"))?
            .label("child validation loss (right axis)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(draw("legend"))?;
        root.present().map_err(draw("document"))?;
    }
    Ok(svg)
}
