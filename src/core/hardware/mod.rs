//! Hardware profiles (GPU and CPU datasheet figures with sources) and calibration.
//!
//! Profiles come from `profiles/hardware.toml`, embedded, overridable entry by entry from the
//! user's `hardware.toml`. A calibration measured by `peftcost bench` replaces the default
//! efficiencies of the profile it describes, or becomes the `local` profile.

mod calibrated;
mod calibration;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use calibrated::{method_family, LOCAL};
pub use calibration::{
    load_calibration, parse_calibration, save_calibration, Calibration, CpuIdentity,
    CALIBRATION_FORMAT_VERSION,
};

use crate::core::data::{self, DataFile};
use crate::core::error::{from_toml, Error, Result};
use crate::core::units::Dtype;

const EMBEDDED: &str = include_str!("../../../profiles/hardware.toml");

/// GPU or CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HardwareKind {
    /// A GPU (or other accelerator).
    Gpu,
    /// A CPU server.
    Cpu,
}

/// Dense peak throughput per dtype in TFLOPS (int8 in TOPS); `None` = unsupported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PeakTflops {
    /// fp32 peak, in TFLOPS.
    pub fp32: Option<f64>,
    /// TF32 tensor-core peak, in TFLOPS.
    pub tf32: Option<f64>,
    /// fp16 peak, in TFLOPS.
    pub fp16: Option<f64>,
    /// bf16 peak, in TFLOPS.
    pub bf16: Option<f64>,
    /// int8 peak, in TOPS.
    pub int8: Option<f64>,
}

/// One device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareProfile {
    /// Short id used on the command line, e.g. `t4`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Other names the profile can be looked up by.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The profile whose chip this is in another form factor (a PCIe card of an SXM one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<String>,
    /// GPU or CPU.
    pub kind: HardwareKind,
    /// Device memory in GiB (RAM for CPU servers).
    pub memory_gib: f64,
    /// GB/s (10^9 bytes per second).
    #[serde(default)]
    pub memory_bandwidth_gbs: Option<f64>,
    /// Interconnect name, e.g. `pcie4` or `nvlink`.
    #[serde(default)]
    pub interconnect: Option<String>,
    /// GPU-to-GPU bandwidth in GB/s.
    #[serde(default)]
    pub interconnect_gbs: Option<f64>,
    /// The device's link to the host, `pcie3`, `pcie4` or `pcie5` (x16); defaults to
    /// `interconnect` when that is PCIe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_link: Option<String>,
    /// Fraction of dense peak reached by training matmuls (model FLOPs utilisation).
    pub train_mfu: f64,
    /// Fraction of memory bandwidth reached when decoding.
    pub decode_bandwidth_efficiency: f64,
    /// Dense peak throughput per dtype.
    #[serde(default)]
    pub peak_tflops: PeakTflops,
    /// Where the figures come from.
    pub source: String,
    /// Date the figures were recorded (`YYYY-MM-DD`).
    pub as_of: String,
    /// Confidence label of the figures.
    pub confidence: String,
    /// Free-form notes about the device.
    #[serde(default)]
    pub notes: Option<String>,
    /// Set when a `peftcost bench` calibration replaced the efficiencies.
    #[serde(default, skip_deserializing)]
    pub calibrated: bool,
    /// Calibrated MFU per method family (`lora`, `adapter`, `prompt`, `full`).
    #[serde(
        default,
        skip_deserializing,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub method_mfu: BTreeMap<String, f64>,
    /// Calibrated memory offset per method family, bytes (signed): what a real run's peak held
    /// beyond the modelled terms, added to the overhead term (`calibrate --from-log`).
    #[serde(
        default,
        skip_deserializing,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub method_memory_offset: BTreeMap<String, f64>,
    /// GB/s of writing freshly allocated (page-faulted) memory, measured by `bench` on a CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_touch_gbs: Option<f64>,
    /// Set when `memory_bandwidth_gbs` is a measured streaming rate (a `bench` calibration of
    /// this machine), not a datasheet figure of which only a fraction is reached.
    #[serde(default, skip_deserializing)]
    pub bandwidth_measured: bool,
}

