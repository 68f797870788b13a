//! Applying a `peftcost bench` calibration to hardware profiles.
//!
//! A calibration of this machine (no hardware id) becomes the profile `local`. On a CPU whose
//! vector FMA peak was measured, that peak is the fp32 peak and GEMMs run at
//! [`TORCH_CPU_GEMM_EFFICIENCY`] of it, with no per-method factor: the rest of a step (fresh
//! pages, elementwise traffic, framework ops) is modelled term by term from the measured
//! bandwidth and first-touch rate (`estimate::time`). Older calibrations (no FMA peak) keep
//! candle's measured matmul throughput as the peak and its measured training efficiency per
//! method family as the MFU.
//! A calibration made on a rented GPU (`bench --hardware-id a10`) replaces the default
//! efficiencies of that profile: MFU = (measured matmul / datasheet peak) x (measured training
//! step / measured matmul), per method family. A calibration written by `calibrate --from-log`
//! may also carry a memory offset per family, added to the overhead term of that profile.

use std::collections::BTreeMap;

use super::{HardwareKind, HardwareProfile, PeakTflops};
use crate::core::hardware::Calibration;
use crate::core::peft::MethodKind;

/// The id of the profile a calibration of this machine becomes.
pub const LOCAL: &str = "local";

/// Fraction of the measured FMA peak PyTorch's CPU GEMM (oneDNN / MKL) reaches at transformer
/// Linear shapes in fp32: 300 of 349 GFLOP/s, the median of the forward, input-gradient and
/// weight-gradient GEMMs at the Linear shapes of the cpu_truth models at 512 and 2048 tokens
/// (`tests/truth/cpu_components.json`, torch 2.15, 2 threads, AVX-512), against `bench`'s
/// FMA peak on the same machine. candle's own GEMM reached 120-153 GFLOP/s there, which is
/// why candle's matmul rate does not stand in for torch's.
pub const TORCH_CPU_GEMM_EFFICIENCY: f64 = 0.86;

/// Which measured training step stands for a method.
pub fn method_family(kind: MethodKind) -> &'static str {
    match kind {
        MethodKind::Lora | MethodKind::Dora | MethodKind::Qlora | MethodKind::Ia3 => "lora",
        MethodKind::Adapter => "adapter",
        MethodKind::Prompt | MethodKind::Prefix | MethodKind::Ptuning => "prompt",
        MethodKind::Full => "full",
    }
}

fn date_of(unix: u64) -> String {
    crate::core::pricing::date::date_from_unix_days((unix / 86_400) as i64)
}

/// The calibration's memory offsets in bytes, per method family.
fn memory_offsets(c: &Calibration) -> BTreeMap<String, f64> {
    c.memory_offset_gib
        .iter()
        .map(|(m, gib)| (m.clone(), gib * crate::core::units::GIB))
        .collect()
}

fn gflops_to_tflops(v: Option<&f64>) -> Option<f64> {
    v.map(|g| g / 1000.0)
}

impl HardwareProfile {
    /// The fraction of peak a training step of `kind` reaches: calibrated per method family
    /// when a calibration was applied, the profile's default otherwise.
    pub fn mfu_for(&self, kind: MethodKind) -> f64 {
        self.method_mfu
            .get(method_family(kind))
            .copied()
            .unwrap_or(self.train_mfu)
    }

    /// Bytes a calibrated run's peak held beyond the modelled terms for `kind` (0 uncalibrated).
    pub fn memory_offset_for(&self, kind: MethodKind) -> f64 {
        self.method_memory_offset
            .get(method_family(kind))
            .copied()
            .unwrap_or(0.0)
    }

    /// This machine as measured by `peftcost bench`.
    pub fn local(c: &Calibration) -> HardwareProfile {
        let mean_eff = if c.train_efficiency.is_empty() {
            0.5
        } else {
            c.train_efficiency.values().sum::<f64>() / c.train_efficiency.len() as f64
        };
        // A CPU with a measured FMA peak: GEMMs at torch's fraction of it, no per-family factor.
        let fma = c.fma_peak_gflops.filter(|_| c.device_kind == "cpu");
        let (fp32_peak, train_mfu, method_mfu) = match fma {
            Some(g) => (Some(g / 1000.0), TORCH_CPU_GEMM_EFFICIENCY, BTreeMap::new()),
            None => (
                gflops_to_tflops(c.matmul_gflops.get("f32")),
                mean_eff,
                c.train_efficiency.clone(),
            ),
        };
        HardwareProfile {
            id: LOCAL.into(),
            name: format!("this machine ({})", c.device),
            aliases: Vec::new(),
            variant_of: None,
            kind: if c.device_kind == "cpu" {
                HardwareKind::Cpu
            } else {
                HardwareKind::Gpu
            },
            memory_gib: c.memory_gib,
            memory_bandwidth_gbs: Some(c.bandwidth_gbs),
            interconnect: None,
            interconnect_gbs: None,
            host_link: None,
            train_mfu,
            decode_bandwidth_efficiency: 1.0,
            peak_tflops: PeakTflops {
                fp32: fp32_peak,
                tf32: None,
                fp16: gflops_to_tflops(c.matmul_gflops.get("f16")),
                bf16: gflops_to_tflops(c.matmul_gflops.get("bf16")),
                int8: None,
            },
            source: format!(
                "peftcost bench {} on {} ({} shapes); {}",
                c.tool_version,
                c.device,
                c.model,
                if fma.is_some() {
                    "the fp32 peak is the measured FMA peak"
                } else {
                    "peaks are measured matmul throughput"
                }
            ),
            as_of: date_of(c.created_unix),
            confidence: "measured".into(),
            notes: None,
            calibrated: true,
            method_mfu,
            method_memory_offset: memory_offsets(c),
            first_touch_gbs: c.first_touch_gbs,
            bandwidth_measured: true,
        }
    }

