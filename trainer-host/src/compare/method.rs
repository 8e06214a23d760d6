//! Each method's search and its answer: the search runs, its answer is judged with the
//! shared weights and trained stand-alone, and a rejection run's most probable feasible
//! architectures compete as finalists.

use tabnas_core::capacity::DEFAULT_MC_CAPACITY;
use tabnas_core::controller::Policy;
use tabnas_core::cost::CostModel;
use tabnas_core::feasibility::Feasibility;
use tabnas_core::reward::Reward;
use tabnas_core::search::SearchSettings;
use tabnas_core::select::top_feasible;
use tabnas_core::space::{Architecture, SearchSpace};

use super::{hidden_widths, shared_validation_loss, CompareError, Comparer, Found};
use crate::host_search::{run_host_search, HostSearchOptions, HostSearchRun, SearchResult};
use crate::reference::ReferenceResult;

impl Comparer<'_> {
    /// Runs `method`'s search with `settings` (or records it skipped when they cannot
    /// search this space) and adds its answers.
    pub(super) fn run_method(
        &mut self,
        method: String,
        settings: SearchSettings,
    ) -> Result<(), CompareError> {
        if settings.validate(self.space, DEFAULT_MC_CAPACITY).is_err() {
            self.skipped
                .push(format!("{method}: these settings cannot search this space"));
            return Ok(());
        }
        let search = HostSearchOptions {
            settings,
            ..self.options.search.clone()
        };
        let run = run_host_search(self.data, &search, |_, _, _| {})
            .map_err(CompareError::search(&method))?;
        let penalty = !matches!(settings.reward, Reward::Rejection);
        let answer = self.add_answer(&method, &run, penalty)?;
        if !penalty {
            self.add_best_of_finalists(&method, &run, &answer)?;
            if self.rejection.is_none() {
                let r = &run.result;
                self.rejection = Some((run.supernet, r.steps, r.wall_s));
            }
        }
        Ok(())
    }

    /// The answer of a run: a penalty reward's controller is judged by its most probable
    /// architecture (where it converges, feasible or not), rejection by its most probable
    /// feasible one. Returns its widths, cost, verdict and probability.
    fn answer_of(&self, r: &SearchResult, penalty: bool) -> (Vec<u32>, f64, bool, Option<f64>) {
        if !penalty {
            return (
                r.architecture.clone(),
                r.cost,
                r.feasible,
                Some(r.probability),
            );
        }
        let arch = self
            .space
            .arch_from_widths(&r.unconstrained_argmax)
            .expect("the argmax is an architecture of the space");
        let prob = r.distributions.last().map(|d| {
            (0..arch.len())
                .map(|l| d.probs[l][arch.choice(l)])
                .product()
        });
        (
            r.unconstrained_argmax.clone(),
            r.unconstrained_cost,
            r.unconstrained_feasible,
            prob,
        )
    }

    /// Adds `method`'s answer, judged with the run's shared weights and trained
    /// stand-alone; returns the stand-alone training.
    fn add_answer(
        &mut self,
        method: &str,
        run: &HostSearchRun,
        penalty: bool,
    ) -> Result<ReferenceResult, CompareError> {
        let r = &run.result;
        let (widths, cost, feasible, probability) = self.answer_of(r, penalty);
        let shared_validation_loss = shared_validation_loss(&run.supernet, self.data, &widths)
            .map_err(CompareError::search(method))?;
        let s = self.standalone(&widths)?;
        (self.note)(&format!(
            "{method}: {widths:?} ({cost:.0}{}), stand-alone test loss {:.4}",
            if feasible { "" } else { ", INFEASIBLE" },
            s.test_loss
        ));
        let answer = s.clone();
        self.found.push(Found {
            method: method.to_string(),
            standalone: s,
            cost,
            feasible,
            probability,
            shared_validation_loss,
            search_steps: r.steps,
            search_wall_s: r.wall_s,
            selection_steps: 0,
        });
        Ok(answer)
    }

    /// Adds the best on stand-alone validation loss of a rejection run's `finalists`
    /// most probable feasible architectures, `answer` among them, as a method of its
    /// own; their stand-alone steps count in its compute.
    fn add_best_of_finalists(
        &mut self,
        method: &str,
        run: &HostSearchRun,
        answer: &ReferenceResult,
    ) -> Result<(), CompareError> {
        let r = &run.result;
        let others = match r.distributions.last() {
            Some(last) if self.options.finalists > 1 => other_finalists(
                self.space,
                &self.feasibility,
                &last.probs,
                &answer.widths,
                self.options.finalists - 1,
            ),
            _ => Vec::new(),
        };
        // Without another feasible architecture the method would be the answer itself.
        if others.is_empty() {
            return Ok(());
        }
        let mut best = (answer.clone(), r.cost, r.probability, r.feasible);
        let mut steps = answer.trained_steps as u64;
        for (p, arch) in &others {
            let s = self.standalone(&hidden_widths(self.space, arch))?;
            steps += s.trained_steps as u64;
            if s.validation_loss < best.0.validation_loss || !best.3 {
                best = (s, self.feasibility.judge(arch).cost, *p, true);
            }
        }
        let method = format!("{method}, best of {} finalists", others.len() + 1);
        (self.note)(&format!(
            "{method}: {:?} ({:.0}), stand-alone test loss {:.4}",
            best.0.widths, best.1, best.0.test_loss
        ));
        let shared_validation_loss =
            shared_validation_loss(&run.supernet, self.data, &best.0.widths)
                .map_err(CompareError::search(&method))?;
        self.found.push(Found {
            method,
            standalone: best.0,
            cost: best.1,
            feasible: best.3,
            probability: Some(best.2),
            shared_validation_loss,
            search_steps: r.steps,
            search_wall_s: r.wall_s,
            selection_steps: steps,
        });
        Ok(())
    }
}

/// At most `k` feasible architectures other than `answer`, most probable first under the
/// per-layer probabilities `probs` (the search's last snapshot), with their probabilities:
/// the core's exact top-k search, as the agent ranks its candidates.
fn other_finalists(
    space: &SearchSpace,
    feasibility: &Feasibility<'_, dyn CostModel + '_>,
    probs: &[Vec<f64>],
    answer: &[u32],
    k: usize,
) -> Vec<(f64, Architecture)> {
    let policy = Policy::from_probs(space, probs)
        .expect("a search's last snapshot is a policy over its own space");
    let widths = |a: &Architecture| (0..a.len()).map(|l| space.width(a, l)).collect::<Vec<_>>();
    let mut top = vec![None; k + 1];
    top_feasible(&policy, feasibility, &mut top);
    top.into_iter()
        .flatten()
        .filter(|s| widths(&s.arch) != answer)
        .map(|s| (s.prob, s.arch))
        .take(k)
        .collect()
}