impl HardwareProfile {
    /// Dense peak in FLOP/s for a compute dtype, if supported.
    pub fn peak_flops(&self, dtype: Dtype) -> Option<f64> {
        let t = match dtype {
            Dtype::Bf16 => self.peak_tflops.bf16,
            Dtype::Fp16 => self.peak_tflops.fp16,
            Dtype::Fp32 => self.peak_tflops.fp32,
        };
        t.map(|x| x * 1e12)
    }

    /// The dtype training really runs in: bf16 falls back to fp16 where unsupported (T4, V100),
    /// and to fp32 where neither half type is. Returns a note when it falls back.
    pub fn effective_dtype(&self, wanted: Dtype) -> (Dtype, Option<String>) {
        if self.peak_flops(wanted).is_some() {
            return (wanted, None);
        }
        let fallback = [Dtype::Fp16, Dtype::Fp32]
            .into_iter()
            .find(|d| *d != wanted && self.peak_flops(*d).is_some());
        match fallback {
            Some(d) => (
                d,
                Some(format!(
                    "{} has no {}: estimated in {}",
                    self.id,
                    wanted.as_str(),
                    d.as_str()
                )),
            ),
            None => (wanted, None),
        }
    }

    /// Memory capacity in bytes.
    pub fn memory_bytes(&self) -> f64 {
        self.memory_gib * 1024.0 * 1024.0 * 1024.0
    }

    /// Memory bandwidth in bytes/s.
    pub fn bandwidth_bytes(&self) -> Option<f64> {
        self.memory_bandwidth_gbs.map(|b| b * 1e9)
    }

    /// Bytes/s a streaming kernel (an optimizer step, an elementwise op) reaches: the measured
    /// rate, or `datasheet_fraction` of the datasheet figure.
    pub fn streaming_bytes(&self, datasheet_fraction: f64) -> Option<f64> {
        let bw = self.bandwidth_bytes()?;
        Some(if self.bandwidth_measured {
            bw
        } else {
            bw * datasheet_fraction
        })
    }

    /// Bytes/s one direction of the device's x16 PCIe link to the host carries: lanes x
    /// transfer rate x 128b/130b line coding (PCIe 3.0: 8 GT/s, 4.0: 16, 5.0: 32; PCI-SIG base
    /// specifications), times the payload share of a transaction packet: 256-byte payloads
    /// (the usual max payload size) behind 24 bytes of framing, sequence number, 16-byte
    /// header and LCRC. `None` without a PCIe host link.
    pub fn host_link_bytes(&self) -> Option<f64> {
        let link = self.host_link.as_deref().or(self.interconnect.as_deref())?;
        let gt_per_s = match link {
            "pcie3" => 8.0,
            "pcie4" => 16.0,
            "pcie5" => 32.0,
            _ => return None,
        };
        let line = 16.0 * gt_per_s * 1e9 * 128.0 / 130.0 / 8.0;
        Some(line * 256.0 / (256.0 + 24.0))
    }

