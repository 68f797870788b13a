//! `peftcost estimate`: one scenario, every hardware profile.

use clap::Args;

use super::{emit, Context, Format, ScenarioArgs};
use crate::core::error::Result;
use crate::core::estimate::{Assumptions, Estimate, OfferQuery};
use crate::core::pricing::{self, Billing};
use crate::report::{self};

#[derive(Debug, Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Hardware profiles to estimate on (repeatable or comma-separated; default: every profile).
    #[arg(long, visible_alias = "gpu", value_name = "ID", value_parser = super::not_empty)]
    pub hardware: Vec<String>,
    #[command(flatten)]
    pub offers: OfferArgs,
    #[command(flatten)]
    pub gates: super::gates::GateArgs,
    /// Compare with another scenario: the base flags changed by KEY=VALUE pairs, e.g.
    /// 'method=qlora,rank=64' (repeatable).
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub compare: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub emit: super::emit_files::EmitArgs,
}

/// Which offers to cost.
#[derive(Debug, Clone, Args)]
pub struct OfferArgs {
    /// Only these providers (repeatable or comma-separated), e.g. alibaba,aws.
    #[arg(long, value_name = "P", value_parser = super::not_empty)]
    pub provider: Vec<String>,
    /// Only these regions.
    #[arg(long, value_parser = super::not_empty)]
    pub region: Vec<String>,
    /// Billing modes to cost (default: on-demand and spot).
    #[arg(long, value_parser = super::named::<Billing>())]
    pub billing: Vec<Billing>,
    /// Highest price per instance-hour, in --currency (USD if not given).
    #[arg(long, allow_negative_numbers = true)]
    pub max_price: Option<f64>,
    /// Display currency for costs (default: CNY for providers billing in CNY, else USD).
    #[arg(long, value_name = "CNY|USD")]
    pub currency: Option<String>,
    /// Offers listed in the table (JSON and CSV carry all).
    #[arg(long, default_value_t = 12)]
    pub top: usize,
    /// Leave out offers whose price was recorded more than DAYS days ago.
    #[arg(long, value_name = "DAYS")]
    pub max_price_age: Option<u32>,
}

