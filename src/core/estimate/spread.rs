//! Low / expected / high: how far measured steps fall from the estimate.
//!
//! `profiles/error_spread.json` (written by `tests/truth/error_spread.py`) holds the 10th and
//! 90th percentiles of predicted/measured - 1 over real GPU training steps, for total memory and
//! for step time. A measured value is predicted / (1 + error), so the 90th percentile gives the
//! low bound and the 10th the high one: eight in ten measured steps fell inside.
//!
//! A second pair of bands (`cpu`) comes from real PyTorch CPU steps against estimates on a
//! `bench`-calibrated CPU (`tests/truth/cpu_truth.json`): it applies to calibrated CPU profiles
//! only; a CPU known from its datasheet alone gets no band.
//!
//! Warts: one band per quantity for every GPU, method and size (the cases are 7B models on an
//! H200 and an A100); the CPU band is one 2-core machine's, small models only.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The embedded spread (see the module docs).
const SPREAD_JSON: &str = include_str!("../../../profiles/error_spread.json");

/// Percentiles of predicted/measured - 1 for one quantity.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Band {
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Measured cases behind it.
    pub cases: u64,
}

impl Band {
    /// (low, high) bounds of the measured value around `predicted`.
    pub fn bounds(&self, predicted: f64) -> (f64, f64) {
        (predicted / (1.0 + self.p90), predicted / (1.0 + self.p10))
    }
}

/// The spread of training estimates against measurements.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorSpread {
    /// When it was measured.
    pub as_of: String,
    /// The cases and the script.
    pub source: String,
    /// Total memory against nvidia-smi.
    pub memory: Band,
    /// Step time against the median step.
    pub time: Band,
    /// The same over measured CPU steps, against estimates on a `bench`-calibrated CPU.
    #[serde(default)]
    pub cpu: Option<CpuBands>,
}

/// The bands of a calibrated CPU: peak RSS and step time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CpuBands {
    /// Peak RSS against the estimate's total.
    pub memory: Band,
    /// Step time against the median step.
    pub time: Band,
}

impl ErrorSpread {
    /// The (memory, time) bands for a device: GPUs', calibrated CPUs', or none.
    pub fn bands(&self, gpu: bool, calibrated: bool) -> Option<(&Band, &Band)> {
        match (gpu, &self.cpu) {
            (true, _) => Some((&self.memory, &self.time)),
            (false, Some(c)) if calibrated => Some((&c.memory, &c.time)),
            _ => None,
        }
    }

    /// One line for the estimate's notes about calibrated CPUs' ranges, if there is a band.
    pub fn cpu_note(&self) -> Option<String> {
        let c = self.cpu.as_ref()?;
        let (mlo, mhi) = c.memory.bounds(1.0);
        let (tlo, thi) = c.time.bounds(1.0);
        Some(format!(
            "range on a calibrated CPU: 8 in 10 of {} measured CPU steps fell within peak RSS x{mlo:.2}-{mhi:.2} and time x{tlo:.2}-{thi:.2} of the estimate (`tests/truth/cpu_truth.json`)",
            c.memory.cases
        ))
    }

    /// One line for the estimate's notes: what the devices' ranges mean.
    pub fn note(&self) -> String {
        let (mlo, mhi) = self.memory.bounds(1.0);
        let (tlo, thi) = self.time.bounds(1.0);
        format!(
            "range: 8 in 10 of {} measured GPU steps fell within memory x{mlo:.2}-{mhi:.2} and time x{tlo:.2}-{thi:.2} of the estimate (`devices[].range`, from `tests/truth/error_spread.py`)",
            self.memory.cases
        )
    }
}

/// The embedded spread, parsed once; `None` if the embedded file were malformed (a test keeps
/// it well-formed).
pub fn spread() -> Option<&'static ErrorSpread> {
    static SPREAD: OnceLock<Option<ErrorSpread>> = OnceLock::new();
    SPREAD
        .get_or_init(|| serde_json::from_str(SPREAD_JSON).ok())
        .as_ref()
}

/// Low and high bounds of one device's memory and time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Range {
    /// Total memory, bytes.
    pub memory_low_bytes: u64,
    /// Total memory, bytes.
    pub memory_high_bytes: u64,
    /// One optimizer step, seconds.
    pub step_seconds_low: Option<f64>,
    /// One optimizer step, seconds.
    pub step_seconds_high: Option<f64>,
    /// The whole job, hours.
    pub hours_low: Option<f64>,
    /// The whole job, hours.
    pub hours_high: Option<f64>,
}

impl Range {
    /// The bounds of `memory_bytes`, `step` and `hours` under the `memory` and `time` bands.
    pub fn of(
        (memory, time_band): (&Band, &Band),
        memory_bytes: u64,
        step: Option<f64>,
        hours: Option<f64>,
    ) -> Self {
        let (mlo, mhi) = memory.bounds(memory_bytes as f64);
        let time = |v: Option<f64>| v.map(|v| time_band.bounds(v));
        Range {
            memory_low_bytes: mlo as u64,
            memory_high_bytes: mhi as u64,
            step_seconds_low: time(step).map(|b| b.0),
            step_seconds_high: time(step).map(|b| b.1),
            hours_low: time(hours).map(|b| b.0),
            hours_high: time(hours).map(|b| b.1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_spread_parses_and_brackets_the_estimate() {
        let s = spread().expect("profiles/error_spread.json parses");
        assert!(s.memory.cases >= 10 && s.time.cases >= 10);
        assert!(s.memory.p10 <= s.memory.p90 && s.time.p10 <= s.time.p90);
        // The CPU bands come from the 120 CPU steps; a datasheet-only CPU gets none.
        let cpu = s.cpu.as_ref().expect("a cpu band");
        assert!(cpu.memory.cases >= 100 && cpu.time.p10 <= cpu.time.p90);
        assert!(s.bands(false, false).is_none() && s.bands(false, true).is_some());
        // A band of errors -20%..+25%: measured = predicted / (1 + e), so 100 predicted gives
        // 100 / 1.25 = 80 low and 100 / 0.8 = 125 high.
        let b = Band {
            p10: -0.2,
            p90: 0.25,
            cases: 10,
        };
        let (lo, hi) = b.bounds(100.0);
        assert!((lo - 80.0).abs() < 1e-9 && (hi - 125.0).abs() < 1e-9);
    }
}
