//! Aggregated price feeds other tools publish, imported as a provider's table (`pricing import`):
//! SkyPilot's catalog CSVs (`catalogs/v8/<cloud>/vms.csv`) and gpuhunt's per-provider CSVs
//! (anchors-2026.md §2.3). For providers without a usable API of their own, or to cross-check one.
//!
//! Warts: the feeds are someone else's crawl (their date is the file's, not a fetch's, and the
//! table says `confidence = "secondary"`); accelerator names carry no form factor, so an `A100`
//! is taken as the SXM4 40 GB part and an `H100` as SXM; SkyPilot's GCP rows price the GPU apart
//! from its host (empty `InstanceType`) and are refused (use `pricing fetch gcp`); CPU-only rows
//! are left out.

use std::collections::BTreeMap;

use super::fetched::FetchedOffer;
use super::table::{PriceTable, MAX_PRICE};
use crate::core::error::{Error, Result};

/// A feed's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// SkyPilot's `vms.csv`.
    Skypilot,
    /// gpuhunt's `<provider>.csv`.
    Gpuhunt,
}

/// The hardware profile of a feed's accelerator name (`A100-80GB`, `RTX4090`) with its memory
/// in GB when the feed gives it (0 if not); `None` for accelerators without a profile.
pub fn accelerator_hardware(name: &str, memory_gb: f64) -> Option<&'static str> {
    let n = name.to_ascii_uppercase().replace([' ', '_'], "-");
    let big = memory_gb > 60.0 || n.contains("80GB");
    Some(match n.as_str() {
        "T4" => "t4",
        "L4" => "l4",
        "L40S" => "l40s",
        "A10G" => "a10g",
        "A10" => "a10",
        "A30" => "a30",
        "V100" if memory_gb > 20.0 => "v100-32g",
        "V100" => "v100-16g",
        "V100-32GB" => "v100-32g",
        "A100" | "A100-80GB" if big => "a100-80g",
        "A100" => "a100-40g",
        "H100" => "h100-sxm",
        "H200" => "h200",
        "B200" => "b200",
        "RTX4090" | "RTX-4090" => "rtx4090",
        "RTX3090" | "RTX-3090" => "rtx3090",
        "RTX5090" | "RTX-5090" => "rtx5090",
        _ => return None,
    })
}

/// A positive price from a CSV cell, `None` when empty.
fn price(source: &str, line: u64, cell: &str) -> Result<Option<f64>> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    match cell.parse::<f64>() {
        Ok(p) if p.is_finite() && p > 0.0 && p <= MAX_PRICE => Ok(Some(p)),
        _ => Err(Error::input(format!(
            "{source}:{line}: '{cell}' is not a price per hour"
        ))),
    }
}

/// What an import read: the offers (cheapest per instance and region), the accelerator names
/// left out (no profile), and rows read.
#[derive(Debug, Default)]
pub struct Imported {
    /// The offers, one per instance type and region.
    pub offers: Vec<FetchedOffer>,
    /// Accelerators without a hardware profile.
    pub skipped: Vec<String>,
    /// Data rows read.
    pub rows: u64,
}

