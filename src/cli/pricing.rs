//! `peftcost pricing list|show|validate|update`.

use crate::report::i18n::Lang;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{emit, Context, Format};
use crate::core::data;
use crate::core::error::{Error, Result};
use crate::core::pricing::{
    self, date, default_display_currency, Billing, Fx, PriceTable, PricingCatalog, SPOT_CAVEAT,
    STALE_AFTER_DAYS,
};
use crate::http::update;
use crate::report::{self, Document, Table};

#[derive(Debug, Subcommand)]
pub enum PricingCommand {
    /// Cloud offers of every provider, one row per offer and billing mode.
    List(ListArgs),
    /// One provider: billing rules, storage prices, every offer with its source, date and confidence.
    Show {
        /// Provider, e.g. alibaba, aws, autodl (see `pricing list`).
        provider: String,
        /// Date to judge staleness against, YYYY-MM-DD (default: today, from the system clock).
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Check a pricing table (or fx.toml); every problem is printed as file:line:col: message.
    Validate {
        file: PathBuf,
        /// Date to judge staleness against, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
    },
    /// Fetch a table over HTTPS, check it is whole and does not shrink the one in force,
    /// validate it with your other tables, then replace <config dir>/pricing/<provider>.toml
    /// atomically under a lock (the last three versions are kept as .bak, .bak.1, .bak.2).
    Update(UpdateArgs),
    /// What a new table changes against the one in force (or another file): offers added and
    /// removed, prices moved in %.
    Diff {
        /// The table before: a provider (the table in force) or a file.
        old: String,
        /// The table after: a file.
        new: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Build a provider's table from its own price data and install it as `update` does
    /// (validated, never shrinking silently, atomic, under the lock). azure: the Retail Prices API;
    /// aws: the Price List bulk offer file, streamed (both without credentials); gcp: the Cloud
    /// Billing Catalog API (an API key, GOOGLE_API_KEY); lambda: the instance-types API (an API
    /// key, LAMBDA_API_KEY); runpod: the GraphQL API (RUNPOD_API_KEY if set; it answers without
    /// one); vast: the marketplace's public offer search, cheapest per GPU, count and country;
    /// alibaba: ECS DescribePrice for each instance of the table in force (an AccessKey in
    /// ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET), pay-as-you-go, spot and
    /// one-month subscription.
    Fetch(FetchArgs),
    /// Import another tool's price catalog as a provider's table, installed as `update` installs:
    /// skypilot (a `catalogs/v8/<cloud>/vms.csv`) or gpuhunt (a `<provider>.csv` of its catalog).
    Import(ImportArgs),
    /// Put a provider's previous table (its .bak) back; the current one becomes the .bak.
    Rollback {
        /// Provider, e.g. alibaba, or fx for the exchange rates.
        provider: String,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only these providers (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = super::not_empty)]
    provider: Vec<String>,
    /// Only these regions (repeatable or comma-separated), e.g. cn-hangzhou, us-east-1.
    #[arg(long, value_delimiter = ',', value_parser = super::not_empty)]
    region: Vec<String>,
    /// Only offers of these hardware profiles (ids or aliases, e.g. a100, t4).
    #[arg(long, alias = "gpu", value_delimiter = ',', value_parser = super::not_empty)]
    hardware: Vec<String>,
    /// Only this billing mode (default: every mode an offer has).
    #[arg(long, value_parser = super::named::<Billing>())]
    billing: Option<Billing>,
    /// Only offers at most this price per instance-hour (per month for monthly billing), in
    /// --currency (default: each offer's own currency).
    #[arg(long, value_name = "PRICE")]
    max_price: Option<f64>,
    /// Also show prices converted to this currency (CNY, USD; default: CNY for offers billed in
    /// CNY, else USD).
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Date to judge staleness against, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The provider whose price data to read: alibaba (ECS DescribePrice, signed with
    /// ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET), azure (Retail Prices API), aws (the Price List
    /// bulk offer file of one region), gcp (Cloud Billing Catalog API), lambda (instance-types
    /// API), runpod (GraphQL API) or vast (the marketplace's offer search).
    #[arg(value_parser = ["alibaba", "azure", "aws", "gcp", "lambda", "runpod", "vast"])]
    provider: String,
    /// The API's base URL (a mirror, a proxy or a test server); default
    /// https://ecs.<region>.aliyuncs.com, https://prices.azure.com,
    /// https://pricing.us-east-1.amazonaws.com, https://cloudbilling.googleapis.com,
    /// https://cloud.lambdalabs.com, https://api.runpod.io, https://console.vast.ai.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// The environment variable holding the API key (default GOOGLE_API_KEY for gcp,
    /// LAMBDA_API_KEY for lambda, RUNPOD_API_KEY for runpod); the key itself is never a flag,
    /// so it stays out of shell history.
    #[arg(long, value_name = "NAME")]
    api_key_env: Option<String>,
    /// Only this region (e.g. eastus); default: every region (azure), us-east-1 (aws).
    #[arg(long, value_parser = super::not_empty)]
    region: Option<String>,
    /// Seconds allowed for each page.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    timeout_secs: f64,
    #[command(flatten)]
    landing: LandingFlags,
}

/// Where a built table goes (`pricing fetch`, `pricing import`).
#[derive(Debug, Args)]
pub struct LandingFlags {
    /// Install even if the table has a fifth fewer offers, or less hardware, than the one in force.
    #[arg(long)]
    allow_shrink: bool,
    /// Build the table, print what would change, install nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the table to this file instead of installing it.
    #[arg(long, value_name = "FILE", conflicts_with = "dry_run")]
    out: Option<PathBuf>,
}

impl LandingFlags {
    /// The landing of `provider`'s table.
    fn of<'a>(&'a self, provider: &'a str) -> Landing<'a> {
        Landing {
            provider,
            out: self.out.as_deref(),
            dry_run: self.dry_run,
            allow_shrink: self.allow_shrink,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The feed's format: skypilot or gpuhunt.
    #[arg(value_parser = ["skypilot", "gpuhunt"])]
    feed: String,
    /// The CSV: a file or an https:// URL.
    source: String,
    /// The provider whose table it becomes (lambda, runpod, aws, ...).
    #[arg(long, value_parser = super::not_empty)]
    provider: String,
    #[command(flatten)]
    landing: LandingFlags,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Where to fetch the table: an https:// URL (http:// only for 127.0.0.1, ::1, localhost).
    #[arg(long, value_name = "URL")]
    from: String,
    /// The provider the table must be for (its file name); `fx` for the exchange-rate table.
    /// Default: the table's own `provider`.
    #[arg(long)]
    provider: Option<String>,
    /// Seconds allowed to connect.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    connect_timeout_secs: f64,
    /// Seconds allowed for the whole download.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    timeout_secs: f64,
    /// Largest table accepted, in bytes (at most 64 MiB).
    #[arg(long, default_value_t = update::MAX_TABLE_BYTES, value_name = "BYTES")]
    max_bytes: u64,
    /// Install even if the table has a fifth fewer offers, or less hardware, than the one in force.
    #[arg(long)]
    allow_shrink: bool,
    /// Fetch and validate, print what would change, install nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Today's date (UTC) from the system clock, as YYYY-MM-DD.
pub(crate) fn today() -> String {
    utc_timestamp()[..10].to_string()
}

fn today_or(arg: Option<String>) -> Result<String> {
    match arg {
        None => Ok(today()),
        Some(d) if date::parse_date(&d).is_some() => Ok(d),
        Some(d) => Err(Error::input(format!(
            "--today '{d}' is not a date: write YYYY-MM-DD"
        ))),
    }
}

pub fn run(ctx: &Context, cmd: PricingCommand) -> Result<()> {
    match cmd {
        PricingCommand::List(args) => list(ctx, args),
        PricingCommand::Show {
            provider,
            today,
            format,
        } => {
            let cat = ctx.pricing()?;
            let t = cat.table(&provider)?;
            show(cat, t, &today_or(today)?, format, ctx.lang)
        }
        PricingCommand::Validate { file, today } => validate(ctx, &file, &today_or(today)?),
        PricingCommand::Update(args) => run_update(ctx, args),
        PricingCommand::Fetch(args) => run_fetch(ctx, args),
        PricingCommand::Import(args) => run_import(ctx, args),
        PricingCommand::Diff { old, new, format } => {
            let cat = ctx.pricing()?;
            let hardware = ctx.hardware()?;
            let parse = |path: &std::path::Path| -> Result<PriceTable> {
                let f = data::read_file(path)?;
                PriceTable::parse(&f.path, &f.text, hardware, Some(&cat.fx))
            };
            let before = match cat.table(&old) {
                Ok(t) if !std::path::Path::new(&old).is_file() => t.clone(),
                _ => parse(std::path::Path::new(&old))?,
            };
            let after = parse(&new)?;
            print_diff(&pricing::diff::diff(&before, &after), format, ctx.lang)
        }
        PricingCommand::Rollback { provider } => {
            let dir = ctx.config_dir.as_deref().ok_or_else(|| {
                Error::input("no config directory: pass --profiles DIR or set PEFTCOST_CONFIG_DIR")
            })?;
            let out = crate::core::pricing::install::rollback(dir, &provider)?;
            emit(&format!(
                "restored {} (as_of {}); the table it replaced is now {}\n",
                out.path.display(),
                out.as_of,
                out.backup
                    .as_ref()
                    .map_or(String::new(), |b| b.display().to_string())
            ))
        }
    }
}

#[derive(Serialize)]
struct OfferRow<'a> {
    provider: &'a str,
    region: &'a str,
    instance: &'a str,
    hardware: &'a str,
    gpus: u64,
    vcpu: Option<u64>,
    ram_gib: Option<f64>,
    billing: Billing,
    price: f64,
    /// "hour" or "month".
    per: &'static str,
    currency: &'a str,
    price_display: f64,
    display_currency: String,
    as_of: &'a str,
    confidence: &'a str,
    source: &'a str,
}

fn per(billing: Billing) -> &'static str {
    if billing == Billing::Monthly {
        "month"
    } else {
        "hour"
    }
}

fn short_unit(billing: Billing) -> &'static str {
    if billing == Billing::Monthly {
        "mo"
    } else {
        "h"
    }
}

fn fx_note(fx: &Fx) -> String {
    let pairs: Vec<String> = fx
        .rates
        .iter()
        .filter(|(c, _)| **c != fx.base)
        .map(|(c, r)| format!("1 {} = {r} {c}", fx.base))
        .collect();
    format!(
        "converted at {} (fx.toml, as of {}; {})",
        pairs.join(", "),
        fx.as_of,
        fx.source
    )
}

fn list(ctx: &Context, a: ListArgs) -> Result<()> {
    let cat = ctx.pricing()?;
    let today = today_or(a.today)?;
    let display = a.currency.as_deref().map(|c| cat.fx.known(c)).transpose()?;
    if let Some(p) = a.max_price {
        if !(p.is_finite() && p > 0.0) {
            return Err(Error::input(format!("--max-price must be > 0, not {p}")));
        }
    }
    let providers: Vec<String> = a
        .provider
        .iter()
        .map(|p| cat.table(p).map(|t| t.provider.clone()))
        .collect::<Result<_>>()?;
    let hardware: Vec<String> = if a.hardware.is_empty() {
        Vec::new()
    } else {
        let hw = ctx.hardware()?;
        a.hardware
            .iter()
            .map(|h| hw.get(h).map(|p| p.id.clone()))
            .collect::<Result<_>>()?
    };
    let regions: Vec<String> = a.region.iter().map(|r| data::normalise(r)).collect();
    for r in &regions {
        if !cat.offers().any(|(_, o)| data::normalise(&o.region) == *r) {
            let mut known: Vec<&str> = cat.offers().map(|(_, o)| o.region.as_str()).collect();
            known.sort();
            known.dedup();
            return Err(Error::input(format!(
                "unknown region '{r}': known: {}",
                known.join(", ")
            )));
        }
    }

    let mut rows: Vec<OfferRow> = Vec::new();
    for (t, o) in cat.offers() {
        if (!providers.is_empty() && !providers.contains(&t.provider))
            || (!hardware.is_empty() && !hardware.contains(&o.hardware))
            || (!regions.is_empty() && !regions.contains(&data::normalise(&o.region)))
        {
            continue;
        }
        for billing in o.billings() {
            if a.billing.is_some_and(|b| b != billing) {
                continue;
            }
            let price = o.price(billing).unwrap_or_default();
            let disp = display
                .clone()
                .unwrap_or_else(|| default_display_currency(t).to_string());
            let price_display = cat.fx.convert(price, &t.currency, &disp)?;
            if a.max_price.is_some_and(|m| price_display > m) {
                continue;
            }
            rows.push(OfferRow {
                provider: &t.provider,
                region: &o.region,
                instance: &o.instance,
                hardware: &o.hardware,
                gpus: o.gpus,
                vcpu: o.vcpu,
                ram_gib: o.ram_gib,
                billing,
                price,
                per: per(billing),
                currency: &t.currency,
                price_display,
                display_currency: disp,
                as_of: o.as_of_in(t),
                confidence: o.confidence_in(t),
                source: o.source_in(t),
            });
        }
    }

    let mut shown: Vec<&str> = rows.iter().map(|r| r.provider).collect();
    shown.dedup();
    let mut warnings: Vec<String> = cat
        .stale_tables(&today, STALE_AFTER_DAYS)
        .into_iter()
        .filter(|(p, _)| shown.contains(&p.as_str()))
        .map(|(p, d)| pricing::stale_warning(&p, &d, &today))
        .collect();
    let stale_offers = cat
        .stale_offers(&today, STALE_AFTER_DAYS)
        .into_iter()
        .filter(|s| {
            rows.iter()
                .any(|r| r.instance == s.instance && r.provider == s.provider)
        })
        .count();
    if stale_offers > 0 {
        warnings.push(format!(
            "{stale_offers} offer(s) carry their own as_of older than {STALE_AFTER_DAYS} days (see the as_of column)"
        ));
    }

    match a.format {
        Format::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                today: &'a str,
                offers: &'a [OfferRow<'a>],
                fx: &'a Fx,
                warnings: &'a [String],
            }
            emit(&report::to_json(&Out {
                today: &today,
                offers: &rows,
                fx: &cat.fx,
                warnings: &warnings,
            })?)?;
        }
        Format::Csv => emit(&report::to_csv(&rows)?)?,
        Format::Table | Format::Md | Format::Html => {
            let converted = rows.iter().any(|r| r.display_currency != r.currency);
            let mut headers = vec![
                "provider", "region", "instance", "hardware", "GPUs", "vCPU", "RAM GiB", "billing",
                "price",
            ];
            if converted {
                headers.push("converted");
            }
            headers.extend(["as_of", "confidence"]);
            let mut t = Table::new("", &headers).with_priority(&[
                "provider",
                "instance",
                "hardware",
                "price",
                "billing",
                "converted",
                "GPUs",
                "region",
                "as_of",
                "confidence",
                "vCPU",
                "RAM GiB",
            ]);
            for r in &rows {
                let mut cells = vec![
                    r.provider.to_string(),
                    r.region.to_string(),
                    r.instance.to_string(),
                    r.hardware.to_string(),
                    r.gpus.to_string(),
                    opt(r.vcpu),
                    opt(r.ram_gib),
                    r.billing.to_string(),
                    format!("{} {}/{}", r.price, r.currency, short_unit(r.billing)),
                ];
                if converted {
                    cells.push(if r.display_currency == r.currency {
                        String::new()
                    } else {
                        format!(
                            "{:.2} {}/{}",
                            r.price_display,
                            r.display_currency,
                            short_unit(r.billing)
                        )
                    });
                }
                cells.extend([r.as_of.to_string(), r.confidence.to_string()]);
                t.push(cells);
            }
            let mut notes: Vec<String> = warnings.iter().map(|w| format!("WARNING: {w}")).collect();
            if rows.is_empty() {
                notes.push("no offer matches the filters".into());
            }
            notes.push("prices are per instance (all its GPUs); sources and storage prices: `peftcost pricing show PROVIDER`".into());
            if converted {
                notes.push(fx_note(&cat.fx));
            }
            if rows.iter().any(|r| r.billing == Billing::Spot) {
                notes.push(format!("spot: {SPOT_CAVEAT}"));
            }
            let doc = Document {
                title: format!("{} offers", rows.len()),
                tables: vec![t],
                notes,
                ..Default::default()
            };
            emit(&a.format.render(&doc, ctx.lang))?;
        }
    }
    if matches!(a.format, Format::Csv) {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

#[derive(Serialize)]
struct ShownOffer<'a> {
    instance: &'a str,
    region: &'a str,
    hardware: &'a str,
    gpus: u64,
    vcpu: Option<u64>,
    ram_gib: Option<f64>,
    on_demand: f64,
    spot: Option<f64>,
    monthly: Option<f64>,
    currency: &'a str,
    as_of: &'a str,
    confidence: &'a str,
    source: &'a str,
    notes: Option<&'a str>,
}

fn show(
    cat: &PricingCatalog,
    t: &PriceTable,
    today: &str,
    format: Format,
    lang: Lang,
) -> Result<()> {
    let offers: Vec<ShownOffer> = t
        .offers
        .iter()
        .map(|o| ShownOffer {
            instance: &o.instance,
            region: &o.region,
            hardware: &o.hardware,
            gpus: o.gpus,
            vcpu: o.vcpu,
            ram_gib: o.ram_gib,
            on_demand: o.on_demand,
            spot: o.spot,
            monthly: o.monthly,
            currency: &t.currency,
            as_of: o.as_of_in(t),
            confidence: o.confidence_in(t),
            source: o.source_in(t),
            notes: o.notes.as_deref(),
        })
        .collect();
    let mut warnings = Vec::new();
    if pricing::is_stale(&t.as_of, today, STALE_AFTER_DAYS) {
        warnings.push(pricing::stale_warning(&t.provider, &t.as_of, today));
    }
    for s in cat
        .stale_offers(today, STALE_AFTER_DAYS)
        .into_iter()
        .filter(|s| s.provider == t.provider)
    {
        warnings.push(format!(
            "{} ({}) is priced as of {}, over {STALE_AFTER_DAYS} days old",
            s.instance, s.region, s.as_of
        ));
    }
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                provider: &'a str,
                display_name: &'a str,
                currency: &'a str,
                billing_increment_seconds: u64,
                minimum_billed_seconds: Option<u64>,
                as_of: &'a str,
                source: &'a str,
                confidence: &'a str,
                notes: Option<&'a str>,
                storage: Option<&'a pricing::Storage>,
                offers: &'a [ShownOffer<'a>],
                warnings: &'a [String],
            }
            emit(&report::to_json(&Out {
                provider: &t.provider,
                display_name: &t.display_name,
                currency: &t.currency,
                billing_increment_seconds: t.billing_increment_seconds,
                minimum_billed_seconds: t.minimum_billed_seconds,
                as_of: &t.as_of,
                source: &t.source,
                confidence: &t.confidence,
                notes: t.notes.as_deref(),
                storage: t.storage.as_ref(),
                offers: &offers,
                warnings: &warnings,
            })?)
        }
        Format::Csv => {
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            emit(&report::to_csv(&offers)?)
        }
        Format::Table | Format::Md | Format::Html => {
            let mut head = Table::new("Provider", &["field", "value"]);
            let age = date::days_between(&t.as_of, today)
                .map(|d| format!(" ({d} days before {today})"))
                .unwrap_or_default();
            let billing = format!(
                "per {} s{}",
                t.billing_increment_seconds,
                t.minimum_billed_seconds
                    .map(|m| format!(", minimum {m} s"))
                    .unwrap_or_default()
            );
            for (k, v) in [
                ("provider", t.provider.clone()),
                ("name", t.display_name.clone()),
                ("currency", t.currency.clone()),
                ("billing increment", billing),
                ("as_of", format!("{}{age}", t.as_of)),
                ("source", t.source.clone()),
                ("confidence", t.confidence.clone()),
                ("offers", t.offers.len().to_string()),
            ] {
                head.push(vec![k.into(), v]);
            }
            let mut storage = Table::new(
                "Storage and transfer",
                &[
                    "item",
                    "per GB-month",
                    "ingress per GB",
                    "egress per GB",
                    "as_of",
                    "confidence",
                    "source",
                ],
            );
            let money = |v: Option<f64>| {
                v.map_or_else(
                    || "not known".to_string(),
                    |v| format!("{v} {}", t.currency),
                )
            };
            match &t.storage {
                Some(s) => storage.push(vec![
                    s.name.clone(),
                    money(s.price_per_gb_month),
                    money(s.ingress_per_gb),
                    money(s.egress_per_gb),
                    s.as_of.clone(),
                    s.confidence.clone(),
                    s.source.clone(),
                ]),
                None => storage.push(vec![
                    "no storage prices in this table (counted as 0)".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]),
            }
            let unit = format!("{}/h", t.currency);
            let mut ot = Table::new(
                "Offers (per instance)",
                &[
                    "instance",
                    "region",
                    "hardware",
                    "GPUs",
                    "vCPU",
                    "RAM GiB",
                    &format!("on-demand {unit}"),
                    &format!("spot {unit}"),
                    &format!("monthly {}", t.currency),
                    "as_of",
                    "confidence",
                    "source",
                ],
            );
            for o in &offers {
                ot.push(vec![
                    o.instance.into(),
                    o.region.into(),
                    o.hardware.into(),
                    o.gpus.to_string(),
                    opt(o.vcpu),
                    opt(o.ram_gib),
                    o.on_demand.to_string(),
                    opt(o.spot),
                    opt(o.monthly),
                    o.as_of.into(),
                    o.confidence.into(),
                    o.source.into(),
                ]);
            }
            let mut notes: Vec<String> = warnings.iter().map(|w| format!("WARNING: {w}")).collect();
            notes.extend(t.notes.iter().map(|n| format!("{}: {n}", t.provider)));
            notes.extend(offers.iter().filter_map(|o| {
                o.notes
                    .map(|n| format!("{} ({}): {n}", o.instance, o.region))
            }));
            if offers.iter().any(|o| o.spot.is_some()) {
                notes.push(format!("spot: {SPOT_CAVEAT}"));
            }
            notes.push(fx_note(&cat.fx));
            let doc = Document {
                title: format!("Pricing: {}", t.display_name),
                tables: vec![head, storage, ot],
                notes,
                ..Default::default()
            };
            emit(&format.render(&doc, lang))
        }
    }
}

