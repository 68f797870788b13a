//! Alibaba Cloud ECS `DescribePrice` answers (signed with the user's AccessKey; the signer is
//! [`crate::http::alibaba`]) into a peftcost table: for every instance and region of the table in
//! force, the pay-as-you-go price per hour, the spot price (`SpotAsPriceGo`) and the subscription
//! (包年包月) price per month, each `PriceInfo.Price.TradePrice` in the answer's currency
//! (anchors-2026.md §2.2, after the Go SDK's `describe_price.go`).
//!
//! Warts: only instance types the table in force already lists are priced (DescribePrice prices
//! one named type; listing what a region sells is another API); the system disk is priced as the
//! table's rows assume it (a 40 GB ESSD); a spot or subscription price the API refuses leaves
//! that price out. Tested against fixtures only: no live call was made from here.

use serde_json::Value;

use super::table::MAX_PRICE;
use crate::core::error::{from_json, Error, Result};

/// What one DescribePrice call asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// Pay-as-you-go, per hour (`PriceUnit=Hour`).
    Hourly,
    /// Spot at the market price, per hour (`SpotStrategy=SpotAsPriceGo`).
    Spot,
    /// A one-month subscription (`PriceUnit=Month`, `Period=1`).
    Monthly,
}

/// The DescribePrice parameters for `instance` in `region`, as the table's prices assume it:
/// VPC, I/O optimised, a 40 GB ESSD system disk.
pub fn price_params(instance: &str, region: &str, quote: Quote) -> Vec<(&'static str, String)> {
    let mut p = vec![
        ("RegionId", region.to_string()),
        ("ResourceType", "instance".to_string()),
        ("InstanceType", instance.to_string()),
        ("InstanceNetworkType", "vpc".to_string()),
        ("IoOptimized", "optimized".to_string()),
        ("SystemDisk.Category", "cloud_essd".to_string()),
        ("SystemDisk.Size", "40".to_string()),
    ];
    match quote {
        Quote::Hourly => p.push(("PriceUnit", "Hour".into())),
        Quote::Spot => {
            p.push(("PriceUnit", "Hour".into()));
            p.push(("SpotStrategy", "SpotAsPriceGo".into()));
        }
        Quote::Monthly => {
            p.push(("PriceUnit", "Month".into()));
            p.push(("Period", "1".into()));
        }
    }
    p
}

/// The trade price and currency of one DescribePrice answer; an error answer (`Code`,
/// `Message`) is an error naming its code.
pub fn read_price(source: &str, text: &str) -> Result<(f64, String)> {
    let v: Value = from_json(source, text)?;
    if let Some(code) = v.get("Code").and_then(Value::as_str) {
        let msg = v.get("Message").and_then(Value::as_str).unwrap_or("");
        return Err(Error::Network(format!(
            "{source}: Alibaba Cloud answered {code}: {msg}"
        )));
    }
    let price = v.pointer("/PriceInfo/Price").ok_or_else(|| {
        Error::input(format!(
            "{source}: not a DescribePrice answer (no PriceInfo.Price): the API may have changed"
        ))
    })?;
    let trade = price.get("TradePrice").and_then(Value::as_f64);
    let currency = price
        .get("Currency")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match trade {
        Some(t) if t.is_finite() && t > 0.0 && t <= MAX_PRICE && !currency.is_empty() => {
            Ok((t, currency))
        }
        _ => Err(Error::input(format!(
            "{source}: TradePrice {} {currency} is not a price",
            price.get("TradePrice").unwrap_or(&Value::Null)
        ))),
    }
}

/// What the table's header says its prices are.
pub const WHAT: &str = "Pay-as-you-go and spot per instance-hour and one-month subscription from ECS DescribePrice (VPC, 40 GB ESSD system disk), for the instance types of the table in force";

/// What a source without a single offer lacked.
pub const NONE: &str = "no instance of the table in force was priced";

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer shape of the Go SDK's DescribePriceResponse (anchors-2026.md §2.2).
    #[test]
    fn a_describe_price_answer_gives_its_trade_price() {
        let ok = r#"{"RequestId":"r","PriceInfo":{"Price":{"OriginalPrice":12.0,"DiscountPrice":0.29,"TradePrice":11.71,"Currency":"CNY"},"Rules":{"Rule":[]}}}"#;
        assert_eq!(read_price("p", ok).unwrap(), (11.71, "CNY".to_string()));
        let err = read_price(
            "p",
            r#"{"Code":"InvalidInstanceType.NotFound","Message":"no such type"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("InvalidInstanceType.NotFound"), "{err}");
        assert!(read_price(
            "p",
            r#"{"PriceInfo":{"Price":{"TradePrice":-1,"Currency":"CNY"}}}"#
        )
        .is_err());
    }
}
