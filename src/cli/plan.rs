//! `peftcost plan`: the cheapest, the fastest and the Pareto front under a deadline and a budget.

use clap::Args;

use super::estimate::OfferArgs;
use super::gates::GateArgs;
use super::{emit, Context, Format, ScenarioArgs};
use crate::core::error::{Error, Result};
use crate::core::estimate::Assumptions;
use crate::core::plan::{plan, Plan, PlanQuery, PlanResult};
use crate::core::pricing::Fx;
use crate::report::{self};

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Hardware profiles to consider (default: all).
    #[arg(long, visible_alias = "gpu", value_name = "ID", value_parser = super::not_empty)]
    pub hardware: Vec<String>,
    #[command(flatten)]
    pub offers: OfferArgs,
    /// Most GPUs per job (within one instance).
    #[arg(long, default_value_t = 8)]
    pub max_gpus: u64,
    /// Finish within this many wall-clock hours.
    #[arg(long, allow_negative_numbers = true)]
    pub deadline: Option<f64>,
    /// Spend at most this much (in --currency, else USD).
    #[arg(long, allow_negative_numbers = true)]
    pub budget: Option<f64>,
    #[command(flatten)]
    pub gates: GateArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub emit: super::emit_files::EmitArgs,
}

#[derive(serde::Serialize)]
struct PlanJson<'a> {
    #[serde(flatten)]
    result: &'a PlanResult,
    plans: Vec<&'a Plan>,
}

impl PlanArgs {
    /// The planner's query from the flags (the budget is in --currency, else USD).
    pub fn query(&self, fx: &Fx) -> Result<PlanQuery> {
        let offers = self.offers.query(fx)?;
        Ok(PlanQuery::new(
            offers,
            self.deadline,
            self.budget,
            self.scenario.workload.allow_quantization,
            self.max_gpus,
        ))
    }
}

pub fn run(ctx: &Context, mut args: PlanArgs) -> Result<()> {
    args.gates.validate(ctx.hardware()?)?;
    let engines = args.emit.engines()?;
    let config_notes = args.scenario.apply_configs(ctx)?;
    let scenario = args.scenario.scenario(ctx)?;
    let (hardware, hardware_notes) = ctx.hardware()?.select_variants(&args.hardware)?;
    let pricing = ctx.pricing()?;
    let q = args.query(&pricing.fx)?;
    // The planner keeps the global batch of the flags (an explicit --global-batch is checked).
    args.scenario
        .workload
        .fit_policy()
        .global_batch(&scenario.workload)?;
    let mut result = plan(&scenario, &hardware, pricing, &q, &Assumptions::default())?;
    result.notes.extend(hardware_notes);
    result.notes.extend(config_notes);
    let text = match args.format {
        Format::Json => report::to_json(&PlanJson {
            result: &result,
            plans: result.plans(),
        })?,
        Format::Csv => report::to_csv(&result.csv_rows())?,
        Format::Table | Format::Md | Format::Html => args.format.render(
            &report::plan::document(&result, &q, args.offers.top),
            ctx.lang,
        ),
    };
    emit(&text)?;
    if let Some(reason) = &result.infeasible {
        return Err(Error::Threshold(reason.clone()));
    }
    if let (Some(engines), Some(best)) = (&engines, &result.cheapest) {
        // The cheapest plan, as priced: its offer's configuration.
        let prepared = scenario.prepare()?;
        let config = best.offer.config.unwrap_or(best.device.config);
        args.emit.write(
            engines,
            &prepared,
            super::emit_files::Chosen {
                config,
                hardware: &best.device.hardware,
                dtype: best.device.dtype,
                offer: Some(&best.offer.job),
            },
        )?;
    }
    let devices: Vec<_> = result.cheapest.iter().map(|p| p.device.clone()).collect();
    args.gates.check(
        result.cheapest.as_ref().map(|p| &p.offer),
        &devices,
        &pricing.fx,
        q.offers.currency.as_deref(),
    )
}