    /// This profile with the efficiencies a calibration measured on a device of this kind.
    pub fn calibrated_with(&self, c: &Calibration) -> HardwareProfile {
        // Matmul efficiency in the best half type both know, else fp32.
        let pairs = [
            ("bf16", self.peak_tflops.bf16),
            ("f16", self.peak_tflops.fp16),
            ("f32", self.peak_tflops.fp32),
        ];
        let matmul_eff = pairs
            .iter()
            .find_map(|(d, peak)| Some(c.matmul_gflops.get(*d)? / 1000.0 / (*peak)?))
            .unwrap_or(1.0);
        let method_mfu: BTreeMap<String, f64> = c
            .train_efficiency
            .iter()
            .map(|(m, e)| (m.clone(), (matmul_eff * e).min(1.0)))
            .collect();
        let mut h = self.clone();
        if let Some(&m) = method_mfu.get("lora") {
            h.train_mfu = m;
        }
        if let Some(bw) = self.memory_bandwidth_gbs {
            h.decode_bandwidth_efficiency = (c.bandwidth_gbs / bw).clamp(0.05, 1.0);
        }
        h.method_mfu = method_mfu;
        h.method_memory_offset = memory_offsets(c);
        h.calibrated = true;
        h.notes = Some(format!(
            "efficiencies from a peftcost bench calibration on {} ({})",
            c.device,
            date_of(c.created_unix)
        ));
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::units::Dtype;

    fn calibration(hardware_id: Option<&str>) -> Calibration {
        Calibration {
            format_version: crate::core::hardware::CALIBRATION_FORMAT_VERSION,
            tool_version: "0.1.0".into(),
            created_unix: 1_796_000_000,
            device: "cpu: test".into(),
            device_kind: if hardware_id.is_some() { "cuda" } else { "cpu" }.into(),
            hardware_id: hardware_id.map(String::from),
            model: "qwen-7b".into(),
            memory_gib: 24.0,
            matmul_gflops: [("f32".to_string(), 190.0), ("bf16".to_string(), 93_600.0)].into(),
            bandwidth_gbs: 30.0,
            fma_peak_gflops: None,
            first_touch_gbs: None,
            train_gflops: [("lora".to_string(), 80.0), ("full".to_string(), 100.0)].into(),
            train_efficiency: [("lora".to_string(), 0.4), ("full".to_string(), 0.5)].into(),
            memory_offset_gib: Default::default(),
            cpu: None,
        }
    }

    #[test]
    fn local_profile_uses_measured_throughput() {
        let h = HardwareProfile::local(&calibration(None));
        assert_eq!(h.id, "local");
        assert_eq!(h.kind, HardwareKind::Cpu);
        // 190 GFLOP/s measured -> 0.19 TFLOPS "peak"; LoRA steps reach 40% of it.
        assert_eq!(h.peak_flops(Dtype::Fp32), Some(190e9));
        assert_eq!(h.mfu_for(MethodKind::Qlora), 0.4);
        assert_eq!(h.mfu_for(MethodKind::Full), 0.5);
        // No adapter measurement: the mean of the others.
        assert!((h.mfu_for(MethodKind::Adapter) - 0.45).abs() < 1e-12);
        assert!(h.calibrated);
    }

    #[test]
    fn rented_gpu_calibration_scales_the_datasheet_peak() {
        let hw = super::super::HardwareCatalog::embedded().unwrap();
        let a10 = hw.get("a10").unwrap();
        let h = a10.calibrated_with(&calibration(Some("a10")));
        // bf16 matmul 93.6 of 125 TFLOPS = 0.7488; LoRA step 0.4 of matmul -> MFU 0.29952.
        assert!((h.mfu_for(MethodKind::Lora) - 0.7488 * 0.4).abs() < 1e-9);
        assert!((h.train_mfu - 0.29952).abs() < 1e-9);
        // 30 GB/s measured of 600 datasheet.
        assert!((h.decode_bandwidth_efficiency - 0.05).abs() < 1e-12);
        assert!(h.calibrated);
    }
}
