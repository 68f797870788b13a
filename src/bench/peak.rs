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
    let flops = iters as f64 * (CHAINS * lanes * 2) as f64;
    let t0 = Instant::now();
    let per_thread = cpu_seconds_each(0..threads.max(1), |_| {
        std::hint::black_box(run_chains(iters));
    });
    let wall = t0.elapsed().as_secs_f64();
    // Each thread's rate per second it really ran: another process taking a core delays the
    // threads but does not slow the FMA units, so the sum is the machine's, not the moment's.
    // Without per-thread CPU clocks, the wall clock (an underestimate under contention).
    let total = match per_thread {
        Some(ts) if ts.iter().all(|t| *t > 0.0) => ts.iter().map(|t| flops / t).sum::<f64>(),
        _ => threads.max(1) as f64 * flops / wall.max(1e-9),
    };
    Some(total / 1e9)
}

/// Runs `work` on each item, one thread each, and returns the CPU seconds each thread ran
/// (`None` where the OS has no per-thread clocks or a thread panicked).
fn cpu_seconds_each<T: Send>(
    items: impl IntoIterator<Item = T>,
    work: impl Fn(T) + Sync,
) -> Option<Vec<f64>> {
    let work = &work;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .into_iter()
            .map(|item| {
                s.spawn(move || {
                    let start = thread_cpu_seconds();
                    work(item);
                    Some(thread_cpu_seconds()? - start?)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    })
}

/// CPU seconds this thread has run (user + system), where the OS tells.
pub(crate) fn thread_cpu_seconds() -> Option<f64> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        (rc == 0).then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
    }
    #[cfg(not(unix))]
    {
        None
    }
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

/// GB/s of writing and freeing a freshly mapped buffer of `bytes` on `threads` threads, one
/// slice each, as PyTorch fills a new large tensor; the median of `reps` runs.
///
/// The buffer is mapped and unmapped directly, as glibc does for a block over its mmap
/// threshold (this binary's own allocator, mimalloc, caches and reuses freed memory, which is
/// not what a PyTorch process sees): every page is faulted in and zeroed by the kernel on the
/// first write, and unmapped again, part of the cost. `None` where no such mapping can be made
/// (not a Unix).
pub fn first_touch_gbs(bytes: usize, threads: usize, reps: usize) -> Option<f64> {
    let threads = threads.max(1);
    let n = (bytes / 4).max(1 << 18);
    let mut rates = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let t0 = Instant::now();
        let mut map = FreshPages::new(n)?;
        let chunks = map.as_mut_slice().chunks_mut(n.div_ceil(threads));
        let fill = cpu_seconds_each(chunks, |chunk| chunk.fill(1.0));
        let unmap_start = thread_cpu_seconds();
        drop(map);
        let unmap = thread_cpu_seconds().zip(unmap_start).map(|(b, a)| b - a);
        let wall = t0.elapsed().as_secs_f64();
        // The parallel fill's CPU seconds shared by the threads, then the serial unmap, as
        // they run on cores of their own: what the machine does, not what a busy moment
        // leaves of it (the wall clock, where the OS has no per-thread clocks).
        let busy = match (fill, unmap) {
            (Some(f), Some(u)) if !f.is_empty() => f.iter().sum::<f64>() / f.len() as f64 + u,
            _ => wall,
        };
        rates.push((n * 4) as f64 / busy.max(1e-9) / 1e9);
    }
    Some(super::Stats::of(&rates).median)
}

/// An anonymous private mapping of `len` f32, unmapped on drop.
struct FreshPages {
    ptr: *mut f32,
    len: usize,
}

impl FreshPages {
    #[cfg(not(unix))]
    fn new(_len: usize) -> Option<Self> {
        None
    }

    #[cfg(unix)]
    fn new(len: usize) -> Option<Self> {
        let bytes = len.checked_mul(4)?;
        // SAFETY: an anonymous private mapping with no address hint has no preconditions; the
        // result is checked against MAP_FAILED before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(FreshPages {
            ptr: ptr.cast(),
            len,
        })
    }

    fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: the mapping holds `len` f32, is zero-filled by the kernel (a valid f32 bit
        // pattern), page-aligned, and borrowed mutably from `self` for the slice's lifetime.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for FreshPages {
    #[cfg(not(unix))]
    fn drop(&mut self) {}

    #[cfg(unix)]
    fn drop(&mut self) {
        // SAFETY: `ptr` and the byte length are exactly what mmap returned and was asked for.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len * 4);
        }
    }
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
        if let Some(g) = first_touch_gbs(8 << 20, 1, 2) {
            assert!(g.is_finite() && g > 0.0, "{g}");
        }
    }
}
