//! Google Cloud's Cloud Billing Catalog API (`GET /v1/services/6F81-5844-456A/skus?key=KEY`, a
//! user's API key, pages joined by `nextPageToken`) into a peftcost table. A GPU machine's price
//! is the sum of separate SKUs: per-vCPU and per-GiB host prices of its series ("A2 Instance
//! Core", "N1 Predefined Instance Ram") and the per-GPU price ("Nvidia Tesla T4 GPU"), each as
//! `units + nanos / 1e9` per hour (anchors-2026.md §2.2, after SkyPilot's `fetch_gcp.py`).
//!
//! Warts: the machine shapes (vCPUs, GiB, GPUs) are the few below, as GCP's machine-type tables
//! list them, since the catalog prices resources, not machines; SKUs are matched by their
//! descriptions, as SkyPilot does, so a renamed SKU drops an offer (and the shrink guard then
//! refuses the table); only the first tier of a SKU's price is read.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fetched::FetchedOffer;
use super::table::MAX_PRICE;
use crate::core::error::{from_json, Error, Result};

/// Compute Engine's service id in the catalog.
pub const SERVICE: &str = "6F81-5844-456A";

/// A machine peftcost prices: its name, host series, vCPUs, memory (GiB), GPU SKU name, count
/// and hardware profile.
struct Shape {
    instance: &'static str,
    series: &'static str,
    vcpus: f64,
    memory_gib: f64,
    gpu: &'static str,
    gpus: u64,
    hardware: &'static str,
}

/// GCP's GPU machines of the profiles peftcost has: the accelerator-optimized shapes with one GPU
/// (A2, G2) or the smallest whole machine (A3), and N1 hosts with an attached T4 or V100.
const SHAPES: &[Shape] = &[
    Shape {
        instance: "n1-standard-8+t4",
        series: "N1",
        vcpus: 8.0,
        memory_gib: 30.0,
        gpu: "Tesla T4 GPU",
        gpus: 1,
        hardware: "t4",
    },
    Shape {
        instance: "n1-standard-8+v100",
        series: "N1",
        vcpus: 8.0,
        memory_gib: 30.0,
        gpu: "Tesla V100 GPU",
        gpus: 1,
        hardware: "v100-16g",
    },
    Shape {
        instance: "g2-standard-8",
        series: "G2",
        vcpus: 8.0,
        memory_gib: 32.0,
        gpu: "L4 GPU",
        gpus: 1,
        hardware: "l4",
    },
    Shape {
        instance: "a2-highgpu-1g",
        series: "A2",
        vcpus: 12.0,
        memory_gib: 85.0,
        gpu: "Tesla A100 GPU",
        gpus: 1,
        hardware: "a100-40g",
    },
    Shape {
        instance: "a2-ultragpu-1g",
        series: "A2",
        vcpus: 12.0,
        memory_gib: 170.0,
        gpu: "A100 80GB GPU",
        gpus: 1,
        hardware: "a100-80g",
    },
    Shape {
        instance: "a3-highgpu-8g",
        series: "A3",
        vcpus: 208.0,
        memory_gib: 1872.0,
        gpu: "H100 80GB GPU",
        gpus: 8,
        hardware: "h100-sxm",
    },
];

