//! Serving calibration from a measured benchmark (`vllm bench serve --save-result`): the
//! efficiencies that make the serving model reproduce the measured TPOT and TTFT on one target.
//!
//! Decode: the model's step at the benchmark's concurrency and mean context is the slower of
//! reading weights + KV (bandwidth x the hardware's decode efficiency) and the matmuls (peak x
//! the decode compute efficiency); the bound that decides it is the one scaled, by
//! predicted / measured. Prefill: the TTFT of a request of the benchmark's mean input, scaled
//! through the prefill efficiency while it is compute-bound. TTFT is only a prefill time when
//! requests do not queue: a benchmark at concurrency above 1 overstates it, so the fit is
//! refused there and the decode fit alone applied.
//!
//! Wart: one benchmark calibrates one concurrency; the fitted efficiencies are used at every
//! batch.

use serde::Serialize;

use super::serve::{served, ServedModel};
use super::{Assumptions, Precision, WeightFormat};
use crate::core::arch::ModelProfile;
use crate::core::error::{Error, Result};
use crate::core::hardware::HardwareProfile;

/// What a serving benchmark measured (medians).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServingMeasurement {
    /// Requests in flight (the benchmark's max concurrency).
    pub concurrency: u64,
    /// Mean prompt tokens per request.
    pub input_tokens: f64,
    /// Mean generated tokens per request.
    pub output_tokens: f64,
    /// Median time per output token after the first, seconds.
    pub tpot_seconds: f64,
    /// Median time to first token, seconds, if measured.
    pub ttft_seconds: Option<f64>,
}

/// The calibration and the prediction before and after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServingFit {
    /// What decode was bound by: `memory` or `compute`.
    pub decode_bound: &'static str,
    /// Median TPOT measured, seconds.
    pub tpot_measured: f64,
    /// Predicted TPOT at the benchmark's concurrency before calibration, seconds.
    pub tpot_before: f64,
    /// Predicted TPOT after, seconds.
    pub tpot_after: f64,
    /// Median TTFT measured, seconds, if measured.
    pub ttft_measured: Option<f64>,
    /// Predicted prefill of the mean input before calibration, seconds.
    pub ttft_before: f64,
    /// Predicted prefill after, seconds.
    pub ttft_after: f64,
    /// Hardware decode bandwidth efficiency before and after.
    pub bandwidth_efficiency: (f64, f64),
    /// Decode compute efficiency before and after.
    pub decode_compute_efficiency: (f64, f64),
    /// Prefill efficiency before and after (unchanged when TTFT was not usable).
    pub prefill_efficiency: (f64, f64),
    /// Why a part was not fitted.
    pub notes: Vec<String>,
}

/// The profile and assumptions that reproduce `m` for `profile` served in `precision` on `hw`.
pub fn calibrate_serving(
    profile: &ModelProfile,
    hw: &HardwareProfile,
    precision: Precision,
    int4: super::Int4Format,
    a: &Assumptions,
    m: &ServingMeasurement,
) -> Result<(HardwareProfile, Assumptions, ServingFit)> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !(positive(m.tpot_seconds) && positive(m.input_tokens) && positive(m.output_tokens))
        || m.concurrency == 0
    {
        return Err(Error::input(
            "the benchmark needs a positive median TPOT, mean input and output lengths and a concurrency",
        ));
    }
    let model = ServedModel::new(profile, 0)?;
    let format = WeightFormat::for_target(precision, int4, hw.kind, a);
    let predict = |hw: &HardwareProfile, a: &Assumptions| -> Result<(f64, f64, bool)> {
        let s = served(
            profile,
            &model.inv,
            hw,
            format.clone(),
            precision,
            0,
            0.0,
            a,
        )
        .ok_or_else(|| {
            Error::input(format!(
                "{} has no memory bandwidth or peak in its profile to calibrate",
                hw.id
            ))
        })?;
        let ctx = m.input_tokens + m.output_tokens / 2.0;
        let step = s.step_seconds(m.concurrency, ctx);
        // Which bound decided: the step with infinite compute efficiency.
        let mut fast = a.clone();
        fast.decode_compute_efficiency = 1e12;
        let memory_bound = {
            let s2 = served(
                profile,
                &model.inv,
                hw,
                format.clone(),
                precision,
                0,
                0.0,
                &fast,
            );
            s2.is_some_and(|s2| (s2.step_seconds(m.concurrency, ctx) - step).abs() <= 1e-12 * step)
        };
        Ok((
            step,
            s.prefill_seconds(m.input_tokens.round() as u64),
            memory_bound,
        ))
    };
    let (tpot_before, ttft_before, memory_bound) = predict(hw, a)?;
    let ratio = tpot_before / m.tpot_seconds;
    let mut hw2 = hw.clone();
    let mut a2 = a.clone();
    let mut notes = Vec::new();
    if memory_bound {
        let eff = hw.decode_bandwidth_efficiency * ratio;
        if eff > 1.0 {
            return Err(Error::input(format!(
                "the measured TPOT ({:.1} ms) would need {:.0}% of {}'s memory bandwidth: check the model, precision and concurrency of the benchmark",
                m.tpot_seconds * 1e3,
                eff * 100.0,
                hw.id
            )));
        }
        hw2.decode_bandwidth_efficiency = eff;
    } else {
        a2.decode_compute_efficiency = (a.decode_compute_efficiency * ratio).min(1.0);
    }
    if m.concurrency > 1 {
        notes.push(format!(
            "TTFT at concurrency {} includes queueing: prefill not fitted (run the benchmark with --max-concurrency 1 for it)",
            m.concurrency
        ));
    } else if let Some(ttft) = m.ttft_seconds.filter(|t| positive(*t)) {
        a2.prefill_efficiency = (a.prefill_efficiency * ttft_before / ttft).min(1.0);
    }
    let (tpot_after, ttft_after, _) = predict(&hw2, &a2)?;
    let fit = ServingFit {
        decode_bound: if memory_bound { "memory" } else { "compute" },
        tpot_measured: m.tpot_seconds,
        tpot_before,
        tpot_after,
        ttft_measured: m.ttft_seconds,
        ttft_before,
        ttft_after,
        bandwidth_efficiency: (
            hw.decode_bandwidth_efficiency,
            hw2.decode_bandwidth_efficiency,
        ),
        decode_compute_efficiency: (a.decode_compute_efficiency, a2.decode_compute_efficiency),
        prefill_efficiency: (a.prefill_efficiency, a2.prefill_efficiency),
        notes,
    };
    Ok((hw2, a2, fit))
}