fn validate(ctx: &Context, file: &std::path::Path, today: &str) -> Result<()> {
    let f = data::read_file(file)?;
    let is_fx = f.name == pricing::FX_FILE
        || toml::from_str::<toml::Table>(&f.text).is_ok_and(|t| t.contains_key("rates"));
    let result = if is_fx {
        Fx::check(&f.path, &f.text).map(|fx| {
            format!(
                "{}: ok: exchange rates against {} for {}, as_of {}",
                f.path,
                fx.base,
                fx.currencies().collect::<Vec<_>>().join(", "),
                fx.as_of
            )
        })
    } else {
        let hardware = ctx.hardware()?;
        let fx = match ctx.pricing() {
            Ok(c) => c.fx.clone(),
            Err(_) => PricingCatalog::embedded()?.fx,
        };
        PriceTable::check(&f.path, &f.text, hardware, Some(&fx)).map(|t| {
            let mut s = format!(
                "{}: ok: {} ({}), {} offers in {}, as_of {}",
                f.path,
                t.provider,
                t.display_name,
                t.offers.len(),
                t.currency,
                t.as_of
            );
            if pricing::is_stale(&t.as_of, today, STALE_AFTER_DAYS) {
                s.push_str(&format!(
                    "\nwarning: {}",
                    pricing::stale_warning(&t.provider, &t.as_of, today)
                ));
            }
            s
        })
    };
    match result {
        Ok(msg) => {
            whole(&f.path, &f.text, is_fx)?;
            emit(&format!("{msg}\n"))
        }
        Err(mut errs) if errs.len() == 1 => Err(errs.remove(0)),
        Err(errs) => {
            for e in &errs {
                eprintln!("{e}");
            }
            Err(Error::input(format!(
                "{}: {} problems (listed above)",
                f.path,
                errs.len()
            )))
        }
    }
}

