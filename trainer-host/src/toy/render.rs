//! Reports as the plain-text tables `tabnas toy` prints (docs/results.md's toy table is
//! this output).

use std::fmt::Write as _;

use tabnas_core::cost::CostModel;
use tabnas_core::search::PvKind;
use tabnas_core::toy::{toy_space, TOY_COST, TOY_LIMIT_PARAMS, TOY_WIDTHS};

use super::{SweepOver, SweepReport, ToyReport, ToyRequest};

/// One line naming the request: reward, P(V) or beta, learning rate, steps and seeds.
fn describe(request: &ToyRequest) -> String {
    let mut s = format!("{:?} reward", request.reward).to_lowercase();
    match (request.pv, request.n, request.beta) {
        (Some(PvKind::Mc), Some(n), _) => {
            let _ = write!(s, ", Monte-Carlo P(V) with N = {n}");
        }
        (Some(PvKind::Mc), None, _) => s.push_str(", Monte-Carlo P(V)"),
        (Some(_), _, _) => s.push_str(", exact P(V)"),
        (None, _, Some(beta)) => {
            let _ = write!(s, ", beta = {beta}");
        }
        _ => {}
    }
    let _ = write!(
        s,
        ", lr {}, {} steps, seeds {}..{}",
        request.learning_rate,
        request.steps,
        request.first_seed,
        request.first_seed + request.seeds as u64 - 1
    );
    s
}

/// The report as a human-readable table (rows: layer 1 width, columns: layer 2 width).
pub fn render_report(report: &ToyReport) -> String {
    let space = toy_space();
    let mut out = format!("toy example: {}\n", describe(&report.request));
    out.push_str("seeds that ended on each architecture (* = over the 25-parameter limit):\n");
    out.push_str("             layer 2:");
    for w in TOY_WIDTHS {
        let _ = write!(out, "{w:>7}");
    }
    out.push('\n');
    for (i, w1) in TOY_WIDTHS.iter().enumerate() {
        let _ = write!(out, "  layer 1 = {w1}       ");
        for (j, w2) in TOY_WIDTHS.iter().enumerate() {
            let arch = space
                .arch_at((i * TOY_WIDTHS.len() + j) as u64)
                .expect("toy index");
            let over = TOY_COST.cost(&space, &arch) > TOY_LIMIT_PARAMS;
            let n = report.final_counts[&format!("{w1}-{w2}")];
            let _ = write!(out, "{:>6}{}", n, if over { '*' } else { ' ' });
        }
        out.push('\n');
    }
    let runs = report.request.seeds;
    let _ = writeln!(
        out,
        "ended on the optimum {}: {}/{runs}; ended infeasible: {}/{runs}",
        report.optimum, report.optimum_count, report.infeasible
    );
    out
}

/// A sweep as a human-readable table.
pub fn render_sweep(report: &SweepReport) -> String {
    let name = match report.sweep {
        SweepOver::Beta => "beta",
        SweepOver::N => "N",
    };
    let mut out = format!(
        "toy sweep over {name}: {} ({} samples from each final policy)\n",
        describe(&report.request),
        report.draws
    );
    let _ = writeln!(out, "{name:>8}  feasible found  optimum found");
    for row in &report.rows {
        let _ = writeln!(
            out,
            "{:>8}  {:>14.2}  {:>13.2}",
            row.value, row.feasible_found, row.optimum_found
        );
    }
    out
}
