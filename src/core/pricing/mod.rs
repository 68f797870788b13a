//! Cloud prices: provider tables (`pricing/<provider>.toml`), exchange rates (`pricing/fx.toml`),
//! the cost of a whole job on an offer, and fetching updated tables.
//!
//! Tables are embedded in the binary; a file in `<config dir>/pricing/` replaces the embedded
//! file of the same name. Every hardware id is checked against the hardware catalog.

pub mod alibaba;
pub mod aws;
pub mod azure;
pub mod cost;
pub mod date;
pub mod diff;
pub mod feeds;
pub mod fetched;
pub mod fx;
pub mod gcp;
pub mod install;
pub mod lambda;
pub mod runpod;
pub mod table;
pub mod vast;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use cost::{
    default_display_currency, job_cost, CostAssumptions, CostBreakdown, HoursBreakdown, JobCost,
    JobInputs, HOURS_PER_MONTH, SPOT_CAVEAT,
};
pub use fx::Fx;
pub use table::{Offer, PriceTable, Storage};

use crate::core::data::{self, DataFile};
use crate::core::error::{Error, Result};
use crate::core::hardware::HardwareCatalog;

/// Tables older than this many days get a warning.
pub const STALE_AFTER_DAYS: u32 = 90;

/// The file name of the exchange-rate table.
pub const FX_FILE: &str = "fx.toml";

/// Every table shipped in the binary (path relative to the repository, text).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "pricing/alibaba.toml",
        include_str!("../../../pricing/alibaba.toml"),
    ),
    (
        "pricing/autodl.toml",
        include_str!("../../../pricing/autodl.toml"),
    ),
    (
        "pricing/aws.toml",
        include_str!("../../../pricing/aws.toml"),
    ),
    (
        "pricing/azure.toml",
        include_str!("../../../pricing/azure.toml"),
    ),
    (
        "pricing/cn-rental.toml",
        include_str!("../../../pricing/cn-rental.toml"),
    ),
    ("pricing/fx.toml", include_str!("../../../pricing/fx.toml")),
    (
        "pricing/gcp.toml",
        include_str!("../../../pricing/gcp.toml"),
    ),
    (
        "pricing/lambda.toml",
        include_str!("../../../pricing/lambda.toml"),
    ),
    (
        "pricing/runpod.toml",
        include_str!("../../../pricing/runpod.toml"),
    ),
];

crate::core::units::named!(
    Billing,
    [Billing::OnDemand, Billing::Spot, Billing::Monthly],
    help = |b| Some(match b {
        Billing::OnDemand => "Pay as you go, per hour (rounded to the provider's increment)",
        Billing::Spot => "Interruptible capacity at a market price",
        Billing::Monthly => "Per month (730 hours), whole months",
    })
);

/// How an offer is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Billing {
    /// Pay as you go, per hour (rounded to the provider's increment).
    OnDemand,
    /// Interruptible capacity at a market price.
    Spot,
    /// Per month (730 hours), whole months.
    Monthly,
}

impl Billing {
    /// Every billing mode.
    pub const ALL: [Billing; 3] = [Billing::OnDemand, Billing::Spot, Billing::Monthly];

    /// The kebab-case name, e.g. `on-demand`.
    pub fn as_str(self) -> &'static str {
        match self {
            Billing::OnDemand => "on-demand",
            Billing::Spot => "spot",
            Billing::Monthly => "monthly",
        }
    }
}

impl std::fmt::Display for Billing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The user's pricing directory inside a config directory.
pub fn user_dir(config_dir: &Path) -> PathBuf {
    config_dir.join("pricing")
}

/// The embedded files as [`DataFile`]s.
pub fn embedded_files() -> Vec<DataFile> {
    EMBEDDED
        .iter()
        .map(|(path, text)| DataFile::embedded(path, text))
        .collect()
}

/// Every price table and the exchange rates.
#[derive(Debug, Clone)]
pub struct PricingCatalog {
    /// Sorted by provider.
    pub tables: Vec<PriceTable>,
    /// Exchange rates between the tables' currencies.
    pub fx: Fx,
}

/// A table older than the staleness limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleOffer {
    /// Cloud provider.
    pub provider: String,
    /// Instance (machine type) name.
    pub instance: String,
    /// Region of the offer.
    pub region: String,
    /// Date of the offer's price (`YYYY-MM-DD`).
    pub as_of: String,
}

impl PricingCatalog {
    /// The tables shipped in the binary.
    pub fn embedded() -> Result<Self> {
        Self::from_files(&embedded_files(), &HardwareCatalog::embedded()?)
    }

    /// Embedded tables overlaid by `<config_dir>/pricing/*.toml`, with hardware ids checked
    /// against the hardware catalog of the same config dir.
    pub fn load(config_dir: Option<&Path>) -> Result<Self> {
        let hardware = HardwareCatalog::load(config_dir)?;
        Self::load_with(config_dir, &hardware)
    }

    /// Like [`PricingCatalog::load`] with a hardware catalog already loaded.
    pub fn load_with(config_dir: Option<&Path>, hardware: &HardwareCatalog) -> Result<Self> {
        let user = match config_dir {
            Some(dir) => data::read_toml_dir(&user_dir(dir))?,
            None => Vec::new(),
        };
        Self::from_files(&data::overlay(embedded_files(), user), hardware)
    }

