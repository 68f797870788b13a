//! The calibration file that `peftcost bench` writes and `estimate`/`plan`/`deploy` read: what
//! this device achieved, as JSON.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::core::error::{from_json, Error, Result};

/// The version of the calibration file format this build reads and writes.
pub const CALIBRATION_FORMAT_VERSION: u32 = 1;

/// What `bench` measured on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// [`CALIBRATION_FORMAT_VERSION`].
    pub format_version: u32,
    /// The peftcost version that wrote the file.
    pub tool_version: String,
    /// Seconds since the Unix epoch when the file was written.
    pub created_unix: u64,
    /// e.g. `cpu: AMD EPYC 7B13 (2 threads)` or `cuda:0`.
    pub device: String,
    /// `cpu` or `cuda`.
    pub device_kind: String,
    /// The hardware profile this measures (`--hardware-id`); `None` means this machine ("local").
    pub hardware_id: Option<String>,
    /// The model whose shapes were used.
    pub model: String,
    /// Device memory in GiB: total RAM for the CPU, GPU memory for CUDA (0 if unknown).
    pub memory_gib: f64,
    /// dtype (`f32`, `f16`, `bf16`) -> median over the model's shapes of the per-shape best
    /// GFLOP/s.
    pub matmul_gflops: BTreeMap<String, f64>,
    /// Memory bandwidth in GB/s (1e9 bytes).
    pub bandwidth_gbs: f64,
    /// f32 GFLOP/s of register-only FMAs on every thread: the CPU's vector peak (absent on
    /// GPUs, CPUs without AVX2 + FMA and files written before it was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fma_peak_gflops: Option<f64>,
    /// GB/s of writing freshly allocated buffers, each page faulted in (CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_touch_gbs: Option<f64>,
    /// method (`lora`, `adapter`, `prompt`, `full`) -> achieved GFLOP/s of a training step.
    pub train_gflops: BTreeMap<String, f64>,
    /// method -> `train_gflops / matmul_gflops["f32"]`.
    pub train_efficiency: BTreeMap<String, f64>,
    /// method -> GiB a real run's peak memory held beyond peftcost's modelled terms (negative
    /// when the model counts more); written by `calibrate --from-log`, absent from `bench`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub memory_offset_gib: BTreeMap<String, f64>,
    /// The CPU a CPU calibration was measured on (absent from GPU calibrations and files
    /// written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuIdentity>,
}

/// Instruction-set flags that change what a CPU's matmuls achieve (`/proc/cpuinfo` names).
const ISA_FLAGS: [&str; 9] = [
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_bf16",
    "avx512_fp16",
    "avx512_vnni",
    "amx_tile",
    "amx_bf16",
];

/// Which CPU, with which vector units, on how many threads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuIdentity {
    /// `model name` of `/proc/cpuinfo`, e.g. `AMD EPYC 7B13`.
    pub model: String,
    /// The [`ISA_FLAGS`] it has.
    pub flags: Vec<String>,
    /// Threads the measurement ran on.
    pub threads: u64,
}

impl CpuIdentity {
    /// From `/proc/cpuinfo`'s text: the first `model name` and `flags` lines.
    pub fn from_cpuinfo(text: &str, threads: u64) -> Option<Self> {
        let field = |name: &str| {
            text.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == name).then(|| v.trim().to_string())
            })
        };
        let model = field("model name")?;
        let have = field("flags").unwrap_or_default();
        let have: Vec<&str> = have.split_whitespace().collect();
        let flags = ISA_FLAGS
            .iter()
            .filter(|f| have.contains(f))
            .map(|f| f.to_string())
            .collect();
        Some(CpuIdentity {
            model,
            flags,
            threads,
        })
    }

    /// The threads a `bench` here would run on: `RAYON_NUM_THREADS` (candle's thread pool
    /// reads it) or every available core.
    pub fn threads_here() -> u64 {
        std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|n| *n > 0)
            .or_else(|| {
                std::thread::available_parallelism()
                    .ok()
                    .map(|n| n.get() as u64)
            })
            .unwrap_or(1)
    }

    /// This machine on `threads` threads (`None` where `/proc/cpuinfo` cannot be read).
    pub fn this_machine(threads: u64) -> Option<Self> {
        let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
        Self::from_cpuinfo(&text, threads)
    }

    /// One line: `AMD EPYC 7B13, 2 threads, avx2 fma`.
    pub fn describe(&self) -> String {
        format!(
            "{}, {} threads, {}",
            self.model,
            self.threads,
            if self.flags.is_empty() {
                "no AVX2".to_string()
            } else {
                self.flags.join(" ")
            }
        )
    }
}