/// Read a feed's CSV text.
pub fn read(feed: Feed, source: &str, text: &str) -> Result<Imported> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = csv
        .headers()
        .map_err(|e| Error::input(format!("{source}: no CSV header: {e}")))?
        .clone();
    let schema = |col: &str| {
        Error::input(format!(
            "{source}: no '{col}' column: not a {} CSV, or its format changed",
            match feed {
                Feed::Skypilot => "SkyPilot vms.csv",
                Feed::Gpuhunt => "gpuhunt",
            }
        ))
    };
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| schema(name))
    };
    let mut best: BTreeMap<(String, String), FetchedOffer> = BTreeMap::new();
    let mut out = Imported::default();
    let mut host_apart = 0u64;
    for (i, record) in csv.records().enumerate() {
        let line = i as u64 + 2;
        let r = record.map_err(|e| Error::input(format!("{source}:{line}: {e}")))?;
        out.rows += 1;
        let get = |c: usize| r.get(c).unwrap_or("").trim();
        let (instance, region, accelerator, count, memory_gb, on_demand, spot) = match feed {
            Feed::Skypilot => {
                let on_demand = price(source, line, get(col("Price")?))?;
                let spot = price(source, line, get(col("SpotPrice")?))?;
                (
                    get(col("InstanceType")?).to_string(),
                    get(col("Region")?).to_string(),
                    get(col("AcceleratorName")?).to_string(),
                    get(col("AcceleratorCount")?),
                    0.0,
                    on_demand,
                    spot,
                )
            }
            Feed::Gpuhunt => {
                let p = price(source, line, get(col("price")?))?;
                let is_spot = get(col("spot")?).eq_ignore_ascii_case("true");
                (
                    get(col("instance_name")?).to_string(),
                    get(col("location")?).to_string(),
                    get(col("gpu_name")?).to_string(),
                    get(col("gpu_count")?),
                    get(col("gpu_memory")?).parse().unwrap_or(0.0),
                    if is_spot { None } else { p },
                    if is_spot { p } else { None },
                )
            }
        };
        if accelerator.is_empty() {
            continue;
        }
        if instance.is_empty() {
            host_apart += 1;
            continue;
        }
        if region.is_empty() {
            return Err(Error::input(format!(
                "{source}:{line}: '{instance}' has no region"
            )));
        }
        let Some(hardware) = accelerator_hardware(&accelerator, memory_gb) else {
            if !out.skipped.contains(&accelerator) {
                out.skipped.push(accelerator);
            }
            continue;
        };
        // Counts are written as floats ("8.0"); fractional GPUs are not rented whole.
        let gpus = match count.parse::<f64>() {
            Ok(c) if (1.0..=64.0).contains(&c) && c.fract() == 0.0 => c as u64,
            Ok(_) => continue,
            Err(_) => {
                return Err(Error::input(format!(
                    "{source}:{line}: '{count}' is not an accelerator count"
                )))
            }
        };
        let key = (instance.clone(), region.clone());
        let entry = best.entry(key).or_insert(FetchedOffer {
            instance,
            region,
            hardware: hardware.to_string(),
            gpus,
            on_demand: 0.0,
            spot: None,
            monthly: None,
        });
        // Several zones of a region: the cheapest of each price.
        if let Some(p) = on_demand {
            if entry.on_demand == 0.0 || p < entry.on_demand {
                entry.on_demand = p;
            }
        }
        if let Some(s) = spot {
            if entry.spot.is_none_or(|old| s < old) {
                entry.spot = Some(s);
            }
        }
    }
    if host_apart > 0 && best.is_empty() {
        return Err(Error::input(format!(
            "{source}: its {host_apart} GPU rows price the GPU apart from a host (GCP's layout): sum them with `pricing fetch gcp` instead"
        )));
    }
    out.offers = best
        .into_values()
        // A spot price alone is no pay-as-you-go offer.
        .filter(|o| o.on_demand > 0.0)
        .map(|mut o| {
            o.spot = o.spot.filter(|s| *s < o.on_demand);
            o
        })
        .collect();
    Ok(out)
}

/// The table of an import: `secondary`, dated the day of the import (the feed's crawl date is
/// not in its CSV).
pub fn build_table(
    feed: Feed,
    source: &str,
    offers: &[FetchedOffer],
    base: &PriceTable,
    as_of: &str,
) -> Result<String> {
    let what = match feed {
        Feed::Skypilot => "Per instance-hour from a SkyPilot catalog CSV (its crawl date is not in the file; the import date is used)",
        Feed::Gpuhunt => "Per instance-hour from a gpuhunt catalog CSV (its crawl date is not in the file; the import date is used)",
    };
    super::fetched::build(
        base,
        offers,
        as_of,
        source,
        what,
        "secondary",
        "no row of an accelerator peftcost has a profile of",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerator_names_map_to_profiles() {
        assert_eq!(accelerator_hardware("A100-80GB", 0.0), Some("a100-80g"));
        assert_eq!(accelerator_hardware("A100", 80.0), Some("a100-80g"));
        assert_eq!(accelerator_hardware("A100", 40.0), Some("a100-40g"));
        assert_eq!(accelerator_hardware("V100-32GB", 0.0), Some("v100-32g"));
        assert_eq!(accelerator_hardware("RTX4090", 24.0), Some("rtx4090"));
        assert_eq!(accelerator_hardware("A6000", 48.0), None);
    }
}
