//! Low / expected / high: how far measured steps fall from the estimate.
//!
//! `profiles/error_spread.json` (written by `tests/truth/error_spread.py`) holds the 10th and
//! 90th percentiles of predicted/measured - 1 over real GPU training steps, for total memory and
//! for step time. A measured value is predicted / (1 + error), so the 90th percentile gives the
//! low bound and the 10th the high one: eight in ten measured steps fell inside.
//!
//! Warts: one band per quantity for every GPU, method and size (the cases are 7B models on an
//! H200 and an A100); CPUs get no band, having no measured steps behind them.

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
}

impl ErrorSpread {
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
    /// The bounds of `memory_bytes`, `step` and `hours` under `s`.
    pub fn of(s: &ErrorSpread, memory_bytes: u64, step: Option<f64>, hours: Option<f64>) -> Self {
        let (mlo, mhi) = s.memory.bounds(memory_bytes as f64);
        let time = |v: Option<f64>| v.map(|v| s.time.bounds(v));
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
