//! Supernet training throughput (examples per second), the Rust half of the side-by-side
//! comparison with PyTorch (`trainer-host/bench/compare_throughput.sh` runs both).
//!
//! Network: the paper's Criteo supernet, 1027 inputs, three hidden layers up to 512
//! units, one logit, binary cross-entropy, Adam (lr 1e-3). Batch 512 of fixed random
//! rows. Two phases: full-width steps, then steps of a child drawn uniformly from the
//! Criteo widths per layer (the weight-sharing case). Prints one JSON line, with the
//! CPU model and the matrix-product kernel chosen on it.
//!
//! `cargo bench -p tabnas-trainer --bench train_throughput -- [--threads N]
//! [--full-steps N] [--child-steps N]`

use std::time::Instant;

use rand_core::Rng;
use tabnas_bundle::LossKind;
use tabnas_core::paper::CRITEO_WIDTHS;
use tabnas_core::rng::search_rng;
use tabnas_trainer::supernet::{kernels, Rows, Supernet, SupernetSpec};

/// The CPU's model name (Linux's `/proc/cpuinfo`), or "unknown".
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().replace(['"', '\\'], ""))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let threads = arg("--threads", 2);
    let full_steps = arg("--full-steps", 40);
    let child_steps = arg("--child-steps", 100);
    let batch_size = 512;
    std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    let input = 1027;
    let spec = SupernetSpec {
        numeric: input,
        buckets: vec![],
        embedding_dim: 0,
        space: vec![CRITEO_WIDTHS.to_vec(); 3],
        outputs: 1,
        loss: LossKind::BinaryCrossEntropy,
    };
    let mut rng = search_rng(0);
    let mut net = Supernet::new(spec, 1e-3, &mut rng);
    let rows = Rows {
        rows: batch_size,
        numeric_width: input,
        categorical_width: 0,
        numeric: (0..batch_size * input)
            .map(|_| (rng.next_u32() as f32 / u32::MAX as f32) * 2.0 - 1.0)
            .collect(),
        categorical: vec![],
        labels: (0..batch_size)
            .map(|_| (rng.next_u32() & 1) as f32)
            .collect(),
    };
    let batch = rows.range(0, batch_size);
    let full = [512usize; 3];
    for _ in 0..3 {
        net.train_step(&batch, &full).unwrap();
    }
    let t = Instant::now();
    for _ in 0..full_steps {
        net.train_step(&batch, &full).unwrap();
    }
    let full_s = t.elapsed().as_secs_f64();
    let children: Vec<[usize; 3]> = (0..child_steps)
        .map(|_| {
            let mut w = [0usize; 3];
            for x in &mut w {
                *x = CRITEO_WIDTHS[(rng.next_u32() as usize) % CRITEO_WIDTHS.len()] as usize;
            }
            w
        })
        .collect();
    let t = Instant::now();
    for w in &children {
        net.train_step(&batch, w).unwrap();
    }
    let child_s = t.elapsed().as_secs_f64();
    println!(
        "{{\"impl\": \"tabnas\", \"kernel\": \"{}\", \"cpu\": \"{}\", \"threads\": {threads}, \
         \"batch\": {batch_size}, \"full_width_examples_per_s\": {:.1}, \
         \"random_child_examples_per_s\": {:.1}, \"full_steps\": {full_steps}, \
         \"child_steps\": {child_steps}}}",
        kernels::kernel(),
        cpu_model(),
        (full_steps * batch_size) as f64 / full_s,
        (child_steps * batch_size) as f64 / child_s
    );
}
