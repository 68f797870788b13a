//! A table built from a provider's own price data (`pricing fetch`): its offers written as a
//! whole peftcost table (header, storage, `offer_count`, the end marker), to be validated and
//! installed like any downloaded table. Shared by every fetcher; each knows only its API.

use super::install::END_MARKER;
use super::table::PriceTable;

/// One offer as a fetcher found it: per instance-hour, in the table's currency.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedOffer {
    /// The provider's instance type.
    pub instance: String,
    /// Its region.
    pub region: String,
    /// The hardware profile of its GPUs (or CPU).
    pub hardware: String,
    /// Whole GPUs (0 for a CPU instance).
    pub gpus: u64,
    /// Pay-as-you-go price per hour.
    pub on_demand: f64,
    /// Spot price per hour, when the API gives it.
    pub spot: Option<f64>,
    /// Subscription price per month, when the API gives it.
    pub monthly: Option<f64>,
}

/// One offer per instance and region, the cheapest (an API may list one twice; a table may not).
fn cheapest_each(offers: &[FetchedOffer]) -> Vec<FetchedOffer> {
    let mut out: Vec<FetchedOffer> = Vec::with_capacity(offers.len());
    for o in offers {
        match out
            .iter_mut()
            .find(|k| k.instance == o.instance && k.region == o.region)
        {
            Some(k) if k.on_demand <= o.on_demand => {}
            Some(k) => *k = o.clone(),
            None => out.push(o.clone()),
        }
    }
    out
}

/// A TOML basic string: quotes, backslashes and control characters escaped as TOML spells them
/// (Rust's `{:?}` writes `\u{7f}`, which TOML refuses; the fuzz target found it).
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A table of `offers` at `confidence`, or, when there are none, an error saying what `source`
/// lacked (`none`: "no ... : nothing to install" follows it).
pub fn build(
    base: &PriceTable,
    offers: &[FetchedOffer],
    as_of: &str,
    source: &str,
    what: &str,
    confidence: &str,
    none: &str,
) -> crate::core::error::Result<String> {
    if offers.is_empty() {
        return Err(crate::core::error::Error::input(format!(
            "{source}: {none}: nothing to install"
        )));
    }
    Ok(table_toml(base, offers, as_of, source, what, confidence))
}

/// The TOML text of a whole table. `base` (the table in force) gives what the APIs do not:
/// display name, currency, billing rules and storage prices; `what` says where the prices came
/// from, for the header and notes; `confidence` is `primary` for a provider's own API,
/// `secondary` for another tool's crawl.
pub fn table_toml(
    base: &PriceTable,
    offers: &[FetchedOffer],
    as_of: &str,
    source: &str,
    what: &str,
    confidence: &str,
) -> String {
    let q = toml_string;
    let offers = cheapest_each(offers);
    let offers = &offers[..];
    let mut t = format!(
        "# {}: {what}, built by peftcost on {as_of}.\n\n",
        base.display_name
    );
    t.push_str(&format!("provider = {}\n", q(&base.provider)));
    t.push_str(&format!("display_name = {}\n", q(&base.display_name)));
    t.push_str(&format!("currency = {}\n", q(&base.currency)));
    t.push_str(&format!(
        "billing_increment_seconds = {}\n",
        base.billing_increment_seconds
    ));
    if let Some(m) = base.minimum_billed_seconds {
        t.push_str(&format!("minimum_billed_seconds = {m}\n"));
    }
    t.push_str(&format!("as_of = {}\n", q(as_of)));
    t.push_str(&format!("source = {}\n", q(source)));
    t.push_str(&format!("confidence = {}\n", q(confidence)));
    t.push_str(&format!(
        "notes = {}\n",
        q(&format!("{what}. Billing rules and storage carried over from the previous table: the price API does not give them."))
    ));
    t.push_str(&format!("offer_count = {}\n", offers.len()));
    if let Some(s) = &base.storage {
        t.push_str(&format!("\n[storage]\nname = {}\n", q(&s.name)));
        for (k, v) in [
            ("price_per_gb_month", s.price_per_gb_month),
            ("ingress_per_gb", s.ingress_per_gb),
            ("egress_per_gb", s.egress_per_gb),
        ] {
            if let Some(v) = v {
                t.push_str(&format!("{k} = {v:?}\n"));
            }
        }
        t.push_str(&format!(
            "source = {}\nas_of = {}\nconfidence = {}\n",
            q(&s.source),
            q(&s.as_of),
            q(&s.confidence)
        ));
    }
    for o in offers {
        t.push_str(&format!(
            "\n[[offers]]\ninstance = {}\nregion = {}\nhardware = {}\ngpus = {}\non_demand = {:?}\n",
            q(&o.instance),
            q(&o.region),
            q(&o.hardware),
            o.gpus,
            o.on_demand
        ));
        if let Some(s) = o.spot {
            t.push_str(&format!("spot = {s:?}\n"));
        }
        if let Some(m) = o.monthly {
            t.push_str(&format!("monthly = {m:?}\n"));
        }
    }
    t.push('\n');
    t.push_str(END_MARKER);
    t.push('\n');
    t
}
