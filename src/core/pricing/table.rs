//! One provider's price table (`pricing/<provider>.toml`): types, parsing and validation.
//!
//! Every problem is reported as `file:line:col: message`, pointing at the offending value.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::date::parse_date;
use super::fx::{is_currency_code, Fx};
use super::Billing;
use crate::core::error::{from_toml, Error, Result};
use crate::core::hardware::{HardwareCatalog, HardwareKind};

/// The largest price a table may hold, in its currency per hour, month or GB: ten million (an
/// 8-GPU node a month is ~10^5 CNY); anything above is a mistake that would print 300-digit costs.
pub const MAX_PRICE: f64 = 1e7;

/// The longest billing increment or minimum: 31 days (monthly billing has its own mode); beyond,
/// a job would be billed as if it took no hours or a lifetime.
pub const MAX_BILLING_SECONDS: i64 = 31 * 24 * 3600;

/// The confidence labels a table or offer may carry.
pub const CONFIDENCE_LEVELS: [&str; 3] = ["primary", "secondary", "estimate"];

/// Object storage and transfer prices of a provider, in the table's currency. Missing prices are
/// unknown (not free); the cost model counts them as zero and says so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Name of the storage service.
    pub name: String,
    /// Per GB (10^9 bytes) per month.
    #[serde(default)]
    pub price_per_gb_month: Option<f64>,
    /// Per GB uploaded into the provider.
    #[serde(default)]
    pub ingress_per_gb: Option<f64>,
    /// Per GB downloaded out to the internet.
    #[serde(default)]
    pub egress_per_gb: Option<f64>,
    /// Where the storage prices come from.
    pub source: String,
    /// Date the storage prices were recorded (`YYYY-MM-DD`).
    pub as_of: String,
    /// Confidence label of the storage prices.
    pub confidence: String,
}

/// One rentable instance type in one region. Prices are per instance (all its GPUs), in the
/// table's currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offer {
    /// Instance (machine type) name.
    pub instance: String,
    /// Region the prices apply to.
    pub region: String,
    /// A hardware profile id (aliases in the file are resolved to the id).
    pub hardware: String,
    /// GPUs per instance (0 for a CPU instance).
    pub gpus: u64,
    /// Virtual CPUs per instance, if known.
    pub vcpu: Option<u64>,
    /// Instance memory, in GiB, if known.
    pub ram_gib: Option<f64>,
    /// Per instance-hour.
    pub on_demand: f64,
    /// Per instance-hour, at crawl time.
    pub spot: Option<f64>,
    /// Per instance-month.
    pub monthly: Option<f64>,
    /// `None`: the table's.
    pub confidence: Option<String>,
    /// Where the prices come from; `None`: the table's.
    pub source: Option<String>,
    /// Date the prices were recorded (`YYYY-MM-DD`); `None`: the table's.
    pub as_of: Option<String>,
    /// Free-form notes about the offer.
    pub notes: Option<String>,
}

impl Offer {
    /// The price for a billing mode (per hour; per month for [`Billing::Monthly`]).
    pub fn price(&self, billing: Billing) -> Option<f64> {
        match billing {
            Billing::OnDemand => Some(self.on_demand),
            Billing::Spot => self.spot,
            Billing::Monthly => self.monthly,
        }
    }

    /// The billing modes this offer has a price for.
    pub fn billings(&self) -> impl Iterator<Item = Billing> + '_ {
        Billing::ALL
            .into_iter()
            .filter(|b| self.price(*b).is_some())
    }

    /// The offer's source, or the table's when it has none.
    pub fn source_in<'a>(&'a self, table: &'a PriceTable) -> &'a str {
        self.source.as_deref().unwrap_or(&table.source)
    }

    /// The offer's price date, or the table's when it has none.
    pub fn as_of_in<'a>(&'a self, table: &'a PriceTable) -> &'a str {
        self.as_of.as_deref().unwrap_or(&table.as_of)
    }

    /// The offer's confidence label, or the table's when it has none.
    pub fn confidence_in<'a>(&'a self, table: &'a PriceTable) -> &'a str {
        self.confidence.as_deref().unwrap_or(&table.confidence)
    }
}