/// What a SKU prices, for the machines above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    /// One vCPU-hour of a series.
    Core(&'static str),
    /// One GiB-hour of a series' memory.
    Ram(&'static str),
    /// One GPU-hour.
    Gpu(&'static str),
}

/// The part a SKU description prices (without its "Spot Preemptible " prefix), if any.
fn part_of(description: &str) -> Option<Part> {
    let d = description;
    // Commitments, sole tenancy, custom and extended memory are other prices of the same parts.
    if [
        "Commitment",
        "Sole Tenancy",
        "Custom",
        "Extended",
        "Reserved",
        "Premium",
    ]
    .iter()
    .any(|w| d.contains(w))
    {
        return None;
    }
    for s in SHAPES {
        let series = s.series;
        if d.starts_with(&format!("{series} Instance Core"))
            || d.starts_with(&format!("{series} Predefined Instance Core"))
        {
            return Some(Part::Core(series));
        }
        if d.starts_with(&format!("{series} Instance Ram"))
            || d.starts_with(&format!("{series} Predefined Instance Ram"))
        {
            return Some(Part::Ram(series));
        }
    }
    // "Nvidia Tesla A100 GPU" must not take the 80 GB one, nor "H100 80GB GPU" the Mega.
    SHAPES
        .iter()
        .map(|s| s.gpu)
        .filter(|g| d.contains(&format!("{g} running")) || d.ends_with(g))
        .max_by_key(|g| g.len())
        .map(Part::Gpu)
}

/// Prices read so far: (part, spot, region) -> price per hour.
#[derive(Debug, Default)]
pub struct Catalog {
    prices: BTreeMap<(Part, bool, String), f64>,
    /// SKUs read.
    pub skus: u64,
}

/// `units + nanos / 1e9` of a `unitPrice` (units is a decimal string, nanos an integer).
fn money(v: &Value) -> Option<f64> {
    let units = match v.get("units") {
        Some(Value::String(s)) => s.parse::<f64>().ok()?,
        Some(Value::Number(n)) => n.as_f64()?,
        None | Some(Value::Null) => 0.0,
        _ => return None,
    };
    let nanos = v.get("nanos").map_or(Some(0.0), Value::as_f64)?;
    Some(units + nanos / 1e9)
}

impl Catalog {
    /// Read one page of SKUs; returns its `nextPageToken` (`None` on the last page).
    pub fn read_page(&mut self, source: &str, text: &str) -> Result<Option<String>> {
        let value: Value = from_json(source, text)?;
        let schema = |why: String| {
            Error::input(format!(
                "{source}: not a Cloud Billing Catalog page ({why}): the API may have changed"
            ))
        };
        let skus = value
            .get("skus")
            .and_then(Value::as_array)
            .ok_or_else(|| schema("no 'skus' list".into()))?;
        for sku in skus {
            self.skus += 1;
            let text_of = |p: &str| sku.pointer(p).and_then(Value::as_str).unwrap_or("");
            let usage = text_of("/category/usageType");
            let spot = match usage {
                "OnDemand" => false,
                "Preemptible" => true,
                _ => continue,
            };
            if text_of("/category/resourceFamily") != "Compute" {
                continue;
            }
            let description = text_of("/description");
            let Some(part) = part_of(description.trim_start_matches("Spot Preemptible ")) else {
                continue;
            };
            let expression = sku
                .pointer("/pricingInfo/0/pricingExpression")
                .ok_or_else(|| schema(format!("'{description}' has no pricingExpression")))?;
            // Per hour: the units GCP bills in ("h", "GiBy.h").
            let unit = expression
                .get("usageUnit")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !unit.ends_with('h') {
                return Err(schema(format!(
                    "'{description}' is priced per '{unit}', not per hour"
                )));
            }
            let price = expression
                .pointer("/tieredRates/0/unitPrice")
                .and_then(money)
                .ok_or_else(|| schema(format!("'{description}' has no unitPrice")))?;
            if !(price.is_finite() && (0.0..=MAX_PRICE).contains(&price)) {
                return Err(Error::input(format!(
                    "{source}: '{description}' is priced at {price} an hour, which is not a price"
                )));
            }
            let regions = sku
                .get("serviceRegions")
                .and_then(Value::as_array)
                .ok_or_else(|| schema(format!("'{description}' has no serviceRegions")))?;
            for r in regions
                .iter()
                .filter_map(Value::as_str)
                .filter(|r| !r.trim().is_empty())
            {
                self.prices.insert((part, spot, r.to_string()), price);
            }
        }
        Ok(value
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string))
    }

    /// The machines whose every part is priced in a region: host vCPUs and memory plus GPUs, with
    /// a spot price where every part has one.
    pub fn offers(&self) -> Vec<FetchedOffer> {
        let regions: std::collections::BTreeSet<&String> =
            self.prices.keys().map(|(_, _, r)| r).collect();
        let mut out = Vec::new();
        for region in regions {
            for s in SHAPES {
                let sum = |spot: bool| {
                    let get = |p: Part| self.prices.get(&(p, spot, region.clone())).copied();
                    Some(
                        s.vcpus * get(Part::Core(s.series))?
                            + s.memory_gib * get(Part::Ram(s.series))?
                            + s.gpus as f64 * get(Part::Gpu(s.gpu))?,
                    )
                };
                if let Some(on_demand) = sum(false).filter(|p| *p > 0.0) {
                    out.push(FetchedOffer {
                        instance: s.instance.to_string(),
                        region: region.clone(),
                        hardware: s.hardware.to_string(),
                        gpus: s.gpus,
                        // Rounded to a ten-thousandth of a cent: sums of nanos carry float noise.
                        on_demand: (on_demand * 1e6).round() / 1e6,
                        spot: sum(true)
                            .filter(|p| *p > 0.0 && *p < on_demand)
                            .map(|p| (p * 1e6).round() / 1e6),
                        monthly: None,
                    });
                }
            }
        }
        out
    }
}

/// What the table's header says its prices are.
pub const WHAT: &str = "Per instance-hour from the Cloud Billing Catalog API: host vCPUs and memory plus GPUs, each its own SKU, summed per machine (spot: the Preemptible SKUs)";

/// What a source without a single offer lacked.
pub fn none() -> String {
    format!(
        "no region prices every part (vCPUs, memory, GPU) of a machine peftcost maps ({})",
        SHAPES
            .iter()
            .map(|s| s.instance)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_descriptions_name_their_parts() {
        assert_eq!(
            part_of("N1 Predefined Instance Core running in Americas"),
            Some(Part::Core("N1"))
        );
        assert_eq!(
            part_of("A2 Instance Ram running in Belgium"),
            Some(Part::Ram("A2"))
        );
        assert_eq!(
            part_of("Nvidia Tesla A100 GPU running in Americas"),
            Some(Part::Gpu("Tesla A100 GPU"))
        );
        assert_eq!(
            part_of("Nvidia A100 80GB GPU running in Americas"),
            Some(Part::Gpu("A100 80GB GPU"))
        );
        assert_eq!(
            part_of("Commitment v1: A2 Cpu in Americas for 1 Year"),
            None
        );
        assert_eq!(part_of("N1 Custom Instance Core running in Americas"), None);
        assert_eq!(part_of("E2 Instance Core running in Americas"), None);
    }
}