    /// Parse `fx.toml` and every other file as a price table. A provider may appear only once.
    pub fn from_files(files: &[DataFile], hardware: &HardwareCatalog) -> Result<Self> {
        let fx_file = files
            .iter()
            .find(|f| f.name == FX_FILE)
            .ok_or_else(|| Error::Internal("no pricing/fx.toml".into()))?;
        let fx = Fx::parse(&fx_file.path, &fx_file.text)?;
        let mut tables: Vec<(PriceTable, &str)> = Vec::new();
        for f in files.iter().filter(|f| f.name != FX_FILE) {
            let t = PriceTable::parse(&f.path, &f.text, hardware, Some(&fx))?;
            if let Some((_, other)) = tables.iter().find(|(o, _)| o.provider == t.provider) {
                return Err(Error::input(format!(
                    "{}: provider '{}' is already defined by {other}; name the file {}.toml to replace it",
                    f.path, t.provider, t.provider
                )));
            }
            tables.push((t, &f.path));
        }
        let mut tables: Vec<PriceTable> = tables.into_iter().map(|(t, _)| t).collect();
        tables.sort_by(|a, b| a.provider.cmp(&b.provider));
        Ok(PricingCatalog { tables, fx })
    }

    /// Every offer with its table.
    pub fn offers(&self) -> impl Iterator<Item = (&PriceTable, &Offer)> {
        self.tables
            .iter()
            .flat_map(|t| t.offers.iter().map(move |o| (t, o)))
    }

    /// The table of a provider (case-insensitive), with a hint for typos.
    pub fn table(&self, provider: &str) -> Result<&PriceTable> {
        let wanted = data::normalise(provider);
        if let Some(t) = self.tables.iter().find(|t| t.provider == wanted) {
            return Ok(t);
        }
        let known: Vec<String> = self.tables.iter().map(|t| t.provider.clone()).collect();
        Err(Error::Unknown {
            kind: "provider",
            name: provider.to_string(),
            suggestion: data::nearest(provider, known.iter().map(String::as_str))
                .map(str::to_string),
            known,
        })
    }

    /// Providers whose table `as_of` is more than `max_age_days` before `today` (YYYY-MM-DD), as
    /// (provider, as_of). An unparsable `today` reports nothing.
    pub fn stale_tables(&self, today: &str, max_age_days: u32) -> Vec<(String, String)> {
        self.tables
            .iter()
            .filter(|t| is_stale(&t.as_of, today, max_age_days))
            .map(|t| (t.provider.clone(), t.as_of.clone()))
            .collect()
    }

    /// Offers with their own `as_of` older than the limit (their table's date may be recent).
    pub fn stale_offers(&self, today: &str, max_age_days: u32) -> Vec<StaleOffer> {
        self.offers()
            .filter(|(_, o)| {
                o.as_of
                    .as_deref()
                    .is_some_and(|d| is_stale(d, today, max_age_days))
            })
            .map(|(t, o)| StaleOffer {
                provider: t.provider.clone(),
                instance: o.instance.clone(),
                region: o.region.clone(),
                as_of: o.as_of_in(t).to_string(),
            })
            .collect()
    }
}

/// Whether `as_of` is more than `max_age_days` days before `today`.
pub fn is_stale(as_of: &str, today: &str, max_age_days: u32) -> bool {
    date::days_between(as_of, today).is_some_and(|d| d > i64::from(max_age_days))
}

/// The warning shown for a stale table.
pub fn stale_warning(provider: &str, as_of: &str, today: &str) -> String {
    let days = date::days_between(as_of, today).unwrap_or(0);
    format!(
        "{provider} prices are as of {as_of} ({days} days old, over {STALE_AFTER_DAYS}): check them against the source or run `peftcost pricing update --from URL`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse_and_cover_every_file() {
        let c = PricingCatalog::embedded().unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("pricing");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = EMBEDDED
            .iter()
            .map(|(p, _)| p.trim_start_matches("pricing/").to_string())
            .collect();
        assert_eq!(
            on_disk, embedded,
            "add new pricing files to pricing::EMBEDDED"
        );
        assert_eq!(c.tables.len(), EMBEDDED.len() - 1);
        assert_eq!(c.fx.rate("CNY"), Some(6.7686));
        // Spot-check the design §10 example offer.
        let ali = c.table("alibaba").unwrap();
        let o = ali
            .offers
            .iter()
            .find(|o| o.instance == "ecs.gn7e-c16g1.4xlarge")
            .unwrap();
        assert_eq!(
            (o.on_demand, o.hardware.as_str(), o.gpus),
            (34.83, "a100-80g", 1)
        );
        assert_eq!(ali.currency, "CNY");
        assert!(c
            .table("alibab")
            .unwrap_err()
            .to_string()
            .contains("did you mean 'alibaba'"));
    }

    #[test]
    fn staleness_uses_the_given_day() {
        let c = PricingCatalog::embedded().unwrap();
        // aws as_of 2025-06-01; 2025-08-30 is 90 days later (not stale), 2025-08-31 is 91.
        let aws_stale = |today: &str| c.stale_tables(today, 90).iter().any(|(p, _)| p == "aws");
        assert!(!aws_stale("2025-08-30"));
        assert!(aws_stale("2025-08-31"));
        assert!(c.stale_tables("not a date", 90).is_empty());
        assert!(is_stale("2026-01-01", "2026-11-29", 90));
        assert!(!is_stale("2026-11-09", "2026-11-29", 90));
    }
}