/// A table is whole when it ends with the end marker (or, not fx, says its `offer_count`, which
/// the parser checks): every strict prefix of a shipped table fails here, as `update` refuses it.
fn whole(path: &str, text: &str, is_fx: bool) -> Result<()> {
    use crate::core::pricing::install::{has_end_marker, END_MARKER};
    let counted =
        !is_fx && toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("offer_count"));
    if has_end_marker(text) || counted {
        return Ok(());
    }
    Err(Error::input(format!(
        "{path}:{}: the table does not end with '{END_MARKER}'{}: it may be cut off (a complete table ends with that line)",
        text.lines().count(),
        if is_fx { "" } else { " nor says its offer_count" }
    )))
}

fn run_fetch(ctx: &Context, a: FetchArgs) -> Result<()> {
    use crate::http::azure;
    if !(a.timeout_secs.is_finite() && a.timeout_secs > 0.0 && a.timeout_secs <= 3600.0) {
        return Err(Error::input(format!(
            "--timeout-secs must be more than 0 and at most 3600 seconds, not {}",
            crate::core::units::short_number(a.timeout_secs)
        )));
    }
    let cat = ctx.pricing()?;
    // Vast.ai has no embedded table: its first fetch starts from stated defaults.
    let first_vast;
    let base = match cat.table(&a.provider) {
        Err(_) if a.provider == "vast" => {
            first_vast = pricing::vast::first_table();
            &first_vast
        }
        other => other?,
    };
    let (text, source, rows) = if a.provider == "aws" {
        fetch_aws(&a, base)?
    } else if matches!(a.provider.as_str(), "lambda" | "runpod" | "vast") {
        fetch_keyed(&a, base)?
    } else if a.provider == "gcp" {
        fetch_gcp(&a, base)?
    } else if a.provider == "alibaba" {
        fetch_alibaba(&a, base)?
    } else {
        let endpoint = a.endpoint.as_deref().unwrap_or(azure::DEFAULT_ENDPOINT);
        let opts = update::FetchOptions {
            timeout: Duration::from_secs_f64(a.timeout_secs),
            max_bytes: 16 << 20,
            ..update::FetchOptions::default()
        };
        let wait = if crate::http::update::is_loopback(&update::check_url(endpoint)?) {
            Duration::from_millis(50)
        } else {
            Duration::from_secs(3)
        };
        let items = azure::fetch_items(endpoint, a.region.as_deref(), &opts, wait)?;
        let source = azure::first_url(endpoint, a.region.as_deref())?;
        let (text, notes) = pricing::azure::build_table(&items, base, &today(), &source)?;
        for n in &notes {
            eprintln!("note: {n}");
        }
        (text, source, items.len() as u64)
    };
    land(
        ctx,
        cat,
        base,
        &Built { text, source, rows },
        &a.landing.of(&a.provider),
    )
}

