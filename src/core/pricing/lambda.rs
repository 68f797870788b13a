//! Lambda's instance-types API (`GET /api/v1/instance-types`, a Bearer API key) into a peftcost
//! table: `data.<name>.instance_type.{name, description, price_cents_per_hour}`, one price per
//! instance type for every region (anchors-2026.md §2.2, after SkyPilot's and gpuhunt's readers).
//!
//! Warts: Lambda has no spot market, so the table has no spot prices; the GPU comes from the
//! instance name (`gpu_{n}x_{model}`) and its description's form factor; types without a
//! hardware profile (A6000, GH200, Quadro RTX 6000) are left out and named.

use serde_json::Value;

use super::fetched::FetchedOffer;
use super::table::MAX_PRICE;
use crate::core::error::{from_json, Error, Result};

/// The region every Lambda offer is priced for (one price list for all regions).
pub const REGION: &str = "all regions";

/// The hardware profile and GPU count of a Lambda instance type, from its name
/// (`gpu_8x_a100_80gb_sxm4`) and description (`8x A100 (80 GB SXM4)`); `None` for GPUs peftcost
/// has no profile of.
pub fn instance_hardware(name: &str, description: &str) -> Option<(&'static str, u64)> {
    let rest = name.strip_prefix("gpu_")?;
    let (count, model) = rest.split_once("x_")?;
    let gpus: u64 = count.parse().ok().filter(|n| *n > 0)?;
    let text = format!("{model} {}", description.to_ascii_lowercase());
    let pcie = text.contains("pcie");
    let hw = match model.split('_').next()? {
        "a10" => "a10",
        "a100" if text.contains("80gb") || text.contains("80 gb") => {
            if pcie {
                "a100-80g-pcie"
            } else {
                "a100-80g"
            }
        }
        // Lambda's 40 GB A100s: PCIe singles, SXM4 otherwise (its description says which).
        "a100" if pcie => "a100-40g-pcie",
        "a100" => "a100-40g",
        "h100" if pcie => "h100-pcie",
        "h100" => "h100-sxm",
        "h200" => "h200",
        "b200" => "b200",
        "v100" => "v100-16g",
        _ => return None,
    };
    Some((hw, gpus))
}

/// The offers of one instance-types answer, and the types left out (no hardware profile).
pub fn read_instance_types(source: &str, text: &str) -> Result<(Vec<FetchedOffer>, Vec<String>)> {
    let value: Value = from_json(source, text)?;
    let schema = |why: &str| {
        Error::input(format!(
            "{source}: not a Lambda instance-types answer ({why}): the API may have changed"
        ))
    };
    let data = value
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| schema("no 'data' object"))?;
    let mut offers = Vec::new();
    let mut skipped = Vec::new();
    for (key, entry) in data {
        let t = entry
            .get("instance_type")
            .ok_or_else(|| schema(&format!("'{key}' has no instance_type")))?;
        let name = t.get("name").and_then(Value::as_str).unwrap_or(key);
        let description = t.get("description").and_then(Value::as_str).unwrap_or("");
        let cents = t
            .get("price_cents_per_hour")
            .and_then(Value::as_f64)
            .ok_or_else(|| schema(&format!("'{name}' has no price_cents_per_hour")))?;
        let price = cents / 100.0;
        if !(price.is_finite() && price > 0.0 && price <= MAX_PRICE) {
            return Err(Error::input(format!(
                "{source}: '{name}' is priced at {cents} cents an hour, which is not a price"
            )));
        }
        match instance_hardware(name, description) {
            Some((hardware, gpus)) => offers.push(FetchedOffer {
                instance: name.to_string(),
                region: REGION.to_string(),
                hardware: hardware.to_string(),
                gpus,
                on_demand: price,
                spot: None,
                monthly: None,
            }),
            None => skipped.push(name.to_string()),
        }
    }
    offers.sort_by(|a, b| a.instance.cmp(&b.instance));
    Ok((offers, skipped))
}

/// What the table's header says its prices are.
pub const WHAT: &str = "On-demand per instance-hour from Lambda's instance-types API (one price for every region; Lambda sells no spot)";

/// What a source without a single offer lacked.
pub const NONE: &str =
    "no instance type of a GPU peftcost has a profile of (A10, A100, H100, H200, B200, V100)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_map_to_their_gpus() {
        assert_eq!(
            instance_hardware("gpu_8x_a100_80gb_sxm4", "8x A100 (80 GB SXM4)"),
            Some(("a100-80g", 8))
        );
        assert_eq!(
            instance_hardware("gpu_1x_a100", "1x A100 (40 GB PCIe)"),
            Some(("a100-40g-pcie", 1))
        );
        assert_eq!(
            instance_hardware("gpu_1x_a100_sxm4", "1x A100 (40 GB SXM4)"),
            Some(("a100-40g", 1))
        );
        assert_eq!(
            instance_hardware("gpu_1x_h100_pcie", "1x H100 (80 GB PCIe)"),
            Some(("h100-pcie", 1))
        );
        assert_eq!(
            instance_hardware("gpu_8x_h100_sxm5", "8x H100 (80 GB SXM5)"),
            Some(("h100-sxm", 8))
        );
        assert_eq!(instance_hardware("gpu_1x_a6000", "1x A6000 (48 GB)"), None);
        assert_eq!(instance_hardware("gpu_0x_a10", ""), None);
        assert_eq!(instance_hardware("cpu_4x_general", ""), None);
    }
}
