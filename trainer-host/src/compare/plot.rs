//! The comparison's plot: stand-alone test loss against cost, the sample in grey with its
//! Pareto front, the target as a vertical line, and each method's answer in its colour;
//! the legend is a column beside the plot.

use plotters::prelude::*;

use super::Comparison;
use crate::host_search::PlotError;

/// Width of the plot; the legend column is to its right.
const PLOT_WIDTH: u32 = 640;
const LEGEND_WIDTH: u32 = 330;
const HEIGHT: u32 = 480;

fn draw(part: &'static str) -> impl Fn(DrawingAreaErrorKind<std::io::Error>) -> PlotError {
    move |source| PlotError::Draw { part, source }
}

/// Renders `c` as an SVG document.
pub fn render_compare_svg(c: &Comparison) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (PLOT_WIDTH + LEGEND_WIDTH, HEIGHT))
            .into_drawing_area();
        root.fill(&WHITE).map_err(draw("background"))?;
        let (plot, legend) = root.split_horizontally(PLOT_WIDTH);
        let points = c
            .sample
            .iter()
            .map(|s| (s.cost, s.standalone.test_loss))
            .chain(c.found.iter().map(|f| (f.cost, f.standalone.test_loss)));
        let (mut x_hi, mut y_lo, mut y_hi) = (c.target, f64::INFINITY, f64::NEG_INFINITY);
        for (x, y) in points {
            x_hi = x_hi.max(x);
            y_lo = y_lo.min(y);
            y_hi = y_hi.max(y);
        }
        if !(y_lo.is_finite() && y_hi > y_lo) {
            (y_lo, y_hi) = (0.0, 1.0);
        }
        let pad = 0.05 * (y_hi - y_lo);
        let mut chart = ChartBuilder::on(&plot)
            .caption(
                format!(
                    "{}: stand-alone test loss against {}",
                    c.dataset,
                    c.resource.name()
                ),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_hi * 1.05, (y_lo - pad)..(y_hi + pad))
            .map_err(draw("chart"))?;
        chart
            .configure_mesh()
            .x_desc(c.resource.name())
            .y_desc("test loss (stand-alone)")
            .draw()
            .map_err(draw("axes"))?;
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(
                c.sample
                    .iter()
                    .map(|s| Circle::new((s.cost, s.standalone.test_loss), 3, grey.filled())),
            )
            .map_err(draw("sample"))?;
        chart
            .draw_series(LineSeries::new(c.front(), grey.stroke_width(1)))
            .map_err(draw("front"))?;
        chart
            .draw_series(LineSeries::new(
                [(c.target, y_lo - pad), (c.target, y_hi + pad)],
                BLACK.stroke_width(2),
            ))
            .map_err(draw("target"))?;
        let mut entries = vec![
            (grey, "stand-alone sample and its Pareto front".to_string()),
            (BLACK, format!("target {:.0}", c.target)),
        ];
        for (k, f) in c.found.iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            let colour = RGBColor(colour.0, colour.1, colour.2);
            chart
                .draw_series([TriangleMarker::new(
                    (f.cost, f.standalone.test_loss),
                    7,
                    colour.filled(),
                )])
                .map_err(draw("answers"))?;
            entries.push((colour, f.method.clone()));
        }
        for (k, (colour, text)) in entries.iter().enumerate() {
            let y = 40 + 18 * k as i32;
            legend
                .draw(&PathElement::new([(6, y), (26, y)], colour.stroke_width(3)))
                .map_err(draw("legend"))?;
            legend
                .draw(&Text::new(text.clone(), (32, y - 7), ("sans-serif", 13)))
                .map_err(draw("legend"))?;
        }
        root.present().map_err(draw("document"))?;
    }
    Ok(svg)
}