/// A table built from a provider's data or a feed: its text, where it came from, rows read.
struct Built {
    text: String,
    source: String,
    rows: u64,
}

/// Where a built table goes: a file for review, a dry run's diff, or the provider's install.
struct Landing<'a> {
    provider: &'a str,
    out: Option<&'a std::path::Path>,
    dry_run: bool,
    allow_shrink: bool,
}

/// Write, diff or install a built table (validated, never shrinking silently, atomic, locked).
fn land(
    ctx: &Context,
    cat: &PricingCatalog,
    base: &PriceTable,
    b: &Built,
    to: &Landing,
) -> Result<()> {
    let (text, source, rows) = (&b.text, &b.source, b.rows);
    if let Some(out) = to.out {
        data::write_atomic(out, text.as_bytes())?;
        return emit(&format!(
            "wrote {} ({rows} price rows read)\n",
            out.display()
        ));
    }
    let dir = ctx.config_dir.as_deref().ok_or_else(|| {
        Error::input("no config directory to install the table in: pass --profiles DIR or set PEFTCOST_CONFIG_DIR")
    })?;
    if to.dry_run {
        crate::core::pricing::install::validate_fetched(
            dir,
            source,
            text,
            Some(to.provider),
            to.allow_shrink,
        )?;
        let after = PriceTable::parse(source, text, ctx.hardware()?, Some(&cat.fx))?;
        print_diff(&pricing::diff::diff(base, &after), Format::Table, ctx.lang)?;
        return emit("nothing installed (--dry-run)\n");
    }
    let out = update::install_fetched(dir, source, text, Some(to.provider), to.allow_shrink)?;
    emit(&format!(
        "installed {} ({}: {} offers, as_of {}) from {source} ({rows} price rows){}\n",
        out.path.display(),
        out.provider,
        out.offers,
        out.as_of,
        out.backup
            .as_ref()
            .map_or("; it replaces the embedded table".to_string(), |b| format!(
                "; previous version kept as {}",
                b.display()
            ))
    ))
}

