//! Random search with the shared weights of the rejection run, and the random sample of
//! architectures trained stand-alone (the baseline and the Pareto front).

use tabnas_core::space::Architecture;

use super::{hidden_widths, shared_validation_loss, CompareError, Comparer, Found, Sampled};
use crate::host_search::uniform_arch;

impl Comparer<'_> {
    /// At most `n` distinct feasible architectures drawn uniformly (fewer when 1000 draws
    /// per architecture find no more).
    fn draw_feasible(&mut self, n: usize) -> Vec<Architecture> {
        let mut out = Vec::new();
        let mut tries = 0;
        while out.len() < n && tries < 1000 * n.max(1) {
            tries += 1;
            let arch = uniform_arch(self.space, &mut self.rng);
            if self.feasibility.judge(&arch).feasible && !out.contains(&arch) {
                out.push(arch);
            }
        }
        out
    }

    /// Adds random search's answer: of `random_children` feasible children, the best on
    /// the rejection run's shared weights, trained stand-alone (nothing without a
    /// rejection run).
    pub(super) fn random_search(&mut self) -> Result<(), CompareError> {
        let Some((supernet, steps, wall_s)) = self.rejection.take() else {
            return Ok(());
        };
        let mut best: Option<(f64, Vec<u32>, f64)> = None;
        for arch in self.draw_feasible(self.options.random_children) {
            let widths = hidden_widths(self.space, &arch);
            let l = shared_validation_loss(&supernet, self.data, &widths)
                .map_err(CompareError::search("random search"))?;
            if best.as_ref().is_none_or(|b| l < b.0) {
                best = Some((l, widths, self.feasibility.judge(&arch).cost));
            }
        }
        let Some((l, widths, cost)) = best else {
            return Ok(());
        };
        let s = self.standalone(&widths)?;
        let method = format!(
            "random search, {} children, shared weights",
            self.options.random_children
        );
        (self.note)(&format!(
            "{method}: {widths:?} ({cost:.0}), stand-alone test loss {:.4}",
            s.test_loss
        ));
        self.found.push(Found {
            method,
            standalone: s,
            cost,
            feasible: true,
            probability: None,
            shared_validation_loss: l,
            search_steps: steps,
            search_wall_s: wall_s,
            selection_steps: 0,
        });
        Ok(())
    }

    /// The stand-alone sample: `sample` feasible architectures, then `front_extra` of the
    /// whole space, each trained stand-alone.
    pub(super) fn standalone_sample(&mut self) -> Result<Vec<Sampled>, CompareError> {
        let mut archs = self.draw_feasible(self.options.sample);
        for _ in 0..self.options.front_extra {
            let arch = uniform_arch(self.space, &mut self.rng);
            if !archs.contains(&arch) {
                archs.push(arch);
            }
        }
        let mut sample: Vec<Sampled> = Vec::new();
        for (k, arch) in archs.iter().enumerate() {
            let s = self.standalone(&hidden_widths(self.space, arch))?;
            if (k + 1) % 10 == 0 || k + 1 == archs.len() {
                (self.note)(&format!(
                    "stand-alone sample: {}/{} trained",
                    k + 1,
                    archs.len()
                ));
            }
            let j = self.feasibility.judge(arch);
            sample.push(Sampled {
                standalone: s,
                cost: j.cost,
                feasible: j.feasible,
            });
        }
        Ok(sample)
    }
}
