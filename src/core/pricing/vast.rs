//! Vast.ai's public offer search (`POST https://console.vast.ai/api/v0/bundles/`, no key, as
//! gpuhunt calls it) into a peftcost table: a live marketplace of per-host offers
//! (`offers[]` with `gpu_name`, `num_gpus`, `dph_total`, `min_bid`, `geolocation`), kept as the
//! cheapest offer per GPU model, GPU count and country (anchors-2026.md §2.2).
//!
//! Warts: marketplace prices move by the minute and belong to one host each; `dph_total` is the
//! API's total per hour for the queried disk (`disk_space` in [`QUERY`]); the spot price is the
//! host's minimum bid, which an outbid instance is stopped at.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fetched::FetchedOffer;
use super::table::{PriceTable, MAX_PRICE};
use crate::core::error::{from_json, Error, Result};

/// The search sent: rentable, verified on-demand offers with room for a 50 GB disk.
pub const QUERY: &str = r#"{"verified":{"eq":true},"rentable":{"eq":true},"rented":{"eq":false},"disk_space":{"gte":50},"type":"on-demand","limit":5000}"#;

/// The hardware profile of a Vast.ai `gpu_name` (`RTX 4090`, `A100 SXM4`, `H100 SXM`) with its
/// memory in MB (`gpu_ram`, which tells the A100s apart); `None` for GPUs without a profile.
pub fn gpu_hardware(name: &str, gpu_ram_mb: f64) -> Option<&'static str> {
    let n = name.to_ascii_uppercase();
    let big = gpu_ram_mb > 60_000.0;
    Some(match () {
        _ if n.contains("5090") => "rtx5090",
        _ if n.contains("4090") => "rtx4090",
        _ if n.contains("3090") => "rtx3090",
        _ if n.contains("L40S") => "l40s",
        _ if n == "L4" => "l4",
        _ if n.contains("A100") && n.contains("PCIE") && big => "a100-80g-pcie",
        _ if n.contains("A100") && n.contains("PCIE") => "a100-40g-pcie",
        _ if n.contains("A100") && big => "a100-80g",
        _ if n.contains("A100") => "a100-40g",
        _ if n.contains("H100") && n.contains("PCIE") => "h100-pcie",
        _ if n.contains("H100") && !n.contains("NVL") => "h100-sxm",
        _ if n.contains("H200") => "h200",
        _ if n.contains("B200") => "b200",
        _ if n == "A10" => "a10",
        _ if n.contains("V100") && gpu_ram_mb > 20_000.0 => "v100-32g",
        _ if n.contains("V100") => "v100-16g",
        _ if n == "TESLA T4" || n == "T4" => "t4",
        _ => return None,
    })
}

/// The country code of a `geolocation` ("Sweden, SE" -> "SE"), or "unknown".
fn country(geo: Option<&str>) -> String {
    geo.and_then(|g| g.rsplit(',').next())
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.len() <= 8 && c.chars().all(|x| x.is_ascii_alphabetic()))
        .map_or_else(|| "unknown".to_string(), str::to_string)
}

/// The cheapest offer per GPU model, count and country of one search answer, and the GPU names
/// left out (no hardware profile).
pub fn read_bundles(source: &str, text: &str) -> Result<(Vec<FetchedOffer>, Vec<String>)> {
    let value: Value = from_json(source, text)?;
    let offers = value
        .get("offers")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::input(format!(
                "{source}: not a Vast.ai offer search answer (no 'offers' list): the API may have changed"
            ))
        })?;
    let mut best: BTreeMap<(&'static str, u64, String), FetchedOffer> = BTreeMap::new();
    let mut skipped: Vec<String> = Vec::new();
    for o in offers {
        let name = o.get("gpu_name").and_then(Value::as_str).unwrap_or("");
        let gpus = o.get("num_gpus").and_then(Value::as_u64).unwrap_or(0);
        let ram = o.get("gpu_ram").and_then(Value::as_f64).unwrap_or(0.0);
        let Some(hardware) = gpu_hardware(name, ram) else {
            if !name.is_empty() && !skipped.iter().any(|s| s == name) {
                skipped.push(name.to_string());
            }
            continue;
        };
        let price = o.get("dph_total").and_then(Value::as_f64);
        let Some(on_demand) = price.filter(|p| p.is_finite() && *p > 0.0 && *p <= MAX_PRICE) else {
            return Err(Error::input(format!(
                "{source}: a {name} offer has dph_total {}, which is not a price",
                o.get("dph_total").unwrap_or(&Value::Null)
            )));
        };
        if gpus == 0 || gpus > 64 {
            return Err(Error::input(format!(
                "{source}: a {name} offer has num_gpus {gpus}, not a GPU count"
            )));
        }
        let spot = o
            .get("min_bid")
            .and_then(Value::as_f64)
            .filter(|b| b.is_finite() && *b > 0.0 && *b < on_demand);
        let region = country(o.get("geolocation").and_then(Value::as_str));
        let key = (hardware, gpus, region.clone());
        let offer = FetchedOffer {
            instance: format!("{gpus}x {name}"),
            region,
            hardware: hardware.to_string(),
            gpus,
            on_demand,
            spot,
            monthly: None,
        };
        match best.get(&key) {
            Some(b) if b.on_demand <= on_demand => {}
            _ => {
                best.insert(key, offer);
            }
        }
    }
    Ok((best.into_values().collect(), skipped))
}

/// What a first Vast.ai table carries besides its offers, when none is installed yet (there is
/// no embedded one): USD, and hourly billing as a conservative assumption (the API does not say
/// how Vast.ai rounds), no storage prices.
pub fn first_table() -> PriceTable {
    PriceTable {
        provider: "vast".into(),
        display_name: "Vast.ai".into(),
        currency: "USD".into(),
        billing_increment_seconds: 3600,
        minimum_billed_seconds: None,
        as_of: String::new(),
        source: String::new(),
        confidence: "primary".into(),
        notes: None,
        storage: None,
        network_gbps: None,
        offer_count: None,
        offers: Vec::new(),
    }
}

/// What the table's header says its prices are.
pub const WHAT: &str = "The cheapest verified on-demand offer per GPU model, count and country of Vast.ai's marketplace (dph_total with a 50 GB disk; spot = the host's minimum bid), live when fetched";

/// What a source without a single offer lacked.
pub const NONE: &str = "no offer of a GPU peftcost has a profile of";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_names_map_to_profiles() {
        assert_eq!(gpu_hardware("RTX 4090", 24_564.0), Some("rtx4090"));
        assert_eq!(gpu_hardware("A100 SXM4", 81_920.0), Some("a100-80g"));
        assert_eq!(gpu_hardware("A100 PCIE", 40_960.0), Some("a100-40g-pcie"));
        assert_eq!(gpu_hardware("H100 SXM", 81_559.0), Some("h100-sxm"));
        assert_eq!(gpu_hardware("H100 NVL", 95_830.0), None);
        assert_eq!(gpu_hardware("RTX A6000", 49_140.0), None);
        assert_eq!(country(Some("Sweden, SE")), "SE");
        assert_eq!(country(Some("")), "unknown");
    }
}