/// `pricing import FEED SOURCE --provider P`: another tool's catalog CSV, from a file or an
/// https:// URL, as the provider's table.
fn run_import(ctx: &Context, a: ImportArgs) -> Result<()> {
    use crate::core::pricing::feeds::{self, Feed};
    let feed = if a.feed == "skypilot" {
        Feed::Skypilot
    } else {
        Feed::Gpuhunt
    };
    let text = if a.source.starts_with("https://") || a.source.starts_with("http://") {
        let opts = update::FetchOptions {
            timeout: Duration::from_secs(60),
            max_bytes: 64 << 20,
            // A CSV cut at a line end still parses: the length must be declared and met.
            ..update::FetchOptions::default()
        };
        update::fetch(&a.source, &opts)?
    } else {
        data::read_file(std::path::Path::new(&a.source))?.text
    };
    let cat = ctx.pricing()?;
    let base = cat.table(&a.provider).map_err(|e| {
        Error::input(format!(
            "{e}: a feed is imported as a provider peftcost already has a table of (its billing rules and storage are carried over)"
        ))
    })?;
    let imported = feeds::read(feed, &a.source, &text)?;
    if !imported.skipped.is_empty() {
        eprintln!(
            "note: left out (no hardware profile): {}",
            crate::report::fmt::one_line(&imported.skipped.join(", "))
        );
    }
    let text = feeds::build_table(feed, &a.source, &imported.offers, base, &today())?;
    land(
        ctx,
        cat,
        base,
        &Built {
            text,
            source: a.source.clone(),
            rows: imported.rows,
        },
        &a.landing.of(&a.provider),
    )
}