impl OfferArgs {
    /// Validate into a core query.
    pub fn query(&self, fx: &pricing::Fx) -> Result<OfferQuery> {
        let split = |v: &[String]| -> Vec<String> {
            v.iter()
                .flat_map(|s| s.split(','))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        if let Some(m) = self.max_price {
            if !(m.is_finite() && m > 0.0 && m <= 1e9) {
                return Err(crate::Error::input(format!(
                    "--max-price must be a positive price per hour, at most 1e9 (got {m})"
                )));
            }
        }
        let currency = match &self.currency {
            Some(c) => Some(fx.known(c)?),
            None => None,
        };
        Ok(OfferQuery {
            providers: split(&self.provider),
            regions: split(&self.region),
            billing: self.billing.clone(),
            max_price_per_hour: self.max_price,
            currency,
            max_price_age_days: self.max_price_age,
            today: self.max_price_age.map(|_| super::pricing::today()),
            ..OfferQuery::default()
        })
    }
}

pub fn run(ctx: &Context, mut args: EstimateArgs) -> Result<()> {
    args.gates.validate(ctx.hardware()?)?;
    let engines = args.emit.engines()?;
    let config_notes = args.scenario.apply_configs(ctx)?;
    if !args.compare.is_empty() {
        if engines.is_some() {
            return Err(crate::Error::input(
                "--emit writes one configuration: leave out --compare",
            ));
        }
        return compare(ctx, &args);
    }
    let scenario = args.scenario.scenario(ctx)?;
    let prepared = scenario.prepare()?;
    let (hardware, hardware_notes) = ctx.hardware()?.select_variants(&args.hardware)?;
    let pricing = ctx.pricing()?;
    let query = args.offers.query(&pricing.fx)?;
    if args.scenario.model_config.is_none() {
        crate::core::data::remember_last_model(&prepared.scenario.profile.id);
    }
    let policy = args.scenario.workload.fit_policy();
    let mut est = Estimate::fitted(&prepared, &hardware, &Assumptions::default(), &policy)?
        .with_offers(&prepared, &hardware, pricing, &query)?;
    est.notes.extend(hardware_notes);
    est.notes.extend(config_notes);
    est.note_stale_prices(pricing, &super::pricing::today());
    let text = match args.format {
        Format::Json => report::to_json(&est)?,
        Format::Csv => report::to_csv(&est.csv_rows())?,
        Format::Table | Format::Md | Format::Html => args.format.render(
            &report::estimate::document(&prepared, &est, args.offers.top),
            ctx.lang,
        ),
    };
    emit(&text)?;
    if let Some(engines) = &engines {
        emit_device(&args.emit, engines, &prepared, &est, &args.hardware)?;
    }
    args.gates.check(
        est.offers.first(),
        &est.devices,
        &pricing.fx,
        query.currency.as_deref(),
    )
}

/// `--emit`: the files of the one estimated device's configuration, as priced on its cheapest
/// offer (where there is one).
fn emit_device(
    args: &super::emit_files::EmitArgs,
    engines: &[crate::emit::Engine],
    prepared: &crate::core::estimate::Prepared,
    est: &Estimate,
    requested: &[String],
) -> Result<()> {
    // A name that stands for several form factors (`a100-40g`: SXM and PCIe) means its own
    // profile here.
    let exact = match requested {
        [one] => est.devices.iter().find(|d| d.hardware == *one),
        _ => None,
    };
    let d = match (exact, est.devices.as_slice()) {
        (Some(d), _) | (None, [d]) => d,
        (None, devices) => {
            return Err(crate::Error::input(format!(
                "--emit writes the configuration of one device, and {} were estimated: add --hardware ID (e.g. --hardware a10)",
                devices.len()
            )))
        }
    };
    if !d.fits {
        let fix = d
            .fix
            .as_ref()
            .map(|f| {
                format!(
                    ": it would with {}",
                    crate::report::fmt::changes(&f.changes)
                )
            })
            .unwrap_or_default();
        return Err(crate::Error::input(format!(
            "--emit: {} {} does not fit on {}{fix}; nothing written",
            prepared.scenario.profile.id,
            prepared.scenario.method.kind.as_str(),
            d.hardware
        )));
    }
    let offer = est.offers.iter().find(|o| o.job.hardware == d.hardware);
    let config = offer.and_then(|o| o.config).unwrap_or(d.config);
    args.write(
        engines,
        prepared,
        super::emit_files::Chosen {
            config,
            hardware: &d.hardware,
            dtype: d.dtype,
            offer: offer.map(|o| &o.job),
        },
    )
}

/// The base scenario and each `--compare` variant, side by side.
fn compare(ctx: &Context, args: &EstimateArgs) -> Result<()> {
    use super::compare::{apply, Compared};
    use crate::report::compare::document;
    let (hardware, _) = ctx.hardware()?.select_variants(&args.hardware)?;
    let pricing = ctx.pricing()?;
    let query = args.offers.query(&pricing.fx)?;
    let mut specs = vec![("base".to_string(), args.scenario.clone())];
    for spec in &args.compare {
        specs.push((spec.clone(), apply(&args.scenario, spec)?));
    }
    let mut scenarios = Vec::new();
    for (label, flags) in specs {
        let prepared = flags.scenario(ctx)?.prepare()?;
        let policy = flags.workload.fit_policy();
        let estimate = Estimate::fitted(&prepared, &hardware, &Assumptions::default(), &policy)?
            .with_offers(&prepared, &hardware, pricing, &query)?;
        scenarios.push(Compared { label, estimate });
    }
    let text = match args.format {
        Format::Json => report::to_json(&serde_json::json!({ "scenarios": scenarios }))?,
        Format::Csv => {
            #[derive(serde::Serialize)]
            struct Row<'a> {
                scenario: &'a str,
                #[serde(flatten)]
                row: crate::core::estimate::EstimateCsvRow,
            }
            let rows: Vec<Row> = scenarios
                .iter()
                .flat_map(|s| {
                    s.estimate.csv_rows().into_iter().map(|row| Row {
                        scenario: &s.label,
                        row,
                    })
                })
                .collect();
            report::to_csv(&rows)?
        }
        Format::Table | Format::Md | Format::Html => {
            let currency = query.currency.clone().unwrap_or_else(|| "USD".into());
            args.format
                .render(&document(&scenarios, &currency), ctx.lang)
        }
    };
    emit(&text)?;
    let base = &scenarios[0].estimate;
    args.gates.check(
        base.offers.first(),
        &base.devices,
        &pricing.fx,
        query.currency.as_deref(),
    )
}
