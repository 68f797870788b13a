//! The CPU's vector FMA peak and its first-touch rate: the two machine figures a PyTorch CPU
//! step needs that candle's own kernels cannot show.
//!
//! - **FMA peak**: every thread runs independent chains of fused multiply-adds in registers
//!   (12 chains hide the FMA latency on two FMA ports), in the widest unit the CPU has
//!   (AVX-512F, else AVX2 + FMA). PyTorch's CPU GEMM (oneDNN / MKL) reaches a steady fraction
//!   of it at transformer shapes (`Assumptions::cpu_blas_efficiency`), where candle's own GEMM
//!   reaches well under half, so candle's matmul rate cannot stand in for torch's.
//! - **First touch**: writing a freshly allocated buffer larger than glibc's mmap threshold
//!   (at most 32 MiB): each page is faulted in and zeroed by the kernel. PyTorch's CPU
//!   allocator does not cache, so every such tensor of a step (a causal LM's logits and their
//!   gradients) pays this again on every step.
//!
//! Warts: on a CPU without AVX2 + FMA (or not x86-64) there is no FMA probe and the caller keeps
//! candle's matmul rate; turbo clocks under an all-core vector load are what the probe sees,
//! which is what a long GEMM sees too.

use std::time::Instant;

/// FMA chains per thread: more than latency × ports (4 × 2) so the units never wait.
const CHAINS: usize = 12;

/// f32 GFLOP/s of `threads` threads running register-only FMAs: the median of five runs of
/// about `seconds` / 5 each (one run caught by another process moves the median little), or
/// `None` where the CPU has neither AVX-512F nor AVX2 + FMA.
pub fn fma_peak_gflops(threads: usize, seconds: f64) -> Option<f64> {
    let runs: Vec<f64> = (0..5)
        .map(|_| fma_run(threads, seconds / 5.0))
        .collect::<Option<_>>()?;
    Some(super::Stats::of(&runs).median)
}

fn fma_run(threads: usize, seconds: f64) -> Option<f64> {
    let lanes = vector_lanes()?;
    // Size the run with a short one, then time the real one on every thread at once.
    let probe = 20_000u64;
    let t0 = Instant::now();
    std::hint::black_box(run_chains(probe));
    let per_iter = t0.elapsed().as_secs_f64() / probe as f64;
    let iters = ((seconds / per_iter.max(1e-12)) as u64).clamp(probe, 1 << 34);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| s.spawn(move || std::hint::black_box(run_chains(iters))))
            .collect();
        for h in handles {
            // A panicking worker only loses its share; the timing stays an upper bound.
            let _ = h.join();
        }
    });
    let dt = t0.elapsed().as_secs_f64();
    let flops = threads.max(1) as f64 * iters as f64 * (CHAINS * lanes * 2) as f64;
    Some(flops / dt.max(1e-9) / 1e9)
}

/// f32 lanes of the widest FMA unit this CPU has.
fn vector_lanes() -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Some(16);
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Some(8);
        }
    }
    None
}

fn run_chains(iters: u64) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked on the line above).
            return unsafe { x86::chains_avx512(iters) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked on the line above).
            return unsafe { x86::chains_avx2(iters) };
        }
    }
    let _ = iters;
    0.0
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::CHAINS;

    #[target_feature(enable = "avx512f")]
    pub fn chains_avx512(iters: u64) -> f32 {
        let a = _mm512_set1_ps(0.999_999);
        let b = _mm512_set1_ps(1e-7);
        let mut acc = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        acc.iter().map(|x| _mm512_reduce_add_ps(*x)).sum()
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn chains_avx2(iters: u64) -> f32 {
        let a = _mm256_set1_ps(0.999_999);
        let b = _mm256_set1_ps(1e-7);
        let mut acc = [_mm256_set1_ps(1.0); CHAINS];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut lanes = [0f32; 8];
        let mut total = 0.0;
        for x in acc {
            // SAFETY: `lanes` holds 8 f32, the width of the store.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), x) };
            total += lanes.iter().sum::<f32>();
        }
        total
    }
}

/// GB/s of writing and freeing a freshly allocated buffer of `bytes` (each page faulted in and
/// zeroed by the kernel, then unmapped) on `threads` threads, one slice each, as PyTorch fills a new tensor; the median
/// of `reps` runs.
pub fn first_touch_gbs(bytes: usize, threads: usize, reps: usize) -> f64 {
    let threads = threads.max(1);
    let n = (bytes / 4).max(1 << 18);
    let mut rates = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let t0 = Instant::now();
        // A large zeroed allocation is a fresh mapping the allocator does not touch (calloc of
        // an mmapped chunk): the writes below fault every page in.
        let mut v = vec![0f32; n];
        std::thread::scope(|s| {
            for chunk in v.chunks_mut(n.div_ceil(threads)) {
                s.spawn(move || chunk.fill(1.0));
            }
        });
        std::hint::black_box(&v);
        // Freeing unmaps the pages again, as each step's tensors are: part of the cost.
        drop(v);
        let dt = t0.elapsed().as_secs_f64();
        rates.push((n * 4) as f64 / dt.max(1e-9) / 1e9);
    }
    super::Stats::of(&rates).median
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fma_peak_is_positive_where_there_is_a_vector_unit() {
        // Any x86-64 CPU of the last decade has AVX2 + FMA: the probe must give a real,
        // finite rate (one 2015-era core at 2 GHz does 2 x 8 x 2 x 2 = 64 GFLOP/s; a laptop
        // core under emulation far less, so only positivity is asserted).
        if let Some(g) = fma_peak_gflops(1, 0.02) {
            assert!(g.is_finite() && g > 0.1, "{g}");
        }
    }

    #[test]
    fn first_touch_writes_the_whole_buffer_at_a_finite_rate() {
        let g = first_touch_gbs(8 << 20, 1, 2);
        assert!(g.is_finite() && g > 0.0, "{g}");
    }
}