/// A provider API's table of `offers`, dated today (`what` heads it; `none` says what a source
/// without offers lacked).
fn built(
    base: &PriceTable,
    offers: &[pricing::fetched::FetchedOffer],
    source: &str,
    what: &str,
    none: &str,
) -> Result<String> {
    pricing::fetched::build(base, offers, &today(), source, what, "primary", none)
}

/// The API key in the environment variable `--api-key-env` names (or the provider's default);
/// `None` when it is unset or empty.
fn api_key(a: &FetchArgs, default: &str) -> Result<Option<String>> {
    let name = a.api_key_env.as_deref().unwrap_or(default);
    if name.is_empty() || name.contains('=') {
        return Err(Error::input(format!(
            "--api-key-env '{name}' is not an environment variable name"
        )));
    }
    Ok(std::env::var(name).ok().filter(|k| !k.trim().is_empty()))
}

/// Lambda (key required), RunPod (key optional) and Vast.ai (no key): one JSON answer each,
/// (table text, its URL, types or offers read). GPUs without a hardware profile are named on
/// stderr.
fn fetch_keyed(a: &FetchArgs, base: &PriceTable) -> Result<(String, String, u64)> {
    let opts = update::FetchOptions {
        timeout: Duration::from_secs_f64(a.timeout_secs),
        max_bytes: 16 << 20,
        // A JSON answer cut short no longer parses.
        require_length: false,
        ..update::FetchOptions::default()
    };
    use pricing::{lambda, runpod, vast};
    let (offers, skipped, url, what, none) = match a.provider.as_str() {
        "lambda" => {
            let url = api_url(a, "https://cloud.lambdalabs.com", "/api/v1/instance-types");
            let key = api_key(a, "LAMBDA_API_KEY")?.ok_or_else(|| {
                Error::input(format!(
                    "Lambda's price API needs an API key: put it in {} (cloud.lambdalabs.com, API keys) or name another variable with --api-key-env",
                    a.api_key_env.as_deref().unwrap_or("LAMBDA_API_KEY")
                ))
            })?;
            let text = update::fetch_authorized(&url, &opts, Some(&key))?;
            let (o, s) = lambda::read_instance_types(&url, &text)?;
            (o, s, url, lambda::WHAT, lambda::NONE)
        }
        "runpod" => {
            let url = api_url(a, "https://api.runpod.io", "/graphql");
            let key = api_key(a, "RUNPOD_API_KEY")?;
            let text = update::post_json(&url, &opts, key.as_deref(), runpod::QUERY)?;
            let (o, s) = runpod::read_gpu_types(&url, &text)?;
            (o, s, url, runpod::WHAT, runpod::NONE)
        }
        _ => {
            let url = api_url(a, "https://console.vast.ai", "/api/v0/bundles/");
            let text = update::post_json(&url, &opts, None, vast::QUERY)?;
            let (o, s) = vast::read_bundles(&url, &text)?;
            (o, s, url, vast::WHAT, vast::NONE)
        }
    };
    if !skipped.is_empty() {
        eprintln!(
            "note: left out (no hardware profile): {}",
            crate::report::fmt::one_line(&skipped.join(", "))
        );
    }
    let rows = (offers.len() + skipped.len()) as u64;
    let text = built(base, &offers, &url, what, none)?;
    Ok((text, url, rows))
}

/// `--endpoint` (else the provider's `default` base URL) followed by `path`.
fn api_url(a: &FetchArgs, default: &str, path: &str) -> String {
    format!(
        "{}{path}",
        a.endpoint
            .as_deref()
            .unwrap_or(default)
            .trim_end_matches('/')
    )
}