/// A provider's offers with its billing rules and provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceTable {
    /// Provider id, e.g. `aws`.
    pub provider: String,
    /// Provider name for display.
    pub display_name: String,
    /// ISO code, e.g. CNY or USD.
    pub currency: String,
    /// Each billed period is rounded up to a multiple of this.
    pub billing_increment_seconds: u64,
    /// Periods shorter than this are billed as this long.
    pub minimum_billed_seconds: Option<u64>,
    /// Date the prices were recorded (`YYYY-MM-DD`).
    pub as_of: String,
    /// Where the prices come from.
    pub source: String,
    /// Confidence label (one of [`CONFIDENCE_LEVELS`]).
    pub confidence: String,
    /// Free-form notes about the table.
    pub notes: Option<String>,
    /// The provider's object storage and transfer prices.
    pub storage: Option<Storage>,
    /// Network bandwidth between two of the provider's VMs, Gbit/s per VM, for jobs spread over
    /// several (`None`: [`crate::core::units::DEFAULT_NETWORK_GBPS`], a stated assumption).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_gbps: Option<f64>,
    /// The number of offers the table says it has (`offer_count`): a download cut short has fewer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_count: Option<u64>,
    /// The rentable instances.
    pub offers: Vec<Offer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    provider: Spanned<String>,
    display_name: String,
    #[serde(default)]
    currency: Option<Spanned<String>>,
    billing_increment_seconds: Spanned<i64>,
    #[serde(default)]
    minimum_billed_seconds: Option<Spanned<i64>>,
    as_of: Spanned<String>,
    source: Spanned<String>,
    confidence: Spanned<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    storage: Option<RawStorage>,
    #[serde(default)]
    network_gbps: Option<Spanned<f64>>,
    #[serde(default)]
    offer_count: Option<Spanned<i64>>,
    #[serde(default)]
    offers: Option<Spanned<Vec<RawOffer>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    name: String,
    #[serde(default)]
    price_per_gb_month: Option<Spanned<f64>>,
    #[serde(default)]
    ingress_per_gb: Option<Spanned<f64>>,
    #[serde(default)]
    egress_per_gb: Option<Spanned<f64>>,
    source: Spanned<String>,
    as_of: Spanned<String>,
    confidence: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffer {
    instance: Spanned<String>,
    region: Spanned<String>,
    hardware: Spanned<String>,
    gpus: Spanned<i64>,
    #[serde(default)]
    vcpu: Option<Spanned<i64>>,
    #[serde(default)]
    ram_gib: Option<Spanned<f64>>,
    on_demand: Spanned<f64>,
    #[serde(default)]
    spot: Option<Spanned<f64>>,
    #[serde(default)]
    monthly: Option<Spanned<f64>>,
    #[serde(default)]
    confidence: Option<Spanned<String>>,
    #[serde(default)]
    source: Option<Spanned<String>>,
    #[serde(default)]
    as_of: Option<Spanned<String>>,
    #[serde(default)]
    notes: Option<String>,
}

/// Whether a provider name is usable as a file name: `[a-z0-9][a-z0-9-]*`.
pub fn is_provider_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && name != "fx"
}

/// Collects errors at byte offsets of one file.
struct Problems<'a> {
    path: &'a str,
    text: &'a str,
    errs: Vec<Error>,
}

impl Problems<'_> {
    fn at(&mut self, pos: usize, msg: impl Into<String>) {
        self.errs
            .push(Error::parse_at(self.path, self.text, Some(pos), msg));
    }

    fn date(&mut self, v: &Spanned<String>, what: &str) {
        if parse_date(v.get_ref()).is_none() {
            self.at(
                v.span().start,
                format!("{what} '{}' is not a date: write YYYY-MM-DD", v.get_ref()),
            );
        } else if let Some(why) = super::date::future_date(v.get_ref()) {
            self.at(v.span().start, format!("{what} '{}' {why}", v.get_ref()));
        }
    }

    fn confidence(&mut self, v: &Spanned<String>) {
        if !CONFIDENCE_LEVELS.contains(&v.get_ref().as_str()) {
            self.at(
                v.span().start,
                format!(
                    "confidence '{}' is not one of {}",
                    v.get_ref(),
                    CONFIDENCE_LEVELS.join(", ")
                ),
            );
        }
    }

    fn non_empty(&mut self, v: &Spanned<String>, what: &str) {
        if v.get_ref().trim().is_empty() {
            self.at(v.span().start, format!("{what} is empty"));
        }
    }

    /// A price: finite and > 0 (or >= 0 when `zero_ok`).
    /// A price: finite, > 0 (or >= 0 when `zero_ok`) and at most [`MAX_PRICE`]; the value is
    /// echoed in short form so a hostile 1e308 prints as such, not as 300 digits.
    fn price(&mut self, v: &Spanned<f64>, what: &str, zero_ok: bool) {
        let x = *v.get_ref();
        let ok = x.is_finite() && (x > 0.0 || (zero_ok && x == 0.0)) && x <= MAX_PRICE;
        if !ok {
            let need = if zero_ok { ">= 0" } else { "> 0" };
            self.at(
                v.span().start,
                format!(
                    "{what} must be a number {need} and at most {MAX_PRICE:e}, not {}",
                    crate::core::units::short_number(x)
                ),
            );
        }
    }
}