impl Calibration {
    /// A calibration of this machine (CPU, no `--hardware-id`) measured on another CPU, or on
    /// another thread count, does not describe this one: an error naming both, unless the
    /// calibration or this machine says nothing about its CPU.
    pub fn check_machine(&self, shown: &str, here: Option<&CpuIdentity>) -> Result<()> {
        if self.device_kind != "cpu" || self.hardware_id.is_some() {
            return Ok(());
        }
        match (&self.cpu, here) {
            (Some(then), Some(now)) if then != now => Err(Error::Input(format!(
                "{shown}: measured on {}, but this machine is {}: rerun `peftcost bench` here, or pass --force-calibration to apply it anyway",
                then.describe(),
                now.describe()
            ))),
            _ => Ok(()),
        }
    }
}

impl Calibration {
    /// Check that every number is usable; `path` names the file in errors.
    pub fn validate(&self, path: &str) -> Result<()> {
        let bad = |what: String| {
            Err(Error::Input(format!(
                "{path}: {what}; rerun `peftcost bench`"
            )))
        };
        if self.format_version != CALIBRATION_FORMAT_VERSION {
            return bad(format!(
                "calibration format version {} is not supported (expected {CALIBRATION_FORMAT_VERSION})",
                self.format_version
            ));
        }
        if self.device.trim().is_empty() {
            return bad("device is empty".into());
        }
        if !matches!(self.device_kind.as_str(), "cpu" | "cuda") {
            return bad(format!(
                "device_kind '{}' is not cpu or cuda",
                self.device_kind
            ));
        }
        if !(self.memory_gib.is_finite() && self.memory_gib > 0.0 && self.memory_gib <= 65_536.0) {
            return bad(format!(
                "memory_gib {} is not a memory size (> 0 and at most 65536 GiB)",
                self.memory_gib
            ));
        }
        let positive = |field: &str, key: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                bad(format!(
                    "{field}{} is {v}, expected a positive number",
                    if key.is_empty() {
                        String::new()
                    } else {
                        format!(".{key}")
                    }
                ))
            }
        };
        positive("bandwidth_gbs", "", self.bandwidth_gbs)?;
        if let Some(v) = self.fma_peak_gflops {
            positive("fma_peak_gflops", "", v)?;
        }
        if let Some(v) = self.first_touch_gbs {
            positive("first_touch_gbs", "", v)?;
        }
        if !self.matmul_gflops.contains_key("f32") {
            return bad("matmul_gflops has no f32 entry".into());
        }
        for (field, map) in [
            ("matmul_gflops", &self.matmul_gflops),
            ("train_gflops", &self.train_gflops),
            ("train_efficiency", &self.train_efficiency),
        ] {
            for (k, v) in map {
                positive(field, k, *v)?;
            }
        }
        // An efficiency is a fraction of the peak; measured rates stay below 10^7 GFLOP/s and
        // 10^6 GB/s (three orders of magnitude over any 2026 device).
        // An offset moves the peak by at most the device's memory either way.
        for (k, v) in &self.memory_offset_gib {
            if !(v.is_finite() && v.abs() <= self.memory_gib) {
                return bad(format!(
                    "memory_offset_gib.{k} is {v}, expected a number of GiB within the device's {} GiB either way",
                    self.memory_gib
                ));
            }
        }
        for (k, v) in &self.train_efficiency {
            if *v > 1.0 {
                return bad(format!(
                    "train_efficiency.{k} is {v}, more than the peak (at most 1)"
                ));
            }
        }
        let rates = self
            .matmul_gflops
            .values()
            .chain(self.train_gflops.values())
            .chain(self.fma_peak_gflops.iter());
        let over_bandwidth = [Some(self.bandwidth_gbs), self.first_touch_gbs]
            .into_iter()
            .flatten()
            .any(|v| v > 1e6);
        if rates.into_iter().any(|v| *v > 1e7) || over_bandwidth {
            return bad(
                "a measured rate is beyond any device (GFLOP/s over 1e7 or GB/s over 1e6)".into(),
            );
        }
        Ok(())
    }
}

