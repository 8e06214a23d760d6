//! Matrix products of row-major `f32` blocks on the fastest kernel this CPU has, and
//! the threads they (and the optimizer) use.
//!
//! Products go to faer's `matmul`, which picks its kernel at run time: on x86-64 the
//! `private-gemm-x86` kernels, AVX-512 where the CPU has it and AVX2/FMA otherwise; on
//! other CPUs (or x86-64 without AVX2) the portable `gemm` kernels (NEON on 64-bit Arm).
//! [`kernel`] names the one this process uses. Blocks may be strided (a child's leading
//! block of a shared matrix): the kernels pack their operands themselves.
//!
//! Threads: `MATMUL_NUM_THREADS` (what `--threads` sets) when it holds a positive
//! number, else every core; read once, at the first product. Products and the optimizer
//! share one pool of that many threads (rayon's global pool), as PyTorch's intra-op
//! pool after `torch.set_num_threads`. A product is cut into one band of rows per
//! thread, each run by a single-threaded kernel: letting the kernel split the product
//! itself (faer's `Par::rayon`) meets at a spinning barrier per block, which measured
//! slower here on children, where the cores are shared with other work.

use std::sync::OnceLock;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// The kernel family the products run on here, in words.
pub fn kernel() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "faer (private-gemm-x86 AVX-512)";
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return "faer (private-gemm-x86 AVX2/FMA)";
        }
        "faer (gemm, SSE2)"
    }
    #[cfg(target_arch = "aarch64")]
    {
        "faer (gemm, NEON)"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        "faer (gemm, portable)"
    }
}

/// Threads used by products and the optimizer (see the module's documentation).
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        let n = std::env::var("MATMUL_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        // The global pool may already exist (another library built it): then its
        // size stands and only the split of each product follows `n`.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
        n
    })
}

/// The `rows x cols` block of `data` whose rows start `stride` values apart.
///
/// # Panics
/// If `data` is shorter than the block or `stride < cols` (callers size their buffers).
pub fn block(data: &[f32], rows: usize, cols: usize, stride: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice_with_stride(data, rows, cols, stride)
}

/// [`block`], mutable.
pub fn block_mut(data: &mut [f32], rows: usize, cols: usize, stride: usize) -> MatMut<'_, f32> {
    // The transpose of a column-major block: faer 0.24's
    // `from_row_major_slice_with_stride_mut` swaps the two strides (it builds the
    // column-major block), which `products_match_a_plain_triple_loop` catches.
    MatMut::from_column_major_slice_with_stride_mut(data, cols, rows, stride).transpose_mut()
}

/// Multiply-accumulates under which a product runs on one thread.
const SERIAL_MACS: usize = 1 << 18;

/// `dst = a b` (`dst` is not read).
///
/// With several threads, `dst` and `a` are cut into bands of rows, one per thread,
/// each multiplied by a single-threaded kernel: the threads meet once per product
/// instead of at every block of the kernel's own split, which costs less on a
/// machine whose cores are shared with other work.
///
/// # Panics
/// If the shapes do not chain.
pub fn product(dst: MatMut<'_, f32>, a: MatRef<'_, f32>, b: MatRef<'_, f32>) {
    let mut dst = dst;
    if a.ncols() == 0 {
        dst.fill(0.0);
        return;
    }
    let macs = a.nrows() * a.ncols() * b.ncols();
    let parts = threads().min(a.nrows() / 16).max(1);
    if parts == 1 || macs < SERIAL_MACS {
        matmul(dst, Accum::Replace, a, b, 1.0, Par::Seq);
    } else {
        bands(dst, a, b, parts);
    }
}

/// `dst = a b` on `parts` threads, one band of rows each.
fn bands(dst: MatMut<'_, f32>, a: MatRef<'_, f32>, b: MatRef<'_, f32>, parts: usize) {
    if parts <= 1 {
        matmul(dst, Accum::Replace, a, b, 1.0, Par::Seq);
        return;
    }
    let first = parts / 2;
    let at = a.nrows() * first / parts;
    let (d0, d1) = dst.split_at_row_mut(at);
    let (a0, a1) = a.split_at_row(at);
    rayon::join(
        || bands(d0, a0, b, first),
        || bands(d1, a1, b, parts - first),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_and_transposed_blocks_multiply_as_written() {
        // a: the leading 2x3 block of a 3x4 matrix; b: the transpose of a 2x3 block.
        let a: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let b: Vec<f32> = (0..10).map(|v| v as f32 - 4.0).collect();
        let mut out = vec![f32::NAN; 2 * 2 + 1];
        product(
            block_mut(&mut out, 2, 2, 3),
            block(&a, 2, 3, 4),
            block(&b, 2, 3, 5).transpose(),
        );
        for r in 0..2 {
            for c in 0..2 {
                let want: f32 = (0..3).map(|k| a[r * 4 + k] * b[c * 5 + k]).sum();
                assert_eq!(out[r * 3 + c], want);
            }
        }
        assert!(out[2].is_nan(), "outside the block is not written");
        assert!(!kernel().is_empty());
    }

    #[test]
    fn products_match_a_plain_triple_loop() {
        for &(m, n, k) in &[
            (2usize, 2usize, 3usize),
            (3, 4, 5),
            (40, 50, 60),
            (100, 1, 70),
        ] {
            for ta in [false, true] {
                for tb in [false, true] {
                    let a: Vec<f32> = (0..m * k).map(|v| (v % 7) as f32 - 3.0).collect();
                    let b: Vec<f32> = (0..k * n).map(|v| (v % 5) as f32 - 2.0).collect();
                    let av = if ta {
                        block(&a, k, m, m).transpose()
                    } else {
                        block(&a, m, k, k)
                    };
                    let bv = if tb {
                        block(&b, n, k, k).transpose()
                    } else {
                        block(&b, k, n, n)
                    };
                    let mut out = vec![0.0f32; m * n];
                    product(block_mut(&mut out, m, n, n), av, bv);
                    let mut bad = 0;
                    for r in 0..m {
                        for c in 0..n {
                            let want: f32 = (0..k).map(|q| av[(r, q)] * bv[(q, c)]).sum();
                            if (out[r * n + c] - want).abs() > 1e-3 {
                                bad += 1;
                            }
                        }
                    }
                    assert_eq!(bad, 0, "{m}x{k} by {k}x{n}, transposed {ta} {tb}");
                }
            }
        }
    }
}