impl PriceTable {
    /// Parse and validate a table; the first problem as `path:line:col: message`.
    pub fn parse(
        path: &str,
        text: &str,
        hardware: &HardwareCatalog,
        fx: Option<&Fx>,
    ) -> Result<Self> {
        Self::check(path, text, hardware, fx).map_err(|mut e| e.remove(0))
    }

    /// Parse and validate a table, returning every problem found (sorted by position).
    ///
    /// Checks: TOML syntax and field types, unknown fields, provider name, currency present and
    /// known to `fx` (when given), billing increment >= 1, dates (YYYY-MM-DD), confidence labels,
    /// hardware ids known to `hardware`, GPU counts matching the hardware kind, every price
    /// finite and > 0 (storage prices >= 0), and no instance listed twice in one region.
    pub fn check(
        path: &str,
        text: &str,
        hardware: &HardwareCatalog,
        fx: Option<&Fx>,
    ) -> std::result::Result<Self, Vec<Error>> {
        let raw: RawTable = from_toml(path, text).map_err(|e| vec![e])?;
        let mut p = Problems {
            path,
            text,
            errs: Vec::new(),
        };
        if !is_provider_name(raw.provider.get_ref()) {
            p.at(
                raw.provider.span().start,
                format!(
                    "provider '{}' must be lowercase letters, digits and '-' (it names the file <provider>.toml)",
                    raw.provider.get_ref()
                ),
            );
        }
        let currency = match &raw.currency {
            None => {
                p.at(0, "missing `currency` (the ISO code prices are quoted in, e.g. currency = \"CNY\")");
                String::new()
            }
            Some(c) => {
                let code = c.get_ref();
                if !is_currency_code(code) {
                    p.at(c.span().start, format!("currency '{code}' is not an ISO code (three capitals such as CNY or USD)"));
                } else if let Some(fx) = fx {
                    if fx.rate(code).is_none() {
                        p.at(
                            c.span().start,
                            format!(
                                "currency '{code}' has no rate in fx.toml (known: {}); add one to <config dir>/pricing/fx.toml",
                                fx.currencies().collect::<Vec<_>>().join(", ")
                            ),
                        );
                    }
                }
                code.clone()
            }
        };
        let inc = *raw.billing_increment_seconds.get_ref();
        if !(1..=MAX_BILLING_SECONDS).contains(&inc) {
            p.at(
                raw.billing_increment_seconds.span().start,
                format!(
                    "billing_increment_seconds must be between 1 (per-second billing) and {MAX_BILLING_SECONDS} (31 days), not {inc}"
                ),
            );
        }
        if let Some(m) = &raw.minimum_billed_seconds {
            if !(0..=MAX_BILLING_SECONDS).contains(m.get_ref()) {
                p.at(
                    m.span().start,
                    format!(
                        "minimum_billed_seconds must be between 0 and {MAX_BILLING_SECONDS} (31 days), not {}",
                        m.get_ref()
                    ),
                );
            }
        }
        p.date(&raw.as_of, "as_of");
        p.non_empty(&raw.source, "source");
        p.confidence(&raw.confidence);
        if let Some(n) = &raw.network_gbps {
            // 0.1 Gbit/s to 3.2 Tbit/s: from a throttled VM to an 8x400G InfiniBand node.
            let x = *n.get_ref();
            if !(x.is_finite() && (0.1..=3200.0).contains(&x)) {
                p.at(
                    n.span().start,
                    format!("network_gbps must be between 0.1 and 3200 Gbit/s, not {x}"),
                );
            }
        }

        let storage = raw.storage.map(|s| {
            for (v, what) in [
                (&s.price_per_gb_month, "storage price_per_gb_month"),
                (&s.ingress_per_gb, "storage ingress_per_gb"),
                (&s.egress_per_gb, "storage egress_per_gb"),
            ] {
                if let Some(v) = v {
                    p.price(v, what, true);
                }
            }
            p.date(&s.as_of, "storage as_of");
            p.non_empty(&s.source, "storage source");
            p.confidence(&s.confidence);
            Storage {
                name: s.name,
                price_per_gb_month: s.price_per_gb_month.map(Spanned::into_inner),
                ingress_per_gb: s.ingress_per_gb.map(Spanned::into_inner),
                egress_per_gb: s.egress_per_gb.map(Spanned::into_inner),
                source: s.source.into_inner(),
                as_of: s.as_of.into_inner(),
                confidence: s.confidence.into_inner(),
            }
        });

        let raw_offers = match raw.offers {
            Some(o) if !o.get_ref().is_empty() => o.into_inner(),
            Some(o) => {
                p.at(
                    o.span().start,
                    "offers is empty: add at least one [[offers]] entry",
                );
                Vec::new()
            }
            None => {
                p.at(0, "no offers: add at least one [[offers]] entry");
                Vec::new()
            }
        };
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        let mut offers = Vec::with_capacity(raw_offers.len());
        for o in raw_offers {
            p.non_empty(&o.instance, "instance");
            p.non_empty(&o.region, "region");
            let key = (o.instance.get_ref().clone(), o.region.get_ref().clone());
            if let Some(first) = seen.get(&key) {
                let (line, _) = crate::core::error::line_col(text, *first);
                p.at(
                    o.instance.span().start,
                    format!(
                        "duplicate instance '{}' in region '{}' (first listed at line {line})",
                        key.0, key.1
                    ),
                );
            } else {
                seen.insert(key, o.instance.span().start);
            }
            let hw_id = match hardware.get(o.hardware.get_ref()) {
                Ok(h) => {
                    let gpus = *o.gpus.get_ref();
                    match h.kind {
                        HardwareKind::Gpu if gpus < 1 => p.at(
                            o.gpus.span().start,
                            format!("gpus must be >= 1 for GPU hardware '{}', not {gpus}", h.id),
                        ),
                        HardwareKind::Cpu if gpus != 0 => p.at(
                            o.gpus.span().start,
                            format!("gpus must be 0 for CPU hardware '{}', not {gpus}", h.id),
                        ),
                        _ => {}
                    }
                    h.id.clone()
                }
                Err(e) => {
                    p.at(o.hardware.span().start, e.to_string());
                    o.hardware.get_ref().clone()
                }
            };
            if *o.gpus.get_ref() < 0 {
                p.at(
                    o.gpus.span().start,
                    format!("gpus must be >= 0, not {}", o.gpus.get_ref()),
                );
            }
            if let Some(v) = &o.vcpu {
                if *v.get_ref() < 1 {
                    p.at(
                        v.span().start,
                        format!("vcpu must be >= 1, not {}", v.get_ref()),
                    );
                }
            }
            if let Some(r) = &o.ram_gib {
                p.price(r, "ram_gib", false);
            }
            p.price(&o.on_demand, "on_demand price", false);
            if let Some(s) = &o.spot {
                p.price(s, "spot price", false);
            }
            if let Some(m) = &o.monthly {
                p.price(m, "monthly price", false);
            }
            if let Some(c) = &o.confidence {
                p.confidence(c);
            }
            if let Some(s) = &o.source {
                p.non_empty(s, "source");
            }
            if let Some(d) = &o.as_of {
                p.date(d, "as_of");
            }
            offers.push(Offer {
                instance: o.instance.into_inner(),
                region: o.region.into_inner(),
                hardware: hw_id,
                gpus: (*o.gpus.get_ref()).max(0) as u64,
                vcpu: o.vcpu.map(|v| (*v.get_ref()).max(0) as u64),
                ram_gib: o.ram_gib.map(Spanned::into_inner),
                on_demand: o.on_demand.into_inner(),
                spot: o.spot.map(Spanned::into_inner),
                monthly: o.monthly.map(Spanned::into_inner),
                confidence: o.confidence.map(Spanned::into_inner),
                source: o.source.map(Spanned::into_inner),
                as_of: o.as_of.map(Spanned::into_inner),
                notes: o.notes,
            });
        }
        if let Some(c) = &raw.offer_count {
            if *c.get_ref() != offers.len() as i64 {
                p.at(
                    c.span().start,
                    format!(
                        "offer_count says {} offers but the table has {}: it is incomplete (a cut-off download?) or the count is stale",
                        c.get_ref(),
                        offers.len()
                    ),
                );
            }
        }
        if !p.errs.is_empty() {
            let mut errs = p.errs;
            errs.sort_by_key(|e| match e {
                Error::Parse { line, column, .. } => (*line, *column),
                _ => (0, 0),
            });
            return Err(errs);
        }
        Ok(PriceTable {
            provider: raw.provider.into_inner(),
            display_name: raw.display_name,
            currency,
            billing_increment_seconds: inc as u64,
            minimum_billed_seconds: raw.minimum_billed_seconds.map(|m| *m.get_ref() as u64),
            as_of: raw.as_of.into_inner(),
            source: raw.source.into_inner(),
            confidence: raw.confidence.into_inner(),
            notes: raw.notes,
            storage,
            network_gbps: raw.network_gbps.map(Spanned::into_inner),
            offer_count: raw
                .offer_count
                .as_ref()
                .map(|c| (*c.get_ref()).max(0) as u64),
            offers,
        })
    }
}
