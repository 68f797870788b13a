//! Memory-bandwidth probes: an in-place copy (read + write) and a sum (read, one slice per
//! thread on the CPU) of a large buffer.
//!
//! The copy writes into a preallocated tensor (`slice_set`), so no run pays for page faults of a
//! fresh allocation.

use candle_core::{DType, Device, Result, Tensor};
use serde::Serialize;

use super::Stats;

/// One probe, measured. Bytes moved per run: copy 2 × buffer, sum 1 × buffer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandwidthResult {
    pub probe: String,
    pub buffer_bytes: u64,
    pub gbs_median: f64,
    pub gbs_min: f64,
    pub gbs_max: f64,
    pub reps: usize,
}

/// Run the copy and sum probes on a buffer of `bytes` (f32).
pub fn measure(
    device: &Device,
    bytes: u64,
    warmup: usize,
    reps: usize,
    tick: &mut dyn FnMut(),
) -> Result<Vec<BandwidthResult>> {
    let n = (bytes / 4).max(1024) as usize;
    let bytes = n as u64 * 4;
    let src = Tensor::ones(n, DType::F32, device)?;
    let dst = Tensor::zeros(n, DType::F32, device)?;
    // The CPU sum kernel is single-threaded: read one slice per thread, as training does.
    let threads = if device.is_cpu() {
        candle_core::utils::get_num_threads().max(1)
    } else {
        1
    };
    let mut out = Vec::new();
    for probe in ["copy", "sum"] {
        let moved = if probe == "copy" { 2 * bytes } else { bytes } as f64;
        let mut rates = Vec::with_capacity(reps);
        for i in 0..warmup + reps {
            device.synchronize()?;
            let t0 = std::time::Instant::now();
            if probe == "copy" {
                dst.slice_set(&src, 0, 0)?;
            } else {
                parallel_sum(&src, threads)?;
            }
            device.synchronize()?;
            let dt = t0.elapsed().as_secs_f64();
            if i >= warmup {
                rates.push(moved / dt.max(1e-9) / 1e9);
            }
            tick();
        }
        let s = Stats::of(&rates);
        out.push(BandwidthResult {
            probe: probe.to_string(),
            buffer_bytes: bytes,
            gbs_median: s.median,
            gbs_min: s.min,
            gbs_max: s.max,
            reps,
        });
    }
    Ok(out)
}

/// Sum `t` (1-D) in `threads` slices on as many threads.
fn parallel_sum(t: &Tensor, threads: usize) -> Result<()> {
    let n = t.dim(0)?;
    if threads <= 1 {
        std::hint::black_box(t.sum_all()?);
        return Ok(());
    }
    let chunk = n.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .filter(|i| i * chunk < n)
            .map(|i| {
                let start = i * chunk;
                let len = chunk.min(n - start);
                s.spawn(move || -> Result<()> {
                    std::hint::black_box(t.narrow(0, start, len)?.sum_all()?);
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(candle_core::Error::Msg("sum thread panicked".into())))
        })
    })
}