/// Read and validate a calibration file. Errors name the file: a syntax error gives its line and
/// column, a foreign format version or an unusable number says to rerun `peftcost bench`.
pub fn load_calibration(path: &Path) -> Result<Calibration> {
    let text = crate::core::data::read_file(path)?.text;
    parse_calibration(&path.display().to_string(), &text)
}

/// A calibration's text, validated; errors name `shown`.
pub fn parse_calibration(shown: &str, text: &str) -> Result<Calibration> {
    let (shown, text) = (shown.to_string(), text);
    // Look at the version first, so a file of another version is reported as such rather than
    // as a field mismatch.
    #[derive(Deserialize)]
    struct Probe {
        format_version: Option<serde_json::Value>,
    }
    let probe: Probe = from_json(&shown, text)?;
    match probe.format_version {
        None => {
            return Err(Error::Input(format!(
                "{shown}: not a peftcost calibration file (no format_version); rerun `peftcost bench`"
            )))
        }
        Some(v) if v.as_u64() != Some(CALIBRATION_FORMAT_VERSION as u64) => {
            return Err(Error::Input(format!(
                "{shown}: calibration format version {v} is not supported (expected {CALIBRATION_FORMAT_VERSION}); rerun `peftcost bench`"
            )))
        }
        Some(_) => {}
    }
    let c: Calibration = from_json(&shown, text)?;
    c.validate(&shown)?;
    Ok(c)
}

