//! Calibrating a hardware profile from a real training run: the MFU that makes the step-time
//! model reproduce the step time a log measured, for the run's own scenario.
//!
//! The step time is `A / mfu + B` (time.rs): `A` the matmul FLOPs at the device's peak, `B` the
//! terms that do not scale with MFU (launch overhead, dequantisation, the optimizer's memory
//! traffic, collectives). Evaluating the model at two MFUs gives `A` and `B` exactly, so the
//! fitted MFU is `A / (measured - B)`. A measured step faster than `B` alone, or one that needs
//! more than the peak, means the scenario does not describe the run; it is refused.
//!
//! Memory: when the log has a peak, the bytes it held beyond the modelled terms become a signed
//! offset on the overhead term (memory.rs), so the same scenario predicts the measured peak. A
//! peak below the modelled tensors alone is not fitted (the overhead cannot go negative): it is
//! reported with the reason.
//!
//! Wart: one peak fixes one number, so the offset is constant across scenarios; a run at another
//! batch or length carries the allocator's proportional slack from the defaults.

use serde::Serialize;

use super::{Assumptions, DeviceResult, Prepared, Shapes};
use crate::core::error::{Error, Result};
use crate::core::hardware::{method_family, HardwareProfile};
use crate::core::units::GIB;

/// The fit and the comparison before and after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MfuFit {
    /// Hardware profile calibrated.
    pub hardware: String,
    /// Method family the MFU is for (`lora`, `adapter`, `prompt`, `full`).
    pub family: String,
    /// Seconds per optimizer step the log measured.
    pub measured_step_seconds: f64,
    /// Predicted seconds per step with the profile's MFU.
    pub predicted_before: f64,
    /// Predicted seconds per step with the fitted MFU.
    pub predicted_after: f64,
    /// MFU before.
    pub mfu_before: f64,
    /// Fitted MFU.
    pub mfu_after: f64,
    /// Achieved matmul FLOP/s of the run (the model's FLOPs per step / measured step).
    pub achieved_flops: f64,
    /// Predicted peak memory per device, bytes.
    pub memory_predicted: u64,
    /// Peak memory the log measured, bytes, if it has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_measured: Option<u64>,
    /// The fitted overhead offset for the family, bytes (signed), when the peak was fitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_offset: Option<i64>,
    /// Predicted peak memory with the fitted offset, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_predicted_after: Option<u64>,
    /// Why a measured peak was not fitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_not_fitted: Option<String>,
}

/// The offset on the overhead term that makes `before` predict `measured` bytes, or why none can.
fn memory_offset(before: &DeviceResult, measured: u64) -> std::result::Result<f64, String> {
    let m = &before.memory;
    let tensors = (m.total - m.overhead) as f64;
    let modelled_overhead = m.overhead as f64 - m.overhead_calibration as f64;
    let overhead = measured as f64 - tensors;
    if overhead < 0.0 {
        return Err(format!(
            "the log's peak ({:.2} GiB) is below the tensors peftcost counts for this scenario ({:.2} GiB): the model sums every phase's buffers, or the scenario differs from the run",
            measured as f64 / GIB,
            tensors / GIB
        ));
    }
    Ok(overhead - modelled_overhead)
}

fn step_at(
    p: &Prepared,
    shapes: &Shapes,
    hw: &HardwareProfile,
    a: &Assumptions,
    family: &str,
    mfu: f64,
) -> Option<f64> {
    let mut h = hw.clone();
    h.method_mfu.insert(family.to_string(), mfu);
    DeviceResult::new(shapes, &p.scenario.workload, &h, a).step_seconds
}

/// The MFU of `hw` for the scenario's method family that reproduces `measured_step_seconds`.
pub fn fit_mfu(
    p: &Prepared,
    hw: &HardwareProfile,
    a: &Assumptions,
    measured_step_seconds: f64,
    memory_measured: Option<u64>,
) -> Result<MfuFit> {
    if !(measured_step_seconds.is_finite() && measured_step_seconds > 0.0) {
        return Err(Error::input(format!(
            "the log's step time {measured_step_seconds} s is not a positive duration"
        )));
    }
    let shapes = Shapes::new(p);
    let family = method_family(p.scenario.method.kind);
    let before = DeviceResult::new(&shapes, &p.scenario.workload, hw, a);
    let no_peak = || {
        Error::input(format!(
            "{} has no {} peak in its profile, so there is no MFU to fit",
            hw.id,
            p.scenario.workload.dtype.as_str()
        ))
    };
    let predicted_before = before.step_seconds.ok_or_else(no_peak)?;
    let m0 = before.mfu;
    // s(m) = A/m + B: two evaluations give A and B.
    let s_half = step_at(p, &shapes, hw, a, family, m0 / 2.0).ok_or_else(no_peak)?;
    let a_term = m0 * (s_half - predicted_before);
    let b_term = predicted_before - a_term / m0;
    if measured_step_seconds <= b_term || a_term <= 0.0 {
        return Err(Error::input(format!(
            "the log's step ({measured_step_seconds:.4} s) is faster than the parts of the model that do not depend on MFU ({b_term:.4} s): check that the flags (or --from-config) describe the logged run"
        )));
    }
    let mfu = a_term / (measured_step_seconds - b_term);
    if mfu > 1.0 {
        return Err(Error::input(format!(
            "the log's step ({measured_step_seconds:.4} s) would need {:.0}% of {}'s peak: check the scenario (micro-batch, sequence length, GPUs) and the hardware",
            mfu * 100.0,
            hw.id
        )));
    }
    let predicted_after = step_at(p, &shapes, hw, a, family, mfu).ok_or_else(no_peak)?;
    let peak = hw.peak_flops(before.dtype).ok_or_else(no_peak)?;
    let offset = memory_measured.map(|m| memory_offset(&before, m));
    let memory_predicted_after = match offset {
        Some(Ok(bytes)) => {
            let mut h = hw.clone();
            h.method_memory_offset.insert(family.to_string(), bytes);
            Some(
                DeviceResult::new(&shapes, &p.scenario.workload, &h, a)
                    .memory
                    .total,
            )
        }
        _ => None,
    };
    Ok(MfuFit {
        hardware: hw.id.clone(),
        family: family.to_string(),
        measured_step_seconds,
        predicted_before,
        predicted_after,
        mfu_before: m0,
        mfu_after: mfu,
        achieved_flops: a_term * peak / measured_step_seconds,
        memory_predicted: before.memory.total,
        memory_measured,
        memory_offset: offset
            .as_ref()
            .and_then(|o| o.as_ref().ok())
            .map(|b| *b as i64),
        memory_predicted_after,
        memory_not_fitted: offset.and_then(|o| o.err()),
    })
}