    fn validate(&self, path: &str) -> Result<()> {
        let bad = |what: &str| Error::input(format!("{path}: hardware '{}': {what}", self.id));
        if self.id.trim().is_empty() || self.id.chars().any(|c| c.is_control()) {
            return Err(Error::input(format!(
                "{path}: a hardware entry has an empty id (or one with control characters)"
            )));
        }
        // 64 TiB: more than any device or server sold.
        if !(self.memory_gib.is_finite() && self.memory_gib > 0.0 && self.memory_gib <= 65_536.0) {
            return Err(bad("memory_gib must be > 0 and at most 65536"));
        }
        if crate::core::pricing::date::parse_date(&self.as_of).is_none() {
            return Err(bad(&format!(
                "as_of '{}' is not a date: write YYYY-MM-DD",
                self.as_of
            )));
        }
        if let Some(why) = crate::core::pricing::date::future_date(&self.as_of) {
            return Err(bad(&format!("as_of '{}' {why}", self.as_of)));
        }
        if let Some(l) = self.host_link.as_deref() {
            if !matches!(l, "pcie3" | "pcie4" | "pcie5") {
                return Err(bad(&format!(
                    "host_link '{l}' is not a PCIe generation: write pcie3, pcie4 or pcie5"
                )));
            }
        }
        // A link of 0, negative, NaN or infinite bandwidth would make communication free.
        if let Some(g) = self.interconnect_gbs {
            if !(g.is_finite() && g > 0.0 && g <= 100_000.0) {
                return Err(bad(
                    "interconnect_gbs must be a bandwidth > 0 and at most 100000 GB/s",
                ));
            }
        }
        for (name, v) in [
            ("train_mfu", self.train_mfu),
            (
                "decode_bandwidth_efficiency",
                self.decode_bandwidth_efficiency,
            ),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 1.5) {
                return Err(bad(&format!("{name} must be in (0, 1.5]")));
            }
        }
        let peaks = [
            self.peak_tflops.fp32,
            self.peak_tflops.tf32,
            self.peak_tflops.fp16,
            self.peak_tflops.bf16,
            self.peak_tflops.int8,
        ];
        // 1e6 TFLOPS and 1e6 GB/s: three orders of magnitude over any 2026 device.
        if peaks
            .iter()
            .flatten()
            .any(|p| !(p.is_finite() && *p > 0.0 && *p <= 1e6))
            || self
                .memory_bandwidth_gbs
                .is_some_and(|b| !(b.is_finite() && b > 0.0 && b <= 1e6))
        {
            return Err(bad(
                "peaks and bandwidth must be positive numbers (TFLOPS and GB/s up to 1e6)",
            ));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HardwareFile {
    hardware: Vec<HardwareProfile>,
}

/// Known hardware, looked up by id or alias.
#[derive(Debug, Clone)]
pub struct HardwareCatalog {
    profiles: Vec<HardwareProfile>,
}

impl HardwareCatalog {
    /// The profiles built into the binary (`profiles/hardware.toml`).
    pub fn embedded() -> Result<Self> {
        Self::from_files(&[DataFile::embedded("profiles/hardware.toml", EMBEDDED)])
    }

    /// Embedded profiles; entries of `dir/hardware.toml` add to or replace them by id.
    pub fn load(user_dir: Option<&std::path::Path>) -> Result<Self> {
        let mut files = vec![DataFile::embedded("profiles/hardware.toml", EMBEDDED)];
        if let Some(dir) = user_dir {
            let path = dir.join("hardware.toml");
            if path.is_file() {
                files.push(data::read_file(&path)?);
            }
        }
        Self::from_files(&files)
    }

    /// The embedded profiles with one user `hardware.toml` over them (its text, named `path`).
    pub fn with_user_file(path: &str, text: &str) -> Result<Self> {
        Self::from_files(&[
            DataFile::embedded("profiles/hardware.toml", EMBEDDED),
            DataFile {
                path: path.to_string(),
                name: "hardware.toml".into(),
                text: text.to_string(),
            },
        ])
    }

    fn from_files(files: &[DataFile]) -> Result<Self> {
        let mut profiles: Vec<HardwareProfile> = Vec::new();
        for f in files {
            let parsed: HardwareFile = from_toml(&f.path, &f.text)?;
            let mut seen: Vec<&str> = Vec::new();
            for h in &parsed.hardware {
                if seen.contains(&h.id.as_str()) {
                    return Err(Error::input(format!(
                        "{}: hardware '{}' is listed twice; keep one entry per id",
                        f.path, h.id
                    )));
                }
                seen.push(&h.id);
            }
            for h in parsed.hardware {
                h.validate(&f.path)?;
                profiles.retain(|p| p.id != h.id);
                profiles.push(h);
            }
        }
        Ok(HardwareCatalog { profiles })
    }

    /// Every profile, in file order (user entries after the embedded ones).
    pub fn profiles(&self) -> &[HardwareProfile] {
        &self.profiles
    }

    /// Add or replace a profile (e.g. `local` from a calibration).
    pub fn insert(&mut self, h: HardwareProfile) {
        self.profiles.retain(|p| p.id != h.id);
        self.profiles.push(h);
    }

    /// Apply a calibration: one of this machine becomes `local`; one made on a rented device
    /// (with a hardware id) calibrates that profile.
    pub fn apply_calibration(&mut self, c: &crate::core::hardware::Calibration) -> Result<()> {
        match &c.hardware_id {
            None => self.insert(HardwareProfile::local(c)),
            Some(id) => {
                let calibrated = self.get(id)?.calibrated_with(c);
                self.insert(calibrated);
            }
        }
        Ok(())
    }

    /// Find a profile by id or alias, accepting spellings like `A100-80GB` or `a100`.
    pub fn get(&self, name: &str) -> Result<&HardwareProfile> {
        let wanted = data::normalise(name);
        let matches = |p: &HardwareProfile| {
            std::iter::once(&p.id)
                .chain(p.aliases.iter())
                .any(|n| data::normalise(n) == wanted)
        };
        if let Some(p) = self.profiles.iter().find(|p| matches(p)) {
            return Ok(p);
        }
        // "a100-80gb" -> "a100-80g"
        if let Some(stripped) = wanted.strip_suffix('b') {
            if let Some(p) = self
                .profiles
                .iter()
                .find(|p| data::normalise(&p.id) == stripped)
            {
                return Ok(p);
            }
        }
        if wanted == LOCAL {
            return Err(Error::input(
                "no calibration of this machine: run `peftcost bench` (or pass --calibration FILE) to create --hardware local",
            ));
        }
        let known: Vec<String> = self.profiles.iter().map(|p| p.id.clone()).collect();
        Err(Error::Unknown {
            kind: "hardware",
            name: name.to_string(),
            suggestion: data::nearest(name, known.iter().map(String::as_str)).map(str::to_string),
            known,
        })
    }

    /// The profiles named, each with the other form factors of its chip unless the name says
    /// which (`a100-80g`: the SXM and the PCIe card; `a100-80g-pcie` or `a100-80g-sxm`: one),
    /// with a note for every name taken as more than one profile.
    pub fn select_variants(&self, names: &[String]) -> Result<(Vec<HardwareProfile>, Vec<String>)> {
        if names.iter().all(|n| n.trim().is_empty()) {
            return Ok((self.profiles.clone(), Vec::new()));
        }
        let mut out: Vec<HardwareProfile> = Vec::new();
        let mut notes = Vec::new();
        for p in self.select(names)? {
            let typed = names
                .iter()
                .flat_map(|n| n.split(','))
                .find(|n| self.get(n).is_ok_and(|q| q.id == p.id))
                .unwrap_or(&p.id)
                .trim()
                .to_string();
            let explicit = ["pcie", "sxm"]
                .iter()
                .any(|f| data::normalise(&typed).contains(f));
            let root = p.variant_of.clone().unwrap_or_else(|| p.id.clone());
            let family: Vec<&HardwareProfile> = if explicit {
                vec![&p]
            } else {
                self.profiles
                    .iter()
                    .filter(|q| q.id == root || q.variant_of.as_deref() == Some(&root))
                    .collect()
            };
            if family.len() > 1 {
                let ids: Vec<String> = family
                    .iter()
                    .map(|q| format!("{} ({})", q.id, q.name))
                    .collect();
                notes.push(format!(
                    "--hardware {typed} taken as {}; name one (e.g. {}) to choose",
                    ids.join(" and "),
                    family.last().map_or(root.as_str(), |q| q.id.as_str())
                ));
            }
            for q in family {
                if !out.iter().any(|o| o.id == q.id) {
                    out.push(q.clone());
                }
            }
        }
        Ok((out, notes))
    }

    /// The profiles named (all when `names` is empty), in the order given.
    pub fn select(&self, names: &[String]) -> Result<Vec<HardwareProfile>> {
        if names.is_empty() {
            return Ok(self.profiles.clone());
        }
        let mut out: Vec<HardwareProfile> = Vec::new();
        for n in names
            .iter()
            .flat_map(|n| n.split(','))
            .filter(|n| !n.trim().is_empty())
        {
            let p = self.get(n)?;
            if !out.iter().any(|q| q.id == p.id) {
                out.push(p.clone());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_profiles_parse_and_resolve_common_spellings() {
        let c = HardwareCatalog::embedded().unwrap();
        assert!(c.profiles().len() >= 21);
        // A100 80GB SXM4 datasheet: 2039 GB/s, 312 TFLOPS dense bf16 (pricing.md §1).
        let a = c.get("A100-80GB").unwrap();
        assert_eq!(a.id, "a100-80g");
        assert_eq!(a.memory_bandwidth_gbs, Some(2039.0));
        assert_eq!(a.peak_flops(Dtype::Bf16), Some(312e12));
        assert_eq!(c.get("a100").unwrap().id, "a100-80g");
        assert!(c
            .get("a1000")
            .unwrap_err()
            .to_string()
            .contains("unknown hardware"));
    }

    #[test]
    fn l40s_has_its_datasheet_figures() {
        // NVIDIA L40S spec table: BF16 362.05 TFLOPS dense (733 with sparsity), 864 GB/s GDDR6.
        let c = HardwareCatalog::embedded().unwrap();
        let l40s = c.get("l40s").unwrap();
        assert_eq!(l40s.peak_flops(Dtype::Bf16), Some(362.05e12));
        assert_eq!(l40s.memory_bandwidth_gbs, Some(864.0));
    }

    #[test]
    fn a_chip_name_takes_both_form_factors_unless_it_says_which() {
        let c = HardwareCatalog::embedded().unwrap();
        let ids = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            let (hw, notes) = c.select_variants(&names).unwrap();
            (hw.into_iter().map(|h| h.id).collect::<Vec<_>>(), notes)
        };
        let (hw, notes) = ids(&["A100"]);
        assert_eq!(hw, ["a100-80g", "a100-80g-pcie"]);
        assert!(
            notes[0].starts_with("--hardware A100 taken as a100-80g"),
            "{notes:?}"
        );
        assert_eq!(
            ids(&["a100-80g-pcie"]),
            (vec!["a100-80g-pcie".into()], vec![])
        );
        assert_eq!(ids(&["a100-80g-sxm"]), (vec!["a100-80g".into()], vec![]));
        assert_eq!(ids(&["h100-pcie", "t4"]).0, ["h100-pcie", "t4"]);
        assert_eq!(ids(&["t4"]), (vec!["t4".into()], vec![]));
        // Every variant_of names a profile of the catalogue.
        for p in c.profiles() {
            if let Some(root) = &p.variant_of {
                assert!(c.get(root).is_ok(), "{}: {root}", p.id);
            }
        }
    }

    #[test]
    fn t4_falls_back_from_bf16_to_fp16() {
        // T4 has no bf16 (pricing.md §1 notes); fp16 tensor 65 TFLOPS.
        let c = HardwareCatalog::embedded().unwrap();
        let t4 = c.get("t4").unwrap();
        let (d, note) = t4.effective_dtype(Dtype::Bf16);
        assert_eq!(d, Dtype::Fp16);
        assert!(note.unwrap().contains("no bf16"));
        assert_eq!(t4.peak_flops(d), Some(65e12));
    }
}
