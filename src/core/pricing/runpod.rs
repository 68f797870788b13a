//! RunPod's GraphQL API (`POST https://api.runpod.io/graphql`; gpuhunt sends no key, SkyPilot a
//! `RUNPOD_API_KEY`) into a peftcost table: each GPU type's secure-cloud and community-cloud
//! price per GPU-hour and the lowest spot bid for one GPU (anchors-2026.md §2.2).
//!
//! Warts: prices are per GPU and pods rent whole GPUs, so each type is one 1-GPU offer per cloud;
//! RunPod prices do not depend on the region (`region = "all regions"`); types without a hardware
//! profile (A40, RTX A6000, ...) are left out and named; the spot bid is the lowest across data
//! centres, not a guaranteed price.

use serde_json::Value;

use super::fetched::FetchedOffer;
use super::table::MAX_PRICE;
use crate::core::error::{from_json, Error, Result};

/// The query sent: every GPU type's prices per GPU-hour and the lowest spot bid for one GPU.
pub const QUERY: &str = r#"{"query":"query GpuTypes { gpuTypes { id displayName memoryInGb securePrice communityPrice lowestPrice(input: {gpuCount: 1}) { minimumBidPrice uninterruptablePrice } } }"}"#;

/// The region every RunPod offer is priced for.
pub const REGION: &str = "all regions";

/// The hardware profile of a RunPod GPU type id (`NVIDIA A100 80GB PCIe`); `None` for GPUs
/// peftcost has no profile of.
pub fn gpu_hardware(id: &str) -> Option<&'static str> {
    let t = id.to_ascii_lowercase();
    let pcie = t.contains("pcie");
    Some(match () {
        _ if t.contains("rtx 5090") => "rtx5090",
        _ if t.contains("rtx 4090") => "rtx4090",
        _ if t.contains("rtx 3090") => "rtx3090",
        _ if t.contains("l40s") => "l40s",
        _ if t.ends_with(" l4") => "l4",
        _ if t.contains("a100") && t.contains("80") && pcie => "a100-80g-pcie",
        _ if t.contains("a100") && t.contains("80") => "a100-80g",
        _ if t.contains("a100") && pcie => "a100-40g-pcie",
        _ if t.contains("a100") => "a100-40g",
        _ if t.contains("h100") && pcie => "h100-pcie",
        _ if t.contains("h100") && !t.contains("nvl") => "h100-sxm",
        _ if t.contains("h200") => "h200",
        _ if t.contains("b200") => "b200",
        _ if t.contains("v100") && t.contains("32") => "v100-32g",
        _ if t.contains("v100") => "v100-16g",
        _ => return None,
    })
}

/// A price field: a positive number, or absent / null / 0 (the cloud does not sell it).
fn price(source: &str, id: &str, v: Option<&Value>) -> Result<Option<f64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(0.0) => Ok(None),
            Some(p) if p.is_finite() && p > 0.0 && p <= MAX_PRICE => Ok(Some(p)),
            _ => Err(Error::input(format!(
                "{source}: '{id}' has the price {v}, which is not a price"
            ))),
        },
    }
}

/// The offers of one gpuTypes answer (a secure-cloud and a community-cloud offer per type, as
/// sold), and the types left out (no hardware profile).
pub fn read_gpu_types(source: &str, text: &str) -> Result<(Vec<FetchedOffer>, Vec<String>)> {
    let value: Value = from_json(source, text)?;
    let schema = |why: &str| {
        Error::input(format!(
            "{source}: not a RunPod gpuTypes answer ({why}): the API may have changed"
        ))
    };
    if let Some(errors) = value.get("errors").and_then(Value::as_array) {
        let first = errors
            .first()
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(Error::Network(format!(
            "{source}: the API answered with an error: {first}"
        )));
    }
    let types = value
        .pointer("/data/gpuTypes")
        .and_then(Value::as_array)
        .ok_or_else(|| schema("no data.gpuTypes list"))?;
    let mut offers = Vec::new();
    let mut skipped = Vec::new();
    for t in types {
        let id = t
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| schema("a GPU type without an id"))?;
        let Some(hardware) = gpu_hardware(id) else {
            skipped.push(id.to_string());
            continue;
        };
        let spot = price(source, id, t.pointer("/lowestPrice/minimumBidPrice"))?;
        for (cloud, field) in [("secure", "securePrice"), ("community", "communityPrice")] {
            if let Some(on_demand) = price(source, id, t.get(field))? {
                offers.push(FetchedOffer {
                    instance: format!("1x {id} ({cloud} cloud)"),
                    region: REGION.to_string(),
                    hardware: hardware.to_string(),
                    gpus: 1,
                    on_demand,
                    // The lowest bid is for the community cloud's interruptible pods.
                    spot: spot.filter(|s| cloud == "community" && *s < on_demand),
                    monthly: None,
                });
            }
        }
    }
    offers.sort_by(|a, b| a.instance.cmp(&b.instance));
    Ok((offers, skipped))
}

/// What the table's header says its prices are.
pub const WHAT: &str = "Per-GPU on-demand prices of RunPod's secure and community clouds, and the lowest spot bid, from its GraphQL API";

/// What a source without a single offer lacked.
pub const NONE: &str = "no priced GPU type peftcost has a profile of";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_type_ids_map_to_profiles() {
        assert_eq!(gpu_hardware("NVIDIA A100 80GB PCIe"), Some("a100-80g-pcie"));
        assert_eq!(gpu_hardware("NVIDIA A100-SXM4-80GB"), Some("a100-80g"));
        assert_eq!(gpu_hardware("NVIDIA H100 80GB HBM3"), Some("h100-sxm"));
        assert_eq!(gpu_hardware("NVIDIA H100 PCIe"), Some("h100-pcie"));
        assert_eq!(gpu_hardware("NVIDIA H100 NVL"), None);
        assert_eq!(gpu_hardware("NVIDIA GeForce RTX 4090"), Some("rtx4090"));
        assert_eq!(gpu_hardware("NVIDIA L4"), Some("l4"));
        assert_eq!(gpu_hardware("NVIDIA L40S"), Some("l40s"));
        assert_eq!(gpu_hardware("NVIDIA A40"), None);
        assert_eq!(gpu_hardware("NVIDIA RTX A6000"), None);
    }
}
