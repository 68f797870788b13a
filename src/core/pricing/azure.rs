//! Azure's Retail Prices API (`prices.azure.com/api/retail/prices`, no credentials) into a
//! peftcost table: the pages' items in, a whole table's TOML out (offers, `offer_count`, the end
//! marker), which then goes through the same validation and install as any downloaded table.
//!
//! The API prices VMs, not GPUs: a VM name is mapped to its GPU model and count from its series
//! (NCasT4_v3, NCads_A100_v4, NVads_A10_v5, NDisr_H100_v5/H200_v5). Fractional GPUs (NV6/12/18ads
//! A10 v5) and series without a profile (NCads_H100_v5's H100 NVL) are skipped and named.
//! Wart: storage and billing rules are not in the API; they are carried over from the table in
//! force.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::fetched::FetchedOffer;
use super::table::{PriceTable, MAX_PRICE};
use crate::core::error::{Error, Result};

/// One price row of the API (the fields peftcost reads; names as the API spells them).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetailItem {
    /// `USD` (other currencies are "for reference" only).
    pub currency_code: String,
    /// Price per `unit_of_measure`.
    pub retail_price: f64,
    /// Region, e.g. `eastus`.
    pub arm_region_name: String,
    /// VM name, e.g. `Standard_NC24ads_A100_v4`.
    pub arm_sku_name: String,
    /// Meter: a `Spot` or `Low Priority` suffix marks those rates.
    pub meter_name: String,
    /// Product: `Windows` marks Windows VMs.
    pub product_name: String,
    /// `Consumption`, `Reservation` or `DevTestConsumption`.
    #[serde(rename = "type")]
    pub price_type: String,
    /// `1 Hour` for VMs.
    pub unit_of_measure: String,
}

/// One page of the API's answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RetailPage {
    /// This page's prices.
    #[serde(rename = "Items")]
    pub items: Vec<RetailItem>,
    /// The next page, `null` on the last.
    #[serde(rename = "NextPageLink")]
    pub next_page_link: Option<String>,
}

/// Parse one page; a body without `Items` is a changed schema, said as such.
pub fn parse_page(source: &str, text: &str) -> Result<RetailPage> {
    serde_json::from_str(text).map_err(|e| {
        Error::input(format!(
            "{source}: not an Azure Retail Prices page ({e}): the API's schema may have changed"
        ))
    })
}

/// The hardware profile and GPU count of an Azure VM, from its series; `None` for VMs without
/// whole GPUs peftcost has a profile for.
pub fn vm_gpus(sku: &str) -> Option<(&'static str, u64)> {
    let name = sku.strip_prefix("Standard_")?;
    // The leading vCPU count: NC24ads_A100_v4 -> 24.
    let family_end = name.find(|c: char| c.is_ascii_digit())?;
    let (family, rest) = name.split_at(family_end);
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let vcpus: u64 = rest[..digits_end].parse().ok()?;
    let series = &rest[digits_end..];
    match (family, series) {
        // NC A100 v4: 24 vCPUs a GPU (NC24, NC48, NC96), A100 80GB PCIe.
        ("NC", "ads_A100_v4") if vcpus.is_multiple_of(24) => Some(("a100-80g-pcie", vcpus / 24)),
        // NCasT4_v3: NC4as/NC8as/NC16as one T4, NC64as four.
        ("NC", "as_T4_v3") => Some(("t4", if vcpus == 64 { 4 } else { 1 })),
        // NVadsA10 v5: 36 vCPUs a whole A10 (NV36, NV72); NV6/12/18 are GPU fractions.
        ("NV", "ads_A10_v5") if vcpus.is_multiple_of(36) => Some(("a10", vcpus / 36)),
        // ND H100 v5 and ND H200 v5: eight SXM GPUs.
        ("ND", "isr_H100_v5") => Some(("h100-sxm", 8)),
        ("ND", "isr_H200_v5") => Some(("h200", 8)),
        _ => None,
    }
}

/// A VM series with GPUs that [`vm_gpus`] does not take, and why (for the notes).
fn skipped_reason(sku: &str) -> Option<&'static str> {
    if sku.contains("_A10_v5") {
        Some("a fraction of an A10")
    } else if sku.contains("ads_H100_v5") {
        Some("H100 NVL 94GB: no profile")
    } else {
        None
    }
}

/// Whether an item is a Linux pay-as-you-go or spot price per hour (not Windows, not low
/// priority, not a reservation or dev/test rate).
fn usable(i: &RetailItem) -> bool {
    i.price_type == "Consumption"
        && i.unit_of_measure == "1 Hour"
        && i.currency_code == "USD"
        && !i.product_name.contains("Windows")
        && !i.meter_name.contains("Low Priority")
        && i.retail_price.is_finite()
        && i.retail_price > 0.0
}

/// On-demand and spot prices of one VM in one region.
#[derive(Debug, Default, Clone, Copy)]
struct Prices {
    on_demand: Option<f64>,
    spot: Option<f64>,
}

