//! `peftcost plan`: the cheapest, the fastest and the Pareto front under a deadline and a budget.

use clap::Args;

use super::estimate::OfferArgs;
use super::gates::GateArgs;
use super::{emit, Context, Format, ScenarioArgs};
use crate::error::{Error, Result};
use crate::estimate::Assumptions;
use crate::plan::{plan, Plan, PlanQuery, PlanResult};
use crate::report::{self, fmt, Document, Table};

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Hardware profiles to consider (default: all).
    #[arg(long, visible_alias = "gpu", value_name = "ID")]
    pub hardware: Vec<String>,
    #[command(flatten)]
    pub offers: OfferArgs,
    /// Most GPUs per job (within one instance).
    #[arg(long, default_value_t = 8)]
    pub max_gpus: u64,
    /// Let LoRA/DoRA switch to QLoRA (4-bit base weights).
    #[arg(long)]
    pub allow_quantization: bool,
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
}

#[derive(serde::Serialize)]
struct PlanJson<'a> {
    #[serde(flatten)]
    result: &'a PlanResult,
    plans: Vec<&'a Plan>,
}

pub fn run(ctx: &Context, args: PlanArgs) -> Result<()> {
    args.gates.validate()?;
    let scenario = args.scenario.scenario(ctx)?;
    let hardware = ctx.hardware()?.select(&args.hardware)?;
    let pricing = ctx.pricing()?;
    let offers = args.offers.query(&pricing.fx)?;
    let q = PlanQuery {
        budget_currency: offers.currency.clone().unwrap_or_else(|| "USD".into()),
        offers,
        max_gpus: args.max_gpus,
        allow_quantization: args.allow_quantization,
        deadline_hours: args.deadline,
        budget: args.budget,
    };
    let result = plan(&scenario, &hardware, &pricing, &q, &Assumptions::default())?;
    let text = match args.format {
        Format::Json => report::to_json(&PlanJson {
            result: &result,
            plans: result.plans(),
        })?,
        Format::Csv => report::to_csv(
            &result
                .plans()
                .iter()
                .map(|p| csv_row(p))
                .collect::<Vec<_>>(),
        )?,
        Format::Table => document(&result, &q, args.offers.top).to_text(),
        Format::Md => document(&result, &q, args.offers.top).to_markdown(),
    };
    emit(&text)?;
    if let Some(reason) = &result.infeasible {
        return Err(Error::Threshold(reason.clone()));
    }
    let devices: Vec<_> = result.cheapest.iter().map(|p| p.device.clone()).collect();
    args.gates.check(
        result.cheapest.as_ref().map(|p| &p.offer),
        &devices,
        &pricing.fx,
        q.offers.currency.as_deref(),
    )
}

/// One CSV row per plan (headers in the README).
#[derive(serde::Serialize)]
struct PlanCsvRow {
    label: String,
    provider: String,
    region: String,
    instance: String,
    hardware: String,
    gpus: u64,
    billing: String,
    method: String,
    micro_batch: u64,
    grad_accum: u64,
    grad_checkpointing: bool,
    zero: u8,
    memory_total_bytes: u64,
    train_hours: Option<f64>,
    wall_hours: f64,
    cost: f64,
    currency: String,
    offer_cost: f64,
    offer_currency: String,
    as_of: String,
}

fn csv_row(p: &Plan) -> PlanCsvRow {
    let j = &p.offer.job;
    PlanCsvRow {
        label: p.label.clone(),
        provider: j.provider.clone(),
        region: j.region.clone(),
        instance: j.instance.clone(),
        hardware: j.hardware.clone(),
        gpus: p.workload.gpus,
        billing: j.billing.as_str().into(),
        method: p.method.kind.as_str().into(),
        micro_batch: p.workload.micro_batch,
        grad_accum: p.workload.grad_accum,
        grad_checkpointing: p.workload.grad_checkpointing,
        zero: p.workload.zero,
        memory_total_bytes: p.device.memory.total,
        train_hours: p.device.hours,
        wall_hours: p.wall_hours,
        cost: p.cost,
        currency: p.currency.clone(),
        offer_cost: j.cost,
        offer_currency: j.currency.clone(),
        as_of: j.as_of.clone(),
    }
}

fn row(p: &Plan) -> Vec<String> {
    let j = &p.offer.job;
    let w = &p.workload;
    vec![
        p.label.clone(),
        format!("{} {} ({})", j.provider, j.instance, j.region),
        format!("{} x{}", j.hardware, w.gpus),
        j.billing.as_str().into(),
        p.method.kind.as_str().into(),
        format!("{} x {}", w.micro_batch, w.grad_accum),
        if w.grad_checkpointing {
            "on".into()
        } else {
            "off".into()
        },
        w.zero.to_string(),
        fmt::gib(p.device.memory.total as f64),
        fmt::hours(p.wall_hours),
        fmt::money(p.cost, &p.currency),
    ]
}

fn document(r: &PlanResult, q: &PlanQuery, top: usize) -> Document {
    let headers = [
        "plan",
        "offer",
        "hardware",
        "billing",
        "method",
        "micro-batch x accum",
        "ckpt",
        "ZeRO",
        "memory/device",
        "wall time",
        "job cost",
    ];
    let mut best = Table::new("Best plans", &headers);
    for p in r.cheapest.iter().chain(r.fastest.iter()) {
        best.push(row(p));
    }
    let mut front = Table::new("Pareto front: cost vs time (cheapest first)", &headers);
    for p in r.pareto.iter().take(top) {
        front.push(row(p));
    }
    let mut notes = Vec::new();
    if let Some(reason) = &r.infeasible {
        notes.push(format!("no feasible plan: {reason}"));
    }
    for p in r.cheapest.iter().chain(r.fastest.iter()) {
        notes.push(format!("{}: {}", p.label, p.why));
        if let Some(c) = &p.offer.job.caveat {
            notes.push(format!("{}: {c}", p.label));
        }
    }
    notes.push(format!(
        "searched {} configurations, {} fitting candidates, {} within deadline {} and budget {}",
        r.configurations,
        r.candidates,
        r.feasible,
        q.deadline_hours.map_or("-".into(), |d| format!("{d} h")),
        q.budget
            .map_or("-".into(), |b| format!("{b} {}", q.budget_currency))
    ));
    if r.pareto.len() > top {
        notes.push(format!(
            "{} more Pareto plans: --top N or --format json",
            r.pareto.len() - top
        ));
    }
    notes.extend(r.notes.iter().cloned());
    Document {
        title: format!("peftcost plan: {}", r.model),
        tables: vec![best, front],
        notes,
    }
}