/// Write a calibration file atomically (through [`crate::core::data::write_atomic`]), creating
/// the directory if needed. The calibration is validated first: an unusable one is never written.
pub fn save_calibration(path: &Path, c: &Calibration) -> Result<()> {
    c.validate(&path.display().to_string())?;
    let mut text = serde_json::to_string_pretty(c)
        .map_err(|e| Error::Internal(format!("calibration JSON: {e}")))?;
    text.push('\n');
    crate::core::data::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::CpuIdentity;

    const CPUINFO: &str = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx avx2 fma f16c bmi2\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n";

    #[test]
    fn a_cpu_calibration_belongs_to_its_cpu_and_thread_count() {
        let epyc = CpuIdentity::from_cpuinfo(CPUINFO, 2).unwrap();
        assert_eq!(epyc.model, "AMD EPYC 7B13");
        // Only the vector-unit flags that change matmul speed are kept.
        assert_eq!(epyc.flags, ["avx2", "fma", "f16c"]);
        let mut cal = sample();
        cal.cpu = Some(epyc.clone());
        assert!(cal.check_machine("cal.json", Some(&epyc)).is_ok());
        // Another CPU generation (AVX-512 and AMX) is refused, naming both.
        let spr = CpuIdentity {
            model: "Intel Xeon Platinum 8480+".into(),
            flags: vec!["avx2".into(), "avx512f".into(), "amx_tile".into()],
            threads: 2,
        };
        let err = cal
            .check_machine("cal.json", Some(&spr))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AMD EPYC 7B13")
                && err.contains("8480+")
                && err.contains("--force-calibration"),
            "{err}"
        );
        // The same CPU on another thread count measures another machine too.
        let four = CpuIdentity {
            threads: 4,
            ..epyc.clone()
        };
        assert!(cal.check_machine("cal.json", Some(&four)).is_err());
        // A calibration of a named profile (rented GPU) or one without a CPU record applies.
        cal.hardware_id = Some("a10".into());
        assert!(cal.check_machine("cal.json", Some(&spr)).is_ok());
        cal.hardware_id = None;
        cal.cpu = None;
        assert!(cal.check_machine("cal.json", Some(&spr)).is_ok());
    }

    use super::*;

    pub(crate) fn sample() -> Calibration {
        Calibration {
            format_version: CALIBRATION_FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            created_unix: 1_790_000_000,
            device: "cpu: AMD EPYC (2 threads)".into(),
            device_kind: "cpu".into(),
            hardware_id: None,
            model: "qwen-7b".into(),
            memory_gib: 23.5,
            matmul_gflops: [("f32".to_string(), 101.5), ("f16".to_string(), 80.25)].into(),
            bandwidth_gbs: 12.5,
            fma_peak_gflops: None,
            first_touch_gbs: None,
            train_gflops: [("lora".to_string(), 60.0), ("full".to_string(), 70.0)].into(),
            train_efficiency: [("lora".to_string(), 0.59), ("full".to_string(), 0.69)].into(),
            memory_offset_gib: Default::default(),
            cpu: None,
        }
    }

    #[test]
    fn calibration_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/calibration.json");
        let mut c = sample();
        save_calibration(&path, &c).unwrap();
        assert_eq!(load_calibration(&path).unwrap(), c);
        // Overwrite in place; no temporary file is left behind.
        c.hardware_id = Some("a10".into());
        save_calibration(&path, &c).unwrap();
        assert_eq!(load_calibration(&path).unwrap(), c);
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["calibration.json"]);
    }

    fn load_text(text: &str) -> (String, Error) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calibration.json");
        std::fs::write(&path, text).unwrap();
        let err = load_calibration(&path).unwrap_err();
        (path.display().to_string(), err)
    }

    #[test]
    fn corrupt_calibration_names_the_file() {
        let (path, err) = load_text("{\n  \"format_version\": 1,\n  \"device\": ");
        assert!(matches!(err, Error::Parse { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{path}:3:")), "{msg}");

        let (path, err) = load_text("not json at all");
        assert!(err.to_string().starts_with(&path), "{err}");

        // Valid JSON, right version, wrong shape.
        let (path, err) = load_text("{\"format_version\": 1, \"device\": 3}");
        assert!(err.to_string().starts_with(&path), "{err}");
    }

    #[test]
    fn foreign_calibration_versions_are_refused() {
        let mut v = serde_json::to_value(sample()).unwrap();
        v["format_version"] = 2.into();
        v["something_new"] = "x".into();
        let (path, err) = load_text(&v.to_string());
        assert!(matches!(err, Error::Input(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("{path}: calibration format version 2 is not supported (expected 1); rerun `peftcost bench`")
        );

        let (path, err) = load_text("{\"other\": true}");
        assert!(err.to_string().starts_with(&path), "{err}");
        assert!(
            err.to_string().contains("not a peftcost calibration"),
            "{err}"
        );

        let (_, err) = load_text("[1, 2]");
        assert!(matches!(err, Error::Parse { .. }), "{err:?}");
    }

    #[test]
    fn unusable_numbers_are_refused() {
        for (field, value) in [
            ("bandwidth_gbs", serde_json::json!(0.0)),
            ("bandwidth_gbs", serde_json::json!(-3.0)),
            ("memory_gib", serde_json::json!(-1.0)),
            ("matmul_gflops", serde_json::json!({"f16": 10.0})),
            ("train_efficiency", serde_json::json!({"lora": 0.0})),
            ("device_kind", serde_json::json!("tpu")),
        ] {
            let mut v = serde_json::to_value(sample()).unwrap();
            v[field] = value;
            let (path, err) = load_text(&v.to_string());
            let msg = err.to_string();
            assert!(msg.starts_with(&path) && msg.contains(field), "{msg}");
        }
        let mut c = sample();
        c.bandwidth_gbs = f64::NAN;
        let dir = tempfile::tempdir().unwrap();
        assert!(save_calibration(&dir.path().join("c.json"), &c).is_err());
    }

    #[test]
    fn missing_calibration_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_calibration(&dir.path().join("none.json")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
    }
}