/// The table for the items of every page: its TOML text, and notes on what was skipped. `base`
/// (the table in force) gives the display name, billing rules and storage prices the API has
/// not; `as_of` is the fetch date, `source` the endpoint.
pub fn build_table(
    items: &[RetailItem],
    base: &PriceTable,
    as_of: &str,
    source: &str,
) -> Result<(String, Vec<String>)> {
    let mut vms: BTreeMap<(String, String), Prices> = BTreeMap::new();
    let mut skipped: BTreeMap<String, &'static str> = BTreeMap::new();
    for i in items.iter().filter(|i| usable(i)) {
        if vm_gpus(&i.arm_sku_name).is_none() {
            if let Some(why) = skipped_reason(&i.arm_sku_name) {
                skipped.insert(i.arm_sku_name.clone(), why);
            }
            continue;
        }
        // A price no VM costs is a broken answer, not a price: refuse it rather than drop it.
        if i.retail_price > MAX_PRICE {
            return Err(Error::input(format!(
                "{source}: {} in {} is priced {:e} USD an hour, over {MAX_PRICE:e}: the API's answer looks corrupt; nothing installed",
                i.arm_sku_name, i.arm_region_name, i.retail_price
            )));
        }
        let p = vms
            .entry((i.arm_sku_name.clone(), i.arm_region_name.clone()))
            .or_default();
        // Several meters can price one VM (a promotion, a new meter): keep the lowest.
        let slot = if i.meter_name.contains("Spot") {
            &mut p.spot
        } else {
            &mut p.on_demand
        };
        *slot = Some(slot.map_or(i.retail_price, |v| v.min(i.retail_price)));
    }
    let offers: Vec<_> = vms
        .iter()
        .filter_map(|(k, p)| p.on_demand.map(|od| (k, od, p.spot)))
        .collect();
    let offers: Vec<FetchedOffer> = offers
        .into_iter()
        .filter_map(|((sku, region), od, spot)| {
            let (hardware, gpus) = vm_gpus(sku)?;
            Some(FetchedOffer {
                instance: sku.clone(),
                region: region.clone(),
                hardware: hardware.to_string(),
                gpus,
                on_demand: od,
                spot,
                monthly: None,
            })
        })
        .collect();
    let t = super::fetched::build(
        base,
        &offers,
        as_of,
        source,
        "Linux pay-as-you-go and spot per VM-hour from the Azure Retail Prices API (unauthenticated, USD)",
        "primary",
        "no Linux pay-as-you-go price of a GPU VM peftcost knows (NCasT4_v3, NCads_A100_v4, NVads_A10_v5, ND H100/H200 v5)",
    )?;
    let notes = skipped
        .iter()
        .map(|(sku, why)| format!("skipped {sku}: {why}"))
        .collect();
    Ok((t, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_names_map_to_whole_gpus() {
        assert_eq!(
            vm_gpus("Standard_NC24ads_A100_v4"),
            Some(("a100-80g-pcie", 1))
        );
        assert_eq!(
            vm_gpus("Standard_NC96ads_A100_v4"),
            Some(("a100-80g-pcie", 4))
        );
        assert_eq!(vm_gpus("Standard_NC4as_T4_v3"), Some(("t4", 1)));
        assert_eq!(vm_gpus("Standard_NC64as_T4_v3"), Some(("t4", 4)));
        assert_eq!(vm_gpus("Standard_NV36ads_A10_v5"), Some(("a10", 1)));
        assert_eq!(vm_gpus("Standard_NV72ads_A10_v5"), Some(("a10", 2)));
        assert_eq!(vm_gpus("Standard_ND96isr_H200_v5"), Some(("h200", 8)));
        // A sixth of an A10, an H100 NVL, a CPU VM: not whole GPUs of a profile.
        assert_eq!(vm_gpus("Standard_NV6ads_A10_v5"), None);
        assert_eq!(vm_gpus("Standard_NC40ads_H100_v5"), None);
        assert_eq!(vm_gpus("Standard_F16s_v2"), None);
        assert_eq!(vm_gpus("Basic_A0"), None);
    }

    /// Found by the fuzz target `provider_price_data`: an A100 VM priced 3.6e73 USD an hour
    /// built a table the installer then refused at a line of the generated file. It is refused
    /// where it is read, naming the VM.
    #[test]
    fn an_absurd_price_is_refused_naming_the_vm() {
        let page = r#"{"Items":[{"currencyCode":"USD","retailPrice":3.6e73,"armRegionName":"eastus","armSkuName":"Standard_NC24ads_A100_v4","meterName":"NC24ads A100 v4","productName":"Virtual Machines NCads A100 v4 Series","type":"Consumption","unitOfMeasure":"1 Hour"}],"NextPageLink":null}"#;
        let p = parse_page("page.json", page).unwrap();
        let pricing = crate::core::pricing::PricingCatalog::embedded().unwrap();
        let base = pricing.table("azure").unwrap();
        let err = build_table(&p.items, base, "2026-12-05", "page.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Standard_NC24ads_A100_v4") && err.contains("looks corrupt"),
            "{err}"
        );
    }
}