/// The UTC time now as `YYYY-MM-DDThh:mm:ssZ`.
fn utc_timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date::date_from_unix_days((secs / 86_400) as i64),
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}

/// Alibaba: DescribePrice, signed, for every instance and region of the table in force (three
/// calls each: hourly, spot, monthly): (table text, the endpoint, calls made).
fn fetch_alibaba(a: &FetchArgs, base: &PriceTable) -> Result<(String, String, u64)> {
    use crate::core::pricing::alibaba::{self, Quote};
    use crate::core::pricing::fetched::FetchedOffer;
    use crate::http::alibaba::{call, AccessKey};
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (Some(id), Some(secret)) = (
        var("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        var("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ) else {
        return Err(Error::input(
            "Alibaba Cloud's price API needs an AccessKey: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (a RAM user with ecs:DescribePrice)",
        ));
    };
    let key = AccessKey {
        id,
        secret,
        token: var("ALIBABA_CLOUD_SECURITY_TOKEN"),
    };
    let opts = update::FetchOptions {
        timeout: Duration::from_secs_f64(a.timeout_secs),
        max_bytes: 1 << 20,
        require_length: false,
        ..update::FetchOptions::default()
    };
    let mut offers = Vec::new();
    let mut refused = 0;
    let mut calls = 0;
    for o in base
        .offers
        .iter()
        .filter(|o| a.region.as_deref().is_none_or(|r| r == o.region))
    {
        let endpoint = a
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://ecs.{}.aliyuncs.com", o.region));
        let mut quote = |q: Quote| -> Result<(f64, String)> {
            calls += 1;
            let source = format!("DescribePrice {} in {}", o.instance, o.region);
            let params = alibaba::price_params(&o.instance, &o.region, q);
            let text = call(
                &endpoint,
                "DescribePrice",
                &params,
                &key,
                &utc_timestamp(),
                &opts,
            )?;
            alibaba::read_price(&source, &text)
        };
        let (on_demand, currency) = quote(Quote::Hourly)?;
        if currency != base.currency {
            return Err(Error::input(format!(
                "DescribePrice {} in {}: priced in {currency}, but the table is in {}: use the account's own site (China site for CNY)",
                o.instance, o.region, base.currency
            )));
        }
        let mut optional = |q: Quote| match quote(q) {
            Ok((p, c)) if c == currency => Some(p),
            _ => {
                refused += 1;
                None
            }
        };
        let spot = optional(Quote::Spot).filter(|s| *s < on_demand);
        let monthly = optional(Quote::Monthly);
        offers.push(FetchedOffer {
            instance: o.instance.clone(),
            region: o.region.clone(),
            hardware: o.hardware.clone(),
            gpus: o.gpus,
            on_demand,
            spot,
            monthly,
        });
    }
    if refused > 0 {
        eprintln!("note: {refused} spot or subscription prices refused by the API are left out");
    }
    let source = a
        .endpoint
        .clone()
        .unwrap_or_else(|| "https://ecs.<region>.aliyuncs.com".to_string());
    let source = format!("{source} DescribePrice");
    let text = built(base, &offers, &source, alibaba::WHAT, alibaba::NONE)?;
    Ok((text, source, calls))
}

/// GCP: every page of Compute Engine's SKUs, the key in the `x-goog-api-key` header (never in
/// a URL an error could print): (table text, the first page's URL, SKUs read).
fn fetch_gcp(a: &FetchArgs, base: &PriceTable) -> Result<(String, String, u64)> {
    let key = api_key(a, "GOOGLE_API_KEY")?.ok_or_else(|| {
        Error::input(format!(
            "the Cloud Billing Catalog API needs an API key of a Google Cloud project: put it in {} or name another variable with --api-key-env",
            a.api_key_env.as_deref().unwrap_or("GOOGLE_API_KEY")
        ))
    })?;
    let first = api_url(
        a,
        "https://cloudbilling.googleapis.com",
        &format!("/v1/services/{}/skus?pageSize=5000", pricing::gcp::SERVICE),
    );
    let opts = update::FetchOptions {
        timeout: Duration::from_secs_f64(a.timeout_secs),
        max_bytes: 64 << 20,
        require_length: false,
        ..update::FetchOptions::default()
    };
    let mut catalog = pricing::gcp::Catalog::default();
    let mut url = first.clone();
    for page in 1.. {
        if page > 1000 {
            return Err(Error::Network(format!(
                "{first}: more than 1000 pages; the API's nextPageToken does not end"
            )));
        }
        let text = update::fetch_with_header(&url, &opts, "x-goog-api-key", &key)?;
        match catalog.read_page(&url, &text)? {
            Some(token) => {
                if !token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=.~".contains(c))
                {
                    return Err(Error::input(format!(
                        "{url}: the nextPageToken holds characters no page token has"
                    )));
                }
                url = format!("{first}&pageToken={token}");
            }
            None => break,
        }
    }
    let offers = catalog.offers();
    let text = built(
        base,
        &offers,
        &first,
        pricing::gcp::WHAT,
        &pricing::gcp::none(),
    )?;
    Ok((text, first, catalog.skus))
}

/// AWS: one region's offer file, streamed: (table text, its URL, rows read).
fn fetch_aws(a: &FetchArgs, base: &PriceTable) -> Result<(String, String, u64)> {
    let region = a.region.as_deref().unwrap_or("us-east-1");
    if !region
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(Error::input(format!(
            "--region '{region}' is not an AWS region code (e.g. us-east-1)"
        )));
    }
    let url = api_url(
        a,
        "https://pricing.us-east-1.amazonaws.com",
        &format!("/offers/v1.0/aws/AmazonEC2/current/{region}/index.csv"),
    );
    let opts = update::FetchOptions {
        timeout: Duration::from_secs_f64(a.timeout_secs),
        // us-east-1's file is several hundred MB; it is streamed, never held.
        max_bytes: 4 << 30,
        ..update::FetchOptions::default()
    };
    let (offers, rows) = update::fetch_streaming(&url, &opts, |body| {
        pricing::aws::read_offer_file(&url, body)
    })?;
    let text = built(base, &offers, &url, pricing::aws::WHAT, pricing::aws::NONE)?;
    Ok((text, url, rows))
}

