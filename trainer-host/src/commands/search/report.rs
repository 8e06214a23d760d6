//! What `tabnas search` prints of a finished run: each stand-alone reference as it is
//! trained, then the answer, the constant predictor, the final policy, the board's check,
//! the step counts, the files written and the warnings.

use tabnas_trainer::finalize::Written;
use tabnas_trainer::host_search::SearchResult;
use tabnas_trainer::reference::ReferenceResult;

/// The line of a reference trained stand-alone, beside the constant predictor.
pub(super) fn stand_alone(r: &ReferenceResult, result: &SearchResult) {
    println!(
        "stand-alone {:?}: {} params, test loss {:.4} (validation {:.4}; constant \
         predictor: test {:.4})",
        r.widths, r.params, r.test_loss, r.validation_loss, result.constant_loss.test
    );
}

/// The summary of a finished run, written to `written`.
pub(super) fn summary(result: &SearchResult, written: &Written) {
    println!(
        "found {:?}: {} {:.0} (target {:.0}, {}), validation loss {:.4}, test loss {:.4} (shared weights)",
        result.architecture,
        result.resource,
        result.cost,
        result.target,
        if result.feasible { "feasible" } else { "INFEASIBLE: no architecture meets the target" },
        result.validation_loss,
        result.test_loss
    );
    println!(
        "constant predictor (the training prior): validation loss {:.4}, test loss {:.4}",
        result.constant_loss.validation, result.constant_loss.test
    );
    println!(
        "final policy: the answer has probability {:.3} ({}); {:.0}% of the controller's \
         samples were rejected; shared weights of step {}{}",
        result.probability,
        if result.converged {
            "converged"
        } else {
            "NOT converged"
        },
        100.0 * result.rejected_share,
        result.weights_step,
        result
            .stopped_at
            .map_or(String::new(), |s| format!(" (early-stopped at step {s})"))
    );
    if let Some(c) = &result.board_check {
        println!(
            "on the board: {:.1} us measured ({} samples, cv {:.3}), {:.1} us predicted from its \
             table ({:+.1}%): {}",
            c.measured_us,
            c.samples,
            c.cv,
            c.predicted_us,
            100.0 * c.error,
            if c.meets_target {
                "meets the target"
            } else {
                "OVER the target"
            }
        );
    }
    if !result.unconstrained_feasible {
        println!(
            "note: the controller's unconstrained argmax {:?} costs {:.0} and violates the target",
            result.unconstrained_argmax, result.unconstrained_cost
        );
    }
    println!(
        "{} steps ({} warm-up; controller: {} samples, {} updates, {} rejected, {} skipped) in \
         {:.1} s",
        result.steps,
        result.warmup_steps,
        result.rl_steps,
        result.rl_updated,
        result.rl_rejected,
        result.rl_skipped,
        result.wall_s
    );
    println!(
        "wrote {}, {} and the bundle {} (sha256 {})",
        written.result.display(),
        written.trace.display(),
        written.bundle.display(),
        &written.hash[..16]
    );
    for w in &result.warnings {
        println!("warning: {w}");
    }
}
