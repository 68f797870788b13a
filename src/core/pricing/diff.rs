//! What a refresh of a price table changes: offers added and removed, and every price that
//! moved (`pricing diff`, `pricing update --dry-run`). Offers are matched by instance and region.

use serde::Serialize;

use super::table::{Offer, PriceTable};
use super::Billing;

/// One offer, as the diff names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferKey {
    /// Instance (machine type) name.
    pub instance: String,
    /// Region of the offer.
    pub region: String,
    /// Hardware profile id.
    pub hardware: String,
}

impl OfferKey {
    fn of(o: &Offer) -> Self {
        OfferKey {
            instance: o.instance.clone(),
            region: o.region.clone(),
            hardware: o.hardware.clone(),
        }
    }
}

/// A price that moved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceChange {
    /// The offer.
    #[serde(flatten)]
    pub offer: OfferKey,
    /// Which price.
    pub billing: Billing,
    /// Before (`None`: the offer had no such price).
    pub old: Option<f64>,
    /// After (`None`: the price is gone).
    pub new: Option<f64>,
    /// The change in percent, where both exist.
    pub percent: Option<f64>,
}

/// Everything that differs between two versions of one provider's table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableDiff {
    /// The provider.
    pub provider: String,
    /// Currency of the prices (the new table's).
    pub currency: String,
    /// `as_of` before and after.
    pub old_as_of: String,
    /// `as_of` of the new table.
    pub new_as_of: String,
    /// Offers only the new table has.
    pub added: Vec<OfferKey>,
    /// Offers only the old table has.
    pub removed: Vec<OfferKey>,
    /// Prices of offers in both that moved, appeared or disappeared.
    pub changed: Vec<PriceChange>,
}

impl TableDiff {
    /// Whether the two tables price the same offers the same.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// The difference from `old` to `new`.
pub fn diff(old: &PriceTable, new: &PriceTable) -> TableDiff {
    let same = |a: &Offer, b: &Offer| a.instance == b.instance && a.region == b.region;
    let added = new
        .offers
        .iter()
        .filter(|n| !old.offers.iter().any(|o| same(o, n)))
        .map(OfferKey::of)
        .collect();
    let removed = old
        .offers
        .iter()
        .filter(|o| !new.offers.iter().any(|n| same(o, n)))
        .map(OfferKey::of)
        .collect();
    let mut changed = Vec::new();
    for o in &old.offers {
        let Some(n) = new.offers.iter().find(|n| same(o, n)) else {
            continue;
        };
        for billing in Billing::ALL {
            let (a, b) = (o.price(billing), n.price(billing));
            if a == b {
                continue;
            }
            changed.push(PriceChange {
                offer: OfferKey::of(n),
                billing,
                old: a,
                new: b,
                percent: match (a, b) {
                    (Some(a), Some(b)) if a > 0.0 => Some((b / a - 1.0) * 100.0),
                    _ => None,
                },
            });
        }
    }
    TableDiff {
        provider: new.provider.clone(),
        currency: new.currency.clone(),
        old_as_of: old.as_of.clone(),
        new_as_of: new.as_of.clone(),
        added,
        removed,
        changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hardware::HardwareCatalog;

    const T: &str = r#"provider = "aws"
display_name = "AWS"
currency = "USD"
billing_increment_seconds = 1
as_of = "2026-11-01"
source = "test"
confidence = "primary"

[[offers]]
instance = "g5.xlarge"
region = "us-east-1"
hardware = "a10g"
gpus = 1
on_demand = 1.006

[[offers]]
instance = "g4dn.xlarge"
region = "us-east-1"
hardware = "t4"
gpus = 1
on_demand = 0.526
spot = 0.2
"#;

    #[test]
    fn a_refresh_lists_what_it_adds_removes_and_moves() {
        let hw = HardwareCatalog::embedded().unwrap();
        let old = PriceTable::parse("old.toml", T, &hw, None).unwrap();
        let new_text = T
            .replace("on_demand = 1.006", "on_demand = 1.2072")
            .replace("spot = 0.2\n", "")
            .replace("g4dn.xlarge", "g6.xlarge");
        let new = PriceTable::parse("new.toml", &new_text, &hw, None).unwrap();
        let d = diff(&old, &new);
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.added[0].instance, "g6.xlarge");
        assert_eq!(d.removed[0].instance, "g4dn.xlarge");
        assert_eq!(d.changed.len(), 1);
        // 1.006 -> 1.2072 USD/h is +20.0%.
        let c = &d.changed[0];
        assert_eq!((c.old, c.new), (Some(1.006), Some(1.2072)));
        assert!((c.percent.unwrap() - 20.0).abs() < 1e-9);
        assert!(diff(&old, &old).is_empty());
    }
}
