//! Matmul throughput at a model's Linear shapes: `[m, in] x [in, out]` with m tokens.

use candle_core::{DType, Device, Result, Tensor};
use serde::Serialize;

use super::Stats;

/// One shape and dtype, measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatmulResult {
    /// Module names with this shape, e.g. `mlp.w1,mlp.w2`.
    pub name: String,
    pub m: u64,
    pub k: u64,
    pub n: u64,
    pub dtype: String,
    pub gflops_median: f64,
    pub gflops_min: f64,
    pub gflops_max: f64,
    pub reps: usize,
}

/// The dtypes to measure on `device`: f32 always; f16 and bf16 when a tiny matmul in that dtype
/// works (on the CPU candle runs both; bf16 is widened to f32 there).
pub fn supported_dtypes(device: &Device) -> Vec<DType> {
    let mut out = vec![DType::F32];
    for dt in [DType::F16, DType::BF16] {
        let ok = Tensor::ones((4, 4), dt, device)
            .and_then(|a| a.matmul(&a))
            .and_then(|y| y.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>())
            .is_ok_and(|v| v == 64.0);
        if ok {
            out.push(dt);
        }
    }
    out
}

pub fn dtype_name(dt: DType) -> &'static str {
    match dt {
        DType::F32 => "f32",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        _ => "other",
    }
}

/// Time `[m, k] x [k, n]` in `dtype`: `warmup` untimed runs, then `reps` timed ones. The
/// operands are filled with ones (the speed of a dense matmul does not depend on the values, and
/// random fills of large weights would cost more time than the runs). `tick` is called after
/// every run.
#[allow(clippy::too_many_arguments)]
pub fn measure(
    device: &Device,
    name: &str,
    (m, k, n): (u64, u64, u64),
    dtype: DType,
    warmup: usize,
    reps: usize,
    tick: &mut dyn FnMut(),
) -> Result<MatmulResult> {
    let x = Tensor::ones((m as usize, k as usize), dtype, device)?;
    let w = Tensor::ones((k as usize, n as usize), dtype, device)?;
    let flops = 2.0 * m as f64 * k as f64 * n as f64;
    let mut rates = Vec::with_capacity(reps);
    for i in 0..warmup + reps {
        device.synchronize()?;
        let t0 = std::time::Instant::now();
        let y = x.matmul(&w)?;
        device.synchronize()?;
        let dt = t0.elapsed().as_secs_f64();
        drop(y);
        if i >= warmup {
            rates.push(flops / dt.max(1e-9) / 1e9);
        }
        tick();
    }
    let s = Stats::of(&rates);
    Ok(MatmulResult {
        name: name.to_string(),
        m,
        k,
        n,
        dtype: dtype_name(dtype).to_string(),
        gflops_median: s.median,
        gflops_min: s.min,
        gflops_max: s.max,
        reps,
    })
}