fn run_update(ctx: &Context, a: UpdateArgs) -> Result<()> {
    let dir = ctx.config_dir.as_deref().ok_or_else(|| {
        Error::input("no config directory to install the table in: pass --profiles DIR or set PEFTCOST_CONFIG_DIR")
    })?;
    let secs = |v: f64, flag: &str| {
        if v.is_finite() && v > 0.0 && v <= 3600.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(Error::input(format!(
                "{flag} must be more than 0 and at most 3600 seconds, not {}",
                crate::core::units::short_number(v)
            )))
        }
    };
    const MAX_BYTES: u64 = 64 << 20;
    if !(1..=MAX_BYTES).contains(&a.max_bytes) {
        return Err(Error::input(format!(
            "--max-bytes must be between 1 and {MAX_BYTES} (64 MiB), not {}",
            a.max_bytes
        )));
    }
    let opts = update::FetchOptions {
        connect_timeout: secs(a.connect_timeout_secs, "--connect-timeout-secs")?,
        timeout: secs(a.timeout_secs, "--timeout-secs")?,
        max_bytes: a.max_bytes,
        ..update::FetchOptions::default()
    };
    if a.dry_run {
        let text = update::fetch(&a.from, &opts)?;
        let (_, provider, _, _) = crate::core::pricing::install::validate_fetched(
            dir,
            &a.from,
            &text,
            a.provider.as_deref(),
            a.allow_shrink,
        )?;
        if provider == "fx" {
            return emit(&format!(
                "{}: valid exchange rates; nothing installed (--dry-run)\n",
                a.from
            ));
        }
        let cat = ctx.pricing()?;
        let after = PriceTable::parse(&a.from, &text, ctx.hardware()?, Some(&cat.fx))?;
        let before = cat.table(&provider)?;
        print_diff(
            &pricing::diff::diff(before, &after),
            Format::Table,
            ctx.lang,
        )?;
        return emit("nothing installed (--dry-run)\n");
    }
    let out = update::update(dir, &a.from, a.provider.as_deref(), &opts, a.allow_shrink)?;
    let mut msg = format!(
        "installed {} ({}{}, as_of {}) from {}",
        out.path.display(),
        out.provider,
        if out.provider == "fx" {
            String::new()
        } else {
            format!(": {} offers", out.offers)
        },
        out.as_of,
        a.from
    );
    match &out.backup {
        Some(b) => msg.push_str(&format!("; previous version kept as {}", b.display())),
        None => msg.push_str("; it replaces the embedded table"),
    }
    emit(&format!("{msg}\n"))?;
    let today = today();
    if pricing::is_stale(&out.as_of, &today, STALE_AFTER_DAYS) {
        eprintln!(
            "warning: {}",
            pricing::stale_warning(&out.provider, &out.as_of, &today)
        );
    }
    Ok(())
}

/// A table diff in any format (one row per added, removed or moved price).
fn print_diff(d: &pricing::diff::TableDiff, format: Format, lang: Lang) -> Result<()> {
    #[derive(Serialize)]
    struct Row<'a> {
        change: &'static str,
        instance: &'a str,
        region: &'a str,
        hardware: &'a str,
        billing: Option<&'static str>,
        old: Option<f64>,
        new: Option<f64>,
        percent: Option<f64>,
        currency: &'a str,
    }
    let mut rows: Vec<Row> = Vec::new();
    let listed = d
        .added
        .iter()
        .map(|k| ("added", k))
        .chain(d.removed.iter().map(|k| ("removed", k)));
    for (change, k) in listed {
        rows.push(Row {
            change,
            instance: &k.instance,
            region: &k.region,
            hardware: &k.hardware,
            billing: None,
            old: None,
            new: None,
            percent: None,
            currency: &d.currency,
        });
    }
    for c in &d.changed {
        rows.push(Row {
            change: "price",
            instance: &c.offer.instance,
            region: &c.offer.region,
            hardware: &c.offer.hardware,
            billing: Some(c.billing.as_str()),
            old: c.old,
            new: c.new,
            percent: c.percent,
            currency: &d.currency,
        });
    }
    match format {
        Format::Json => emit(&report::to_json(d)?),
        Format::Csv => emit(&report::to_csv(&rows)?),
        Format::Table | Format::Md | Format::Html => {
            let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v}"));
            let mut t = Table::new(
                format!(
                    "{}: {} -> {} ({} added, {} removed, {} prices changed)",
                    d.provider,
                    d.old_as_of,
                    d.new_as_of,
                    d.added.len(),
                    d.removed.len(),
                    d.changed.len()
                ),
                &[
                    "change", "instance", "region", "hardware", "billing", "old", "new", "%",
                ],
            );
            for r in &rows {
                t.push(vec![
                    r.change.into(),
                    r.instance.into(),
                    r.region.into(),
                    r.hardware.into(),
                    r.billing.unwrap_or("-").into(),
                    opt(r.old),
                    opt(r.new),
                    r.percent.map_or("-".into(), |p| format!("{p:+.1}%")),
                ]);
            }
            let doc = Document {
                tables: vec![t],
                notes: if d.is_empty() {
                    vec!["no offer or price changed".into()]
                } else {
                    vec![format!(
                        "prices in {} per instance-hour (monthly: per month)",
                        d.currency
                    )]
                },
                ..Default::default()
            };
            emit(&format.render(&doc, lang))
        }
    }
}
